"""``mtcsnn train``: train and test one model of the benchmark with one seed.

Writes into ``--out`` (the run folder):

* ``run.json``: model, seed and benchmark configuration, written first;
* ``epochs.csv``: one row per epoch (``epoch, loss, lr, grad_norm, seconds,
  val_nrmse, skipped``);
* ``checkpoint.pt``: the whole training state, every ``--checkpoint-every``
  epochs and at the end;
* ``model.pt``: the trained weights and configuration;
* ``result.json``: test metrics, parameter counts, training time, epochs and
  skipped steps, written last.

``mtcsnn train --resume DIR`` continues the run in ``DIR`` from its last
checkpoint (settings from ``DIR/run.json``); it ends with exactly the
weights and scores an uninterrupted run would have. Ctrl-C or SIGTERM stops
after the current epoch with a checkpoint (a second one stops at once).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from tqdm import tqdm

from mtcsnn.benchmark import (
    PRESETS,
    load_config,
    load_run,
    run_finished,
    train_and_test,
)
from mtcsnn.cli.common import bounded_int, stop_on_signal
from mtcsnn.data.forecast import make_forecast_task
from mtcsnn.neurons import NEURONS
from mtcsnn.training.loop import MAX_SEED, Interrupted, load_checkpoint

SETTINGS = ("model", "preset", "config", "seed", "epochs")
"""Flags that define a new run; ``--resume`` takes them from ``run.json``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train and test one model of the benchmark, resumable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="run folder of a new run")
    target.add_argument(
        "--resume", type=Path, metavar="DIR", help="continue the run in DIR"
    )
    parser.add_argument("--model", choices=list(NEURONS), help="neuron type")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", choices=sorted(PRESETS), help="benchmark preset (default quick)"
    )
    source.add_argument("--config", type=Path, help="a JSON benchmark config")
    parser.add_argument(
        "--seed", type=bounded_int(0, MAX_SEED), help="seed of the run (default 0)"
    )
    parser.add_argument(
        "--epochs", type=bounded_int(1), help="override the preset's epochs"
    )
    parser.add_argument(
        "--checkpoint-every",
        type=bounded_int(1),
        metavar="K",
        help="epochs between checkpoints (default 10, or the run's on --resume)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        given = [f"--{name}" for name in SETTINGS if getattr(args, name) is not None]
        if given:
            raise ValueError(
                f"--resume takes the run's settings from {args.resume / 'run.json'}; "
                f"drop {', '.join(given)}"
            )
        if not (args.resume / "run.json").is_file():
            raise ValueError(f"{args.resume} holds no run to resume (no run.json)")
        spec = load_run(args.resume)
        name, seed, config = spec.model, spec.seed, spec.bench
        every = args.checkpoint_every or spec.checkpoint_every
        run_dir = args.resume
    else:
        if args.model is None:
            raise ValueError("--model is required for a new run")
        run_dir = args.out
        if (run_dir / "run.json").exists() and not run_finished(run_dir):
            raise ValueError(
                f"{run_dir} holds an unfinished run; continue it with --resume "
                f"{run_dir}, or remove the folder to start over"
            )
        config = (
            load_config(args.config) if args.config else PRESETS[args.preset or "quick"]
        )
        if args.epochs is not None:
            config = dataclasses.replace(
                config, train=dataclasses.replace(config.train, epochs=args.epochs)
            )
        name = args.model
        seed = 0 if args.seed is None else args.seed
        config = dataclasses.replace(config, models=(name,))
        every = args.checkpoint_every or 10

    # Read the checkpoint first: a refused file ends here, before any work.
    ckpt = run_dir / "checkpoint.pt"
    done = load_checkpoint(ckpt)["epoch"] if args.resume and ckpt.exists() else 0
    splits = make_forecast_task(config.task)
    with (
        tqdm(
            total=config.train.epochs, initial=done, unit="epoch", dynamic_ncols=True
        ) as bar,
        stop_on_signal() as stop,
    ):
        bar.set_description(f"{name} seed {seed}")

        def progress(record):
            bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
            bar.update(record.epoch - bar.n)

        try:
            record, _ = train_and_test(
                name,
                seed,
                config,
                splits,
                run_dir,
                callback=progress,
                resume=args.resume is not None,
                checkpoint_every=every,
                stop=stop,
            )
        except Interrupted as err:
            raise Interrupted(
                f"{err}; continue with: mtcsnn train --resume {run_dir}",
                err.epoch,
                err.checkpoint_epoch,
            ) from None
        bar.update(bar.total - bar.n)
    print(
        f"{name} seed {seed}: test NRMSE {record['nrmse']:.4f}, MSE "
        f"{record['mse']:.4f}, activation sparsity "
        f"{record['activation_sparsity']:.3f}; {record['epochs']} epochs, "
        f"{record['skipped_steps']} skipped steps"
    )
    print(
        "wrote "
        + ", ".join(
            str(run_dir / f)
            for f in ("result.json", "model.pt", "epochs.csv", "checkpoint.pt")
        )
    )
    return 0
