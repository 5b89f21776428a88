"""Plots of neuron traces and I-V curves (needs the ``plot`` extra).

Every function draws on the matplotlib axis it is given (a new figure's axis
if none) and returns that axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from mtcsnn.analysis.iv import iv_curves, negative_slope_intervals
from mtcsnn.analysis.regimes import REGIMES, Regime, RegimeMap, StepResponse
from mtcsnn.neurons.mtc import MTCParams

if TYPE_CHECKING:
    from matplotlib.axes import Axes

REGIME_COLOURS = {
    "silent": "#bdbdbd",
    "tonic": "#1f77b4",
    "phasic": "#ff7f0e",
    "bursting": "#d62728",
    "adapting": "#2ca02c",
    "blocked": "#6a3d9a",
}
"""A fixed colour per regime label, shared by every regime plot."""

INPUT_COLOUR = "tab:purple"
"""Colour of the input current in step-response and I-V plots."""


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
    curves: Mapping[str, np.ndarray],
    *,
    negative_slope: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot I-V curves ``{label: [V]}`` on voltage grid ``v`` ``[V]``.

    ``negative_slope`` maps a curve's label to its falling intervals
    ``(v_low, v_high)`` (as from
    :func:`~mtcsnn.analysis.iv.negative_slope_intervals`); those stretches,
    where that timescale is excitable, are drawn thick, with their exact ends
    interpolated on the curve.
    """
    ax = new_axes(ax)
    negative_slope = negative_slope or {}
    for label, current in curves.items():
        (line,) = ax.plot(v, current, label=label, lw=1.2)
        for low, high in negative_slope.get(label, ()):
            inside = v[(v > low) & (v < high)]
            v_seg = np.concatenate([[low], inside, [high]])
            ax.plot(v_seg, np.interp(v_seg, v, current), color=line.get_color(), lw=4)
    if any(negative_slope.values()):
        ax.plot([], [], color="k", lw=4, label="negative slope")
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xlabel("v (membrane voltage)")
    ax.set_ylabel("steady-state I_in")
    ax.legend(fontsize="small")
    return ax


def plot_mtc_iv(
    p: MTCParams,
    *,
    v: np.ndarray | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The fast, slow and ultra-slow I-V curves of one MTC neuron.

    Falling stretches (thick) come from the exact intervals of
    :func:`~mtcsnn.analysis.iv.negative_slope_intervals`. ``v`` defaults to
    801 points on ``[-3, 3]``.
    """
    grid = None if v is None else torch.as_tensor(np.asarray(v, dtype=np.float64))
    curves = iv_curves(p, grid)
    falling = negative_slope_intervals(p)
    labels = {"fast": "fast", "slow": "slow", "ultraslow": "ultra-slow"}
    return plot_iv(
        curves.v.numpy(),
        {labels[k]: getattr(curves, k).numpy() for k in labels},
        negative_slope={labels[k]: getattr(falling, k) for k in labels},
        ax=ax,
    )


def plot_step_response(
    response: StepResponse,
    *,
    batch: int = 0,
    neuron: int = 0,
    u_th: float | None = 0.0,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Membrane voltage under a current step, the input on a second y axis.

    ``response`` is a :func:`~mtcsnn.analysis.regimes.simulate_step` result;
    ``batch`` and ``neuron`` pick one of its traces. The voltage axis spans at
    least ``[-3.5, 4.5]``, so that a silent trace looks as flat as it is
    next to spiking ones, and the input axis at least ``[-3.5, 2]``;
    ``u_th`` (dotted) marks the spike threshold.
    """
    ax = new_axes(ax)
    u_m = response.u_m[:, batch, neuron]
    ax.plot(response.t, u_m, color="k", lw=0.8)
    if u_th is not None:
        ax.axhline(u_th, color="grey", lw=0.5, ls=":")
    ax.set_ylim(min(-3.5, u_m.min() - 0.3), max(4.5, u_m.max() + 0.3))
    ax.set_xlabel("time")
    ax.set_ylabel("u_m")
    right = ax.twinx()
    t_in = response.t[:-1]
    i_in = response.i_in[:, batch]
    right.step(t_in, i_in, where="post", color=INPUT_COLOUR, lw=1)
    right.set_ylim(min(-3.5, i_in.min() - 0.3), max(2.0, i_in.max() + 0.3))
    right.set_ylabel("I_in", color=INPUT_COLOUR)
    right.tick_params(axis="y", colors=INPUT_COLOUR)
    if title:
        ax.set_title(title, fontsize="medium", loc="left")
    return ax


def plot_regime_map(
    regime_map: RegimeMap,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Colour a :class:`~mtcsnn.analysis.regimes.RegimeMap` by regime.

    Step current on x, the swept parameter on y, one cell per simulated
    neuron.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ax = new_axes(ax)
    colours = ListedColormap([REGIME_COLOURS[name] for name in REGIMES])
    ax.pcolormesh(
        _cell_edges(regime_map.currents),
        _cell_edges(regime_map.values),
        regime_map.codes(),
        cmap=colours,
        vmin=-0.5,
        vmax=len(REGIMES) - 0.5,
        edgecolors="white",
        linewidth=0.3,
    )
    present = [name for name in REGIMES if (regime_map.labels == name).any()]
    ax.legend(
        handles=[Patch(color=REGIME_COLOURS[name], label=name) for name in present],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    ax.set_xlabel("step current R I_in")
    ax.set_ylabel(regime_map.parameter)
    hold = regime_map.protocol.hold
    ax.set_title(f"regime after a step from I = {hold:g}", fontsize="medium")
    return ax


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Cell boundaries around sorted centres ``[K]``, ``[K + 1]``."""
    c = np.asarray(centres, dtype=np.float64)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def plot_regime_gallery(
    runs: Mapping[str, tuple[MTCParams, StepResponse, Regime]],
    *,
    axes: np.ndarray | None = None,
) -> np.ndarray:
    """One row per run: the step response and the neuron's I-V curves.

    Parameters
    ----------
    runs
        ``{name: (params, response, regime)}``, e.g. from
        :meth:`~mtcsnn.analysis.regimes.RegimePreset.run`.
    axes
        A ``[len(runs), 2]`` array of axes; a new figure's if ``None``.

    Returns
    -------
    numpy.ndarray
        The axes, ``[len(runs), 2]``. Each row's title gives the name and the
        classifier's label; the I-V panel draws the holding (grey, dotted) and
        step (dashed) currents: equilibria are where they cross the
        ultra-slow curve.
    """
    if axes is None:
        _, axes = _pyplot().subplots(
            len(runs),
            2,
            figsize=(12, 2.4 * len(runs)),
            gridspec_kw={"width_ratios": [3, 1]},
            squeeze=False,
        )
    for row, (name, (params, response, regime)) in zip(axes, runs.items(), strict=True):
        f = regime.features
        spikes = "1 spike" if f.n_spikes == 1 else f"{f.n_spikes} spikes"
        title = f"{name}: classified {regime.label} ({spikes}"
        if f.n_spikes >= 2:
            title += f", mean ISI {f.isi_mean:.0f}"
        title += ")"
        plot_step_response(response, u_th=float(params.u_th), title=title, ax=row[0])
        plot_mtc_iv(params, ax=row[1])
        hold, step = response.i_in[0, 0], response.i_in[-1, 0]
        row[1].axhline(hold, color="grey", ls=":", lw=1)
        row[1].axhline(step, color=INPUT_COLOUR, ls="--", lw=1)
        row[1].set_ylim(-4.5, 4.5)
        row[1].legend(fontsize="x-small", loc="upper left")
    return axes


def save(ax_or_fig: Any, path: str) -> None:
    """Save the figure of an axis (or a figure) as ``path`` and close it."""
    plt = _pyplot()
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_forecasts(
    forecasts: dict[str, tuple[Any, Any]], *, warmup: int = 0, ax: Axes | None = None
) -> Axes:
    """Forecast against target per model: ``{name: (y_hat, y)}``, each ``[T, ...]``.

    The target is drawn once (from the first model); time counts from the end
    of the warm-up.
    """
    ax = new_axes(ax)
    ax.figure.set_size_inches(10, 3.5)
    first = True
    for name, (y_hat, y) in forecasts.items():
        y_hat = np.asarray(y_hat).reshape(-1)
        if first:
            ax.plot(np.asarray(y).reshape(-1), color="k", lw=1.5, label="target")
            first = False
        ax.plot(y_hat, lw=1.0, label=name)
    ax.set_xlabel(f"test step (after a warm-up of {warmup})")
    ax.set_ylabel("x(t + d), normalised")
    ax.legend(fontsize="small", ncol=len(forecasts) + 1)
    return ax


def plot_training(histories: dict[str, list[Any]], *, ax: Axes | None = None) -> Axes:
    """Training loss (lines) and validation NRMSE (dots) per epoch, per model."""
    ax = new_axes(ax)
    for name, history in histories.items():
        epochs = [r.epoch for r in history]
        (line,) = ax.plot(
            epochs, [r.loss for r in history], lw=0.8, label=f"{name} loss"
        )
        val = [(r.epoch, r.val_nrmse) for r in history if r.val_nrmse == r.val_nrmse]
        if val:
            ax.plot(
                *zip(*val, strict=True),
                "o",
                color=line.get_color(),
                label=f"{name} val. NRMSE",
            )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.legend(fontsize="small")
    return ax


def plot_sparsity(
    summary: dict[str, dict[str, Any]], *, ax: Axes | None = None
) -> Axes:
    """Bars of activation sparsity and effective synaptic operations per model."""
    ax = new_axes(ax)
    names = list(summary)
    pos = np.arange(len(names))
    sparsity = [summary[n]["activation_sparsity"]["mean"] for n in names]
    err = [summary[n]["activation_sparsity"]["std"] for n in names]
    ax.bar(pos - 0.2, sparsity, 0.4, yerr=err, label="activation sparsity")
    ax.set_ylabel("activation sparsity")
    ax.set_ylim(0, 1)
    twin = ax.twinx()
    ops = [summary[n]["synops_effective"]["mean"] for n in names]
    twin.bar(pos + 0.2, ops, 0.4, color="tab:orange", label="effective SynOps/step")
    twin.set_ylabel("effective synaptic ops per step")
    ax.set_xticks(pos, names)
    ax.legend(loc="upper left", fontsize="small")
    twin.legend(loc="upper right", fontsize="small")
    return ax


def plot_activity(traces: dict[str, Any], *, n_neurons: int = 8) -> Any:
    """Raster of the hidden outputs and the first neurons' voltages per model.

    ``traces`` maps a model name to its hidden layer's trace (a NamedTuple
    with ``s`` and a membrane field ``u_m`` or ``u``, each ``[T, 1, N]``).
    Returns the figure.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(
        2, len(traces), figsize=(4 * len(traces), 5), squeeze=False
    )
    for k, (name, trace) in enumerate(traces.items()):
        s = np.asarray(trace.s[:, 0, :])
        axes[0, k].imshow(
            s.T, aspect="auto", interpolation="nearest", cmap="Greys", vmin=0, vmax=1
        )
        axes[0, k].set_title(f"{name}: output s")
        axes[0, k].set_ylabel("neuron")
        voltage = getattr(trace, "u_m", None)
        if voltage is None:
            voltage = trace[1]
        v = np.asarray(voltage[:, 0, :n_neurons])
        axes[1, k].plot(v, lw=0.7)
        axes[1, k].set_xlabel("step")
        axes[1, k].set_ylabel("membrane voltage")
    return fig
