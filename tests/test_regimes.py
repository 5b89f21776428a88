"""Regime classifier on hand-built spike trains; presets and map by simulation."""

import math

import numpy as np
import pytest
import torch

from mtcsnn.analysis import (
    REGIME_PRESETS,
    REGIMES,
    StepProtocol,
    classify_regime,
    regime_map,
    simulate_step,
    spike_times,
)
from mtcsnn.analysis import regimes as rg
from mtcsnn.neurons import MTC, PRESETS

ON, END = 100.0, 1100.0  # a 1000-long step window


def label(spikes, **kwargs):
    return classify_regime(spikes, t_on=ON, t_end=END, **kwargs)


# ----------------------------------------------------------------------------
# Classifier on synthetic trains
# ----------------------------------------------------------------------------


def test_no_spikes_is_silent_or_blocked_by_the_voltage():
    t = np.arange(0.0, END + 1)
    low = label([], t=t, u_m=np.full_like(t, -2.0))
    assert low.label == "silent"
    assert low.features.n_spikes == 0 and math.isnan(low.features.isi_mean)
    assert low.features.late_mean_u_m == -2.0
    high = label([], t=t, u_m=np.where(t > ON, 1.2, -2.0))
    assert high.label == "blocked" and high.features.late_mean_u_m == 1.2
    # Without a trace, block cannot be seen.
    assert label([]).label == "silent"


def test_one_spike():
    onset = label([ON + 3.0])
    assert onset.label == "phasic"
    assert onset.features.latency == 3.0 and onset.features.onset_only
    assert math.isnan(onset.features.isi_cv) and onset.features.n_bursts == 0
    # One spike well after the onset window: too few for a pattern.
    assert label([ON + 700.0]).label == "tonic"
    # A spike then depolarised silence: block.
    t = np.arange(0.0, END + 1)
    blocked = label([ON + 1.0], t=t, u_m=np.where(t > ON, 2.0, -3.0))
    assert blocked.label == "blocked" and blocked.features.late_spikes == 0


def test_regular_train_is_tonic_with_hand_computed_features():
    spikes = ON + 5.0 + 50.0 * np.arange(20)  # 105 ... 1055
    regime = label(spikes)
    f = regime.features
    assert regime.label == "tonic"
    assert f.n_spikes == 20 and f.rate == 20 / 1000
    assert f.isi_mean == 50.0 and f.isi_median == 50.0 and f.isi_cv == 0.0
    assert f.adaptation_index == 0.0 and f.n_bursts == 1 and f.longest_burst == 20
    assert not f.ended and not f.onset_only
    assert f.late_spikes == 5  # 855, ..., 1055 lie after 850


def test_spikes_outside_the_window_are_ignored():
    spikes = np.concatenate([[10.0, 50.0], ON + 5.0 + 50.0 * np.arange(20), [1200]])
    assert label(spikes).features.n_spikes == 20


def test_lengthening_intervals_are_adapting():
    isis = np.arange(30.0, 91.0, 4.0)  # 16 intervals, 30 ... 90, 960 in all
    spikes = ON + 2.0 + np.concatenate([[0.0], np.cumsum(isis)])
    regime = label(spikes)
    assert regime.features.n_spikes == 17 and not regime.features.ended
    # Quarters of 4 intervals: early mean 36, late mean 84.
    assert regime.features.adaptation_index == pytest.approx(48 / 120, abs=1e-12)
    assert regime.label == "adapting"
    # The same train stopping halfway through the window is a burst.
    assert label(spikes[:9]).label == "bursting"
    # Slight lengthening, below the threshold, stays tonic.
    isis = 50.0 + 0.2 * np.arange(19)
    spikes = ON + 2.0 + np.concatenate([[0.0], np.cumsum(isis)])
    assert label(spikes).features.adaptation_index < rg.ADAPTATION_THRESHOLD
    assert label(spikes).label == "tonic"


def test_single_burst():
    burst = 10.0 * np.arange(6)
    at_onset = label(ON + 5.0 + burst)
    assert at_onset.label == "phasic" and at_onset.features.n_bursts == 1
    # The same burst later, then silence: it ended on its own.
    delayed = label(ON + 500.0 + burst)
    assert delayed.label == "bursting"
    assert delayed.features.ended and delayed.features.longest_burst == 6


def test_repeated_bursts():
    spikes = np.concatenate(
        [ON + 20.0 + start + 10.0 * np.arange(5) for start in (0, 300, 600)]
    )
    regime = label(spikes)
    f = regime.features
    assert regime.label == "bursting"
    assert f.n_bursts == 3 and f.longest_burst == 5 and f.isi_median == 10.0
    assert f.isi_mean == pytest.approx((12 * 10 + 2 * 260) / 14)


def test_onset_spike_pause_then_tonic_is_not_bursting():
    # A lone spike at the onset, a long pause, then regular firing: the lone
    # spike is no burst, the sustained part is tonic.
    spikes = np.concatenate([[ON + 1.0], ON + 400.0 + 50.0 * np.arange(12)])
    regime = label(spikes)
    assert regime.features.n_bursts == 1 and regime.label == "tonic"


def test_feature_export_and_errors():
    features = label([ON + 1.0]).features.as_dict()
    assert features["n_spikes"] == 1 and features["isi_mean"] is None
    with pytest.raises(ValueError, match="t_end > t_on"):
        classify_regime([], t_on=5.0, t_end=5.0)
    with pytest.raises(ValueError, match="needs its times"):
        classify_regime([], t_on=0.0, t_end=5.0, u_m=np.zeros(5))


def test_step_protocol():
    protocol = StepProtocol(hold=-2.0, current=0.5, t_on=2.0, t_end=5.0)
    assert protocol.input_current(1.0).tolist() == [-2.0, -2.0, 0.5, 0.5, 0.5]
    levels = protocol.input_current(1.0, [0.0, 1.0])
    assert levels.shape == (5, 2) and levels[:, 1].tolist() == [-2, -2, 1, 1, 1]
    with pytest.raises(ValueError, match="t_on < t_end"):
        StepProtocol(hold=0.0, current=0.0, t_on=5.0, t_end=5.0)


# ----------------------------------------------------------------------------
# Simulation: presets and map
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preset_runs():
    return {name: preset.run() for name, preset in REGIME_PRESETS.items()}


def test_presets_cover_every_regime():
    assert set(REGIME_PRESETS) == set(REGIMES)
    assert all(preset.regime == name for name, preset in REGIME_PRESETS.items())


@pytest.mark.parametrize("name", REGIMES)
def test_every_preset_gets_its_own_label(preset_runs, name):
    response, regime = preset_runs[name]
    assert regime.label == name
    # The neuron rests before the step: no spike, voltage constant.
    before = response.t <= REGIME_PRESETS[name].protocol.t_on
    u_before = response.u_m[before, 0, 0]
    assert (u_before < 0).all() and np.ptp(u_before) < 1e-12


def test_preset_features(preset_runs):
    features = {name: run[1].features for name, run in preset_runs.items()}
    assert features["tonic"].n_spikes == 25
    assert features["tonic"].isi_median == pytest.approx(51.58, abs=0.01)
    assert features["phasic"].n_spikes == 3
    assert features["bursting"].n_bursts == 3
    assert features["adapting"].adaptation_index > 2 * rg.ADAPTATION_THRESHOLD
    assert features["silent"].n_spikes == 0
    assert features["blocked"].late_mean_u_m > 1.5


def test_simulate_step_matches_the_layer():
    # The batched helper is the MTC layer started at rest: compare with a
    # direct run of the layer.
    p = PRESETS["reference"]
    protocol = StepProtocol(hold=-3.0, current=-2.0, t_on=20.0, t_end=300.0)
    response = simulate_step(p, protocol, [-2.0, 0.0])
    layer = MTC(1, p.replace(u_m0=-3.0, u_x0=-3.0), dtype=torch.float64)
    i_in = torch.full((300, 1, 1), -3.0, dtype=torch.float64)
    i_in[20:] = 0.0
    trace = layer.trace(i_in)
    np.testing.assert_array_equal(response.u_m[1:, 1, 0], trace.u_m[:, 0, 0].numpy())
    assert response.u_m[0, 0, 0] == -3.0 and response.t[-1] == 300.0


def test_map_on_a_tiny_grid():
    currents = [-3.0, -1.5, 0.0, 1.5]
    grid = regime_map(values=[0.0, 1.5], currents=currents)
    assert grid.labels.shape == (2, 4)
    # Without the ultra-slow element the reference neuron has no slow
    # recovery: it stays silent up to -1.5 and blocks from 0 on. With it
    # (the reference, gain 1.5): silent, bursting, tonic, blocked.
    assert grid.labels.tolist() == [
        ["silent", "silent", "blocked", "blocked"],
        ["silent", "bursting", "tonic", "blocked"],
    ]
    assert grid.codes().tolist() == [[0, 0, 5, 5], [0, 3, 1, 5]]
    # Each cell equals a separate run of that neuron.
    p = PRESETS["reference"].replace(alpha_us=1.5)
    protocol = rg.MAP_PROTOCOL
    alone = simulate_step(p, protocol, [-1.5])
    spikes = spike_times(alone.t, alone.u_m[:, 0, 0], 0.0)
    regime = classify_regime(
        spikes,
        t_on=protocol.t_on,
        t_end=protocol.t_end,
        t=alone.t,
        u_m=alone.u_m[:, 0, 0],
    )
    assert regime.features == grid.features[1][1]


def test_map_rejects_bad_sweeps():
    with pytest.raises(ValueError, match="cannot sweep 'dt'"):
        regime_map(parameter="dt", values=[1.0], currents=[0.0])
    with pytest.raises(ValueError, match="starts at its resting voltage"):
        regime_map(parameter="u_m0", values=[1.0], currents=[0.0])
    with pytest.raises(ValueError, match="tau_s"):
        regime_map(parameter="tau_s", values=[0.1], currents=[0.0])
