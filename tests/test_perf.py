"""The speed benchmark's bookkeeping (not its timings, which are noisy)."""

import json

import pytest
import torch

from mtcsnn import perf
from mtcsnn.cli import main


def test_report_is_consistent():
    configs = [
        perf.Config("mtc plain", "mtc", "torch"),
        perf.Config("mtc fused", "mtc", "cpu"),
        perf.Config("mtc fused, checkpoint 3", "mtc", "cpu", 3),
    ]
    report = perf.run(2, 5, 7, rounds=2, configs=configs, memory=False)
    rows = {r["name"]: r for r in report["results"]}
    assert list(rows) == [c.name for c in configs]
    for r in rows.values():
        assert len(r["rounds"]) == 2
        assert r["seconds"] == pytest.approx(
            sorted(r["rounds"])[0] / 2 + sorted(r["rounds"])[1] / 2
        )
        assert r["ns_per_neuron_step"] == pytest.approx(r["seconds"] / 70 * 1e9)
    speedup = report["ratios"]["mtc fused vs mtc plain (speed-up)"]
    assert speedup == pytest.approx(
        rows["mtc plain"]["seconds"] / rows["mtc fused"]["seconds"]
    )
    assert report["ratios"]["lif fused vs lif plain (speed-up)"] is None
    # (5 + 2 S) float32 elements per neuron-step over the copy bandwidth.
    bound = report["bandwidth_bound_ns_per_neuron_step"]["mtc"]
    assert bound == pytest.approx(44 / (report["copy_bandwidth_gb_s"] * 1e9) * 1e9)
    assert "| mtc fused | " in perf.table(report)


def test_peak_memory_of_a_fresh_process():
    # 2000 steps x 64 x 64 float32 of stored states alone are 98 MiB.
    config = perf.Config("mtc fused", "mtc", "cpu")
    peak = perf.peak_memory_mb(config, (2000, 64, 64), torch.float32)
    assert 98 < peak < 2000


def test_command_writes_json(tmp_path, capsys):
    out = tmp_path / "perf.json"
    status = main(
        [
            "perf",
            "--batch",
            "2",
            "--neurons",
            "3",
            "--steps",
            "5",
            "--rounds",
            "1",
            "--no-memory",
            "--json",
            str(out),
        ]
    )
    assert status == 0
    report = json.loads(out.read_text())
    assert report["shape"] == {"batch": 2, "neurons": 3, "steps": 5}
    assert "ns / neuron-step" in capsys.readouterr().out
