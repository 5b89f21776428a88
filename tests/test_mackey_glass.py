"""The Mackey-Glass generator against an independent high-accuracy solution."""

import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import mtcsnn.data.mackey_glass  # noqa: F401 (the module, for monkeypatching)
from mtcsnn.cli import main
from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass, mackey_glass_cached

BETA, GAMMA, N, TAU, X0 = 0.2, 0.1, 10.0, 17.0, 1.2


@pytest.fixture(scope="module")
def reference():
    """DOP853 by the method of steps: one solve per delay interval, rtol 1e-12."""
    pieces = []

    def delayed(t):
        s = t - TAU
        if s <= 0:
            return X0
        return pieces[min(int(s // TAU), len(pieces) - 1)].sol(s)[0]

    t0, y0 = 0.0, X0
    while t0 < 1000.0:
        t1 = min(t0 + TAU, 1000.0)
        sol = solve_ivp(
            lambda t, y: [BETA * delayed(t) / (1 + delayed(t) ** N) - GAMMA * y[0]],
            (t0, t1),
            [y0],
            method="DOP853",
            rtol=1e-12,
            atol=1e-14,
            dense_output=True,
        )
        pieces.append(sol)
        t0, y0 = t1, sol.y[0, -1]

    def evaluate(times):
        return np.array(
            [pieces[min(int(t // TAU), len(pieces) - 1)].sol(t)[0] for t in times]
        )

    return evaluate


def test_agrees_with_method_of_steps_to_1e_6(reference):
    series = mackey_glass(1001)
    assert series[0] == X0
    error = np.abs(series - reference(np.arange(1001.0)))
    assert error.max() < 1e-6


def test_off_grid_sampling_agrees_too(reference):
    step = 197 / 75  # NeuroBench's sampling: 75 points per Lyapunov time
    series = mackey_glass(380, MackeyGlass(step=step))
    error = np.abs(series - reference(np.arange(380) * step))
    assert error.max() < 1e-6


def test_series_is_chaotic_not_periodic():
    x = mackey_glass(5000)[1000:]
    assert 0.2 < x.std() < 0.25 and 0.4 < x.min() and x.max() < 1.4


def test_cache_reuses_and_repairs(tmp_path, monkeypatch):
    first = mackey_glass_cached(300, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npy"))
    assert len(files) == 1

    def fail(*args, **kwargs):
        raise AssertionError("regenerated although cached")

    monkeypatch.setattr(sys.modules["mtcsnn.data.mackey_glass"], "mackey_glass", fail)
    np.testing.assert_array_equal(mackey_glass_cached(300, cache_dir=tmp_path), first)
    monkeypatch.undo()
    files[0].write_bytes(b"garbage")
    np.testing.assert_array_equal(mackey_glass_cached(300, cache_dir=tmp_path), first)
    # A different parameter set is a different file.
    mackey_glass_cached(300, MackeyGlass(tau=30.0), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau": 0.0}, "MackeyGlass.tau = 0.0"),
        ({"step": -1.0}, "MackeyGlass.step"),
        ({"x0": float("nan")}, "MackeyGlass.x0 = nan is not finite"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MackeyGlass(**kwargs)


def test_data_command_writes_npy(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "mg.npy"
    assert main(["data", "mackey-glass", "--n", "500", "--out", str(out)]) == 0
    series = np.load(out)
    np.testing.assert_array_equal(series, mackey_glass(500))
    out2 = tmp_path / "mg30.npy"
    assert (
        main(
            [
                "data",
                "mackey-glass",
                "--tau",
                "30",
                "--step",
                "0.5",
                "--n",
                "100",
                "--out",
                str(out2),
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        np.load(out2), mackey_glass(100, MackeyGlass(tau=30.0, step=0.5))
    )
