"""Negative-slope intervals and resting voltages against closed forms."""

import math

import numpy as np
import pytest
import torch

from mtcsnn.analysis import (
    iv_curves,
    iv_slopes,
    negative_slope_intervals,
    resting_voltage,
)
from mtcsnn.neurons import PRESETS, MTCParams


def test_reference_intervals_match_the_closed_form():
    falling = negative_slope_intervals(PRESETS["reference"])
    # Fast: d/dv (v - 2 tanh v) = 1 - 2 sech^2 v = 0 at v = +-arccosh(sqrt 2).
    edge = math.acosh(math.sqrt(2.0))
    assert len(falling.fast) == 1
    np.testing.assert_allclose(falling.fast[0], (-edge, edge), rtol=0, atol=1e-14)
    # Slow: the fast and slow-positive sech^2 terms cancel (both gain 2,
    # offset 0), leaving 1 - 1.5 sech^2(v + 1.5).
    edge = math.acosh(math.sqrt(1.5))
    np.testing.assert_allclose(
        falling.slow[0], (-1.5 - edge, -1.5 + edge), rtol=0, atol=1e-14
    )
    assert len(falling.slow) == 1
    # Ultra-slow: the ultra-slow element cancels the slow negative one.
    assert falling.ultraslow == []


def test_membrane_resistance_scales_the_leak():
    # 1 / R - 2 sech^2 v = 0  <=>  cosh v = sqrt(2 R).
    falling = negative_slope_intervals(PRESETS["reference"].replace(R=2.0))
    edge = math.acosh(2.0)
    np.testing.assert_allclose(falling.fast, [(-edge, edge)], rtol=0, atol=1e-14)


def test_weak_fast_element_is_not_excitable():
    # 1 - 0.9 sech^2 v > 0 everywhere.
    falling = negative_slope_intervals(PRESETS["reference"].replace(alpha_f=0.9))
    assert falling.fast == []


def _mp_roots(terms, lo, hi, n=800):
    """Zeros of 1 - sum g sech^2(v - d), located with mpmath at 40 digits."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def slope(v):
        return 1 - sum(g * mpmath.sech(v - d) ** 2 for g, d in terms)

    grid = np.linspace(lo, hi, n + 1)
    sign = np.sign([float(slope(x)) for x in grid])
    brackets = np.nonzero(sign[:-1] != sign[1:])[0]
    return [
        float(mpmath.findroot(slope, (grid[k], grid[k + 1]), solver="anderson"))
        for k in brackets
    ]


def test_two_falling_stretches_match_a_high_precision_root_finder():
    # Slow negative element far from the fast one: the slow curve falls twice,
    # near v = 0 (fast element, partly cancelled) and near v = -3.
    p = MTCParams(alpha_sp=1.0, delta_sp=0.5, alpha_sn=2.5, delta_sn=-3.0)
    falling = negative_slope_intervals(p)
    terms = [(2.0, 0.0), (-1.0, 0.5), (2.5, -3.0)]
    expected = _mp_roots(terms, -8.0, 8.0)
    assert len(expected) == 4
    got = [x for pair in falling.slow for x in pair]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)
    # The ultra-slow element (gain 1.5, offset -1.5) adds a positive term.
    expected = _mp_roots([*terms, (-1.5, -1.5)], -8.0, 8.0)
    got = [x for pair in falling.ultraslow for x in pair]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


def test_intervals_bound_the_falling_samples_of_the_curves():
    p = PRESETS["reference"].replace(alpha_us=0.5, delta_us=-2.0)
    v = torch.linspace(-6.0, 6.0, 24001, dtype=torch.float64)
    curves = iv_curves(p, v)
    falling = negative_slope_intervals(p)
    for name in ("fast", "slow", "ultraslow"):
        current = getattr(curves, name).numpy()
        mid = 0.5 * (v[1:] + v[:-1]).numpy()
        down = np.diff(current) < 0
        inside = np.zeros_like(down)
        for lo, hi in getattr(falling, name):
            inside |= (mid > lo) & (mid < hi)
        # Agreement everywhere except within one grid step of an edge.
        edges = [x for pair in getattr(falling, name) for x in pair]
        far = np.all(np.abs(mid[:, None] - np.array(edges)[None]) > 1e-3, axis=1)
        assert (down == inside)[far if edges else slice(None)].all()
    assert falling.ultraslow != []


def test_slopes_agree_with_finite_differences():
    p = MTCParams(alpha_sp=1.0, delta_sp=0.5, alpha_sn=2.5, delta_sn=-3.0, R=0.7)
    v = torch.linspace(-5.0, 5.0, 101, dtype=torch.float64)
    h = 1e-6
    up, down = iv_curves(p, v + h), iv_curves(p, v - h)
    slopes = iv_slopes(p, v)
    for name in ("fast", "slow", "ultraslow"):
        numeric = (getattr(up, name) - getattr(down, name)) / (2 * h)
        torch.testing.assert_close(getattr(slopes, name), numeric, rtol=0, atol=1e-8)


def test_intervals_need_one_neuron():
    p = PRESETS["reference"].replace(alpha_f=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="alpha_f has 2 values"):
        negative_slope_intervals(p)
    with pytest.raises(ValueError, match="points_per_unit"):
        negative_slope_intervals(PRESETS["reference"], points_per_unit=3)


def test_resting_voltage_is_the_lowest_equilibrium():
    # Reference: the ultra-slow curve is the leak, I = v.
    v = resting_voltage(PRESETS["reference"], torch.tensor([-3.5, -2.0, 1.0]))
    torch.testing.assert_close(v, torch.tensor([-3.5, -2.0, 1.0], dtype=torch.float64))
    # Slow negative element without its ultra-slow partner:
    # I(v) = v - 1.5 tanh(v + 1.5) has three equilibria at I = -1.5
    # (-1.5 itself is the middle one).
    p = PRESETS["reference"].replace(alpha_us=0.0)
    rest = float(resting_voltage(p, -1.5))
    assert rest < -1.5
    assert abs(rest - 1.5 * math.tanh(rest + 1.5) + 1.5) < 1e-13
    # Per neuron: each solves its own curve.
    p = PRESETS["tonic"].replace(
        alpha_us=torch.tensor([2.0, 3.0]), delta_us=torch.tensor([-1.2, -1.5])
    )
    rest = resting_voltage(p, -2.0)
    residual = rest + torch.tensor([2.0, 3.0]) * torch.tanh(
        rest - torch.tensor([-1.2, -1.5])
    )
    torch.testing.assert_close(residual, torch.full((2,), -2.0, dtype=torch.float64))
    # Only an offset per neuron: I(v) = v + 2 tanh(v - delta_us).
    offsets = torch.tensor([-2.0, -1.0, 0.0])
    p = PRESETS["tonic"].replace(alpha_us=2.0, delta_us=offsets)
    rest = resting_voltage(p, -2.0)
    assert rest.shape == (3,)
    residual = rest + 2.0 * torch.tanh(rest - offsets)
    torch.testing.assert_close(residual, torch.full((3,), -2.0, dtype=torch.float64))


def test_plot_iv_thickens_exactly_the_intervals():
    pytest.importorskip("matplotlib")
    from mtcsnn import plotting

    ax = plotting.plot_mtc_iv(PRESETS["reference"])
    edge = math.acosh(math.sqrt(2.0))
    thick = [
        line for line in ax.lines if line.get_linewidth() == 4 and line.get_xdata().size
    ]
    assert len(thick) == 2  # fast and slow; the ultra-slow curve never falls
    fast = thick[0].get_xdata()
    np.testing.assert_allclose([fast[0], fast[-1]], [-edge, edge], atol=1e-14)
    np.testing.assert_allclose(
        thick[0].get_ydata()[[0, -1]],
        [-edge + 2 * math.tanh(edge), edge - 2 * math.tanh(edge)],
        atol=2e-5,  # linear interpolation on the 0.0075-wide grid at an extremum
    )
    plotting._pyplot().close(ax.figure)
