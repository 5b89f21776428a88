"""NIR export of the LIF forecaster: round trip, simulation, refusals."""

import numpy as np
import pytest
import torch

pytest.importorskip("nir")
pytest.importorskip("nirtorch")

from mtcsnn.ecosystem import nir as mnir  # noqa: E402
from mtcsnn.models import Forecaster  # noqa: E402


def lif_network(n_layers: int = 2) -> Forecaster:
    net = Forecaster("lif", 16, n_layers, neuron_kwargs={"train": ("beta",)})
    with torch.no_grad():
        for layer in net.neurons:
            layer.beta.uniform_(0.5, 0.95)
        if n_layers > 1:
            net.projections[0].weight.mul_(4.0)  # so the second layer spikes
    return net


def test_round_trip_through_a_file_keeps_every_parameter(tmp_path):
    net = lif_network()
    path = tmp_path / "lif.nir"
    mnir.write(net, path, dt=1e-3)
    graph = mnir.read(path)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds == {
        "input": "Input",
        "encoder": "Affine",
        "lif_0": "LIF",
        "projection_1": "Affine",
        "lif_1": "LIF",
        "readout": "Affine",
        "output": "Output",
    }
    lif = graph.nodes["lif_0"]
    beta = net.neurons[0].beta.detach().double().numpy()
    np.testing.assert_allclose(lif.tau, 1e-3 / (1 - beta), rtol=1e-12)
    np.testing.assert_allclose(lif.r, lif.tau / 1e-3, rtol=1e-12)
    np.testing.assert_array_equal(lif.v_threshold, np.ones(16))
    np.testing.assert_array_equal(lif.v_leak, np.zeros(16))
    np.testing.assert_array_equal(
        graph.nodes["encoder"].weight, net.encoder.weight.detach().double().numpy()
    )
    assert graph.metadata["dt"] == 1e-3
    np.testing.assert_array_equal(graph.metadata["lowpass_a"], net.lowpass.a)

    back = mnir.from_nir(path)
    for (name, a), (_, b) in zip(
        net.state_dict().items(), back.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=0, msg=name)
    x = torch.randn(300, 4, 1)
    out, ref = back(x), net(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    assert net.record(x).hidden[1].abs().sum() > 0  # both layers spike


def test_nirtorch_runs_the_graph_step_by_step(tmp_path):
    net = lif_network()
    path = tmp_path / "lif.nir"
    mnir.write(net, path)
    module = mnir.to_torch(path)
    x = torch.randn(120, 3, 1)
    state, outputs = None, []
    for x_t in x:
        out, state = module(x_t, state)
        outputs.append(out)
    with torch.no_grad():
        rec = net.record(x)
        readout = net.readout(rec.hidden[-1])
    torch.testing.assert_close(torch.stack(outputs).detach(), readout)


@pytest.mark.parametrize("name", ["mtc", "adlif"])
def test_mtc_and_adlif_have_no_nir_primitive(name):
    with pytest.raises(ValueError, match="NIR has no primitive for"):
        mnir.to_nir(Forecaster(name, 4))


def test_a_neuron_without_leak_is_refused():
    net = lif_network(1)
    with torch.no_grad():
        net.neurons[0].beta[3] = 1.0
    with pytest.raises(ValueError, match="beta = 1"):
        mnir.to_nir(net)
