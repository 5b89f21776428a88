"""Figures of a sweep (needs the ``plot`` extra).

Each function takes the rows of :func:`mtcsnn.tuning.sweep.trial_rows` (or
the importances of :func:`mtcsnn.tuning.sweep.importances`), draws on the
axis it is given (a new figure's if none) and returns that axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mtcsnn.plotting import new_axes
from mtcsnn.tuning.space import RATIOS

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_objective(
    rows: Sequence[Mapping[str, Any]], *, ax: Axes | None = None
) -> Axes:
    """Validation NRMSE of every trial against its number, and the best so far.

    Complete trials are dots; pruned trials are crosses at their last
    reported validation NRMSE; failed trials are not drawn.
    """
    ax = new_axes(ax)
    done = [(r["number"], r["value"]) for r in rows if r["state"] == "COMPLETE"]
    pruned = [
        (r["number"], r["last_val_nrmse"])
        for r in rows
        if r["state"] == "PRUNED" and r["last_val_nrmse"] is not None
    ]
    if done:
        number, value = np.array(done, dtype=float).T
        ax.plot(number, value, "o", ms=4, color="tab:blue", label="complete")
        order = np.argsort(number)
        best = np.minimum.accumulate(value[order])
        # The best so far holds until the last trial, whatever its state.
        last = max(r["number"] for r in rows)
        ax.step(
            np.append(number[order], last),
            np.append(best, best[-1]),
            where="post",
            color="tab:red",
            lw=1.2,
            label="best so far",
        )
    if pruned:
        number, value = np.array(pruned, dtype=float).T
        ax.plot(number, value, "x", ms=5, color="grey", label="pruned (last value)")
    ax.set_xlabel("trial")
    ax.set_ylabel("validation NRMSE")
    if done or pruned:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_importances(
    importances: Mapping[str, float], *, ax: Axes | None = None
) -> Axes:
    """Horizontal bars of each parameter's importance (they sum to 1)."""
    ax = new_axes(ax)
    names = list(importances)[::-1]
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance for the validation NRMSE")
    ax.set_xlim(0, max(1e-9, max(importances.values())) * 1.1)
    return ax


def plot_timescales(
    rows: Sequence[Mapping[str, Any]], *, ax: Axes | None = None
) -> Axes:
    """Best validation NRMSE over ``tau_s/tau_m`` and ``tau_us/tau_s``.

    Every pair of ratios that complete trials used is one cell, coloured by
    the best validation NRMSE among them and labelled with it and the number
    of trials (``n``); pairs no complete trial used are blank.
    """
    ax = new_axes(ax)
    cells: dict[tuple[float, float], list[float]] = {}
    for r in rows:
        pair = (r.get(RATIOS[0]), r.get(RATIOS[1]))
        if r["state"] != "COMPLETE" or None in pair:
            continue
        cells.setdefault((float(pair[0]), float(pair[1])), []).append(r["value"])
    xs = sorted({round(x, 9) for x, _ in cells})
    ys = sorted({round(y, 9) for _, y in cells})
    grid = np.full((len(ys), len(xs)), np.nan)
    counts = np.zeros_like(grid, dtype=int)
    for (x, y), values in cells.items():
        i, j = ys.index(round(y, 9)), xs.index(round(x, 9))
        grid[i, j] = min(values)
        counts[i, j] = len(values)
    if cells:
        image = ax.imshow(grid, origin="lower", cmap="viridis_r", aspect="auto")
        ax.figure.colorbar(image, ax=ax, label="best validation NRMSE")
        low, high = np.nanmin(grid), np.nanmax(grid)
        middle = (low + high) / 2
        for i in range(len(ys)):
            for j in range(len(xs)):
                if not math.isnan(grid[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{grid[i, j]:.3f}\nn={counts[i, j]}",
                        ha="center",
                        va="center",
                        fontsize="x-small",
                        # Light cells (low values in viridis_r) get dark text.
                        color="black" if grid[i, j] <= middle else "white",
                    )
        ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
        ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel("tau_s / tau_m")
    ax.set_ylabel("tau_us / tau_s")
    return ax


__all__ = ["plot_importances", "plot_objective", "plot_timescales"]
