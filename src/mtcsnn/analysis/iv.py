r"""Steady-state current-voltage (I-V) curves of the MTC neuron.

At a fixed voltage ``v`` with every filter settled (``u_x = v``), the current
needed to hold the membrane there is, from the membrane equation,
``I_in = (v - u_rest) / R + I_sum(v)``. Counting only the elements that have
settled by a given timescale gives one curve per timescale (Ribar &
Sepulchre, 2019)::

    I_fast(v)  = (v - u_rest) / R + I_f-(v)
    I_slow(v)  = I_fast(v) + I_s+(v) + I_s-(v)
    I_ultra(v) = I_slow(v) + I_us+(v)

Where a curve has negative slope, the neuron is excitable on that timescale.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch
from torch import Tensor

from mtcsnn.neurons.mtc import (
    MTCParams,
    fast_current,
    slow_current,
    ultraslow_current,
)


class IVCurves(NamedTuple):
    """I-V curves on a voltage grid, each ``[V]`` (or ``[V, N]`` per neuron)."""

    v: Tensor
    fast: Tensor
    slow: Tensor
    ultraslow: Tensor


def iv_curves(p: MTCParams, v: Tensor | None = None) -> IVCurves:
    """The fast, slow and ultra-slow steady-state I-V curves of ``p``.

    Parameters
    ----------
    p
        Neuron parameters; per-neuron ``[N]`` values give ``[V, N]`` curves.
    v
        Voltage grid ``[V]``; default 801 points on ``[-3, 3]``.

    Returns
    -------
    IVCurves
        ``v`` and the current on each curve, in the unit of ``I_in``.
    """
    if v is None:
        v = torch.linspace(-3.0, 3.0, 801, dtype=torch.float64)
    per_neuron = any(
        isinstance(value, Tensor) and value.dim() == 1
        for value in (getattr(p, f.name) for f in dataclasses.fields(p))
    )
    grid = v[:, None] if per_neuron else v

    fast = (grid - p.u_rest) / p.R + fast_current(grid, p)
    slow = fast + slow_current(grid, p)
    ultraslow = slow + ultraslow_current(grid, p)
    return IVCurves(v, fast, slow, ultraslow)
