"""``mtcsnn perf``: training speed of the plain and fused neuron layers.

Times forward plus backward of a layer (``Linear(1, N)`` and the neurons,
loss = mean output) for the plain PyTorch path and the fused kernels of each
neuron type, the low-memory mode of the fused MTC layer and snnTorch's
``Leaky`` in a Python loop, all in one run; prints seconds per iteration,
nanoseconds per neuron-step, peak memory and the ratios, and the
memory-bandwidth bound from a copy bandwidth it measures. A benchmark, not a
test: timings on a busy machine are noisy, ratios within a run much less so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mtcsnn.cli.common import DTYPES, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "perf",
        help="time the plain and fused neuron layers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch", type=positive_int, default=128, help="B")
    parser.add_argument("--neurons", type=positive_int, default=64, help="N")
    parser.add_argument("--steps", type=positive_int, default=2000, help="T")
    parser.add_argument(
        "--rounds", type=positive_int, default=5, help="timed iterations each"
    )
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the peak-memory measurement (a subprocess per configuration)",
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mtcsnn import perf

    report = perf.run(
        args.batch,
        args.neurons,
        args.steps,
        rounds=args.rounds,
        dtype=DTYPES[args.dtype],
        memory=not args.no_memory,
        progress=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(perf.table(report), end="")
    if args.json is not None:
        perf.write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


__all__ = ["add_parser", "run"]
