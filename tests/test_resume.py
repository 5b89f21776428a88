"""Checkpoints and resume: an interrupted run ends exactly as an uninterrupted one."""

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import mtcsnn
from mtcsnn.benchmark import PRESETS, build_model, run_benchmark
from mtcsnn.cli import main
from mtcsnn.data import make_forecast_task
from mtcsnn.training import loop
from mtcsnn.training.loop import (
    Interrupted,
    load_checkpoint,
    seed_everything,
    train,
)

SMOKE = PRESETS["smoke"]
EPOCHS = 200
EVERY = 10


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _without_time(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def _records(history) -> list[str]:
    """Epoch records without their timing, NaN-safe for comparison."""
    return [json.dumps({**dataclasses.asdict(r), "seconds": 0}) for r in history]


def _state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ---------------------------------------------------------------------------
# A real training process, killed and resumed.


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mtcsnn", *args]


def _env(tmp_path: Path) -> dict[str, str]:
    # The child imports the same mtcsnn as this test, from wherever it lies.
    source = str(Path(mtcsnn.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": source + (os.pathsep + path if path else ""),
        "MTCSNN_CACHE": str(tmp_path / "cache"),
    }


def _start(args: list[str], env, log: Path) -> subprocess.Popen:
    with open(log, "w") as handle:  # the child keeps its own copy
        return subprocess.Popen(
            _command(*args), env=env, stdout=subprocess.DEVNULL, stderr=handle
        )


def _wait_for(condition, process: subprocess.Popen, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the run ended before it could be stopped"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_killed_training_process_resumes_bit_for_bit(tmp_path):
    env = _env(tmp_path)
    new = ["train", "--model", "mtc", "--preset", "smoke", "--epochs", str(EPOCHS)]
    new += ["--checkpoint-every", str(EVERY)]
    run = tmp_path / "run"
    ckpt = run / "checkpoint.pt"

    # SIGKILL as soon as the first checkpoint exists.
    victim = _start([*new, "--out", str(run)], env, tmp_path / "a.log")
    _wait_for(ckpt.exists, victim)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(60) == -signal.SIGKILL
    first = load_checkpoint(ckpt)["epoch"]
    logged = [int(r["epoch"]) for r in _rows(run / "epochs.csv")]
    assert first % EVERY == 0 and EVERY <= first < EPOCHS
    # At most the epochs since the last checkpoint are lost.
    assert first <= logged[-1] <= first + EVERY
    assert not (run / "result.json").exists()
    before = _rows(run / "epochs.csv")[:first]
    # Repeating the first command does not wipe the unfinished run.
    assert main(["train", "--model", "mtc", "--out", str(run)]) == 2
    assert load_checkpoint(ckpt)["epoch"] == first

    finish = _start(["-v", "train", "--resume", str(run)], env, tmp_path / "b.log")
    # Meanwhile, the same run uninterrupted, here in this process.
    assert main([*new, "--out", str(tmp_path / "ref")]) == 0
    assert finish.wait(180) == 0, (tmp_path / "b.log").read_text()[-2000:]
    # It went on from the checkpoint (not from scratch): the log says so, and
    # the first epochs keep the timings measured before the kill.
    assert (
        f"resumed {ckpt} at epoch {first} of {EPOCHS}"
        in (tmp_path / "b.log").read_text()
    )
    assert _rows(run / "epochs.csv")[:first] == before

    ref = tmp_path / "ref"
    _assert_same_weights(_state(ref / "model.pt"), _state(run / "model.pt"))
    _assert_same_weights(
        load_checkpoint(ref / "checkpoint.pt")["optimiser"]["state"][0],
        load_checkpoint(ckpt)["optimiser"]["state"][0],
    )
    a = json.loads((ref / "result.json").read_text())
    b = json.loads((run / "result.json").read_text())
    assert {k: v for k, v in a.items() if k != "train_seconds"} == {
        k: v for k, v in b.items() if k != "train_seconds"
    }
    assert a["epochs"] == b["epochs"] == EPOCHS
    rows = _rows(run / "epochs.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    assert _without_time(rows) == _without_time(_rows(ref / "epochs.csv"))


def test_ctrl_c_stops_after_the_epoch_with_a_checkpoint(tmp_path, capsys):
    new = ["train", "--model", "mtc", "--preset", "smoke", "--epochs", str(EPOCHS)]
    new += ["--checkpoint-every", str(EVERY)]
    assert main([*new, "--out", str(tmp_path / "ref")]) == 0
    run = tmp_path / "run"
    ckpt = run / "checkpoint.pt"

    def interrupt() -> None:  # a real SIGINT to this process, mid-run
        deadline = time.monotonic() + 60
        while not ckpt.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=interrupt)
    sender.start()
    status = main([*new, "--out", str(run)])
    sender.join()
    err = capsys.readouterr().err
    stopped = load_checkpoint(ckpt)["epoch"]
    assert status == 130 and stopped < EPOCHS
    assert f"interrupted after epoch {stopped} of {EPOCHS}" in err
    assert f"continue with: mtcsnn train --resume {run}" in err
    # Nothing after the checkpoint was run, so nothing is lost.
    rows = _rows(run / "epochs.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(1, stopped + 1))
    assert main(["train", "--resume", str(run)]) == 0
    assert _rows(run / "epochs.csv")[:stopped] == rows  # resumed, not restarted
    _assert_same_weights(
        _state(tmp_path / "ref" / "model.pt"), _state(run / "model.pt")
    )
    assert _without_time(_rows(run / "epochs.csv")) == _without_time(
        _rows(tmp_path / "ref" / "epochs.csv")
    )


# ---------------------------------------------------------------------------
# In process: every neuron type, the benchmark, and what the checkpoint holds.


def _config(epochs: int = 12):
    return dataclasses.replace(SMOKE.train, epochs=epochs, eval_every=5)


def _fresh(name: str):
    seed_everything(0)
    return build_model(name, SMOKE)


def _stop_after(epoch: int):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) >= epoch

    return stop


def _interrupted_then_resumed(name, tmp_path, config, *, stop_at=5):
    splits = make_forecast_task(SMOKE.task)
    ckpt = tmp_path / f"{name}.pt"
    with pytest.raises(Interrupted, match=f"after epoch {stop_at} of"):
        train(
            _fresh(name),
            splits,
            config,
            checkpoint=ckpt,
            checkpoint_every=3,
            log_csv=tmp_path / f"{name}.csv",
            stop=_stop_after(stop_at),
        )
    assert load_checkpoint(ckpt)["epoch"] == stop_at
    torch.manual_seed(1234)  # whatever ran in between must not matter
    np.random.seed(99)
    model = _fresh(name)
    result = train(
        model,
        splits,
        config,
        checkpoint=ckpt,
        checkpoint_every=3,
        log_csv=tmp_path / f"{name}.csv",
        resume=True,
    )
    return model, result


@pytest.mark.parametrize("name", ["mtc", "lif", "adlif"])
def test_resume_equals_uninterrupted_run(tmp_path, name):
    config = _config()
    splits = make_forecast_task(SMOKE.task)
    reference = _fresh(name)
    expected = train(reference, splits, config, log_csv=tmp_path / "ref.csv")
    model, result = _interrupted_then_resumed(name, tmp_path, config)
    assert result.resumed_from == 5
    _assert_same_weights(reference.state_dict(), model.state_dict())
    assert _records(result.history) == _records(expected.history)
    assert _without_time(_rows(tmp_path / f"{name}.csv")) == _without_time(
        _rows(tmp_path / "ref.csv")
    )


def test_resume_depends_on_the_restored_batch_generator(tmp_path, monkeypatch):
    # The comparison above can fail: skip restoring the generator that draws
    # the batches and the resumed run ends elsewhere.
    config = _config()
    splits = make_forecast_task(SMOKE.task)
    reference = _fresh("lif")
    train(reference, splits, config)
    restore = loop._set_rng_state

    def forget_batches(batches, state):
        restore(
            batches, {**state, "batches": np.random.default_rng(0).bit_generator.state}
        )

    monkeypatch.setattr(loop, "_set_rng_state", forget_batches)
    model, _ = _interrupted_then_resumed("lif", tmp_path, config)
    assert not torch.equal(reference.readout.weight, model.readout.weight)


def test_checkpoint_holds_the_whole_state(tmp_path):
    config = _config(6)
    splits = make_forecast_task(SMOKE.task)
    model = _fresh("adlif")
    result = train(
        model,
        splits,
        config,
        checkpoint=tmp_path / "c.pt",
        checkpoint_every=4,
        run_config={"note": "adlif smoke"},
    )
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["epoch"] == 6 and state["skipped_steps"] == 0
    assert state["config"]["train"] == json.loads(
        json.dumps(dataclasses.asdict(config))
    )
    assert state["config"]["run"] == {"note": "adlif smoke"}
    _assert_same_weights(state["model"], model.state_dict())
    assert int(state["optimiser"]["state"][0]["step"]) == 6
    assert state["scheduler"]["last_epoch"] == 6
    assert set(state["rng"]) == {"batches", "numpy", "torch", "python"}
    assert state["history"]["loss"].tolist() == [r.loss for r in result.history]
    assert state["seconds"] == pytest.approx(result.seconds, rel=0.5)
    # Resuming a finished run trains nothing and returns its history.
    calls = []
    again = train(
        _fresh("adlif"),
        splits,
        config,
        checkpoint=tmp_path / "c.pt",
        resume=True,
        run_config={"note": "adlif smoke"},
        callback=calls.append,
    )
    assert calls == [] and again.resumed_from == 6
    assert _records(again.history) == _records(result.history)


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    config = _config(4)
    splits = make_forecast_task(SMOKE.task)
    ckpt = tmp_path / "c.pt"
    train(_fresh("lif"), splits, config, checkpoint=ckpt, checkpoint_every=2)
    before = ckpt.read_bytes()
    other = dataclasses.replace(config, lr=1e-3)
    with pytest.raises(ValueError, match=r"train\.lr is 0\.003 there and 0\.001 here"):
        train(_fresh("lif"), splits, other, checkpoint=ckpt, resume=True)
    with pytest.raises(ValueError, match=r"run\.model is None there and 'lif' here"):
        train(
            _fresh("lif"),
            splits,
            config,
            checkpoint=ckpt,
            resume=True,
            run_config={"model": "lif"},
        )
    assert ckpt.read_bytes() == before


def test_benchmark_resumes_where_it_stopped(tmp_path):
    config = dataclasses.replace(SMOKE, train=_config(6))
    expected = run_benchmark(config, tmp_path / "ref", seeds=2, figures=False)
    # Stop during the second model of seed 0: the first polls 5 times (not
    # after its last epoch), the second stops after its epoch 4.
    with pytest.raises(Interrupted, match="after epoch 4 of 6"):
        run_benchmark(
            config, tmp_path / "b", seeds=2, figures=False, stop=_stop_after(9)
        )
    assert (tmp_path / "b" / "mtc_seed0" / "result.json").exists()
    assert not (tmp_path / "b" / "lif_seed0" / "result.json").exists()
    seen = []
    result = run_benchmark(
        config,
        tmp_path / "b",
        seeds=2,
        figures=False,
        resume=True,
        callback=lambda name, seed, rec: seen.append((name, seed, rec.epoch)),
    )
    # Finished runs are not trained again; the stopped one goes on from 4.
    assert [s for s in seen if s[1] == 0] == [("lif", 0, 5), ("lif", 0, 6)] + [
        ("adlif", 0, e) for e in range(1, 7)
    ]
    strip = [
        {k: v for k, v in r.items() if k != "train_seconds"} for r in result["runs"]
    ]
    assert strip == [
        {k: v for k, v in r.items() if k != "train_seconds"} for r in expected["runs"]
    ]
    with pytest.raises(ValueError, match="describes another benchmark"):
        run_benchmark(config, tmp_path / "b", seeds=3, figures=False, resume=True)


def test_bench_command_resume_takes_its_settings_from_the_folder(tmp_path, capsys):
    out = tmp_path / "b"
    (out).mkdir()
    (out / "bench.json").write_text(
        json.dumps({"config": SMOKE.to_dict(), "seeds": 1, "checkpoint_every": 2})
    )
    assert main(["bench", "--resume", str(out), "--seeds", "2"]) == 2
    err = capsys.readouterr().err
    assert "--resume takes the benchmark's settings from" in err and "--seeds" in err
    # An unfinished benchmark is not overwritten by a new one.
    assert main(["bench", "--preset", "smoke", "--out", str(out)]) == 2
    assert "holds an unfinished benchmark" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "none")]) == 2
    assert "holds no run to resume" in capsys.readouterr().err
