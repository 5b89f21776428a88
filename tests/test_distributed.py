"""Data-parallel training: two gloo processes equal one process on the whole batch."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mtcsnn.benchmark import PRESETS, build_model
from mtcsnn.cli import main
from mtcsnn.data import make_forecast_task
from mtcsnn.training import seed_everything, train
from mtcsnn.training.distributed import (
    init_distributed,
    shard_batch,
    train_distributed,
)

CONFIG = PRESETS["smoke"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


def _gradients(model, x, y, forward=None):
    warm = CONFIG.task.warmup
    model.zero_grad(set_to_none=True)
    loss = torch.mean(((forward or model)(x)[warm:] - y[warm:]) ** 2)
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def _rank(rank, world_size, init_file, out):
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    try:
        torch.set_num_threads(1)
        context = init_distributed()
        splits = make_forecast_task(CONFIG.task)
        seed_everything(0)
        model = build_model("mtc", CONFIG)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        x, y = splits.sample_batch(8, np.random.default_rng(1))
        grads = _gradients(model, *shard_batch(x, y, rank, world_size), forward=ddp)
        seed_everything(0)
        model = build_model("mtc", CONFIG)
        result = train_distributed(
            model, splits, CONFIG.train, context, log_csv=out / "epochs.csv"
        )
        if rank == 0:
            torch.save(
                {
                    "grads": grads,
                    "state": model.state_dict(),
                    "loss": [r.loss for r in result.history],
                },
                out / "rank0.pt",
            )
    finally:
        dist.destroy_process_group()


def test_two_processes_give_the_gradients_of_one_on_the_whole_batch(tmp_path):
    mp.spawn(_rank, args=(2, str(tmp_path / "init"), tmp_path), nprocs=2, join=True)
    got = torch.load(tmp_path / "rank0.pt", weights_only=True)

    splits = make_forecast_task(CONFIG.task)
    seed_everything(0)
    model = build_model("mtc", CONFIG)
    x, y = splits.sample_batch(8, np.random.default_rng(1))
    want = _gradients(model, x, y)
    assert set(got["grads"]) == set(want)
    for name, grad in want.items():
        # Float32 rounding in a different summation order: ~1e-7 of the
        # gradient's size (one process in float32 against float64 differs by
        # ~3e-4 on this recurrence).
        scale = float(grad.abs().max())
        assert scale > 0.1, name
        diff = got["grads"][name] - grad
        assert float(diff.norm() / grad.norm()) < 2e-6, name
        torch.testing.assert_close(
            got["grads"][name], grad, rtol=1e-5, atol=2e-6 * scale
        )

    # Three optimiser steps: the same parameters and the whole batch's loss.
    seed_everything(0)
    model = build_model("mtc", CONFIG)
    result = train(model, splits, CONFIG.train)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(got["state"][name], value, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["loss"], [r.loss for r in result.history], 1e-6)
    with open(tmp_path / "epochs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["loss"]) for r in rows] == got["loss"]


def test_shard_batch_splits_evenly_or_refuses():
    x = torch.arange(24.0).reshape(3, 8, 1)
    parts = [shard_batch(x, -x, r, 4)[0] for r in range(4)]
    assert torch.equal(torch.cat(parts, dim=1), x)
    assert parts[1][:, :, 0].tolist() == [[2.0, 3.0], [10.0, 11.0], [18.0, 19.0]]
    with pytest.raises(ValueError, match="batch_size = 8 does not divide among 3"):
        shard_batch(x, x, 0, 3)


def test_torchrun_with_two_processes_reproduces_one_process(tmp_path, monkeypatch):
    command = ["train-ddp", "--preset", "smoke", "--model", "mtc"]
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert main([*command, "--out", str(tmp_path / "one")]) == 0
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "mtcsnn",
            *command,
            "--out",
            str(tmp_path / "two"),
        ],
        env={**os.environ, "MTCSNN_CACHE": str(tmp_path / "cache")},
        check=True,
        capture_output=True,
        timeout=120,
    )
    one = json.loads((tmp_path / "one" / "scores.json").read_text())
    two = json.loads((tmp_path / "two" / "scores.json").read_text())
    assert (one["processes"], two["processes"]) == (1, 2)
    assert (one["backend"], two["backend"]) == (None, "gloo")
    for split in ("validation", "test"):
        assert two[split]["nrmse"] == pytest.approx(one[split]["nrmse"], rel=1e-5)
    assert two["final_loss"] == pytest.approx(one["final_loss"], rel=1e-5)
    with open(tmp_path / "two" / "epochs.csv") as handle:
        assert len(list(csv.DictReader(handle))) == PRESETS["smoke"].train.epochs
