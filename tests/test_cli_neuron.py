"""``mtcsnn neuron`` writes what it promises, and rejects bad input cleanly."""

import json

import numpy as np
import pytest

from mtcsnn.cli import main


def test_neuron_writes_trace_spikes_and_plots(tmp_path):
    out = tmp_path / "burst"
    status = main(
        [
            "neuron",
            "--preset",
            "reference",
            "--current",
            "-2",
            "--t-end",
            "2500",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    table = np.genfromtxt(out / "trace.csv", delimiter=",", names=True)
    assert table.dtype.names == ("t", "u_m", "u_f", "u_s", "u_us", "s")
    assert len(table) == 2501 and table["t"][-1] == 2500.0
    assert table["u_m"][0] == -1.9 and table["u_s"][0] == -1.8
    spikes = json.loads((out / "spikes.json").read_text())
    assert spikes["n_spikes"] == 7 == len(spikes["spike_times"])
    # One burst between t = 1500 and 2100 at dt = 1.
    assert 1500 < spikes["spike_times"][0] < spikes["spike_times"][-1] < 2100
    assert (table["s"] == 1.0).any() and (table["s"] == 0.0).mean() > 0.9
    iv = np.genfromtxt(out / "iv.csv", delimiter=",", names=True)
    np.testing.assert_allclose(iv["ultraslow"], iv["v"], atol=1e-12)
    assert (out / "traces.png").stat().st_size > 10_000
    assert (out / "iv.png").stat().st_size > 10_000


def test_neuron_set_switches_elements_off(tmp_path):
    status = main(
        [
            "neuron",
            "--preset",
            "reference",
            "--set",
            "alpha_sn=0",
            "--set",
            "alpha_us=0",
            "--current",
            "0",
            "--t-end",
            "500",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    params = json.loads((tmp_path / "params.json").read_text())
    assert params["alpha_sn"] == 0.0 and params["alpha_us"] == 0.0
    spikes = json.loads((tmp_path / "spikes.json").read_text())
    assert spikes["n_spikes"] == 10  # tonic, about every 50 time units


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "tau_s=-1"], "MTCParams.tau_s = -1.0 is out of range"),
        (["--set", "bogus=1"], "has no parameter bogus"),
        (["--dt", "5"], "explicit Euler diverges"),
    ],
)
def test_neuron_bad_input_is_one_line(tmp_path, capsys, args, message):
    status = main(
        ["neuron", "--current", "0", "--t-end", "10", "--out", str(tmp_path), *args]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_neuron_rejects_malformed_flags(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["neuron", "--current", "nan", "--out", str(tmp_path)])
    assert exc.value.code == 2
