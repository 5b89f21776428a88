"""``mtcsnn sweep``: tune a benchmark model's neurons and training on Optuna.

Each trial trains the model of ``--config`` (a JSON sweep file: the benchmark,
a grid over the MTC timescale ratios tau_s/tau_m and tau_us/tau_s, and TPE
ranges for gains, offsets, learning rate, input bias window, ...) and scores
it by its validation NRMSE; hopeless trials are pruned. ``--trials`` is the
study's budget over all workers. The study is kept in ``OUT/study.db``
(SQLite, no server) unless ``--storage`` names a database that workers on
several machines share, e.g. ``postgresql://USER:PASSWORD@HOST/DB``; run the
same command on every machine to add its workers. A worker that dies loses
only the trial it was running, which another worker runs again.

Writes into ``--out``: ``trials.csv`` (every trial), ``best.json`` (the best
trial as a config for ``mtcsnn bench --config``), ``summary.json`` and the
figures ``objective.png``, ``importances.png`` and ``timescales.png``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from mtcsnn.tuning.space import load_sweep_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sweep",
        help="tune neuron parameters and training settings (Optuna)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True, help="a JSON sweep file")
    parser.add_argument(
        "--trials", type=int, required=True, help="trials in the study, all workers"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--storage", help="database URL shared by workers (default: OUT/study.db)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes on this machine"
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=10,
        help="seconds between a trial's heartbeats; three missed mark it failed",
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="skip the figures (faster)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_sweep_config(args.config)
    for name in ("trials", "workers", "heartbeat"):
        low = 0 if name == "trials" else 1
        if getattr(args, name) < low:
            raise ValueError(f"--{name} = {getattr(args, name)} must be >= {low}")
    try:
        import optuna

        from mtcsnn.tuning.sweep import run_sweep
    except ImportError as err:
        raise ValueError(
            f"mtcsnn sweep needs {err.name}: pip install 'mtcsnn[sweep]'"
        ) from None
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    if not logging.getLogger("mtcsnn").isEnabledFor(logging.INFO):
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tqdm(unit="trial", dynamic_ncols=True) as bar:

        def progress(done: int, budget: int) -> None:
            bar.total = budget
            bar.n = done
            bar.refresh()

        try:
            summary = run_sweep(
                config,
                args.out,
                args.trials,
                storage=args.storage,
                workers=args.workers,
                heartbeat=args.heartbeat,
                progress=progress,
                figures=not args.no_figures,
            )
        except KeyboardInterrupt:
            bar.close()
            print(
                "interrupted: the running trials are queued again; the same "
                "command goes on with the study",
                file=sys.stderr,
            )
            return 130
    states = summary["states"]
    print(
        f"study {summary['study']}: {summary['finished']} of {summary['budget']} "
        f"trials finished ({states['COMPLETE']} complete, {states['PRUNED']} "
        f"pruned, {states['FAIL']} failed)"
    )
    best = summary["best"]
    if best is None:
        print("no trial completed: no best.json written")
    else:
        values = ", ".join(f"{k}={v:.4g}" for k, v in best["params"].items())
        print(
            f"best: trial {best['number']}, validation NRMSE {best['value']:.4f} "
            f"({values})"
        )
        print(f"wrote {args.out / 'best.json'} (for mtcsnn bench --config)")
    print(f"wrote {args.out / 'trials.csv'} and {args.out / 'summary.json'}")
    return 0
