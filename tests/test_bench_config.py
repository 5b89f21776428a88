"""Benchmark configurations: per-model neuron changes, validation, files."""

import json

import pytest
import torch

from mtcsnn.benchmark import (
    NEURON_SETTINGS,
    PRESETS,
    BenchConfig,
    NeuronConfig,
    build_model,
    load_config,
)
from mtcsnn.cli import main
from mtcsnn.models import Forecaster


def test_neuron_changes_reach_the_network_and_round_trip(tmp_path):
    config = BenchConfig.from_dict(
        {
            "models": ["mtc"],
            "n_hidden": 16,
            "neuron": {
                "mtc": {
                    "params": {"tau_s": 6.0, "tau_us": 120.0, "alpha_f": 2.5},
                    "input_window": [-1.2, -0.4],
                }
            },
        }
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert load_config(path) == config
    model = build_model("mtc", config)
    layer = model.neurons[0]
    assert layer.tau_s.tolist() == [6.0] * 16 and layer.tau_us.tolist() == [120.0] * 16
    # Trained gains start from the value given; the others keep the preset.
    assert layer.alpha_f.tolist() == pytest.approx([2.5] * 16, rel=1e-6)
    assert layer.alpha_sp.tolist() == pytest.approx([2.0] * 16, rel=1e-6)
    bias = model.encoder.bias.detach()
    assert -1.2 <= bias.min() and bias.max() <= -0.4
    assert model.encoder.weight.abs().max() <= 0.4
    assert model.input_window == (-1.2, -0.4)


def test_without_changes_the_network_is_the_benchmarks_own():
    torch.manual_seed(3)
    model = build_model("mtc", PRESETS["smoke"])
    torch.manual_seed(3)
    plain = Forecaster(
        "mtc", PRESETS["smoke"].n_hidden, neuron_kwargs=NEURON_SETTINGS["mtc"]
    )
    for (name, a), b in zip(
        model.state_dict().items(), plain.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_adlif_changes_set_one_value_over_the_per_neuron_draw():
    config = BenchConfig(
        n_hidden=32,
        models=("adlif",),
        neuron={"adlif": NeuronConfig(params={"tau_u": 10.0})},
    )
    layer = build_model("adlif", config).neurons[0]
    assert layer.tau_u.detach().tolist() == pytest.approx([10.0] * 32, rel=1e-6)
    # Fields not named keep their per-neuron draw.
    assert layer.a.detach().std() > 0.05


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nope": 1}, "unknown key 'nope'"),
        ({"train": {"lr": 1e-3, "momentum": 0.9}}, "unknown key 'train.momentum'"),
        ({"neuron": {"mtc": {"gain": 1}}}, "unknown key 'neuron.mtc.gain'"),
        ({"neuron": {"rnn": {}}}, "unknown model 'rnn'"),
        ({"neuron": {"mtc": {"params": {"tau_s": 0.2}}}}, "tau_s >= 0.5"),
        ({"neuron": {"mtc": {"params": {"alpha_us": 0.0}}}}, "cannot train alpha_us"),
        ({"neuron": {"mtc": {"params": {"alpha_f": "2"}}}}, "must be a number"),
        ({"neuron": {"mtc": {"params": {"dt": 0.5}}}}, "dt is the sampling step"),
        ({"neuron": {"lif": {"params": {"beta": 1.5}}}}, "beta = 1.5 is out of range"),
        ({"neuron": {"mtc": {"input_window": [0, -1]}}}, "low < high"),
        ({"n_hidden": 0}, "n_hidden = 0"),
        ({"models": "mtc"}, "models = 'mtc' has the wrong type"),
    ],
)
def test_invalid_configs_are_rejected_with_one_line(data, message):
    with pytest.raises(ValueError, match=message) as err:
        BenchConfig.from_dict(data)
    assert "\n" not in str(err.value)


def test_bench_command_rejects_a_bad_config_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"neuron": {"mtc": {"params": {"tau_s": -1}}}}))
    assert main(["bench", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    expected = f"mtcsnn bench: error: {path}: BenchConfig.neuron.mtc.params:"
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1
    path.write_text("{not json")
    assert main(["bench", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
