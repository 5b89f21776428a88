"""A NaN or infinity in the loss or gradients never reaches weights or checkpoints."""

import csv
import dataclasses
import math

import pytest
import torch

from mtcsnn import benchmark
from mtcsnn.benchmark import PRESETS
from mtcsnn.cli import main
from mtcsnn.data import make_forecast_task
from mtcsnn.models import Forecaster
from mtcsnn.training import loop
from mtcsnn.training.loop import (
    NonFiniteError,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
    train,
)

SMOKE = PRESETS["smoke"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


class PoisonedForecaster(Forecaster):
    """A forecaster whose training forward pass returns NaN at chosen epochs.

    The training loop runs one training forward pass per epoch, so the k-th
    such pass belongs to epoch k; ``bad`` is the set of poisoned epochs, or a
    number from which on every epoch is poisoned.
    """

    def __init__(self, bad, value=float("nan")):
        super().__init__(
            "mtc",
            SMOKE.n_hidden,
            neuron_kwargs=benchmark.NEURON_SETTINGS["mtc"],
        )
        self.bad = bad
        self.value = value
        self.calls = 0

    def forward(self, x):
        y = super().forward(x)
        if not self.training:
            return y
        self.calls += 1
        poisoned = (
            self.calls >= self.bad
            if isinstance(self.bad, int)
            else self.calls in self.bad
        )
        return y + self.value if poisoned else y


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a, b) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _run(model, tmp_path, monkeypatch, *, epochs=8, max_bad_steps=3, every=2):
    """Train, keeping the weights after every epoch and the checkpoints written."""
    snapshots = {0: _weights(model)}
    written = []
    save = loop.save_checkpoint

    def spy(path, state):
        save(path, state)
        written.append(state["epoch"])

    monkeypatch.setattr(loop, "save_checkpoint", spy)
    config = dataclasses.replace(
        SMOKE.train, epochs=epochs, eval_every=4, max_bad_steps=max_bad_steps
    )
    result = None
    error = None
    try:
        result = train(
            model,
            make_forecast_task(SMOKE.task),
            config,
            checkpoint=tmp_path / "checkpoint.pt",
            checkpoint_every=every,
            log_csv=tmp_path / "epochs.csv",
            callback=lambda r: snapshots.__setitem__(r.epoch, _weights(model)),
        )
    except NonFiniteError as err:
        error = err
    return result, error, snapshots, written


def test_nan_loss_steps_are_skipped_and_counted(tmp_path, monkeypatch):
    seed_everything(0)
    model = PoisonedForecaster({3, 4})
    result, error, snapshots, written = _run(model, tmp_path, monkeypatch)
    assert error is None
    assert [r.skipped for r in result.history] == [0, 0, 1, 1, 0, 0, 0, 0]
    assert result.skipped_steps == 2
    bad = [r for r in result.history if r.skipped]
    assert all(math.isnan(r.loss) and math.isnan(r.grad_norm) for r in bad)
    assert all(math.isfinite(r.loss) for r in result.history if not r.skipped)
    # The weights did not move on the skipped steps, and did on the others.
    assert _same(snapshots[2], snapshots[3]) and _same(snapshots[3], snapshots[4])
    assert not _same(snapshots[4], snapshots[5])
    assert not _same(snapshots[1], snapshots[2])
    # The periodic checkpoint due at epoch 4 waited for the good step 5.
    assert written == [2, 5, 7, 8]
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["skipped_steps"] == 2 and state["bad_streak"] == 0
    assert int(state["optimiser"]["state"][0]["step"]) == 6  # 8 epochs - 2 skipped
    # The schedule still follows the epoch number.
    assert state["scheduler"]["last_epoch"] == 8
    with open(tmp_path / "epochs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["skipped"] for r in rows] == ["0", "0", "1", "1", "0", "0", "0", "0"]
    assert rows[2]["loss"] == "nan"


def test_infinite_gradient_with_a_finite_loss_is_skipped(tmp_path, monkeypatch):
    seed_everything(0)
    model = PoisonedForecaster(set())
    epoch = {"n": 0}

    def poison(grad):  # the readout's gradient is infinite at epoch 3
        epoch["n"] += 1
        return grad * float("inf") if epoch["n"] == 3 else grad

    model.readout.weight.register_hook(poison)
    result, error, snapshots, _ = _run(model, tmp_path, monkeypatch, epochs=5)
    assert error is None
    third = result.history[2]
    assert third.skipped == 1 and math.isfinite(third.loss)
    assert not math.isfinite(third.grad_norm)
    assert _same(snapshots[2], snapshots[3])
    assert [r.skipped for r in result.history] == [0, 0, 1, 0, 0]


def test_consecutive_bad_steps_stop_the_run_and_keep_the_last_checkpoint(
    tmp_path, monkeypatch
):
    seed_everything(0)
    model = PoisonedForecaster(5)  # every epoch from 5 on
    result, error, snapshots, written = _run(model, tmp_path, monkeypatch)
    assert result is None
    assert error.epoch == 7 and error.checkpoint_epoch == 4
    assert str(error).startswith("training stopped at epoch 7: 3 steps in a row")
    assert "max_bad_steps = 3" in str(error)
    assert "the checkpoint of epoch 4 is kept" in str(error)
    assert written == [2, 4]
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["epoch"] == 4
    assert _same(state["model"], snapshots[4])
    # Epochs 5..7 are logged as skipped.
    with open(tmp_path / "epochs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["skipped"] for r in rows] == ["0"] * 4 + ["1"] * 3


class BrokenConstraint(PoisonedForecaster):
    """Its ``apply_constraints`` (run after every step) writes inf at step 3."""

    def __init__(self):
        super().__init__(set())
        self.steps = 0

    def apply_constraints(self):
        self.steps += 1
        if self.steps == 3:
            with torch.no_grad():
                self.readout.bias.fill_(float("inf"))


def test_a_step_that_makes_weights_non_finite_stops_at_once(tmp_path):
    seed_everything(0)
    config = dataclasses.replace(SMOKE.train, epochs=6)
    with pytest.raises(
        NonFiniteError, match="epoch 3: its update .* made weights non-finite"
    ) as err:
        train(
            BrokenConstraint(),
            make_forecast_task(SMOKE.task),
            config,
            checkpoint=tmp_path / "c.pt",
            checkpoint_every=2,
        )
    assert err.value.checkpoint_epoch == 2
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["epoch"] == 2 and torch.isfinite(state["model"]["readout.bias"]).all()


def test_a_non_finite_state_is_never_written(tmp_path):
    seed_everything(0)
    model = PoisonedForecaster(set())
    path = tmp_path / "c.pt"
    path.write_bytes(b"the previous checkpoint")
    with torch.no_grad():
        model.readout.weight[0, 0] = float("nan")
    state = {"model": model.state_dict(), "optimiser": {"state": {}}}
    with pytest.raises(ValueError, match="is not finite"):
        save_checkpoint(path, state)
    assert path.read_bytes() == b"the previous checkpoint"
    assert list(tmp_path.iterdir()) == [path]


def test_train_command_reports_the_stop_in_one_line(tmp_path, monkeypatch, capsys):
    def poisoned(name, config):
        assert name == "mtc"
        return PoisonedForecaster(4, value=float("inf"))

    monkeypatch.setattr(benchmark, "build_model", poisoned)
    out = tmp_path / "run"
    status = main(
        ["train", "--model", "mtc", "--preset", "smoke", "--epochs", "30"]
        + ["--checkpoint-every", "2", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    # One message (besides the progress bar and the log of skipped steps).
    messages = [line for line in err.splitlines() if line.startswith("mtcsnn ")]
    assert len(messages) == 1
    assert "training stopped at epoch 13: 10 steps in a row" in err
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    assert not (out / "model.pt").exists() and not (out / "result.json").exists()
