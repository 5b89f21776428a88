"""The ``mtcsnn`` command line.

Each sub-command lives in its own module with ``add_parser(subparsers)``; the
library itself never prints, the commands here decide what the user sees.
Errors in the user's input end the command with a one-line message and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from mtcsnn import __version__
from mtcsnn.cli import bench, data, iv, neuron, regimes, sweep, train_ddp

COMMANDS = (neuron, iv, regimes, data, bench, sweep, train_ddp)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtcsnn",
        description="Multi-Timescale Conductance spiking neural networks.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the library's log"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args) or 0)
    except (ValueError, OSError) as err:
        print(f"mtcsnn {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
