"""``mtcsnn neuron``: simulate one MTC neuron and save its traces and I-V curves.

Writes into ``--out``:

* ``trace.csv``: columns ``t, u_m, u_f, u_s, u_us, s``; the first row is the
  initial state at ``t = 0``, then one row per Euler step;
* ``spikes.json``: spike times (upward crossings of ``u_th``, linearly
  interpolated), their count and the simulation settings;
* ``iv.csv``: the fast, slow and ultra-slow I-V curves;
* ``params.json``: every neuron parameter used;
* ``traces.png`` and ``iv.png`` if matplotlib is installed.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import logging
from pathlib import Path

import numpy as np
import torch

from mtcsnn.analysis import PROTOCOLS, iv_curves, make_protocol, spike_times
from mtcsnn.cli.common import (
    DTYPES,
    PRESET_NAMES,
    assignment,
    atomic_write_text,
    finite_float,
    positive_float,
    preset_params,
    write_json,
)
from mtcsnn.neurons.mtc import MTC, transduction

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "neuron",
        help="simulate one MTC neuron under an input-current protocol",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", choices=PRESET_NAMES, default="reference")
    parser.add_argument(
        "--set",
        dest="changes",
        type=assignment,
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="change one parameter of the preset",
    )
    parser.add_argument(
        "--current",
        type=finite_float,
        required=True,
        help="input current R*I_in (the base level of the protocol)",
    )
    parser.add_argument("--protocol", choices=PROTOCOLS, default="constant")
    parser.add_argument(
        "--current-to",
        type=finite_float,
        help="second level: after the step, during the pulse, end of the ramp",
    )
    parser.add_argument(
        "--t-on", type=finite_float, default=0.0, help="onset of the step or pulse"
    )
    parser.add_argument("--width", type=positive_float, help="duration of the pulse")
    parser.add_argument("--t-end", type=positive_float, default=5000.0)
    parser.add_argument(
        "--dt", type=positive_float, help="Euler step (default: the preset's)"
    )
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    changes = dict(args.changes)
    if args.dt is not None:
        changes["dt"] = args.dt
    params = preset_params(args.preset, changes)
    dtype = DTYPES[args.dtype]
    i_in = make_protocol(
        args.protocol,
        current=args.current,
        current_to=args.current_to,
        t_on=args.t_on,
        width=args.width,
        t_end=args.t_end,
        dt=params.dt,
        dtype=dtype,
    )
    layer = MTC(1, params, dtype=dtype)
    with torch.no_grad():
        state = layer.initial_state(1, dtype=dtype)
        trace = layer.trace(i_in[:, None, None], state)
    columns = {
        name: np.concatenate(
            [getattr(state, name)[0].numpy(), getattr(trace, name)[:, 0, 0].numpy()]
        )
        for name in ("u_m", "u_f", "u_s", "u_us")
    }
    s0 = transduction(state.u_m, params.u_th, params.u_sat)[0].numpy()
    columns["s"] = np.concatenate([s0, trace.s[:, 0, 0].numpy()])
    t = np.arange(len(columns["s"])) * params.dt
    spikes = spike_times(t, columns["u_m"], float(params.u_th))
    log.info("simulated %d steps, %d spikes", len(t) - 1, len(spikes))

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([t, *columns.values()])
    buffer = io.StringIO()
    np.savetxt(
        buffer,
        table,
        delimiter=",",
        fmt="%.10g",
        header="t,u_m,u_f,u_s,u_us,s",
        comments="",
    )
    atomic_write_text(out / "trace.csv", buffer.getvalue())
    write_json(
        out / "spikes.json",
        {
            "spike_times": spikes.tolist(),
            "n_spikes": len(spikes),
            "u_th": float(params.u_th),
            "preset": args.preset,
            "protocol": args.protocol,
            "current": args.current,
            "current_to": args.current_to,
            "t_end": float(t[-1]),
            "dt": params.dt,
        },
    )
    write_json(
        out / "params.json",
        {f.name: float(getattr(params, f.name)) for f in dataclasses.fields(params)},
    )
    curves = iv_curves(params)
    buffer = io.StringIO()
    np.savetxt(
        buffer,
        np.column_stack([c.numpy() for c in curves]),
        delimiter=",",
        fmt="%.10g",
        header="v,fast,slow,ultraslow",
        comments="",
    )
    atomic_write_text(out / "iv.csv", buffer.getvalue())
    written = ["trace.csv", "spikes.json", "params.json", "iv.csv"]
    written += _plots(out, t, columns, curves, params)
    print(
        f"{len(spikes)} spikes in t = (0, {t[-1]:g}]; wrote "
        + ", ".join(str(out / name) for name in written)
    )
    return 0


def _plots(out, t, columns, curves, params) -> list[str]:
    try:
        from mtcsnn import plotting
    except ImportError:  # pragma: no cover
        return []
    try:
        plt = plotting._pyplot()
    except ImportError:
        log.warning("matplotlib is not installed: no plots written")
        return []
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    plotting.plot_voltages(
        t,
        {k: columns[k] for k in ("u_m", "u_s", "u_us")},
        u_th=float(params.u_th),
        ax=top,
    )
    bottom.plot(t, columns["s"], lw=0.8, color="k")
    bottom.set_ylabel("s")
    bottom.set_xlabel("time")
    top.set_xlabel("")
    plotting.save(fig, str(out / "traces.png"))
    ax = plotting.plot_mtc_iv(params, v=curves.v.numpy())
    plotting.save(ax, str(out / "iv.png"))
    return ["traces.png", "iv.png"]
