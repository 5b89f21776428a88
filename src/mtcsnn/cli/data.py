"""``mtcsnn data mackey-glass``: write a Mackey-Glass series as ``.npy``."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from mtcsnn.cli.common import positive_float, positive_int
from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass_cached


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("data", help="generate data sets")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    mg = kinds.add_parser(
        "mackey-glass",
        help="sample the Mackey-Glass series",
        description="Write x(0), x(step), ..., N values of the Mackey-Glass "
        "series as a float64 .npy file; the first value is the history x0.",
    )
    mg.add_argument("--tau", type=positive_float, default=17.0, help="delay")
    mg.add_argument(
        "--x0", type=positive_float, default=1.2, help="constant history on [-tau, 0]"
    )
    mg.add_argument(
        "--step",
        type=positive_float,
        default=1.0,
        help="sampling interval (time units)",
    )
    mg.add_argument("--beta", type=positive_float, default=0.2)
    mg.add_argument("--gamma", type=positive_float, default=0.1)
    mg.add_argument(
        "--exponent",
        type=positive_float,
        default=10.0,
        help="the exponent n of the equation",
    )
    mg.add_argument("--n", type=positive_int, required=True, help="number of samples")
    mg.add_argument("--out", type=Path, required=True, help="output .npy file")
    mg.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    params = MackeyGlass(
        beta=args.beta,
        gamma=args.gamma,
        n=args.exponent,
        tau=args.tau,
        x0=args.x0,
        step=args.step,
    )
    series = mackey_glass_cached(args.n, params)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".npy")
    with os.fdopen(fd, "wb") as handle:
        np.save(handle, series, allow_pickle=False)
    os.replace(tmp, out)
    print(f"wrote {args.n} samples (step {args.step:g}) to {out}")
    return 0
