"""A feedforward spiking network that forecasts a scalar series.

::

    I_in = W_in x + b_in                       input projection  [T, B, N]
    s_1  = neuron_1(I_in)                      hidden spiking layer
    s_k  = neuron_k(W_k s_(k-1) + b_k)         further hidden layers
    y    = LowPass(W_out s_K + b_out)          linear readout, fixed filter

The input bias ``b_in`` is drawn uniformly from the neuron type's excitable
window (:data:`EXCITABLE_WINDOW`, in units of input current; or the
``input_window`` given) so that every neuron starts where a small input
change moves it between rest and firing;
the input weights are drawn uniformly from ``[-w, w]`` with ``w`` half the
window's width, so one standard deviation of a z-scored input sweeps half
the window.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from mtcsnn.models.filters import LowPass
from mtcsnn.neurons import NEURONS, make_neuron

EXCITABLE_WINDOW: dict[str, tuple[float, float]] = {
    # R I_in between the bursting and tonic ranges of the reference neuron.
    "mtc": (-2.0, 0.0),
    # beta = 0.9: a constant current I reaches the threshold 1 if I > 0.1.
    "lif": (0.0, 0.3),
    # u settles near I - w, and the adaptation w grows with u and with every
    # spike (q = 120): a current several times the threshold keeps it firing.
    # This range leaves about two thirds of the neurons active at the start
    # on a z-scored input.
    "adlif": (3.0, 8.0),
}
"""Range of the initial input bias for each neuron type."""


def check_window(window: tuple[float, float]) -> tuple[float, float]:
    """``window`` as a pair of floats, if finite and ``low < high``.

    Raises
    ------
    ValueError
        If it is not two finite numbers in increasing order.
    """
    try:
        low, high = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(
            f"input_window = {window!r} must be two numbers [low, high]"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"input_window = {window!r} is out of range: must be finite with low < high"
        )
    return low, high


class Recording(NamedTuple):
    """What a forward pass saw, for metrics and plots.

    Attributes
    ----------
    y
        Prediction ``[T, B, 1]``.
    synapse_inputs
        The input of every linear layer, in order (input projection, hidden
        projections, readout), each ``[T, B, fan_in]``.
    hidden
        Output of every hidden spiking layer, each ``[T, B, N]``.
    """

    y: Tensor
    synapse_inputs: list[Tensor]
    hidden: list[Tensor]


class Forecaster(nn.Module):
    """Input projection, spiking layers, linear readout and a low-pass filter.

    Parameters
    ----------
    neuron
        Neuron type by name: ``"mtc"``, ``"lif"`` or ``"adlif"``.
    n_hidden
        Neurons per hidden layer.
    n_layers
        Number of hidden layers.
    neuron_kwargs
        Passed to every neuron layer (e.g. ``params``, ``train``).
    cutoff, order
        Of the readout low-pass filter (cycles per step).
    input_window
        ``(low, high)``, ``low < high``: the range of the initial input bias;
        ``None`` takes the neuron type's :data:`EXCITABLE_WINDOW`.
    """

    def __init__(
        self,
        neuron: str = "mtc",
        n_hidden: int = 64,
        n_layers: int = 1,
        *,
        neuron_kwargs: dict[str, Any] | None = None,
        cutoff: float = 0.1,
        order: int = 4,
        input_window: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        if neuron not in NEURONS:
            raise ValueError(
                f"unknown neuron type {neuron!r}; known: {', '.join(NEURONS)}"
            )
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(f"n_layers = {n_layers!r} is out of range: must be >= 1")
        kwargs = neuron_kwargs or {}
        self.neuron = neuron
        self.input_window = check_window(
            EXCITABLE_WINDOW.get(neuron, (0.0, 1.0))
            if input_window is None
            else input_window
        )
        self.encoder = nn.Linear(1, n_hidden)
        self.projections = nn.ModuleList(
            nn.Linear(n_hidden, n_hidden) for _ in range(n_layers - 1)
        )
        self.neurons = nn.ModuleList(
            make_neuron(neuron, n_hidden, **kwargs) for _ in range(n_layers)
        )
        self.readout = nn.Linear(n_hidden, 1)
        self.lowpass = LowPass(cutoff, order)
        self.reset_input_parameters()

    def reset_input_parameters(self) -> None:
        """Draw the input bias in the excitable window and matching weights."""
        low, high = self.input_window
        with torch.no_grad():
            self.encoder.bias.uniform_(low, high)
            self.encoder.weight.uniform_(-(high - low) / 2, (high - low) / 2)

    def record(self, x: Tensor) -> Recording:
        """Run on ``x`` ``[T, B, 1]`` and keep every layer's input and output."""
        inputs = [x]
        hidden = []
        current = self.encoder(x)
        for k, layer in enumerate(self.neurons):
            if k > 0:
                inputs.append(hidden[-1])
                current = self.projections[k - 1](hidden[-1])
            hidden.append(layer(current))
        inputs.append(hidden[-1])
        y = self.lowpass(self.readout(hidden[-1]))
        return Recording(y, inputs, hidden)

    def forward(self, x: Tensor) -> Tensor:
        """Prediction ``[T, B, 1]`` for input ``x`` ``[T, B, 1]``."""
        return self.record(x).y

    def linear_layers(self) -> list[nn.Linear]:
        """The synapses in the order of :attr:`Recording.synapse_inputs`."""
        return [self.encoder, *self.projections, self.readout]
