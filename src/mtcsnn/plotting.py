"""Plots of neuron traces and I-V curves (needs the ``plot`` extra).

Every function draws on the matplotlib axis it is given (a new figure's axis
if none) and returns that axis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "plotting needs matplotlib: pip install 'mtcsnn[plot]'"
        ) from err
    return plt


def new_axes(ax: Axes | None, **subplot_kw: Any) -> Axes:
    """``ax`` itself, or the axis of a new figure."""
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=(8, 3), **subplot_kw)
    return ax


def plot_voltages(
    t: np.ndarray,
    traces: dict[str, np.ndarray],
    *,
    u_th: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot voltage traces ``{label: [T]}`` against time ``t`` ``[T]``."""
    ax = new_axes(ax)
    for label, values in traces.items():
        ax.plot(t, values, label=label, lw=1.0 if label == "u_m" else 0.8)
    if u_th is not None:
        ax.axhline(u_th, color="grey", lw=0.5, ls=":", label="u_th")
    ax.set_xlabel("time")
    ax.set_ylabel("voltage")
    ax.legend(loc="upper right", fontsize="small", ncol=len(traces) + 1)
    return ax


def plot_iv(
    v: np.ndarray,
    curves: dict[str, np.ndarray],
    *,
    ax: Axes | None = None,
    mark_negative_slope: bool = True,
) -> Axes:
    """Plot I-V curves ``{label: [V]}`` on voltage grid ``v`` ``[V]``.

    With ``mark_negative_slope``, the stretches of each curve with negative
    slope (where that timescale is excitable) are drawn thick.
    """
    ax = new_axes(ax)
    for label, current in curves.items():
        (line,) = ax.plot(v, current, label=label, lw=1.2)
        if mark_negative_slope:
            falling = np.gradient(current, v) < 0
            ax.plot(
                v, np.where(falling, current, np.nan), color=line.get_color(), lw=3.5
            )
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xlabel("v (membrane voltage)")
    ax.set_ylabel("steady-state I_in")
    ax.legend(fontsize="small")
    return ax


def save(ax_or_fig: Any, path: str) -> None:
    """Save the figure of an axis (or a figure) as ``path`` and close it."""
    plt = _pyplot()
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
