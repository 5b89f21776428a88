"""The MTC neuron: gradients, step/module agreement, parameters, validation."""

import dataclasses

import pytest
import torch
from torch.func import functional_call

from mtcsnn.neurons import MTC, PRESETS, MTCParams, MTCState, mtc_step, transduction
from mtcsnn.neurons.base import Interval, Positive

F64 = torch.float64


def spiking_input(steps: int, batch: int, n: int) -> torch.Tensor:
    """Currents in the tonic window, so the sequence crosses u_th and u_sat."""
    base = torch.linspace(-0.6, 0.4, batch * n, dtype=F64).reshape(1, batch, n)
    return base + 0.2 * torch.randn(steps, batch, n, dtype=F64)


def per_neuron_params(n: int, **changes) -> MTCParams:
    g = torch.Generator().manual_seed(1)

    def jitter(value: float, scale: float) -> torch.Tensor:
        return value + scale * torch.rand(n, generator=g, dtype=F64)

    return MTCParams(
        alpha_f=jitter(2.0, 0.3),
        delta_f=jitter(0.0, 0.2),
        alpha_sp=jitter(2.0, 0.3),
        delta_sp=jitter(0.0, 0.2),
        alpha_sn=jitter(1.5, 0.2),
        delta_sn=jitter(-1.5, 0.2),
        alpha_us=jitter(1.5, 0.2),
        delta_us=jitter(-1.5, 0.2),
        tau_m=jitter(1.0, 0.5),
        tau_s=jitter(4.0, 2.0),
        tau_us=jitter(20.0, 5.0),
        R=jitter(1.0, 0.2),
        u_rest=jitter(0.0, 0.1),
        **changes,
    )


@pytest.mark.parametrize("backend", ["torch", "cpu"])
@pytest.mark.parametrize("tau_f", [0.0, 2.0])
def test_gradcheck_through_sequence(tau_f, backend):
    n, batch, steps = 3, 2, 40
    params = per_neuron_params(n, tau_f=tau_f, dt=0.5)
    layer = MTC(n, params, train="all", dtype=F64, backend=backend)
    trained = dict(layer.named_parameters())
    expected = 13 + (tau_f > 0)
    assert len(trained) == expected
    i_in = spiking_input(steps, batch, n).requires_grad_()
    out = layer.trace(i_in)
    # The inputs really exercise the ramp of the transduction and spike.
    assert ((out.s > 0) & (out.s < 1)).any() and (out.s == 1).any()

    names = list(trained)

    def run(x, *values):
        trace = functional_call(layer, dict(zip(names, values, strict=False)), (x,))
        return trace.s, trace.u_m, trace.u_us

    leaves = [p.detach().clone().requires_grad_() for p in trained.values()]
    layer.forward = layer.trace  # so that functional_call returns every trace
    assert torch.autograd.gradcheck(
        run, (i_in, *leaves), eps=1e-6, atol=1e-6, fast_mode=True
    )


def test_step_function_and_module_agree_exactly():
    n, batch, steps = 4, 3, 50
    params = per_neuron_params(n, tau_f=1.0, dt=0.25)
    # The plain loop is the step function; fused kernels are tested apart.
    layer = MTC(n, params, train=("alpha_f", "tau_s"), dtype=F64, backend="torch")
    i_in = spiking_input(steps, batch, n)
    trace = layer.trace(i_in)

    state = MTCState(
        torch.full((batch, n), -1.9, dtype=F64),
        *(torch.full((batch, n), -1.8, dtype=F64) for _ in range(3)),
    )
    outputs = []
    for t in range(steps):
        s, state = mtc_step(i_in[t], state, params)
        outputs.append((s, state))
    for t, (s, st) in enumerate(outputs):
        assert torch.equal(trace.s[t], s)
        for name in MTCState._fields:
            assert torch.equal(getattr(trace, name)[t], getattr(st, name)), name
    assert torch.equal(layer(i_in), trace.s)


def test_instantaneous_fast_filter_follows_membrane():
    layer = MTC(2, "reference", dtype=F64)
    trace = layer.trace(torch.full((30, 1, 2), -1.0, dtype=F64))
    assert torch.equal(trace.u_f, trace.u_m)


def test_first_step_by_hand():
    p = PRESETS["reference"]
    s, state = mtc_step(
        torch.tensor([[-2.0]], dtype=F64),
        MTCState(*(torch.tensor([[v]], dtype=F64) for v in (-1.9, -1.9, -1.8, -1.8))),
        p,
    )
    from math import tanh

    i_sum = -2 * tanh(-1.9) + 2 * tanh(-1.8) - 1.5 * tanh(-0.3) + 1.5 * tanh(-0.3)
    u_m = -1.9 + (1.9 - 2.0 - i_sum)
    assert state.u_m.item() == pytest.approx(u_m, abs=1e-15)
    assert state.u_s.item() == pytest.approx(-1.8 + (-1.9 + 1.8) / 50, abs=1e-15)
    assert state.u_us.item() == pytest.approx(-1.8 + (-1.9 + 1.8) / 2500, abs=1e-15)
    assert s.item() == 0.0


def test_transduction_values():
    u = torch.tensor([-1.0, 0.0, 0.25, 0.5, 1.0, 3.0])
    assert transduction(u, 0.0, 1.0).tolist() == [0.0, 0.0, 0.25, 0.5, 1.0, 1.0]
    assert transduction(u, -1.0, 1.0).tolist() == [0.0, 0.5, 0.625, 0.75, 1.0, 1.0]


def test_batch_first_and_continued_state():
    layer = MTC(3, "mackey_glass", dtype=F64)
    i_in = spiking_input(60, 2, 3)
    full = layer.trace(i_in)
    first = layer.trace(i_in[:25])
    rest = layer.trace(i_in[25:], layer.final_state(first))
    assert torch.equal(torch.cat([first.u_m, rest.u_m]), full.u_m)

    bf = MTC(3, "mackey_glass", batch_first=True, dtype=F64)
    assert torch.equal(bf(i_in.transpose(0, 1)), full.s.transpose(0, 1))
    first_bf = bf.trace(i_in.transpose(0, 1)[:, :25])
    assert torch.equal(bf.final_state(first_bf).u_m, first.u_m[-1])


def test_state_is_fresh_on_every_call():
    layer = MTC(2, "reference")
    i_in = torch.full((40, 1, 2), 0.0)
    assert torch.equal(layer(i_in), layer(i_in))


def test_state_dict_round_trip():
    source = MTC(5, "mackey_glass", train=("alpha_f", "delta_sn", "tau_us"))
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.3 * torch.randn_like(p))
    target = MTC(5, "mackey_glass", train=("alpha_f", "delta_sn", "tau_us"))
    target.load_state_dict(source.state_dict())
    i_in = torch.randn(30, 2, 5) - 0.5
    assert torch.equal(source(i_in), target(i_in))
    assert torch.equal(target.tau_us, source.tau_us)
    assert not torch.equal(target.tau_us, MTC(5, "mackey_glass").tau_us)
    # Untrained parameters are buffers and round-trip too.
    assert "u_th" in source.state_dict() and "tau_m" in source.state_dict()


def test_trained_parameters_stay_valid_under_large_steps():
    layer = MTC(4, "mackey_glass", train=("alpha_f", "tau_s", "tau_m", "R"))
    optimiser = torch.optim.SGD(layer.parameters(), lr=10.0)
    for _ in range(50):
        optimiser.zero_grad()
        # Drive every trained value hard towards (and past) its bound.
        (layer.alpha_f + layer.tau_s + layer.tau_m + layer.R).sum().backward()
        optimiser.step()
    assert (layer.alpha_f > 0).all() and (layer.R > 0).all()
    # Time constants stay at or above dt / 2, where explicit Euler is stable.
    assert (layer.tau_s >= layer.dt / 2).all() and (layer.tau_m >= layer.dt / 2).all()
    assert layer.tau_m.max().item() == pytest.approx(layer.dt / 2, abs=1e-2)
    assert torch.isfinite(layer(torch.randn(200, 2, 4))).all()


def test_parametrisations_invert():
    value = torch.tensor([0.7, 3.0, 40.0], dtype=F64)
    for constraint in (Positive(0.5), Interval(0.5, 50.0)):
        raw = constraint.right_inverse(value)
        assert torch.allclose(constraint(raw), value, rtol=1e-12)


def test_only_selected_parameters_are_trained():
    layer = MTC(3, "reference", train=["delta_f", "alpha_us"])
    assert {n for n, _ in layer.named_parameters()} == {
        "delta_f",
        "parametrizations.alpha_us.original",
    }
    with pytest.raises(ValueError, match="cannot train u_th"):
        MTC(3, "reference", train=["u_th"])
    with pytest.raises(ValueError, match="tau_f"):
        MTC(3, "reference", train=["tau_f"])
    with pytest.raises(ValueError, match="alpha_sn"):
        MTC(3, "tonic", train=["alpha_sn"])
    # "all" skips the switched-off elements and the instantaneous filter.
    assert "alpha_sn" not in MTC(3, "tonic", train="all").trained


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tau_s": -1.0}, r"MTCParams.tau_s = -1.0 is out of range: must be > 0"),
        ({"tau_m": 0.0}, r"MTCParams.tau_m = 0.0 is out of range: must be > 0"),
        ({"tau_us": 0.4}, r"MTCParams.tau_us = 0.4.*dt / tau_us <= 2.*>= 0.5"),
        ({"tau_f": 0.3}, r"MTCParams.tau_f = 0.3.*dt / tau_f <= 2"),
        ({"tau_f": -1.0}, r"MTCParams.tau_f = -1.0 is out of range: must be > 0"),
        ({"alpha_f": -0.5}, r"MTCParams.alpha_f = -0.5 is out of range: must be >= 0"),
        ({"R": 0.0}, r"MTCParams.R = 0.0 is out of range: must be > 0"),
        ({"u_sat": 0.0}, r"MTCParams.u_sat = 0.0 is out of range: must be > u_th"),
        ({"dt": 0.0}, r"MTCParams.dt = 0.0 is out of range: must be > 0"),
        ({"delta_sn": float("nan")}, r"MTCParams.delta_sn = nan is not finite"),
        ({"alpha_us": float("inf")}, r"MTCParams.alpha_us = inf is not finite"),
        (
            {"tau_s": torch.tensor([50.0, -2.0])},
            r"MTCParams.tau_s = -2.0 \(neuron 1\) is out of range",
        ),
        ({"tau_s": torch.ones(2, 2)}, r"MTCParams.tau_s .*shape \(2, 2\)"),
        ({"nonsense": 1.0}, r"MTCParams has no parameter nonsense"),
    ],
)
def test_bad_parameters_raise_with_their_name(changes, message):
    with pytest.raises(ValueError, match=message):
        PRESETS["reference"].replace(**changes)


def test_unknown_preset_and_bad_shapes():
    with pytest.raises(ValueError, match="unknown MTC preset 'nope'"):
        MTCParams.preset("nope")
    with pytest.raises(ValueError, match=r"alpha_f has shape \(3,\)"):
        MTC(2, MTCParams(alpha_f=torch.ones(3)))
    with pytest.raises(ValueError, match=r"expects input of shape \[T, B, N\]"):
        MTC(2)(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="n_neurons = 0"):
        MTC(0)


def test_presets_are_valid_and_distinct():
    assert set(PRESETS) >= {"reference", "tonic", "mackey_glass"}
    fields = [f.name for f in dataclasses.fields(MTCParams)]
    assert PRESETS["tonic"].alpha_sn == 0.0 and PRESETS["tonic"].alpha_us == 0.0
    assert PRESETS["mackey_glass"].tau_s < PRESETS["reference"].tau_s
    assert "dt" in fields and PRESETS["reference"].fast_instantaneous
