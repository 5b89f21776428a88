"""``mtcsnn iv`` and ``mtcsnn regimes`` write what the library computes."""

import json
import math

import numpy as np
import pytest
import torch

from mtcsnn.analysis import (
    REGIME_PRESETS,
    iv_curves,
    negative_slope_intervals,
    regime_map,
)
from mtcsnn.cli import main
from mtcsnn.neurons import PRESETS


def test_iv_writes_curves_and_intervals(tmp_path, capsys):
    status = main(["iv", "--preset", "reference", "--out", str(tmp_path)])
    assert status == 0
    table = np.genfromtxt(tmp_path / "iv.csv", delimiter=",", names=True)
    assert table.dtype.names == ("v", "fast", "slow", "ultraslow")
    curves = iv_curves(PRESETS["reference"])
    for name in table.dtype.names:
        np.testing.assert_array_equal(table[name], getattr(curves, name).numpy())
    falling = json.loads((tmp_path / "negative_slope.json").read_text())
    edge = math.acosh(math.sqrt(2.0))
    np.testing.assert_allclose(falling["fast"], [[-edge, edge]], rtol=0, atol=1e-14)
    expected = negative_slope_intervals(PRESETS["reference"])
    assert falling["slow"] == [list(pair) for pair in expected.slow]
    assert falling["ultraslow"] == []
    assert falling["params"]["alpha_f"] == 2.0
    assert (tmp_path / "iv.png").stat().st_size > 10_000
    assert "fast curve falls on: [-0.881374, 0.881374]" in capsys.readouterr().out


def test_iv_of_a_regime_preset_with_changes(tmp_path):
    status = main(
        [
            "iv",
            "--preset",
            "phasic",
            "--set",
            "R=2",
            "--v-min",
            "-1",
            "--v-max",
            "1",
            "--points",
            "5",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    params = REGIME_PRESETS["phasic"].params.replace(R=2.0)
    table = np.genfromtxt(tmp_path / "iv.csv", delimiter=",", names=True)
    assert table["v"].tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    v = torch.tensor(table["v"], dtype=torch.float64)
    np.testing.assert_array_equal(table["ultraslow"], iv_curves(params, v).ultraslow)
    falling = json.loads((tmp_path / "negative_slope.json").read_text())
    assert falling["preset"] == "phasic" and falling["params"]["alpha_us"] == 3.0
    edge = math.acosh(2.0)  # 1 / R = 2 sech^2 v with R = 2
    np.testing.assert_allclose(falling["fast"], [[-edge, edge]], rtol=0, atol=1e-14)


def test_iv_bad_input_is_one_line(tmp_path, capsys):
    status = main(["iv", "--v-min", "1", "--v-max", "0", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and "must exceed --v-min" in err and err.count("\n") == 1


def test_regimes_writes_labels_map_and_plots(tmp_path, capsys):
    status = main(
        [
            "regimes",
            "--values",
            "0,1.5",
            "--currents=-3:1.5:4",  # "=" since the value starts with "-"
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    report = json.loads((tmp_path / "regimes.json").read_text())
    assert set(report["presets"]) == set(REGIME_PRESETS)
    for name, entry in report["presets"].items():
        assert entry["label"] == entry["expected"] == name
    # The features in the file are the library's.
    _, regime = REGIME_PRESETS["tonic"].run()
    assert report["presets"]["tonic"]["features"] == regime.features.as_dict()
    assert report["presets"]["silent"]["features"]["isi_mean"] is None
    assert report["thresholds"]["BURST_GAP_FACTOR"] == 3.0

    grid = json.loads((tmp_path / "regime_map.json").read_text())
    assert grid["values"] == [0.0, 1.5] and grid["currents"] == [-3.0, -1.5, 0.0, 1.5]
    expected = regime_map(values=[0.0, 1.5], currents=[-3.0, -1.5, 0.0, 1.5])
    assert grid["labels"] == expected.labels.tolist()
    assert grid["protocol"] == {"hold": -3.5, "t_on": 200.0, "t_end": 6000.0}

    for name in ("gallery.png", "regime_map.png"):
        assert (tmp_path / name).stat().st_size > 20_000
    out = capsys.readouterr().out
    assert "bursting: bursting" in out and "map: 8 neurons" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--parameter", "bogus"], "cannot sweep 'bogus'"),
        (["--values", "1:2"], "expected START:STOP:COUNT"),
    ],
)
def test_regimes_bad_input(tmp_path, capsys, args, message):
    try:
        status = main(["regimes", "--out", str(tmp_path), *args])
    except SystemExit as exc:  # argparse rejects malformed values itself
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err
