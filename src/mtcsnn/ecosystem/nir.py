r"""Export the LIF forecaster to NIR, the Neuromorphic Intermediate Representation.

:func:`to_nir` writes a LIF :class:`~mtcsnn.models.Forecaster` as the graph

::

    input [1] -> encoder (Affine) -> lif_0 (LIF) -> [projection_k (Affine)
    -> lif_k (LIF)] ... -> readout (Affine) -> output [1]

and :func:`from_nir` builds the same forecaster back from such a graph (a
file written by :func:`write`, or any graph of that shape). Only the LIF
network has NIR primitives: NIR has no node for the MTC neuron (four tanh
conductance elements on filtered membrane voltages) nor for SE-AdLIF's
adaptation current, and exporting either raises :class:`ValueError`.

The mapping of the discrete LIF (:mod:`mtcsnn.neurons.lif`) onto NIR's
continuous one, ``tau dv/dt = (v_leak - v) + r I``, is the usual one (that of
snnTorch's exporter): explicit Euler with step ``dt`` turns it into
``v[t] = (1 - dt / tau) v[t-1] + (dt / tau) r I[t]``, so ``tau = dt / (1 -
beta)``, ``r = tau / dt``, ``v_leak = 0``, ``v_threshold = threshold``.
``dt`` is a free choice of time unit (default ``1e-4``, snnTorch's); it is
stored in the graph's metadata and read back.

Warning
-------
NIR's LIF resets the membrane to ``v_reset`` when it spikes; this library's
LIF, as snnTorch's ``Leaky``, subtracts the threshold one step later. A
simulator that follows NIR's definition (such as snnTorch's importer, which
resets to 0 at once) therefore agrees with the exported network until a
neuron's first spike, and differs after it. The export records the reset
(``reset = "subtract"``, ``reset_delay = 1``) in the LIF nodes' metadata;
:func:`from_nir` restores it exactly. The readout low-pass filter has no NIR
node either: its cut-off, order and coefficients are stored in the graph's
metadata, and :func:`from_nir` rebuilds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtcsnn.models.forecaster import Forecaster
from mtcsnn.neurons.lif import LIF, LIFParams, LIFState, lif_step

NO_PRIMITIVE = {
    "mtc": (
        "NIR has no primitive for the MTC neuron (a conductance-based neuron "
        "with four tanh elements on filtered membrane voltages); only the LIF "
        "network can be exported"
    ),
    "adlif": (
        "NIR has no primitive for SE-AdLIF (its adaptation current has no NIR "
        "node); only the LIF network can be exported"
    ),
}
"""Why a neuron type cannot be exported."""

DEFAULT_DT = 1e-4
"""Euler step that maps the discrete decay onto NIR's time constant (seconds)."""


def _nir():
    try:
        import nir
    except ImportError as err:
        raise ImportError(
            f"NIR is not installed ({err}); install the extra: "
            "pip install 'mtcsnn[nir]'"
        ) from err
    return nir


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().to(torch.float64).numpy().copy()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def to_nir(net: Forecaster, *, dt: float = DEFAULT_DT):
    """The LIF forecaster ``net`` as a ``nir.NIRGraph``.

    Parameters
    ----------
    net
        A :class:`~mtcsnn.models.Forecaster` of LIF neurons.
    dt
        Euler step mapping each decay ``beta`` onto ``tau = dt / (1 - beta)``.

    Raises
    ------
    ValueError
        For MTC or SE-AdLIF networks (NIR has no primitive for them), for a
        neuron with ``beta = 1`` (no leak: NIR's ``IF``, not exported) and for
        ``dt <= 0``.
    """
    nir = _nir()
    if net.neuron in NO_PRIMITIVE:
        raise ValueError(
            f"cannot export a {net.neuron} network: {NO_PRIMITIVE[net.neuron]}"
        )
    if net.neuron != "lif":
        raise ValueError(f"cannot export a {net.neuron} network: no NIR mapping")
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt = {dt!r} is out of range: must be > 0")

    def affine(linear: torch.nn.Linear):
        return nir.Affine(weight=_numpy(linear.weight), bias=_numpy(linear.bias))

    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([1])})}
    edges = [("input", "encoder")]
    nodes["encoder"] = affine(net.encoder)
    previous = "encoder"
    for k, layer in enumerate(net.neurons):
        if k > 0:
            name = f"projection_{k}"
            nodes[name] = affine(net.projections[k - 1])
            edges.append((previous, name))
            previous = name
        p = layer.params()
        beta = _numpy(p.beta.clamp(0, 1))
        if bool((beta >= 1).any()):
            raise ValueError(
                f"cannot export layer {k}: a neuron has beta = 1 (no leak), "
                "which NIR's LIF cannot express"
            )
        tau = dt / (1.0 - beta)
        n = layer.n_neurons
        nodes[f"lif_{k}"] = nir.LIF(
            tau=tau,
            r=tau / dt,
            v_leak=np.zeros(n),
            v_threshold=_numpy(p.threshold) * np.ones(n),
            v_reset=np.zeros(n),
            metadata={"reset": "subtract", "reset_delay": 1},
        )
        edges.append((previous, f"lif_{k}"))
        previous = f"lif_{k}"
    nodes["readout"] = affine(net.readout)
    edges += [(previous, "readout"), ("readout", "output")]
    nodes["output"] = nir.Output(output_type={"output": np.array([1])})
    metadata = {
        "source": "mtcsnn Forecaster",
        "neuron": "lif",
        "dt": float(dt),
        "lowpass_cutoff": net.lowpass.cutoff,
        "lowpass_order": net.lowpass.order,
        "lowpass_b": np.asarray(net.lowpass.b, dtype=np.float64),
        "lowpass_a": np.asarray(net.lowpass.a, dtype=np.float64),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write(net: Forecaster, path: Path | str, *, dt: float = DEFAULT_DT) -> None:
    """Export ``net`` (see :func:`to_nir`) to the NIR file ``path`` (HDF5)."""
    _nir().write(str(path), to_nir(net, dt=dt))


def read(path: Path | str):
    """The ``nir.NIRGraph`` stored in ``path``."""
    return _nir().read(str(path))


def _chain(graph) -> list[str]:
    """Node names from the input to the output; the graph must be one chain."""
    successors: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        successors.setdefault(src, []).append(dst)
    inputs = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"]
    if len(inputs) != 1:
        raise ValueError(f"expected one input node, found {len(inputs)}")
    order = [inputs[0]]
    while order[-1] in successors:
        nxt = successors[order[-1]]
        if len(nxt) != 1 or nxt[0] in order:
            raise ValueError(f"node {order[-1]!r} does not lead to one next node")
        order.append(nxt[0])
    if len(order) != len(graph.nodes):
        raise ValueError("the graph is not a single chain from input to output")
    return order


def from_nir(graph, *, dt: float | None = None) -> Forecaster:
    """Build the LIF forecaster described by a NIR graph (or a NIR file).

    Parameters
    ----------
    graph
        A ``nir.NIRGraph`` of the shape :func:`to_nir` writes, or a path.
    dt
        Euler step of the mapping; default: the graph's metadata, else
        :data:`DEFAULT_DT`.

    Returns
    -------
    Forecaster
        Parameters from the graph, each neuron's ``beta = 1 - dt / tau``
        trained (as the benchmark's LIF), the readout filter from the graph's
        metadata (the library's default if absent).

    Raises
    ------
    ValueError
        If the graph is not ``Input, Affine, LIF, (Affine, LIF)..., Affine,
        Output`` or a LIF node is not the image of a discrete LIF (``r`` must
        be ``tau / dt``, ``v_leak`` and ``v_reset`` 0).
    """
    _nir()
    if isinstance(graph, (str, Path)):
        graph = read(graph)
    meta = dict(graph.metadata or {})
    step = float(dt if dt is not None else meta.get("dt", DEFAULT_DT))
    order = _chain(graph)
    kinds = [type(graph.nodes[n]).__name__ for n in order]
    pairs = list(zip(order, kinds, strict=True))
    n_lif = kinds.count("LIF")
    expected = ["Input", "Affine", "LIF"] + ["Affine", "LIF"] * (n_lif - 1)
    expected += ["Affine", "Output"]
    if n_lif < 1 or kinds != expected:
        raise ValueError(
            "expected Input, Affine, LIF, (Affine, LIF)..., Affine, Output; "
            f"got {', '.join(kinds)}"
        )
    affines = [graph.nodes[n] for n, k in pairs if k == "Affine"]
    lifs = [graph.nodes[n] for n, k in pairs if k == "LIF"]
    n_hidden = int(np.asarray(affines[0].weight).shape[0])
    params = []
    for node in lifs:
        tau = np.asarray(node.tau, dtype=np.float64)
        if not np.allclose(np.asarray(node.r), tau / step, rtol=1e-9):
            raise ValueError("a LIF node has r != tau / dt: not a discrete LIF")
        for name in ("v_leak", "v_reset"):
            if np.any(np.asarray(getattr(node, name)) != 0):
                raise ValueError(f"a LIF node has {name} != 0: not supported")
        reset = _text(node.metadata.get("reset", "subtract"))
        if reset != "subtract":
            raise ValueError(f"a LIF node resets by {reset!r}: only 'subtract' is")
        params.append(
            LIFParams(
                beta=torch.as_tensor(1.0 - step / tau),
                threshold=torch.as_tensor(np.asarray(node.v_threshold, np.float64)),
            )
        )
    cutoff = float(meta.get("lowpass_cutoff", 0.1))
    order_lp = int(meta.get("lowpass_order", 4))
    net = Forecaster(
        "lif",
        n_hidden,
        n_lif,
        neuron_kwargs={"train": ("beta",)},
        cutoff=cutoff,
        order=order_lp,
    )
    with torch.no_grad():
        for linear, node in zip(net.linear_layers(), affines, strict=True):
            weight = torch.as_tensor(np.asarray(node.weight, dtype=np.float64))
            if tuple(weight.shape) != tuple(linear.weight.shape):
                raise ValueError(
                    f"an Affine node has weight {tuple(weight.shape)}, expected "
                    f"{tuple(linear.weight.shape)}"
                )
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.as_tensor(np.asarray(node.bias, np.float64)))
        for layer, p in zip(net.neurons, params, strict=True):
            layer.beta.copy_(p.beta)
            layer.threshold.copy_(p.threshold)
    if "lowpass_b" in meta:
        net.lowpass.b = np.asarray(meta["lowpass_b"], dtype=np.float64)
        net.lowpass.a = np.asarray(meta["lowpass_a"], dtype=np.float64)
    return net


class LIFStep(torch.nn.Module):
    """One step of a discrete LIF layer, ``forward(i_in, state) -> (s, state)``.

    The form nirtorch's graph executor runs: ``i_in`` ``[B, N]``, ``state`` a
    :class:`~mtcsnn.neurons.lif.LIFState` (a fresh one if ``None``).
    """

    def __init__(self, layer: LIF) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, i_in: torch.Tensor, state: LIFState | None = None):
        if state is None:
            state = self.layer.initial_state(i_in.shape[0], dtype=i_in.dtype)
        return lif_step(i_in, state, self.layer.params())


def to_torch(graph, *, dt: float | None = None) -> torch.nn.Module:
    """A step-by-step PyTorch executor of a LIF graph, built by nirtorch.

    Each call ``out, state = module(x, state)`` advances the graph by one
    step (``x`` ``[B, 1]``, ``state`` ``None`` at the start); nodes are mapped
    as :func:`from_nir` reads them (the readout filter is not in the graph:
    ``out`` is the readout before it).
    """
    import nirtorch

    nir = _nir()
    if isinstance(graph, (str, Path)):
        graph = read(graph)
    net = from_nir(graph, dt=dt)
    chain = [graph.nodes[name] for name in _chain(graph)]
    lif_nodes = [node for node in chain if type(node).__name__ == "LIF"]
    layer_of = {
        id(node): layer for node, layer in zip(lif_nodes, net.neurons, strict=True)
    }

    def affine(node) -> torch.nn.Linear:
        weight = torch.as_tensor(np.asarray(node.weight, dtype=np.float32))
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.as_tensor(np.asarray(node.bias, np.float32)))
        return linear

    return nirtorch.nir_to_torch(
        graph, {nir.Affine: affine, nir.LIF: lambda node: LIFStep(layer_of[id(node)])}
    )
