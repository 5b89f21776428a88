"""``mtcsnn neurobench``: score a network with NeuroBench's Mackey-Glass task.

Trains the network one step ahead on each repeat's 750 training points,
primes it on them, then lets NeuroBench run it autonomously over the 750 test
points (the network's prediction is its next input) and compute sMAPE,
activation sparsity, synaptic operations, footprint and connection sparsity.
Writes into ``--out``: ``results.json`` (per repeat, NeuroBench's results and
this library's metrics; their mean and standard deviation), ``results.md``
(beside the published LSTM and ESN sMAPE), the series ``mg_17.npy`` and the
trained network. Needs the extra: ``pip install 'mtcsnn[neurobench]'``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from tqdm import tqdm

from mtcsnn.neurons import NEURONS


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "neurobench",
        help="NeuroBench's Mackey-Glass task (Protocol B)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=sorted(NEURONS), required=True)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--preset", choices=("default", "smoke"), default="default")
    parser.add_argument("--epochs", type=int, help="override the training steps")
    parser.add_argument("--repeats", type=int, help="repeats, 1..30 (default 30)")
    parser.add_argument("--n-hidden", type=int, help="hidden neurons")
    parser.add_argument("--seed", type=int, help="seed (default 0)")
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train a fresh network per repeat (default: once, on the first)",
    )
    parser.add_argument(
        "--series",
        type=Path,
        help="a Mackey-Glass .npy to use instead of the regenerated series",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from mtcsnn.ecosystem import neurobench as nb

        nb.require_neurobench()
    except ImportError as err:
        print(f"mtcsnn neurobench: error: {err}", file=sys.stderr)
        return 2
    config = nb.PRESETS[args.preset]
    changes = {}
    if args.repeats is not None:
        changes["repeats"] = args.repeats
    if args.n_hidden is not None:
        if args.n_hidden < 1:
            raise ValueError(f"--n-hidden {args.n_hidden} is out of range: must be > 0")
        changes["n_hidden"] = args.n_hidden
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.retrain:
        changes["retrain"] = True
    if args.epochs is not None:
        changes["train"] = dataclasses.replace(config.train, epochs=args.epochs)
    config = dataclasses.replace(config, **changes)
    if args.series is not None and not args.series.is_file():
        raise ValueError(f"--series {args.series}: no such file")
    trainings = config.repeats if config.retrain else 1
    with tqdm(
        total=config.train.epochs * trainings, unit="epoch", dynamic_ncols=True
    ) as bar:

        def progress(repeat, record):
            bar.set_description(f"{args.model} training (repeat {repeat})")
            bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
            bar.update(1)

        def scored(repeat, row):
            bar.set_description(f"{args.model} repeat {repeat} scored")
            bar.set_postfix(smape=f"{row['neurobench']['SMAPE']:.2f}")

        report = nb.run_protocol_b(
            args.model,
            args.out,
            config,
            series=args.series,
            callback=progress,
            repeat_callback=scored,
        )
    print(nb.markdown_table([report]), end="")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'}")
    return 0
