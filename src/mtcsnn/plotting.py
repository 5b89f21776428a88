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
