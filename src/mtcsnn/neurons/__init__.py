"""Neuron layers: pure step functions and the modules that run them over time.

Every layer takes an input current ``[T, B, N]`` (``[B, T, N]`` with
``batch_first=True``) and returns its output of the same shape; ``trace``
returns every state variable as well. Build one by name with
:func:`make_neuron`: ``"mtc"`` (:class:`MTC`), or the baselines ``"lif"``
(:class:`LIF`, as snnTorch's ``Leaky``) and ``"adlif"`` (:class:`AdLIF`,
SE-AdLIF of Baronig et al.).
"""

from __future__ import annotations

from typing import Any

from mtcsnn.neurons.adlif import (
    AdLIF,
    AdLIFParams,
    AdLIFState,
    AdLIFTrace,
    adlif_step,
)
from mtcsnn.neurons.base import NeuronLayer
from mtcsnn.neurons.lif import LIF, LIFParams, LIFState, LIFTrace, lif_step
from mtcsnn.neurons.mtc import (
    MTC,
    PRESETS,
    MTCParams,
    MTCState,
    MTCTrace,
    element_currents,
    mtc_step,
    transduction,
)

NEURONS: dict[str, type[NeuronLayer]] = {"mtc": MTC, "lif": LIF, "adlif": AdLIF}
"""Neuron layer classes by name: the MTC neuron and the two baselines."""


def make_neuron(name: str, n_neurons: int, **kwargs: Any) -> NeuronLayer:
    """Build a neuron layer by name (``"mtc"``, ``"lif"``, ``"adlif"``).

    ``kwargs`` (``params``, ``train``, ``batch_first``, ``device``, ``dtype``)
    go to the class; every class defaults ``params`` sensibly, so
    ``make_neuron(name, n)`` alone builds any of them.
    """
    try:
        cls = NEURONS[name]
    except KeyError:
        raise ValueError(
            f"unknown neuron type {name!r}; known: {', '.join(NEURONS)}"
        ) from None
    return cls(n_neurons, **kwargs)


__all__ = [
    "LIF",
    "MTC",
    "NEURONS",
    "PRESETS",
    "AdLIF",
    "AdLIFParams",
    "AdLIFState",
    "AdLIFTrace",
    "LIFParams",
    "LIFState",
    "LIFTrace",
    "MTCParams",
    "MTCState",
    "MTCTrace",
    "NeuronLayer",
    "adlif_step",
    "element_currents",
    "lif_step",
    "make_neuron",
    "mtc_step",
    "transduction",
]
