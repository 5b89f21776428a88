"""``mtcsnn bench``: train MTC, LIF and SE-AdLIF forecasters and compare them.

Writes into ``--out``: ``bench.json`` (the configuration and seeds, first),
``results.json`` (per model and seed, every metric), ``results.md`` (mean
and standard deviation per model), one folder per model and seed
(``run.json``, ``epochs.csv``, ``checkpoint.pt``, ``model.pt``,
``result.json``; see ``mtcsnn train --help``) and the figures
``forecasts.png``, ``activity.png``, ``sparsity.png``, ``training.png``.

``mtcsnn bench --resume DIR`` continues the benchmark in ``DIR``: finished
runs are not trained again, the unfinished one goes on from its last
checkpoint, and the results equal those of an uninterrupted benchmark.
Ctrl-C or SIGTERM stops after the current epoch with a checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from tqdm import tqdm

from mtcsnn.benchmark import (
    PRESETS,
    bench_finished,
    load_bench,
    load_config,
    markdown_table,
    run_benchmark,
    run_folder,
)
from mtcsnn.cli.common import bounded_int, stop_on_signal
from mtcsnn.neurons import NEURONS
from mtcsnn.training.loop import MAX_SEED, Interrupted, load_checkpoint

SETTINGS = ("preset", "config", "seeds", "epochs", "models")
"""Flags that define a new benchmark; ``--resume`` takes them from ``bench.json``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        help="the Mackey-Glass forecasting benchmark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="output folder of a new benchmark")
    target.add_argument(
        "--resume", type=Path, metavar="DIR", help="continue the benchmark in DIR"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", choices=sorted(PRESETS), help="benchmark preset (default quick)"
    )
    source.add_argument("--config", type=Path, help="a JSON benchmark config")
    parser.add_argument(
        "--seeds", type=bounded_int(1, MAX_SEED + 1), help="seeds 0..K-1 (default 1)"
    )
    parser.add_argument(
        "--epochs", type=bounded_int(1), help="override the preset's epochs"
    )
    parser.add_argument(
        "--models", nargs="+", choices=list(NEURONS), help="subset of models to train"
    )
    parser.add_argument(
        "--checkpoint-every",
        type=bounded_int(1),
        metavar="K",
        help="epochs between checkpoints (default 10, or the benchmark's on --resume)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        given = [f"--{name}" for name in SETTINGS if getattr(args, name) is not None]
        if given:
            raise ValueError(
                "--resume takes the benchmark's settings from "
                f"{args.resume / 'bench.json'}; drop {', '.join(given)}"
            )
        if not (args.resume / "bench.json").is_file():
            raise ValueError(
                f"{args.resume} holds no benchmark to resume (no bench.json)"
            )
        spec = load_bench(args.resume)
        config, seeds, out = spec.config, spec.seeds, args.resume
        every = args.checkpoint_every or spec.checkpoint_every
    else:
        out = args.out
        if (out / "bench.json").exists() and not bench_finished(out):
            raise ValueError(
                f"{out} holds an unfinished benchmark; continue it with --resume "
                f"{out}, or remove the folder to start over"
            )
        config = (
            load_config(args.config) if args.config else PRESETS[args.preset or "quick"]
        )
        if args.epochs is not None:
            config = dataclasses.replace(
                config, train=dataclasses.replace(config.train, epochs=args.epochs)
            )
        if args.models:
            config = dataclasses.replace(config, models=tuple(args.models))
        seeds = args.seeds or 1
        every = args.checkpoint_every or 10
    # Read every checkpoint first: a refused file ends here, before any work.
    done: dict[tuple[str, int], int] = {}
    if args.resume is not None:
        for seed in range(seeds):
            for name in config.models:
                ckpt = run_folder(out, name, seed) / "checkpoint.pt"
                if ckpt.exists():
                    done[name, seed] = load_checkpoint(ckpt)["epoch"]
    total = config.train.epochs * len(config.models) * seeds
    with (
        tqdm(
            total=total, initial=sum(done.values()), unit="epoch", dynamic_ncols=True
        ) as bar,
        stop_on_signal() as stop,
    ):

        def progress(name, seed, record):
            bar.set_description(f"{name} seed {seed}")
            bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
            before = sum(done.values())
            done[name, seed] = record.epoch
            bar.update(sum(done.values()) - before)

        try:
            result = run_benchmark(
                config,
                out,
                seeds,
                callback=progress,
                resume=args.resume is not None,
                checkpoint_every=every,
                stop=stop,
            )
        except Interrupted as err:
            raise Interrupted(
                f"{err}; continue with: mtcsnn bench --resume {out}",
                err.epoch,
                err.checkpoint_epoch,
            ) from None
        bar.update(bar.total - bar.n)
    print(markdown_table(result["summary"]), end="")
    print(f"wrote {out / 'results.json'}, {out / 'results.md'} and figures")
    return 0
