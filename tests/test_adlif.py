"""The SE-AdLIF baseline: hand-computed steps, surrogate, constraints."""

import math

import pytest
import torch
from torch.testing import assert_close

from mtcsnn.neurons import AdLIF, AdLIFParams, AdLIFState, adlif_step
from mtcsnn.neurons.surrogate import slayer_derivative, slayer_spike

F64 = torch.float64
Q = 120.0


def two_neurons() -> AdLIFParams:
    return AdLIFParams(
        tau_u=torch.tensor([5.0, 25.0]),
        tau_w=torch.tensor([60.0, 300.0]),
        a=torch.tensor([0.5, 0.0]),
        b_w=torch.tensor([1.0, 2.0]),
    )


def test_steps_by_hand():
    i_in = torch.tensor([[8.0, 30.0], [0.0, 30.0], [3.0, 0.0], [12.0, 0.0]], dtype=F64)
    trace = AdLIF(2, two_neurons(), dtype=F64).trace(i_in.unsqueeze(1))
    s, u, w = (x[:, 0, :] for x in trace)

    # Neuron 0: tau_u = 5, tau_w = 60, a = 0.5, b_w = 1.
    a_u, a_w = math.exp(-1 / 5), math.exp(-1 / 60)
    # t = 1: u' = (1 - a_u) 8 = 1.45 > 1: spike, reset to 0; w driven by z alone.
    w1 = (1 - a_w) * Q * 1.0
    # t = 2: no input; the adaptation pulls the membrane below rest, and the
    # sub-threshold coupling a u (new u) lowers w.
    u2 = (1 - a_u) * (0.0 - w1)
    w2 = a_w * w1 + (1 - a_w) * Q * (0.5 * u2)
    # t = 3: still below threshold.
    u3 = a_u * u2 + (1 - a_u) * (3.0 - w2)
    w3 = a_w * w2 + (1 - a_w) * Q * (0.5 * u3)
    # t = 4: u' = 1.87 > 1: spike; the reset membrane adds nothing to w.
    assert a_u * u3 + (1 - a_u) * (12.0 - w3) > 1
    w4 = a_w * w3 + (1 - a_w) * Q * 1.0
    assert s[:, 0].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert_close(
        u[:, 0], torch.tensor([0.0, u2, u3, 0.0], dtype=F64), rtol=1e-13, atol=0
    )
    assert_close(w[:, 0], torch.tensor([w1, w2, w3, w4], dtype=F64), rtol=1e-13, atol=0)

    # Neuron 1: tau_u = 25, tau_w = 300, a = 0 (spikes alone drive w), b_w = 2.
    a_u, a_w = math.exp(-1 / 25), math.exp(-1 / 300)
    # t = 1: u' = (1 - a_u) 30 = 1.18: spike.
    w1 = (1 - a_w) * Q * 2.0
    # t = 2: u' = (1 - a_u) (30 - w1) = 1.15: spike again.
    assert (1 - a_u) * (30.0 - w1) > 1
    w2 = a_w * w1 + (1 - a_w) * Q * 2.0
    # t = 3, 4: no input; w only decays.
    u3 = (1 - a_u) * (0.0 - w2)
    w3 = a_w * w2
    u4 = a_u * u3 + (1 - a_u) * (0.0 - w3)
    w4 = a_w * w3
    assert s[:, 1].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert_close(
        u[:, 1], torch.tensor([0.0, 0.0, u3, u4], dtype=F64), rtol=1e-13, atol=0
    )
    assert_close(w[:, 1], torch.tensor([w1, w2, w3, w4], dtype=F64), rtol=1e-13, atol=0)


@pytest.mark.parametrize(("alpha", "c"), [(5.0, 0.4), (2.0, 1.0)])
def test_slayer_surrogate_against_formula(alpha, c):
    # x chosen so that alpha |x| = 0, 1, 1, 3.
    points = torch.tensor([0.0, 1.0, -1.0, 3.0], dtype=F64) / alpha
    peak = c * alpha / 2
    decays = [1.0, math.exp(-1), math.exp(-1), math.exp(-3)]
    expected = peak * torch.tensor(decays, dtype=F64)
    x = points.clone().requires_grad_()
    s = slayer_spike(x, alpha, c)
    (grad,) = torch.autograd.grad(s.sum(), x)
    assert s.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert_close(grad, expected, rtol=1e-14, atol=0)
    assert_close(slayer_derivative(points, alpha, c), grad, rtol=1e-14, atol=0)


def test_one_step_gradients_by_hand():
    # One step from u = 0.2, w = 0.1 with currents putting u' - 1 at -0.3, 0.1.
    p = AdLIFParams(tau_u=5.0, tau_w=60.0, a=0.5, b_w=1.5)
    a_u, a_w = math.exp(-1 / 5), math.exp(-1 / 60)
    u0, w0 = 0.2, 0.1
    x_wanted = torch.tensor([-0.3, 0.1], dtype=F64)
    currents = (1 + x_wanted - a_u * u0) / (1 - a_u) + w0
    i_in = currents.reshape(1, 2).requires_grad_()
    state = AdLIFState(
        torch.full((1, 2), u0, dtype=F64), torch.full((1, 2), w0, dtype=F64)
    )
    z, new = adlif_step(i_in, state, p)

    dz = (1 - a_u) * 0.4 * 5 / 2 * torch.exp(-5 * x_wanted.abs())
    du = (1 - a_u) * (1 - z[0].detach())  # the reset passes no gradient
    dw = (1 - a_w) * Q * (0.5 * du + 1.5 * dz)  # the spike's does
    assert z[0].tolist() == [0.0, 1.0]
    for out, expected in ((z, dz), (new.u, du), (new.w, dw)):
        (grad,) = torch.autograd.grad(out.sum(), i_in, retain_graph=True)
        assert_close(grad[0], expected, rtol=1e-12, atol=1e-15)


def test_step_function_and_module_agree_exactly():
    # The plain loop is the step function; fused kernels are tested apart.
    n, batch, steps = 5, 3, 60
    params = AdLIFParams.sample(n, generator=torch.Generator().manual_seed(3))
    layer = AdLIF(n, params, train="all", dtype=F64, backend="torch")
    # Strong drive: each spike raises w by about 2 b_w (q = 120).
    i_in = 12.0 * torch.rand(steps, batch, n, dtype=F64) + 2.0
    trace = layer.trace(i_in)
    assert 0.05 < trace.s.mean().item() < 0.6

    state = AdLIFState(
        torch.zeros(batch, n, dtype=F64), torch.zeros(batch, n, dtype=F64)
    )
    p = layer.params()
    for t in range(steps):
        s, state = adlif_step(i_in[t], state, p)
        assert torch.equal(trace.s[t], s)
        assert torch.equal(trace.u[t], state.u) and torch.equal(trace.w[t], state.w)
    assert torch.equal(layer(i_in), trace.s)
    # The trained time constants are the published ones, to rounding.
    assert_close(layer.tau_u.detach(), params.tau_u, rtol=1e-14, atol=0)


def test_batch_first_continued_state_and_fresh_state():
    layer = AdLIF(3, AdLIFParams(tau_u=8.0, tau_w=100.0, a=0.3, b_w=0.5))
    i_in = 10.0 * torch.rand(50, 2, 3)
    full = layer.trace(i_in)
    assert full.s[:20].sum() > 0 and full.s[20:].sum() > 0
    first = layer.trace(i_in[:20])
    rest = layer.trace(i_in[20:], layer.final_state(first))
    assert torch.equal(torch.cat([first.w, rest.w]), full.w)
    assert torch.equal(layer(i_in), full.s)  # a fresh zero state on each call

    bf = AdLIF(3, layer.params(), batch_first=True)
    assert torch.equal(bf(i_in.transpose(0, 1)), full.s.transpose(0, 1))


def test_constraints_hold_after_optimiser_steps_that_push_them_out():
    layer = AdLIF(4, train="all")
    optimiser = torch.optim.SGD(layer.parameters(), lr=10.0)
    for sign in (1.0, -1.0):
        for _ in range(3):
            optimiser.zero_grad()
            # sign = 1 pushes a, b_w and tau_u up and tau_w down; -1 the reverse.
            loss = -sign * (layer.a + layer.b_w + layer.tau_u - layer.tau_w).sum()
            loss.backward()
            optimiser.step()
            assert (layer.a > 1).all() or (layer.a < 0).all()  # out, before...
            layer.apply_constraints()
            # ... and back in range after.
            assert ((layer.a >= 0) & (layer.a <= 1)).all()
            assert ((layer.b_w >= 0) & (layer.b_w <= 2)).all()
            assert ((layer.tau_u >= 5) & (layer.tau_u <= 25)).all()
            assert ((layer.tau_w >= 60) & (layer.tau_w <= 300)).all()
        high, low = (1.0, 0.0) if sign > 0 else (0.0, 1.0)
        assert layer.a.tolist() == [high] * 4 and layer.b_w.tolist() == [2 * high] * 4
        assert layer.tau_u.tolist() == [5 + 20 * high] * 4
        assert layer.tau_w.tolist() == [60 + 240 * low] * 4


def test_interpolation_gradient_and_parameter_registration():
    layer = AdLIF(3, train=("tau_u", "b_w"))
    assert {n for n, _ in layer.named_parameters()} == {
        "b_w",
        "parametrizations.tau_u.original",
    }
    assert {"tau_w", "a", "threshold"} <= set(layer.state_dict())
    # d tau / d w_tau = tau_max - tau_min, the same for every neuron.
    layer.tau_u.sum().backward()
    assert layer.parametrizations.tau_u.original.grad.tolist() == [20.0] * 3
    untrained = AdLIF(3)
    before = untrained.state_dict()
    untrained.apply_constraints()
    assert all(torch.equal(before[k], v) for k, v in untrained.state_dict().items())
    with pytest.raises(ValueError, match="cannot train threshold"):
        AdLIF(3, train="threshold")


def test_published_initialisation():
    params = AdLIFParams.sample(2000, generator=torch.Generator().manual_seed(0))
    for name, low, high in (
        ("tau_u", 5, 25),
        ("tau_w", 60, 300),
        ("a", 0, 1),
        ("b_w", 0, 2),
    ):
        values = getattr(params, name)
        assert values.shape == (2000,)
        assert low <= values.min() < low + 0.02 * (high - low)
        assert high - 0.02 * (high - low) < values.max() <= high
        assert values.mean().item() == pytest.approx((low + high) / 2, rel=0.05)
    assert params.q == 120.0 and params.surrogate_alpha == 5.0
    assert params.surrogate_c == 0.4

    changed = AdLIFParams.sample(10, q=228.0, tau_u_min=1.0, tau_u_max=2.0, a=0.0)
    assert changed.q == 228.0 and changed.a == 0.0
    assert ((changed.tau_u >= 1) & (changed.tau_u <= 2)).all()

    torch.manual_seed(7)
    layer = AdLIF(6)
    torch.manual_seed(7)
    drawn = AdLIFParams.sample(6)
    assert torch.equal(layer.b_w, drawn.b_w.float())


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"tau_u": 30.0}, ValueError, r"AdLIFParams.tau_u = 30.0 .*must be <= 25"),
        ({"tau_w": 50.0}, ValueError, r"AdLIFParams.tau_w = 50.0 .*must be >= 60"),
        ({"a": 1.5}, ValueError, r"AdLIFParams.a = 1.5 .*must be <= 1"),
        ({"b_w": -0.1}, ValueError, r"AdLIFParams.b_w = -0.1 .*must be >= 0"),
        ({"threshold": 0.0}, ValueError, r"AdLIFParams.threshold = 0.0 .*> 0"),
        ({"tau_u_max": 5.0}, ValueError, r"AdLIFParams.tau_u_max = 5.0 .*> tau_u_min"),
        ({"q": torch.tensor(1.0)}, TypeError, r"AdLIFParams.q must be a Python number"),
        ({"q": 0.0}, ValueError, r"AdLIFParams.q = 0.0 .*must be > 0"),
        ({"a": torch.tensor([0.5, 2.0])}, ValueError, r"2.0 \(neuron 1\)"),
    ],
)
def test_bad_parameters_raise_with_their_name(changes, error, message):
    with pytest.raises(error, match=message):
        AdLIFParams().replace(**changes)
