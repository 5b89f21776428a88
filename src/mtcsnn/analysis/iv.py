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
The slopes are known in closed form (``sech^2 = 1 - tanh^2``)::

    dI_fast/dv  = 1 / R - alpha_f sech^2(v - delta_f)
    dI_slow/dv  = dI_fast/dv + alpha_sp sech^2(v - delta_sp)
                             - alpha_sn sech^2(v - delta_sn)
    dI_ultra/dv = dI_slow/dv + alpha_us sech^2(v - delta_us)

:func:`negative_slope_intervals` finds their zeros to machine precision, and
:func:`resting_voltage` the equilibria of the ultra-slow curve.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import brentq
from torch import Tensor

from mtcsnn.neurons.base import as_tensor
from mtcsnn.neurons.mtc import (
    GAINS,
    OFFSETS,
    MTCParams,
    element_currents,
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
    grid = v[:, None] if _per_neuron(p) else v

    fast = (grid - p.u_rest) / p.R + fast_current(grid, p)
    slow = fast + slow_current(grid, p)
    ultraslow = slow + ultraslow_current(grid, p)
    return IVCurves(v, fast, slow, ultraslow)


def _per_neuron(p: MTCParams) -> bool:
    return any(
        isinstance(value, Tensor) and value.dim() == 1
        for value in (getattr(p, f.name) for f in dataclasses.fields(p))
    )


class NegativeSlope(NamedTuple):
    """Voltage intervals ``(v_low, v_high)`` where each I-V curve falls.

    Each field is a list of disjoint intervals in increasing order; an empty
    list means the curve is monotonic increasing (not excitable on that
    timescale).
    """

    fast: list[tuple[float, float]]
    slow: list[tuple[float, float]]
    ultraslow: list[tuple[float, float]]


def _scalars(p: MTCParams, names: tuple[str, ...]) -> dict[str, float]:
    values = {}
    for name in names:
        value = as_tensor(getattr(p, name))
        if value.numel() != 1:
            raise ValueError(
                f"{name} has {value.numel()} values: this analysis takes one "
                "neuron (scalar parameters)"
            )
        values[name] = float(value)
    return values


def _slope_terms(p: MTCParams) -> list[list[tuple[float, float]]]:
    """``(gain, offset)`` of the ``sech^2`` terms each curve adds to its slope.

    A positive gain here lowers the slope (a negative conductance).
    """
    q = _scalars(p, GAINS + OFFSETS)
    fast = [(q["alpha_f"], q["delta_f"])]
    slow = [(-q["alpha_sp"], q["delta_sp"]), (q["alpha_sn"], q["delta_sn"])]
    ultraslow = [(-q["alpha_us"], q["delta_us"])]
    return [fast, fast + slow, fast + slow + ultraslow]


def iv_slopes(p: MTCParams, v: Tensor) -> IVCurves:
    """The exact slopes ``dI/dv`` of the three I-V curves on a grid ``[V]``.

    Same shapes as :func:`iv_curves`; dimensionless (current per voltage).
    """
    grid = v[:, None] if _per_neuron(p) else v

    def sech2(offset: Tensor | float) -> Tensor:
        return 1.0 - torch.tanh(grid - offset) ** 2

    fast = 1.0 / p.R - p.alpha_f * sech2(p.delta_f)
    slow = fast + p.alpha_sp * sech2(p.delta_sp) - p.alpha_sn * sech2(p.delta_sn)
    ultraslow = slow + p.alpha_us * sech2(p.delta_us)
    return IVCurves(v, fast, slow, ultraslow)


def negative_slope_intervals(
    p: MTCParams, *, points_per_unit: int = 2000
) -> NegativeSlope:
    r"""The voltage intervals where each I-V curve has negative slope.

    The slope of each curve is ``1 / R - sum_k g_k sech^2(v - d_k)``, with
    ``g_k > 0`` for the negative conductances. It can only be negative where
    the negative terms add up to more than ``1 / R``, which bounds every zero
    to within ``arccosh(sqrt(R G))`` of a negative element's offset (``G`` the
    sum of the negative gains). That window is sampled at
    ``points_per_unit`` points per voltage unit, each sign change of the
    exact slope is bracketed, and its zero refined by Brent's method to
    machine precision.

    Parameters
    ----------
    p
        Parameters of one neuron (scalars; ``R`` and the gains and offsets
        are used, ``u_rest`` shifts the curves but not their slopes).
    points_per_unit
        Grid density of the bracketing search.

    Returns
    -------
    NegativeSlope
        ``(v_low, v_high)`` intervals per curve, in voltage units.

    Notes
    -----
    A falling stretch narrower than ``1 / points_per_unit`` (where the slope
    dips just below zero) can fall between two grid points and be missed; a
    slope that only touches zero bounds no interval and is not reported.

    Examples
    --------
    The reference fast curve ``v - 2 tanh(v)`` falls where
    ``2 sech^2(v) > 1``, i.e. ``|v| < arccosh(sqrt(2)) = 0.8814``:

    >>> negative_slope_intervals(MTCParams()).fast  # doctest: +ELLIPSIS
    [(-0.88137358..., 0.88137358...)]
    """
    if points_per_unit < 10:
        raise ValueError(f"points_per_unit = {points_per_unit} is out of range: >= 10")
    r = _scalars(p, ("R",))["R"]
    intervals = []
    for terms in _slope_terms(p):
        intervals.append(_falling(terms, 1.0 / r, points_per_unit))
    return NegativeSlope(*intervals)


def _falling(
    terms: list[tuple[float, float]], leak: float, points_per_unit: int
) -> list[tuple[float, float]]:
    """Intervals where ``leak - sum g sech^2(v - d)`` is negative."""

    def slope(v: np.ndarray | float) -> np.ndarray | float:
        total = leak
        for gain, offset in terms:
            total = total - gain / np.cosh(v - offset) ** 2
        return total

    negative = [(g, d) for g, d in terms if g > 0]
    total_gain = sum(g for g, _ in negative)
    if total_gain * (1.0 / leak) <= 1.0:
        return []
    reach = math.acosh(math.sqrt(total_gain / leak)) + 1.0
    low = min(d for _, d in negative) - reach
    high = max(d for _, d in negative) + reach
    v = np.linspace(low, high, int(math.ceil((high - low) * points_per_unit)) + 1)
    falling = slope(v) < 0
    # Both ends of the window lie where the slope is positive, so sign changes
    # alternate: down, up, down, up, ...
    edges = np.nonzero(falling[1:] != falling[:-1])[0]
    roots = [brentq(slope, v[k], v[k + 1], xtol=1e-15, rtol=1e-15) for k in edges]
    return [(float(a), float(b)) for a, b in zip(roots[::2], roots[1::2], strict=True)]


def resting_voltage(p: MTCParams, current: float | Tensor) -> Tensor:
    r"""The lowest equilibrium voltage at a constant input current.

    Solves ``I_ultra(v) = current``, the voltage at which the neuron, with
    every filter settled, draws exactly the input current, and returns the
    lowest (most hyperpolarised) solution. Since the elements are bounded,
    every solution lies in ``u_rest + R (current -/+ sum of gains)``; that
    range is scanned on a grid for the first sign change, then refined by
    bisection to float64 precision.

    Parameters
    ----------
    p
        Parameters, scalars or per-neuron ``[N]`` tensors.
    current
        ``R I_in``-unit input current, a number or ``[N]`` tensor.

    Returns
    -------
    Tensor
        Voltages, float64, ``[]`` or ``[N]``.

    Warning
    -------
    An equilibrium need not be stable: the reference neuron's only
    equilibrium at ``I = -2`` lies where it bursts. Start a neuron from
    ``resting_voltage`` at a current where it is silent.
    """
    p64 = {
        name: as_tensor(getattr(p, name)) for name in (*GAINS, *OFFSETS, "R", "u_rest")
    }
    q = dataclasses.replace(p, **p64)
    current = as_tensor(current)
    span = sum(p64[name] for name in GAINS)
    low = p64["u_rest"] + p64["R"] * (current - span) - 1e-9
    high = p64["u_rest"] + p64["R"] * (current + span) + 1e-9
    shape = torch.broadcast_shapes(current.shape, *(x.shape for x in p64.values()))
    low, high, current = (x.expand(shape) for x in (low, high, current))

    def excess(v: Tensor) -> Tensor:
        leak = (v - q.u_rest) / q.R
        return leak + element_currents(v, v, v, q) - current

    fractions = torch.linspace(0.0, 1.0, 2001, dtype=torch.float64)
    fractions = fractions.reshape(-1, *([1] * low.dim()))
    grid = low + (high - low) * fractions  # [V, ...], neurons last
    # The first grid point where the excess is >= 0 ends the lowest bracket;
    # the excess is < 0 at the low end and > 0 at the high end.
    first = torch.argmax((excess(grid) >= 0).to(torch.int8), dim=0).clamp(min=1)
    a = torch.gather(grid, 0, (first - 1)[None]).squeeze(0)
    b = torch.gather(grid, 0, first[None]).squeeze(0)
    for _ in range(60):
        mid = 0.5 * (a + b)
        up = excess(mid) >= 0
        a = torch.where(up, a, mid)
        b = torch.where(up, mid, b)
    return 0.5 * (a + b)
