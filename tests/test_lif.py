"""The LIF baseline: equality with snnTorch's Leaky, hand-computed steps."""

import math

import pytest
import torch
from torch.testing import assert_close

from mtcsnn.neurons import LIF, LIFParams, LIFState, lif_step
from mtcsnn.neurons.surrogate import atan_derivative, atan_spike

F64 = torch.float64


def random_currents(steps: int, batch: int, n: int) -> torch.Tensor:
    """Currents that make the neurons fire at a few tens of percent of steps."""
    return 0.6 * torch.randn(steps, batch, n) + 0.35


def run_snntorch(leaky, i_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """snnTorch's Leaky stepped over ``[T, B, N]``: stacked spikes and membranes."""
    mem = torch.zeros_like(i_in[0])
    spikes, mems = [], []
    for i_t in i_in:
        spk, mem = leaky(i_t, mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems)


def test_matches_snntorch_leaky_forward_and_gradients():
    snn = pytest.importorskip("snntorch")
    steps, batch, n = 80, 4, 6
    beta = torch.linspace(0.3, 0.97, n)
    i_in = random_currents(steps, batch, n)
    weights_s = torch.randn(steps, batch, n)
    weights_u = torch.randn(steps, batch, n)

    ref = snn.Leaky(beta=beta.clone(), learn_beta=True)
    x_ref = i_in.clone().requires_grad_()
    s_ref, u_ref = run_snntorch(ref, x_ref)
    loss_ref = (weights_s * s_ref).sum() + (weights_u * u_ref).sum()
    grad_x_ref, grad_beta_ref = torch.autograd.grad(loss_ref, (x_ref, ref.beta))

    layer = LIF(n, LIFParams(beta=beta), train="beta")
    x = i_in.clone().requires_grad_()
    trace = layer.trace(x)
    loss = (weights_s * trace.s).sum() + (weights_u * trace.u).sum()
    grad_x, grad_beta = torch.autograd.grad(loss, (x, layer.beta))

    rate = s_ref.mean().item()
    assert 0.1 < rate < 0.6, rate  # the comparison covers many resets
    assert torch.equal(trace.s, s_ref)
    assert_close(trace.u, u_ref)
    assert_close(grad_x, grad_x_ref)
    assert_close(grad_beta, grad_beta_ref)
    assert grad_beta.abs().min() > 0


def test_trained_beta_outside_unit_interval_is_clamped_like_snntorch():
    snn = pytest.importorskip("snntorch")
    steps, batch, n = 40, 3, 4
    # Raw values an optimiser could reach: snnTorch clamps them in the forward.
    raw = torch.tensor([-0.2, 0.5, 1.0, 1.3])
    i_in = random_currents(steps, batch, n)

    ref = snn.Leaky(beta=raw.clone(), learn_beta=True)
    s_ref, u_ref = run_snntorch(ref, i_in)
    (grad_ref,) = torch.autograd.grad(u_ref.sum(), ref.beta)

    layer = LIF(n, train="beta")
    with torch.no_grad():
        layer.beta.copy_(raw)
    trace = layer.trace(i_in)
    (grad,) = torch.autograd.grad(trace.u.sum(), layer.beta)

    assert torch.equal(trace.s, s_ref)
    assert_close(trace.u, u_ref)
    assert_close(grad, grad_ref)
    # Outside [0, 1] the clamp passes no gradient, exactly as in snnTorch.
    assert grad[0] == 0 and grad[3] == 0 and grad[1] != 0


def test_trained_threshold_gradient_matches_snntorch_through_its_parametrisation():
    snn = pytest.importorskip("snntorch")
    steps, batch, n = 50, 3, 5
    threshold = torch.linspace(0.6, 1.4, n)
    i_in = random_currents(steps, batch, n)

    ref = snn.Leaky(beta=0.8, threshold=threshold.clone(), learn_threshold=True)
    s_ref, u_ref = run_snntorch(ref, i_in)
    (grad_ref,) = torch.autograd.grad(s_ref.sum() + u_ref.sum(), ref.threshold)

    layer = LIF(n, LIFParams(beta=0.8, threshold=threshold), train="threshold")
    trace = layer.trace(i_in)
    raw = layer.parametrizations.threshold.original
    (grad_raw,) = torch.autograd.grad(trace.s.sum() + trace.u.sum(), raw)

    assert torch.equal(trace.s, s_ref)
    assert_close(trace.u, u_ref)
    # threshold = exp(raw), so d/draw = d/dthreshold * threshold.
    assert_close(grad_raw, grad_ref * threshold)


def test_defaults_match_snntorch_defaults_and_batch_first():
    snn = pytest.importorskip("snntorch")
    i_in = random_currents(30, 2, 3)
    s_ref, u_ref = run_snntorch(snn.Leaky(beta=0.9), i_in)
    layer = LIF(3)
    trace = layer.trace(i_in)
    assert torch.equal(trace.s, s_ref)
    assert_close(trace.u, u_ref)

    bf = LIF(3, batch_first=True)
    assert torch.equal(bf(i_in.transpose(0, 1)), s_ref.transpose(0, 1))


def test_steps_by_hand():
    p = LIFParams(beta=0.5, threshold=1.0)
    state = LIFState(torch.zeros(1, 1, dtype=F64))
    expected = [
        # u[t] = 0.5 u[t-1] + I[t] - H(u[t-1] - 1); spike iff u[t] > 1
        (0.8, 0.8, 0.0),
        (0.8, 0.5 * 0.8 + 0.8, 1.0),  # 1.2: spikes, subtracted next step
        (0.8, 0.5 * 1.2 + 0.8 - 1.0, 0.0),  # 0.4
        (0.6, 0.5 * 0.4 + 0.6, 0.0),  # 0.8
    ]
    for i_t, u_t, s_t in expected:
        s, state = lif_step(torch.tensor([[i_t]], dtype=F64), state, p)
        assert state.u.item() == pytest.approx(u_t, abs=1e-15)
        assert s.item() == s_t


def test_membrane_exactly_at_threshold_neither_spikes_nor_resets():
    p = LIFParams(beta=0.5, threshold=1.0)
    s, state = lif_step(torch.ones(1, 1), LIFState(torch.zeros(1, 1)), p)
    assert state.u.item() == 1.0 and s.item() == 0.0
    s, state = lif_step(torch.zeros(1, 1), state, p)
    assert state.u.item() == 0.5 and s.item() == 0.0


@pytest.mark.parametrize("alpha", [2.0, 4.0])
def test_arctan_surrogate_against_formula(alpha):
    # x chosen so that (pi / 2) alpha x = 0, 1/2, 1, -2.
    points = torch.tensor([0.0, 0.5, 1.0, -2.0], dtype=F64) * 2 / (math.pi * alpha)
    expected = torch.tensor([1.0, 1 / 1.25, 1 / 2, 1 / 5], dtype=F64) * alpha / 2
    x = points.clone().requires_grad_()
    s = atan_spike(x, alpha)
    (grad,) = torch.autograd.grad(s.sum(), x)
    assert s.tolist() == [0.0, 1.0, 1.0, 0.0]
    assert_close(grad, expected, rtol=1e-14, atol=0)
    assert_close(atan_derivative(points, alpha), expected, rtol=1e-14, atol=0)


def test_parameters_registration_and_state_dict():
    assert {n for n, _ in LIF(3).named_parameters()} == set()
    assert set(LIF(3).state_dict()) == {"beta", "threshold"}
    assert {n for n, _ in LIF(3, train="all").named_parameters()} == {
        "beta",
        "parametrizations.threshold.original",
    }
    source = LIF(4, train="beta")
    with torch.no_grad():
        source.beta.copy_(torch.tensor([0.1, 0.4, 0.7, 0.95]))
    target = LIF(4, train="beta")
    target.load_state_dict(source.state_dict())
    i_in = random_currents(20, 2, 4)
    assert torch.equal(target.trace(i_in).u, source.trace(i_in).u)
    with pytest.raises(ValueError, match="cannot train surrogate_alpha"):
        LIF(3, train="surrogate_alpha")


def test_apply_constraints_leaves_lif_untouched():
    layer = LIF(3, train="beta")
    with torch.no_grad():
        layer.beta.fill_(1.4)
    layer.apply_constraints()
    # The clamp lives in the step, as in snnTorch; the raw value is kept.
    assert torch.equal(layer.beta, torch.full((3,), 1.4))
    u = layer.trace(torch.zeros(5, 1, 3) + 0.1).u[:, 0, 0]
    assert_close(u, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]))


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"beta": 1.5},
            ValueError,
            r"LIFParams.beta = 1.5 is out of range: must be <= 1",
        ),
        ({"beta": -0.1}, ValueError, r"LIFParams.beta = -0.1 .*must be >= 0"),
        ({"threshold": 0.0}, ValueError, r"LIFParams.threshold = 0.0 .*must be > 0"),
        ({"dt": 0.0}, ValueError, r"LIFParams.dt = 0.0 .*must be > 0"),
        (
            {"surrogate_alpha": torch.tensor(2.0)},
            TypeError,
            r"LIFParams.surrogate_alpha must be a Python number",
        ),
        ({"beta": torch.tensor([0.5, 2.0])}, ValueError, r"2.0 \(neuron 1\)"),
        ({"nonsense": 1.0}, ValueError, r"LIFParams has no parameter nonsense"),
    ],
)
def test_bad_parameters_raise_with_their_name(changes, error, message):
    with pytest.raises(error, match=message):
        LIFParams().replace(**changes)
