"""Sweeps: the search space, the grid sampler, shared studies and dead workers."""

import csv
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import optuna
import pytest

from mtcsnn.benchmark import PRESETS
from mtcsnn.cli import main
from mtcsnn.tuning import SweepConfig, load_sweep_config
from mtcsnn.tuning.sampler import GridTPESampler
from mtcsnn.tuning.sweep import (
    budget_done,
    hide_password,
    open_storage,
    run_worker,
    trial_rows,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GRID = {"tau_s/tau_m": [5, 10], "tau_us/tau_s": [10, 30]}
SEARCH = {
    "alpha_f": {"low": 1.5, "high": 2.5},
    "lr": {"low": 1e-3, "high": 1e-2, "log": True},
    "input_centre": {"low": -1.5, "high": -0.5},
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


def sweep_file(tmp_path, *, epochs=3, pruning=None, study="test", name="sweep.json"):
    bench = PRESETS["smoke"].to_dict()
    bench["train"]["epochs"] = epochs
    data = {
        "bench": bench,
        "grid": GRID,
        "search": SEARCH,
        "pruning": pruning,
        "tpe_startup_trials": 2,
        "study": study,
    }
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"serach": {}}, "unknown key 'serach'"),
        ({"bench": "huge"}, "bench = 'huge' is not a preset"),
        ({"model": "rnn"}, "model = 'rnn' is unknown"),
        ({"grid": {"tau_f/tau_m": [1]}}, "grid.tau_f/tau_m is not a timescale ratio"),
        ({"grid": {"tau_s/tau_m": []}}, "grid.tau_s/tau_m must be a non-empty list"),
        ({"grid": {"tau_s/tau_m": [0.2, 1]}}, "grid.tau_s/tau_m = 0.2: .*tau_s >= 0.5"),
        ({"grid": {"tau_s/tau_m": ["5"]}}, "grid.tau_s/tau_m = '5' must be a number"),
        ({"search": {"alpha_x": {"low": 0, "high": 1}}}, "search.alpha_x is not a"),
        ({"search": {"alpha_f": {"low": 2, "high": 1}}}, "low = 2.0 must be < high"),
        ({"search": {"alpha_f": {"low": 0.0, "high": 1}}}, "cannot train alpha_f"),
        ({"search": {"lr": {"low": 0, "high": 1, "log": True}}}, "log scale needs low"),
        ({"search": {"lr": {"low": 1e-3, "hi": 1}}}, "search.lr has no key 'hi'"),
        ({"search": {"batch_size": {"low": 2.5, "high": 8}}}, "must be an integer"),
        ({"search": {"batch_size": {"low": 0, "high": 8}}}, "batch_size = 0"),
        ({"search": {"tau_s": {"low": 2, "high": 8}}}, "set by the grid's tau_s/tau_m"),
        ({"search": {"input_width": {"low": -1, "high": 1}}}, "input_width = -1.0"),
        ({"search": {"cutoff": {"choices": [0.1, 0.7]}}}, "search.cutoff = 0.7"),
        ({"pruning": {"patience": 3}}, "pruning has no key 'patience'"),
        ({"seed": -1}, "seed = -1 must be an int >= 0"),
        ({"grid": {}, "search": {}}, "nothing to search"),
    ],
)
def test_invalid_sweep_files_are_rejected_with_one_line(tmp_path, change, message):
    path = sweep_file(tmp_path)
    data = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message) as err:
        load_sweep_config(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_sweep_command_reports_a_bad_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"grid": {"tau_s/tau_m": [-1]}}))
    status = main(["sweep", "--config", str(path), "--trials", "2", "--out", "o"])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"mtcsnn sweep: error: {path}: grid.tau_s/tau_m values must be > 0, got -1.0"
    )


def test_trial_values_become_a_benchmark_config():
    config = SweepConfig.from_dict(
        {
            "bench": "smoke",
            "grid": GRID,
            "search": {
                "tau_m": {"low": 1.0, "high": 2.0},
                "delta_sn": {"low": -2.0, "high": -1.0},
                "lr": {"low": 1e-3, "high": 1e-2},
                "batch_size": {"choices": [4, 8]},
                "n_hidden": {"low": 4, "high": 16, "step": 4},
                "input_width": {"low": 0.5, "high": 2.0},
            },
            "seed": 7,
        }
    )
    bench = config.trial_config(
        {
            "tau_s/tau_m": 5.0,
            "tau_us/tau_s": 30.0,
            "tau_m": 2.0,
            "delta_sn": -1.2,
            "lr": 4e-3,
            "batch_size": 8,
            "n_hidden": 12,
            "input_width": 1.0,
        }
    )
    # tau_s = 5 tau_m, tau_us = 30 tau_s; the centre stays the MTC window's.
    assert bench.neuron["mtc"].params == {
        "tau_m": 2.0,
        "delta_sn": -1.2,
        "tau_s": 10.0,
        "tau_us": 300.0,
    }
    assert bench.neuron["mtc"].input_window == (-1.5, -0.5)
    assert (bench.train.lr, bench.train.batch_size, bench.train.seed) == (4e-3, 8, 7)
    assert (bench.n_hidden, bench.models) == (12, ("mtc",))
    assert bench.train.epochs == PRESETS["smoke"].train.epochs
    # The test split is the benchmark's own: a sweep cannot move it.
    assert bench.task == PRESETS["smoke"].task


def test_grid_cells_are_taken_evenly_and_the_rest_by_tpe():
    grid = {"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0]}
    tpe = optuna.samplers.TPESampler(n_startup_trials=3, seed=0)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=GridTPESampler(grid, tpe, seed=0))

    def objective(trial):
        a = trial.suggest_float("a", 1.0, 3.0)
        b = trial.suggest_float("b", 10.0, 20.0)
        x = trial.suggest_float("x", -1.0, 1.0)
        return (x - 0.5) ** 2 + 1e-3 * (a + b)

    study.optimize(objective, n_trials=30)
    cells = Counter((t.params["a"], t.params["b"]) for t in study.trials)
    assert set(cells) == {(a, b) for a in grid["a"] for b in grid["b"]}
    assert set(cells.values()) == {5}
    # After the random start TPE moves x towards its optimum 0.5 (uniform
    # draws on [-1, 1] would be 0.625 away on average).
    late = [abs(t.params["x"] - 0.5) for t in study.trials[15:]]
    assert sum(late) / len(late) < 0.25


def test_one_process_sweep_and_its_best_config_reproduce_in_bench(tmp_path, capsys):
    path = sweep_file(tmp_path, pruning={"startup_trials": 2, "warmup_epochs": 0})
    out = tmp_path / "sweep"
    status = main(["sweep", "--config", str(path), "--trials", "5", "--out", str(out)])
    assert status == 0
    rows = read_csv(out / "trials.csv")
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4]
    assert {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"}
    for r in rows:
        assert float(r["tau_s/tau_m"]) in (5.0, 10.0)
        assert float(r["tau_us/tau_s"]) == float(r["param_tau_us/tau_s"])
        assert 1.5 <= float(r["param_alpha_f"]) <= 2.5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] == summary["budget"] == 5
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    best = min(complete, key=lambda r: float(r["value"]))
    assert summary["best"]["number"] == int(best["number"])
    assert summary["best"]["value"] == float(best["value"])
    assert sum(summary["importances"].values()) == pytest.approx(1.0)
    for name in ("objective", "importances", "timescales"):
        assert (out / f"{name}.png").stat().st_size > 5000
    assert f"best: trial {best['number']}" in capsys.readouterr().out

    # bench trains the best trial's network again: the same validation NRMSE.
    status = main(
        ["bench", "--config", str(out / "best.json"), "--out", str(tmp_path / "b")]
    )
    assert status == 0
    run = json.loads((tmp_path / "b" / "results.json").read_text())["runs"][0]
    assert run["model"] == "mtc"
    assert run["final_val_nrmse"] == summary["best"]["value"]

    # Running the command again finds the budget met and only reports.
    status = main(["sweep", "--config", str(path), "--trials", "5", "--out", str(out)])
    assert status == 0
    assert len(read_csv(out / "trials.csv")) == 5
    # Another file on the same study is refused.
    other = sweep_file(tmp_path, epochs=4, name="other.json")
    status = main(["sweep", "--config", str(other), "--trials", "5", "--out", str(out)])
    assert status == 2
    assert "made from another sweep configuration" in capsys.readouterr().err


def _worker_command(path, out, trials, *extra):
    return [
        sys.executable,
        "-m",
        "mtcsnn",
        "-v",
        "sweep",
        "--config",
        str(path),
        "--trials",
        str(trials),
        "--out",
        str(out),
        "--heartbeat",
        "1",
        "--no-figures",
        *extra,
    ]


def _trials_run(log):
    """Trial numbers a worker's log says it finished, in order."""
    return [int(n) for n in re.findall(r"mtcsnn\.tuning\.sweep: trial (\d+)[: ]", log)]


def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    path = sweep_file(tmp_path, epochs=4)
    out = tmp_path / "sweep"
    done = subprocess.run(
        _worker_command(path, out, 6, "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    # Every trial ran exactly once, over both workers.
    assert sorted(_trials_run(done.stderr)) == list(range(6))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["worker_exit_codes"] == [0, 0]
    rows = read_csv(out / "trials.csv")
    assert [r["state"] for r in rows] == ["COMPLETE"] * 6
    assert len({r["worker"] for r in rows}) == 2


def test_two_machines_share_a_postgresql_study(tmp_path):
    url = os.environ.get("MTCSNN_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must set MTCSNN_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("MTCSNN_TEST_POSTGRES_URL is not set")
    study = f"test-{uuid.uuid4().hex[:12]}"
    path = sweep_file(tmp_path, epochs=4, study=study)
    # Two independent commands, as on two machines, each with its own folder.
    workers = [
        subprocess.Popen(
            _worker_command(path, tmp_path / f"machine{k}", 6, "--storage", url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    try:
        logs = [w.communicate(timeout=240)[1] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], logs
        runs = [_trials_run(log) for log in logs]
        assert all(runs), runs
        assert sorted(runs[0] + runs[1]) == list(range(6))
        for k in range(2):
            out = tmp_path / f"machine{k}"
            summary = json.loads((out / "summary.json").read_text())
            assert summary["storage"] == url.replace(":mtcsnn@", ":***@")
            assert not (out / "study.db").exists()
        # The one that finished last saw every trial complete.
        rows = max(
            (read_csv(tmp_path / f"machine{k}" / "trials.csv") for k in range(2)),
            key=lambda rows: sum(r["state"] == "COMPLETE" for r in rows),
        )
        assert [r["state"] for r in rows] == ["COMPLETE"] * 6
        names = [f"{socket.gethostname()}:{w.pid}" for w in workers]
        assert Counter(r["worker"] for r in rows) == {
            name: len(run) for name, run in zip(names, runs, strict=True)
        }
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(timeout=10)
        optuna.delete_study(study_name=study, storage=open_storage(url, heartbeat=1))


def test_a_killed_workers_trial_fails_and_runs_again(tmp_path):
    path = sweep_file(tmp_path, epochs=15)
    out = tmp_path / "sweep"
    first = subprocess.Popen(
        _worker_command(path, out, 2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    config = load_sweep_config(path)
    url = f"sqlite:///{out / 'study.db'}"
    storage = None
    running = []
    try:
        deadline = time.monotonic() + 90
        while not running:
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.2)
            if not (out / "study.db").exists():
                continue
            # Through the workers' own (serialised) connection settings.
            storage = storage or open_storage(url, heartbeat=1)
            try:
                study = optuna.load_study(study_name="test", storage=storage)
            except KeyError:
                continue
            running = [
                t
                for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                if "input_centre" in t.params
            ]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed = running[0]

    done = run_worker(config, storage)
    study = optuna.load_study(study_name="test", storage=storage)
    assert done == 2 and budget_done(study) == 2
    states = Counter(t.state.name for t in study.trials)
    assert states == {"COMPLETE": 2, "FAIL": 1}
    rows = {int(r["number"]): r for r in trial_rows(study)}
    assert rows[killed.number]["state"] == "FAIL"
    assert rows[killed.number]["worker"] == f"{socket.gethostname()}:{first.pid}"
    again = rows[killed.number]["retried_as"]
    assert rows[again]["retry_of"] == killed.number
    assert rows[again]["state"] == "COMPLETE"
    assert rows[again]["worker"] == f"{socket.gethostname()}:{os.getpid()}"
    assert study.trials[again].params == killed.params


def test_the_example_sweep_file_is_valid():
    config = load_sweep_config(EXAMPLES / "sweep_mtc.json")
    assert config.bench == dataclasses.replace(PRESETS["quick"], models=("mtc",))
    assert config.grid == {
        "tau_s/tau_m": (5.0, 10.0, 20.0),
        "tau_us/tau_s": (10.0, 30.0, 100.0),
    }
    assert {d.name for d in config.search} >= {"alpha_f", "lr", "input_centre"}
    bench = config.trial_config({"tau_s/tau_m": 20.0, "tau_us/tau_s": 100.0})
    assert bench.neuron["mtc"].params == {"tau_s": 20.0, "tau_us": 2000.0}


def test_passwords_stay_out_of_messages_and_files():
    url = "postgresql://ana:s3cret@db.example:5432/sweeps"
    assert hide_password(url) == "postgresql://ana:***@db.example:5432/sweeps"
    assert hide_password("sqlite:////tmp/study.db") == "sqlite:////tmp/study.db"
    with pytest.raises(ValueError, match="heartbeat = 0 must be an int >= 1"):
        open_storage(url, heartbeat=0)
