"""``mtcsnn iv``: the I-V curves of one MTC neuron and where they fall.

Writes into ``--out``:

* ``iv.csv``: columns ``v, fast, slow, ultraslow``, the steady-state current
  on each curve;
* ``negative_slope.json``: for each curve, the voltage intervals
  ``[v_low, v_high]`` where its slope is negative (the timescale is
  excitable there), exact to machine precision, with every parameter used;
* ``iv.png`` (if matplotlib is installed): the curves, falling stretches thick.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import torch

from mtcsnn.analysis import iv_curves, negative_slope_intervals
from mtcsnn.cli.common import (
    PRESET_NAMES,
    assignment,
    finite_float,
    preset_params,
    write_csv,
    write_json,
)

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "iv",
        help="I-V curves of one MTC neuron and their negative-slope intervals",
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
    parser.add_argument("--v-min", type=finite_float, default=-3.0)
    parser.add_argument("--v-max", type=finite_float, default=3.0)
    parser.add_argument(
        "--points", type=int, default=801, help="voltage grid points of iv.csv"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.v_max > args.v_min:
        raise ValueError(f"--v-max {args.v_max:g} must exceed --v-min {args.v_min:g}")
    if args.points < 2:
        raise ValueError(f"--points {args.points} is out of range: must be >= 2")
    params = preset_params(args.preset, dict(args.changes))
    v = torch.linspace(args.v_min, args.v_max, args.points, dtype=torch.float64)
    curves = iv_curves(params, v)
    falling = negative_slope_intervals(params)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        out / "iv.csv",
        {name: getattr(curves, name).numpy() for name in curves._fields},
    )
    write_json(
        out / "negative_slope.json",
        {
            **{
                name: [list(pair) for pair in getattr(falling, name)]
                for name in falling._fields
            },
            "preset": args.preset,
            "params": {
                f.name: float(getattr(params, f.name))
                for f in dataclasses.fields(params)
            },
        },
    )
    written = ["iv.csv", "negative_slope.json"]
    try:
        from mtcsnn import plotting

        _, ax = plotting._pyplot().subplots(figsize=(7, 4.5))
        plotting.plot_mtc_iv(params, v=v.numpy(), ax=ax)
        ax.set_title(f"I-V curves ({args.preset})", fontsize="medium")
        plotting.save(ax, str(out / "iv.png"))
        written.append("iv.png")
    except ImportError:
        log.warning("matplotlib is not installed: no plot written")

    for name in falling._fields:
        spans = getattr(falling, name)
        text = ", ".join(f"[{a:.6f}, {b:.6f}]" for a, b in spans) or "none"
        print(f"{name:>9} curve falls on: {text}")
    print("wrote " + ", ".join(str(out / name) for name in written))
    return 0
