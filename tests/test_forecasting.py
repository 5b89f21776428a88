"""The forecasting task, the readout filter, the metrics and the training loop."""

import json

import numpy as np
import pytest
import torch
from scipy import signal

from mtcsnn import metrics
from mtcsnn.benchmark import PRESETS, build_model, run_benchmark
from mtcsnn.data import ForecastTask, make_forecast_task
from mtcsnn.models import LowPass
from mtcsnn.training import evaluate, load_model

SMALL = ForecastTask(
    horizon=20, window=60, warmup=10, discard=50, train=200, validation=100, test=120
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


def test_windows_pair_input_with_target_d_ahead():
    splits = make_forecast_task(SMALL)
    assert len(splits.train) == 200 and len(splits.test) == 120
    assert splits.train.mean() == pytest.approx(0.0, abs=1e-12)
    assert splits.train.std() == pytest.approx(1.0)
    x, y = splits.sample_batch(16, np.random.default_rng(0), dtype=torch.float64)
    assert x.shape == y.shape == (60, 16, 1)
    series = splits.train
    for b in range(16):
        start = int(np.flatnonzero(np.isclose(series, x[0, b, 0].item()))[0])
        np.testing.assert_array_equal(x[:, b, 0].numpy(), series[start : start + 60])
        np.testing.assert_array_equal(
            y[:, b, 0].numpy(), series[start + 20 : start + 80]
        )
    x, y = splits.sequence("test", dtype=torch.float64)
    assert x.shape == (100, 1, 1)
    np.testing.assert_array_equal(y[:, 0, 0].numpy(), splits.test[20:])


def test_task_validation():
    with pytest.raises(ValueError, match="ForecastTask.warmup = 60"):
        ForecastTask(window=60, warmup=60)
    with pytest.raises(ValueError, match="ForecastTask.train = 100 .* must be >= 735"):
        ForecastTask(horizon=675, window=60, warmup=10, train=100)


def test_lowpass_matches_scipy_and_its_gradient_is_exact():
    lp = LowPass(0.1, 4)
    x = torch.randn(50, 2, 3, dtype=torch.float64, requires_grad=True)
    b, a = signal.butter(4, 0.2)
    np.testing.assert_allclose(
        lp(x).detach().numpy(), signal.lfilter(b, a, x.detach().numpy(), axis=0)
    )
    assert torch.autograd.gradcheck(lp, (x,))
    with pytest.raises(ValueError, match="cutoff = 0.5"):
        LowPass(0.5)


def test_accuracy_metrics_by_hand():
    y = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y_hat = torch.tensor([1.0, 2.0, 3.0, 6.0])
    assert metrics.mse(y_hat, y) == pytest.approx(1.0)
    assert metrics.nrmse(y_hat, y) == pytest.approx(1.0 / np.sqrt(1.25))
    assert metrics.smape(y_hat, y) == pytest.approx(200 * (2 / 10) / 4)
    assert metrics.smape(
        torch.tensor([0.0, float("nan")]), torch.tensor([0.0, 1.0])
    ) == pytest.approx(100.0)


def test_sparsity_metrics_by_hand():
    s = torch.tensor([[0.0, 1.0], [0.5, 1.0], [0.0, 0.0], [1.0, 0.3]])[:, None, :]
    # 4 steps, 1 sample, 2 neurons: zeros 3 of 8.
    assert metrics.activation_sparsity([s]) == pytest.approx(3 / 8)
    # Onsets: neuron 0 at steps 1 and 3, neuron 1 at steps 0 and 3.
    assert metrics.event_rate([s]) == pytest.approx(4 / 8)
    w = torch.tensor([[1.0, 0.0], [2.0, 3.0], [0.0, 4.0]])  # [out 3, in 2]
    ops = metrics.synaptic_ops([w], [s])
    assert ops.dense == 6
    # Fan-out with non-zero weight: input 0 -> 2, input 1 -> 2.
    # Inputs equal to 1: (0,1), (1,1), (3,0) -> 3 x 2 ACs over 4 steps.
    # Graded inputs: (1,0)=0.5, (3,1)=0.3 -> 2 x 2 MACs over 4 steps.
    assert ops.effective_acs == pytest.approx(6 / 4)
    assert ops.effective_macs == pytest.approx(4 / 4)
    assert ops.effective == pytest.approx(10 / 4)


def test_benchmark_end_to_end(tmp_path):
    config = PRESETS["smoke"]
    result = run_benchmark(config, tmp_path / "bench", seeds=2)
    saved = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert len(saved["runs"]) == 2 * len(config.models)
    for run in saved["runs"]:
        assert run["epochs"] == config.train.epochs
        assert np.isfinite(run["nrmse"]) and 0 <= run["activation_sparsity"] <= 1
    for name in ("forecasts", "activity", "sparsity", "training"):
        assert (tmp_path / "bench" / f"{name}.png").stat().st_size > 5000
    assert "| mtc | 2 |" in (tmp_path / "bench" / "results.md").read_text()
    # The saved model reproduces the reported test score exactly.
    run = result["runs"][0]
    checkpoint = load_model(tmp_path / "bench" / f"{run['model']}_seed0" / "model.pt")
    model = build_model(run["model"], config)
    model.load_state_dict(checkpoint["state_dict"])
    splits = make_forecast_task(config.task)
    assert evaluate(model, splits, "test")["nrmse"] == run["nrmse"]
    assert checkpoint["config"]["bench"]["n_hidden"] == config.n_hidden
    # Different seeds give different networks.
    seeds = [r["nrmse"] for r in saved["runs"] if r["model"] == run["model"]]
    assert seeds[0] != seeds[1]


def test_lowpass_step_continues_the_sequence_filter():
    lp = LowPass(0.3, 4)
    x = torch.randn(80, 2, 3, dtype=torch.float64)
    state = lp.initial_state(x[0])
    assert state.shape == (4, 2, 3)
    steps = []
    for x_t in x:
        y_t, state = lp.step(x_t, state)
        steps.append(y_t)
    np.testing.assert_allclose(torch.stack(steps).numpy(), lp(x).numpy(), rtol=1e-12)
    # A state from scipy's lfilter continues the same filter.
    head = x[:50, 0, 0].numpy()
    _, zf = signal.lfilter(lp.b, lp.a, head, zi=np.zeros(4))
    state = torch.as_tensor(zf)
    tail = []
    for x_t in x[50:, 0, 0]:
        y_t, state = lp.step(x_t, state)
        tail.append(y_t)
    np.testing.assert_allclose(torch.stack(tail).numpy(), lp(x)[50:, 0, 0].numpy())
