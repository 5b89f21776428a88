"""Neuron layers: pure step functions and the modules that run them over time.

Every layer takes an input current ``[T, B, N]`` (``[B, T, N]`` with
``batch_first=True``) and returns its output of the same shape; ``trace``
returns every state variable as well. Build one by name with
:func:`make_neuron`.
"""

from __future__ import annotations

from typing import Any

from mtcsnn.neurons.base import NeuronLayer
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

NEURONS: dict[str, type[NeuronLayer]] = {"mtc": MTC}
"""Neuron layer classes by name."""


def make_neuron(name: str, n_neurons: int, **kwargs: Any) -> NeuronLayer:
    """Build a neuron layer by name (``"mtc"``, ...); ``kwargs`` go to its class."""
    try:
        cls = NEURONS[name]
    except KeyError:
        raise ValueError(
            f"unknown neuron type {name!r}; known: {', '.join(NEURONS)}"
        ) from None
    return cls(n_neurons, **kwargs)


__all__ = [
    "MTC",
    "NEURONS",
    "PRESETS",
    "MTCParams",
    "MTCState",
    "MTCTrace",
    "NeuronLayer",
    "element_currents",
    "make_neuron",
    "mtc_step",
    "transduction",
]
