"""Spike detection on voltage traces."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def spike_times(t: ArrayLike, u_m: ArrayLike, u_th: float) -> np.ndarray:
    """Times of the upward crossings of ``u_th``, linearly interpolated.

    A spike is counted at every ``k`` with ``u_m[k-1] < u_th <= u_m[k]``, at
    time ``t[k-1] + (t[k] - t[k-1]) (u_th - u_m[k-1]) / (u_m[k] - u_m[k-1])``.

    Parameters
    ----------
    t
        Sample times, ``[T]``, increasing.
    u_m
        Membrane voltage at those times, ``[T]``.
    u_th
        Threshold voltage.

    Returns
    -------
    numpy.ndarray
        Spike times, ``[n_spikes]``, in the unit of ``t``.
    """
    t = np.asarray(t, dtype=np.float64)
    u = np.asarray(u_m, dtype=np.float64)
    if t.ndim != 1 or t.shape != u.shape:
        raise ValueError(
            f"t and u_m must be 1-d of equal length, got {t.shape} and {u.shape}"
        )
    before, after = u[:-1], u[1:]
    k = np.nonzero((before < u_th) & (after >= u_th))[0]
    frac = (u_th - before[k]) / (after[k] - before[k])
    return t[k] + (t[k + 1] - t[k]) * frac
