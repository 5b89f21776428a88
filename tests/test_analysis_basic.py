"""Spike detection, input protocols and I-V curves on hand-computed cases."""

import numpy as np
import pytest
import torch

from mtcsnn.analysis import iv_curves, make_protocol, spike_times
from mtcsnn.neurons import PRESETS


def test_spike_times_interpolate_upward_crossings():
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    u = np.array([-1.0, 1.0, 2.0, -1.0, 0.0, 3.0])
    # Up at 0.5 (between -1 and 1), down, up exactly at t = 4 (u = 0).
    np.testing.assert_allclose(spike_times(t, u, 0.0), [0.5, 4.0])
    assert spike_times(t, np.full(6, -1.0), 0.0).size == 0
    with pytest.raises(ValueError, match="equal length"):
        spike_times(t, u[:3], 0.0)


def test_protocols():
    step = make_protocol(
        "step", current=-2.0, current_to=0.5, t_on=2.0, t_end=5.0, dt=1.0
    )
    assert step.tolist() == [-2.0, -2.0, 0.5, 0.5, 0.5]
    ramp = make_protocol("ramp", current=0.0, current_to=1.0, t_end=4.0, dt=1.0)
    assert ramp.tolist() == [0.0, 0.25, 0.5, 0.75]
    pulse = make_protocol(
        "pulse", current=0.0, current_to=1.0, t_on=1.0, width=2.0, t_end=5.0, dt=1.0
    )
    assert pulse.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="needs current_to"):
        make_protocol("step", current=0.0, t_end=5.0, dt=1.0)
    with pytest.raises(ValueError, match="unknown protocol 'saw'"):
        make_protocol("saw", current=0.0, current_to=1.0, t_end=5.0, dt=1.0)
    with pytest.raises(ValueError, match="t_end"):
        make_protocol("constant", current=0.0, t_end=0.0, dt=1.0)


def test_iv_curves_of_the_reference():
    v = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    curves = iv_curves(PRESETS["reference"], v)
    tanh = np.tanh
    np.testing.assert_allclose(curves.fast, [-1 + 2 * tanh(1), 0, 1 - 2 * tanh(1)])
    slow = [x - 1.5 * tanh(x + 1.5) for x in (-1.0, 0.0, 1.0)]
    np.testing.assert_allclose(curves.slow, slow)
    # The ultra-slow element cancels the slow negative one: a pure leak.
    np.testing.assert_allclose(curves.ultraslow, v, atol=1e-15)


def test_iv_curves_per_neuron():
    p = PRESETS["reference"].replace(alpha_f=torch.tensor([0.5, 2.0]))
    curves = iv_curves(p)
    assert curves.fast.shape == (801, 2)
    slope = np.gradient(curves.fast.numpy(), curves.v.numpy(), axis=0)
    assert (slope[:, 0] > 0).all() and (slope[:, 1] < 0).any()
