"""Hostile and damaged files are refused, and no file is ever half-written."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import mtcsnn
from mtcsnn.benchmark import PRESETS, run_benchmark
from mtcsnn.cli import main
from mtcsnn.io import (
    UnsafeFileError,
    atomic_write,
    load_torch,
    remove_temporaries,
    save_torch,
    write_json,
)
from mtcsnn.training.loop import load_checkpoint, load_model


class MakeFolder:
    """Unpickling this runs ``os.mkdir(path)``: code, observable afterwards."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _hostile_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    payload = {"format": "mtcsnn-checkpoint", "state_dict": {}, "x": MakeFolder(marker)}
    files = {"torch": tmp_path / "hostile.pt", "pickle": tmp_path / "hostile.pkl"}
    torch.save(payload, files["torch"])
    with open(files["pickle"], "wb") as handle:
        pickle.dump(payload, handle)
    return files


@pytest.mark.parametrize("kind", ["torch", "pickle"])
def test_a_file_that_would_run_code_is_refused_and_nothing_runs(tmp_path, kind):
    marker = tmp_path / "the_code_ran"
    path = _hostile_files(tmp_path, marker)[kind]
    for loader in (load_torch, load_checkpoint, load_model):
        with pytest.raises(UnsafeFileError, match=r"refused to load.*mkdir"):
            loader(path)
        assert not marker.exists()
    # The file is really hostile: an unsafe load runs its code.
    if kind == "torch":
        torch.load(path, weights_only=False)
    else:
        with open(path, "rb") as handle:
            pickle.load(handle)
    assert marker.is_dir()


def test_resume_refuses_a_hostile_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    args = ["train", "--model", "lif", "--preset", "smoke", "--checkpoint-every", "1"]
    assert main([*args, "--out", str(run)]) == 0
    (run / "result.json").unlink()  # as if the run had been killed
    marker = tmp_path / "the_code_ran"
    hostile = _hostile_files(tmp_path, marker)["torch"]
    os.replace(hostile, run / "checkpoint.pt")
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mtcsnn train: error: ") and "refused to load" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not marker.exists()


def test_damaged_files_are_refused_with_a_clear_error(tmp_path):
    good = tmp_path / "good.pt"
    save_torch(good, {"state_dict": {"w": torch.ones(3)}, "config": {}})
    assert torch.equal(load_model(good)["state_dict"]["w"], torch.ones(3))
    data = good.read_bytes()
    cases = {
        "truncated.pt": data[: len(data) // 2],
        "garbage.pt": bytes(range(256)) * 8,
        "empty.pt": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="damaged or not a torch file") as err:
            load_torch(tmp_path / name)
        assert not isinstance(err.value, UnsafeFileError)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="not an mtcsnn checkpoint"):
        load_checkpoint(good)
    save_torch(tmp_path / "plain.pt", [1, 2])
    with pytest.raises(ValueError, match="not a saved model"):
        load_model(tmp_path / "plain.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"old": 1})

    def fail_half_way(handle):
        handle.write(b'{"new": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail_half_way)
    assert json.loads(path.read_text()) == {"old": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    # Written files get the permissions a plain open() would give.
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


WRITER = """
import sys, time
from pathlib import Path
from mtcsnn.io import atomic_write

def write(handle):
    handle.write(b"x" * 1_000_000)
    handle.flush()
    Path(sys.argv[2]).touch()
    time.sleep(60)

atomic_write(Path(sys.argv[1]), write)
"""


def test_a_write_killed_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.pt"
    save_torch(path, {"state_dict": {"w": torch.zeros(2)}, "config": {}})
    before = path.read_bytes()
    ready = tmp_path / "half_written"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(mtcsnn.__file__).resolve().parents[1]),
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(ready)], env=env
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert writer.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    assert writer.wait(30) == -signal.SIGKILL
    assert path.read_bytes() == before
    assert torch.equal(load_model(path)["state_dict"]["w"], torch.zeros(2))
    leftovers = list(tmp_path.glob(".model.pt.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 1_000_000
    assert remove_temporaries(path) == 1
    assert not list(tmp_path.glob(".model.pt.*.tmp"))


def test_saved_results_load_without_unpickling_code(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))
    config = PRESETS["smoke"]
    run_benchmark(config, tmp_path / "b", figures=False)
    for name in config.models:
        folder = tmp_path / "b" / f"{name}_seed0"
        # weights_only=True succeeds only on tensors and plain values.
        torch.load(folder / "checkpoint.pt", weights_only=True)
        torch.load(folder / "model.pt", weights_only=True)
        assert json.loads((folder / "run.json").read_text())["model"] == name
