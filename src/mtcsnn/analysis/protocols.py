"""Input-current protocols for single-neuron experiments.

Each protocol returns the input current ``I_in`` sampled at the ``T`` Euler
steps of a simulation, a float tensor ``[T]``; times are in the unit of the
neuron's time constants.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def n_steps(t_end: float, dt: float) -> int:
    """Number of Euler steps that cover ``(0, t_end]`` with step ``dt``."""
    if not (math.isfinite(t_end) and t_end > 0):
        raise ValueError(f"t_end = {t_end!r} is out of range: must be > 0")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt = {dt!r} is out of range: must be > 0")
    return max(1, round(t_end / dt))


def make_protocol(
    name: str,
    *,
    current: float,
    t_end: float,
    dt: float,
    current_to: float | None = None,
    t_on: float = 0.0,
    width: float | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Build an input current ``[T]``, ``T = round(t_end / dt)``.

    Parameters
    ----------
    name
        ``"constant"``: ``current`` throughout. ``"step"``: ``current`` before
        ``t_on``, ``current_to`` from it. ``"ramp"``: linear from ``current`` at
        ``t = 0`` to ``current_to`` at ``t_end``. ``"pulse"``: ``current`` with
        ``current_to`` during ``[t_on, t_on + width)``.
    current, current_to
        Base and second current level, in the unit of ``I_in``.
    t_end, dt
        Duration and Euler step.
    t_on, width
        Onset of the step or pulse, and the pulse's duration.
    """
    steps = n_steps(t_end, dt)
    t = torch.arange(steps, dtype=torch.float64) * dt
    if name != "constant" and current_to is None:
        raise ValueError(f"protocol {name!r} needs current_to")
    if name == "constant":
        i_in = torch.full((steps,), float(current), dtype=torch.float64)
    elif name == "step":
        i_in = torch.where(t >= t_on, float(current_to), float(current))
    elif name == "ramp":
        i_in = current + (current_to - current) * t / t_end
    elif name == "pulse":
        if width is None or not width > 0:
            raise ValueError(f"protocol 'pulse' needs width > 0, got {width!r}")
        on = (t >= t_on) & (t < t_on + width)
        i_in = torch.where(on, float(current_to), float(current))
    else:
        raise ValueError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return i_in.to(dtype or torch.get_default_dtype())


PROTOCOLS = ("constant", "step", "ramp", "pulse")
"""Names accepted by :func:`make_protocol`."""
