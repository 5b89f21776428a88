"""mtcsnn: Multi-Timescale Conductance spiking neural networks in PyTorch.

The library logs through :mod:`logging` under the ``mtcsnn`` name and never
prints; the command line decides what the user sees.
"""

from __future__ import annotations

import logging

from mtcsnn.neurons import (
    LIF,
    MTC,
    NEURONS,
    AdLIF,
    AdLIFParams,
    AdLIFState,
    AdLIFTrace,
    LIFParams,
    LIFState,
    LIFTrace,
    MTCParams,
    MTCState,
    MTCTrace,
    adlif_step,
    lif_step,
    make_neuron,
    mtc_step,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "LIF",
    "MTC",
    "NEURONS",
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
    "adlif_step",
    "lif_step",
    "make_neuron",
    "mtc_step",
]
