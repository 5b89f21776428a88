"""The NeuroBench adapter and Protocol B: parity with NeuroBench, and its traps."""

import json

import numpy as np
import pytest
import torch

pytest.importorskip("neurobench")
pytest.importorskip("neurobench.datasets.mackey_glass")

from torch.utils.data import DataLoader, Subset  # noqa: E402

from mtcsnn.cli import main  # noqa: E402
from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass  # noqa: E402
from mtcsnn.ecosystem import neurobench as nb  # noqa: E402
from mtcsnn.models import Forecaster  # noqa: E402
from mtcsnn.training import seed_everything  # noqa: E402


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCSNN_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def series_file(tmp_path):
    return nb.write_series(tmp_path / "mg_17.npy")


def network(name: str, n_hidden: int = 12, n_layers: int = 1) -> Forecaster:
    seed_everything(3)
    return Forecaster(
        name,
        n_hidden,
        n_layers,
        neuron_kwargs=nb.ProtocolBConfig().neuron_settings(name),
        cutoff=0.3,
    )


def primed(name, series_file, repeat=0, n_layers=1, mode="autonomous"):
    """A module primed on the repeat's training inputs, its dataset and loader."""
    mg = nb.load_repeat(series_file, repeat)
    values = mg.mackeyglass_soln[: mg.traintime_pts + 1, 0].numpy()
    module = nb.AutonomousForecaster(
        network(name, n_layers=n_layers),
        float(values.mean()),
        float(values.std()),
        mode=mode,
    )
    module.prime(values[:-1])
    loader = DataLoader(
        Subset(mg, mg.ind_test), batch_size=mg.testtime_pts, shuffle=False
    )
    return module, mg, loader


def test_series_file_is_what_neurobench_loads(series_file):
    mg = nb.load_repeat(series_file, 3)
    # Offset 3 x 37.5 = 112.5 points, truncated by NeuroBench to 112.
    assert mg.mackeyglass_soln.shape == (1501, 1)
    assert mg.mackeyglass_soln.dtype == torch.float64
    written = np.load(series_file)
    assert written.shape == (nb.SERIES_POINTS,)
    np.testing.assert_array_equal(mg.mackeyglass_soln[:, 0].numpy(), written[112:1613])
    assert len(mg.ind_train) == 750 and len(mg.ind_test) == 750
    # The samples are MG17 at 197 / 75 time units after 381 dropped points.
    direct = mackey_glass(nb.DISCARD_POINTS + 5, MackeyGlass(step=197 / 75))
    np.testing.assert_allclose(written[:5], direct[nb.DISCARD_POINTS :], rtol=1e-12)
    x, target = mg[mg.ind_test[0].item()]
    assert x.item() == written[112 + 750] and target.item() == written[112 + 751]
    assert nb.points_needed(30) == 2588 <= nb.SERIES_POINTS


def test_trap_file_path_none_raises_type_error():
    from neurobench.datasets import MackeyGlass as NeuroBenchMackeyGlass

    with pytest.raises(TypeError):
        NeuroBenchMackeyGlass(file_path=None, download=False)


def test_one_step_splits_pair_each_point_with_the_next():
    values = np.linspace(1.0, 2.0, 751)
    splits = nb.one_step_splits(values, window=100, warmup=20)
    x, y = splits.sample_batch(5, np.random.default_rng(0), dtype=torch.float64)
    assert x.shape == y.shape == (100, 5, 1)
    np.testing.assert_allclose(y[:-1].numpy(), x[1:].numpy())
    z = (values - values.mean()) / values.std()
    start = int(np.argmin(np.abs(z - x[0, 0, 0].item())))
    np.testing.assert_allclose(y[:, 0, 0].numpy(), z[start + 1 : start + 101])


def test_neurobench_finds_every_synapse_and_neuron(series_file):
    module, _, _ = primed("mtc", series_file, n_layers=2)
    model = nb.neurobench_model(module)
    layers = model.activation_layers()
    assert [type(x["layer"]) for x in layers] == [nb.StatefulNeuron] * 2
    assert model.connection_layers() == module.linear_layers()


def test_priming_then_stepping_equals_one_long_run(series_file):
    """Warm-up plus step-by-step teacher forcing = the network on the whole series."""
    module, mg, loader = primed("mtc", series_file, mode="teacher_forced")
    batch, target = next(iter(loader))
    preds = module(batch)
    assert preds.shape == target.shape == (750, 1)
    assert preds.dtype == torch.float64
    whole = mg.mackeyglass_soln[:1500, 0].to(torch.float32)
    u = ((whole - module.mean) / module.std)[:, None, None]
    with torch.no_grad():
        current = module.encoder(u)
        s = module.neurons[0].layer(current)
        y = module.lowpass(module.readout(s))[750:, 0] * module.std + module.mean
    np.testing.assert_allclose(preds.numpy(), y.double().numpy(), rtol=1e-5)


def test_autonomous_mode_feeds_back_its_own_prediction(series_file):
    module, _, loader = primed("lif", series_file)
    batch, _ = next(iter(loader))
    first = module(batch)
    changed = batch.clone()
    changed[1:] += 0.3
    np.testing.assert_array_equal(module(changed).numpy(), first.numpy())
    module.mode = "teacher_forced"
    forced = module(batch)
    assert forced[0] == first[0]
    assert not torch.equal(module(changed)[1:], forced[1:])


def test_priming_is_not_counted_by_neurobench(series_file):
    module, mg, loader = primed("adlif", series_file)
    benchmark = nb.make_benchmark(module, loader)
    module.prime(mg.mackeyglass_soln[:750, 0].numpy())
    model = benchmark.model
    assert all(not hook.inputs for hook in model.connection_hooks)
    assert all(not hook.activation_outputs for hook in model.activation_hooks)
    model.cleanup_hooks()


@pytest.mark.parametrize(
    ("name", "n_layers", "mode"),
    [
        ("mtc", 2, "autonomous"),
        ("mtc", 2, "teacher_forced"),
        ("lif", 2, "teacher_forced"),
        # Untrained SE-AdLIF falls silent when it runs autonomously.
        ("adlif", 1, "teacher_forced"),
    ],
)
def test_our_metrics_equal_neurobench_s(name, n_layers, mode, series_file):
    module, mg, loader = primed(name, series_file, n_layers=n_layers, mode=mode)
    benchmark = nb.make_benchmark(module, loader)
    results, output = nb.run_benchmark(benchmark)
    benchmark.model.cleanup_hooks()
    assert "Error running" not in output
    ours = module.own_metrics(mg.mackeyglass_soln[mg.ind_test + 1])
    syn = results["SynapticOperations"]

    assert 0.05 < results["ActivationSparsity"] < 0.99  # the networks are active
    assert results["SMAPE"] == pytest.approx(ours["smape"], rel=1e-12)
    assert results["ActivationSparsity"] == ours["activation_sparsity"]
    assert syn["Dense"] == ours["synops_dense"] == 12 + 144 * (n_layers - 1) + 12
    assert syn["Effective_MACs"] + syn["Effective_ACs"] == pytest.approx(
        ours["synops_effective"], rel=1e-12
    )
    if name == "mtc":
        # NeuroBench calls a whole step graded if any input is: more MACs.
        assert syn["Effective_MACs"] >= ours["synops_effective_macs"]
    else:
        assert syn["Effective_ACs"] == pytest.approx(ours["synops_effective_acs"])
        assert syn["Effective_MACs"] == pytest.approx(ours["synops_effective_macs"])
    size = sum(
        t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers())
    )
    assert results["Footprint"] == size
    assert results["ConnectionSparsity"] == 0.0


def test_trap_error_running_is_raised(series_file):
    class WrongShape(nb.AutonomousForecaster):
        def forward(self, batch):
            return super().forward(batch)[:, 0]  # [L] against targets [L, 1]

    module, mg, loader = primed("lif", series_file)
    wrong = WrongShape(network("lif"), 1.0, 0.2)
    benchmark = nb.make_benchmark(wrong, loader)
    with pytest.raises(
        nb.NeuroBenchError, match="Error running workload metric 'SMAPE'"
    ):
        nb.run_benchmark(benchmark)
    benchmark.model.cleanup_hooks()


def test_neurobench_command_writes_results(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        ["neurobench", "--model", "lif", "--preset", "smoke", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "Error running" not in printed.out + printed.err
    report = json.loads((out / "results.json").read_text())
    assert report["series"] == "regenerated"
    assert [r["start_offset"] for r in report["repeats"]] == [0.0, 37.5]
    for row in report["repeats"]:
        assert row["neurobench"]["SMAPE"] == pytest.approx(row["mtcsnn"]["smape"])
        assert 0 < row["neurobench"]["SMAPE"] < 200
    mean = np.mean([r["neurobench"]["SMAPE"] for r in report["repeats"]])
    assert report["neurobench"]["SMAPE"]["mean"] == pytest.approx(mean)
    table = (out / "results.md").read_text()
    assert "| LSTM (published) | NeuroBench official | 30 | 13.37 |" in table
    assert "| ESN (published) | NeuroBench official | 30 | 14.79 |" in table
    assert "| lif | ours, regenerated | 2 |" in table
    assert (out / "mg_17.npy").exists() and (out / "lif" / "model.pt").exists()


def test_neurobench_command_without_the_extra(tmp_path, capsys, monkeypatch):
    def missing():
        raise ImportError("NeuroBench is not installed; install the extra")

    monkeypatch.setattr(nb, "require_neurobench", missing)
    code = main(["neurobench", "--model", "mtc", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "mtcsnn neurobench: error: NeuroBench is not installed; install the extra"
    ]


def test_neurobench_command_rejects_bad_input(tmp_path, capsys):
    code = main(
        ["neurobench", "--model", "mtc", "--out", str(tmp_path), "--repeats", "31"]
    )
    assert code == 2
    assert "repeats = 31 is out of range" in capsys.readouterr().err
