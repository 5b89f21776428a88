"""Fused kernels against the plain path: traces and every gradient.

Each case runs one layer twice, on the plain PyTorch loop and on a fused
backend, with the same parameters, input and initial state, and compares the
output, every state trace and the gradients of a random weighting of all of
them with respect to the input, the initial state and every trained
parameter.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from mtcsnn.kernels import resolve_backend
from mtcsnn.kernels.tanh import MAX_ABS_ERROR, max_error_float32, tanh_rational
from mtcsnn.neurons import (
    LIF,
    MTC,
    AdLIF,
    AdLIFParams,
    LIFParams,
    MTCParams,
)

F64 = torch.float64
F32 = torch.float32

HAS_TRITON = importlib.util.find_spec("triton") is not None
BACKENDS = [
    "cpu",
    pytest.param(
        "triton",
        marks=pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed"),
    ),
]


def mtc_params(n: int, tau_f: float, dt: float) -> MTCParams:
    """Per-neuron parameters spread around the reference neuron."""
    g = torch.Generator().manual_seed(7)

    def jitter(value: float, scale: float) -> torch.Tensor:
        return value + scale * torch.rand(n, generator=g, dtype=F64)

    return MTCParams(
        alpha_f=jitter(2.0, 0.4),
        delta_f=jitter(-0.1, 0.2),
        alpha_sp=jitter(2.0, 0.4),
        delta_sp=jitter(-0.1, 0.2),
        alpha_sn=jitter(1.4, 0.3),
        delta_sn=jitter(-1.6, 0.2),
        alpha_us=jitter(1.4, 0.3),
        delta_us=jitter(-1.6, 0.2),
        tau_m=jitter(1.0, 0.5),
        tau_s=jitter(4.0, 3.0),
        tau_us=jitter(30.0, 20.0),
        R=jitter(0.9, 0.2),
        u_rest=jitter(-0.05, 0.1),
        u_th=jitter(-0.1, 0.2),
        u_sat=jitter(0.9, 0.2),
        tau_f=tau_f,
        dt=dt,
    )


def build(kind: str, n: int, dtype: torch.dtype, backend: str, **options):
    """A layer of ``kind`` with every parameter trained, and a matching input."""
    if kind == "mtc":
        tau_f = options.get("tau_f", 0.0)
        layer = MTC(
            n,
            mtc_params(n, tau_f, dt=0.5),
            train="all",
            dtype=dtype,
            backend=backend,
            checkpoint=options.get("checkpoint"),
        )
        low, high = -0.8, 0.6
    elif kind == "lif":
        beta = 0.5 + 0.45 * torch.rand(n, generator=torch.Generator().manual_seed(2))
        layer = LIF(
            n,
            LIFParams(beta=beta.double(), threshold=0.8),
            train="all",
            dtype=dtype,
            backend=backend,
            checkpoint=options.get("checkpoint"),
        )
        low, high = -0.2, 0.9
    else:
        params = AdLIFParams.sample(n, generator=torch.Generator().manual_seed(3))
        layer = AdLIF(
            n,
            params,
            train="all",
            dtype=dtype,
            backend=backend,
            checkpoint=options.get("checkpoint"),
        )
        low, high = 1.0, 12.0
    return layer, (low, high)


def run(layer, i_in, state, weights):
    """Trace, and gradients of a weighted sum of every trace field."""
    leaves = [i_in, *state, *layer.parameters()]
    trace = layer.trace(i_in, state)
    loss = sum((field * w).sum() for field, w in zip(trace, weights, strict=True))
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    return trace, grads


def compare(kind, shape, dtype, backend, rtol, atol, **options):
    steps, batch, n = shape
    torch.manual_seed(11)
    plain, (low, high) = build(kind, n, dtype, "torch", **options)
    fused, _ = build(kind, n, dtype, backend, **options)
    fused.load_state_dict(plain.state_dict())

    i_in = (low + (high - low) * torch.rand(shape, dtype=dtype)).requires_grad_()
    state0 = plain.initial_state(batch, dtype=dtype)
    # A perturbed initial state, so that its gradient is not trivial.
    state = type(state0)(*(s + 0.1 * torch.randn_like(s) for s in state0))
    if kind == "mtc" and options.get("tau_f", 0.0) == 0.0:
        state = state._replace(u_f=state.u_m)
    state = type(state)(*(s.detach().requires_grad_() for s in state))
    weights = [torch.randn(shape, dtype=dtype) for _ in plain.Trace._fields]

    ref_trace, ref_grads = run(plain, i_in, state, weights)
    trace, grads = run(fused, i_in, state, weights)
    for name, a, b in zip(plain.Trace._fields, trace, ref_trace, strict=True):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=name)
    names = ["i_in", *state._fields, *dict(plain.named_parameters())]
    for name, a, b in zip(names, grads, ref_grads, strict=True):
        if b is None:
            assert a is None or not a.any(), name
            continue
        scale = b.abs().max().clamp(min=1.0)
        torch.testing.assert_close(a / scale, b / scale, rtol=rtol, atol=atol, msg=name)
    return trace


SHAPES = [(1, 1, 1), (1, 4, 3), (23, 1, 5), (37, 3, 19), (40, 7, 23)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("tau_f", [0.0, 1.5])
@pytest.mark.parametrize("checkpoint", [None, 1, 5, 100])
def test_mtc_equals_plain_float64(backend, shape, tau_f, checkpoint):
    trace = compare(
        "mtc", shape, F64, backend, 1e-10, 1e-12, tau_f=tau_f, checkpoint=checkpoint
    )
    if shape[0] > 30:
        # The cases really cross the ramp and saturation of the output.
        assert ((trace.s > 0) & (trace.s < 1)).any() and (trace.s == 1).any()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["lif", "adlif"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("checkpoint", [None, 7])
def test_baselines_equal_plain_float64(backend, kind, shape, checkpoint):
    trace = compare(kind, shape, F64, backend, 1e-10, 1e-12, checkpoint=checkpoint)
    if shape[0] > 30:
        assert 0 < trace.s.mean() < 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tau_f", [0.0, 1.5])
def test_mtc_float32_within_the_tanh_error(backend, tau_f):
    # Over 20 steps the 4e-7 error of the rational tanh stays below 1e-4.
    compare("mtc", (20, 3, 21), F32, backend, 1e-4, 1e-4, tau_f=tau_f)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["lif", "adlif"])
def test_baselines_float32(backend, kind):
    compare(kind, (40, 3, 21), F32, backend, 1e-5, 1e-5)


def test_gradcheck_through_the_fused_mtc():
    n = 3
    layer = MTC(n, mtc_params(n, 1.5, dt=0.5), train="all", dtype=F64, backend="cpu")
    names = [name for name, _ in layer.named_parameters()]
    i_in = (-0.5 + torch.rand(25, 2, n, dtype=F64)).requires_grad_()
    leaves = [p.detach().clone().requires_grad_() for p in layer.parameters()]

    def outputs(x, *values):
        trace = torch.func.functional_call(
            layer, dict(zip(names, values, strict=True)), (x,), {}
        )
        return trace

    layer.forward = lambda x: tuple(layer.trace(x))
    assert torch.autograd.gradcheck(outputs, (i_in, *leaves), eps=1e-6, atol=1e-6)


def test_rational_tanh_error_bound():
    error = max_error_float32()
    assert error <= MAX_ABS_ERROR
    assert error > MAX_ABS_ERROR / 10  # the bound is tight, not loose
    x = torch.tensor([0.0, 1e-3, -2.0, 30.0, float("nan")])
    t = tanh_rational(x)
    assert t[0] == 0 and t[3] == 1 and torch.isnan(t[4])
    torch.testing.assert_close(t[:3], torch.tanh(x[:3]), rtol=0, atol=4e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["mtc", "lif", "adlif"])
def test_nan_propagates_like_the_plain_path(kind, backend):
    layers = [build(kind, 4, F32, name)[0] for name in ("torch", backend)]
    i_in = torch.zeros(6, 2, 4)
    i_in[2, 1, 3] = float("nan")
    plain, fused = (layer.trace(i_in) for layer in layers)
    for a, b in zip(plain[1:], fused[1:], strict=True):
        assert torch.equal(torch.isnan(a), torch.isnan(b))
    assert torch.isnan(fused[1]).any()


def test_batch_first_and_no_grad():
    plain, _ = build("mtc", 6, F64, "torch")
    fused, _ = build("mtc", 6, F64, "cpu")
    fused.load_state_dict(plain.state_dict())
    plain.batch_first = fused.batch_first = True
    i_in = -0.5 + torch.rand(2, 30, 6, dtype=F64)
    with torch.no_grad():
        torch.testing.assert_close(fused(i_in), plain(i_in), rtol=1e-12, atol=1e-12)
        trace = fused.trace(i_in)
    torch.testing.assert_close(trace.u_us, plain.trace(i_in).u_us.detach())


def test_backend_choice():
    x = torch.zeros(2, 1, 3)
    assert resolve_backend("auto", x) == "cpu"
    assert resolve_backend("auto", x.to(torch.bfloat16)) == "torch"
    assert resolve_backend("torch", x) == "torch"
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        resolve_backend("gpu", x)
    with pytest.raises(ValueError, match="float32 and float64"):
        resolve_backend("cpu", x.to(torch.float16))
    with pytest.raises(ValueError, match="unknown backend"):
        MTC(3, backend="fast")
    with pytest.raises(ValueError, match="checkpoint = 0"):
        LIF(3, checkpoint=0)


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_needs_a_gpu_or_the_interpreter(monkeypatch):
    x = torch.zeros(2, 1, 3)
    assert resolve_backend("triton", x) == "triton"  # interpreted in the tests
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(ValueError, match="CUDA tensors, or CPU tensors under"):
        resolve_backend("triton", x)


def test_environment_forces_the_plain_path(monkeypatch):
    x = torch.zeros(2, 1, 3)
    monkeypatch.setenv("MTCSNN_BACKEND", "torch")
    assert resolve_backend("auto", x) == "torch"
    # A layer's explicit choice wins over the environment.
    assert resolve_backend("cpu", x) == "cpu"
