"""``mtcsnn bench``: train MTC, LIF and SE-AdLIF forecasters and compare them.

Writes into ``--out``: ``results.json`` (per model and seed, every metric),
``results.md`` (mean and standard deviation per model), one folder per model
and seed (``epochs.csv``, ``model.pt``) and the figures ``forecasts.png``,
``activity.png``, ``sparsity.png``, ``training.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from tqdm import tqdm

from mtcsnn.benchmark import PRESETS, load_config, run_benchmark


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        help="the Mackey-Glass forecasting benchmark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    source.add_argument("--config", type=Path, help="a JSON benchmark config")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..K-1")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--models", nargs="+", help="subset of models to train")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else PRESETS[args.preset]
    if args.epochs is not None:
        config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, epochs=args.epochs)
        )
    if args.models:
        config = dataclasses.replace(config, models=tuple(args.models))
    total = config.train.epochs * len(config.models) * args.seeds
    with tqdm(total=total, unit="epoch", dynamic_ncols=True) as bar:

        def progress(name, seed, record):
            bar.set_description(f"{name} seed {seed}")
            bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
            bar.update(1)

        result = run_benchmark(config, args.out, args.seeds, callback=progress)
    from mtcsnn.benchmark import markdown_table

    print(markdown_table(result["summary"]), end="")
    print(f"wrote {args.out / 'results.json'}, {args.out / 'results.md'} and figures")
    return 0
