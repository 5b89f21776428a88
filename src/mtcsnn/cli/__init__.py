"""The ``mtcsnn`` command line.

Each sub-command lives in its own module with ``add_parser(subparsers)``; the
library itself never prints, the commands here decide what the user sees.
Errors in the user's input (flags, configuration files, files to load) end
the command with a one-line message and exit status 2, never a traceback. A
training run that stops early ends with a one-line message too: status 1
when its loss or gradients stayed non-finite, 130 when it was interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from mtcsnn import __version__
from mtcsnn.cli import (
    bench,
    data,
    iv,
    neurobench,
    neuron,
    perf,
    regimes,
    sweep,
    train,
    train_ddp,
)
from mtcsnn.training.loop import Interrupted, TrainingStopped

COMMANDS = (
    neuron,
    iv,
    regimes,
    data,
    bench,
    train,
    train_ddp,
    sweep,
    neurobench,
    perf,
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), status 2.

    Sub-command parsers inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
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
        print(f"mtcsnn {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except TrainingStopped as err:
        print(f"mtcsnn {args.command}: {_one_line(err)}", file=sys.stderr)
        return 130 if isinstance(err, Interrupted) else 1
    except KeyboardInterrupt:
        print(f"mtcsnn {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
