"""The MTC module against the continuous model integrated by scipy.

The continuous equations (instantaneous fast filter) are written out here,
independently of the library, and integrated with DOP853 at tight
tolerances; spike times are the upward zero crossings of ``u_m - u_th``
located by the integrator's event finder.
"""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from mtcsnn.analysis import spike_times
from mtcsnn.neurons import MTC, MTCParams

T_END = 2550.0
DT = 0.05
# Two neurons: the reference burster and the same with the slow negative and
# ultra-slow elements off (tonic); three currents: bursting, tonic, silent.
ALPHA_SN = (1.5, 0.0)
ALPHA_US = (1.5, 0.0)
CURRENTS = (-2.0, 0.0, -3.0)


def continuous_spikes(current: float, alpha_sn: float, alpha_us: float):
    def rhs(_t, y):
        u_m, u_s, u_us = y
        i_sum = (
            -2.0 * np.tanh(u_m)
            + 2.0 * np.tanh(u_s)
            - alpha_sn * np.tanh(u_s + 1.5)
            + alpha_us * np.tanh(u_us + 1.5)
        )
        return [
            -u_m + current - i_sum,
            (u_m - u_s) / 50.0,
            (u_m - u_us) / 2500.0,
        ]

    def crossing(_t, y):
        return y[0]

    crossing.direction = 1.0
    sol = solve_ivp(
        rhs,
        (0.0, T_END),
        [-1.9, -1.8, -1.8],
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
        events=crossing,
    )
    assert sol.success
    return sol.t_events[0]


@pytest.fixture(scope="module")
def euler_spikes():
    params = MTCParams(
        alpha_sn=torch.tensor(ALPHA_SN, dtype=torch.float64),
        alpha_us=torch.tensor(ALPHA_US, dtype=torch.float64),
        dt=DT,
    )
    layer = MTC(2, params, dtype=torch.float64)
    steps = round(T_END / DT)
    i_in = torch.tensor(CURRENTS, dtype=torch.float64)[None, :, None]
    i_in = i_in.expand(steps, 3, 2)
    with torch.no_grad():
        u_m = layer.trace(i_in).u_m
    t = np.arange(steps + 1) * DT
    result = {}
    for b, current in enumerate(CURRENTS):
        for n in range(2):
            u = np.concatenate([[-1.9], u_m[:, b, n].numpy()])
            result[current, n] = spike_times(t, u, 0.0)
    return result


@pytest.mark.parametrize(
    ("current", "neuron", "expected_count"),
    [
        (-2.0, 0, 7),
        (-2.0, 1, 0),
        (0.0, 0, 30),
        (0.0, 1, 51),
        (-3.0, 0, 0),
        (-3.0, 1, 0),
    ],
)
def test_spike_times_match_continuous_model(
    euler_spikes, current, neuron, expected_count
):
    reference = continuous_spikes(current, ALPHA_SN[neuron], ALPHA_US[neuron])
    ours = euler_spikes[current, neuron]
    assert len(reference) == expected_count
    assert len(ours) == len(reference)
    np.testing.assert_allclose(ours, reference, rtol=0.01, atol=0.5)


def test_bursting_reference_has_the_published_shape(euler_spikes):
    times = euler_spikes[-2.0, 0]
    intervals = np.diff(times)
    # One burst of 7 spikes ~60-90 time units apart (Ribar & Sepulchre).
    assert 55.0 < intervals.min() and intervals.max() < 95.0
