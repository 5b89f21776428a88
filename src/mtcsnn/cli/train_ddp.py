"""``mtcsnn train-ddp``: train one benchmark model data-parallel under torchrun.

Start it with ``torchrun``, one process per CPU share or GPU::

    torchrun --standalone --nproc-per-node 2 -m mtcsnn train-ddp --preset quick \\
        --model mtc --out runs/ddp

Every process draws the same batch and trains on its share; gradients are
averaged over the processes (gloo on CPUs, NCCL on GPUs), so the result is the
one a single process would get on the whole batch. Started without torchrun
it trains in one process. Rank 0 writes into ``--out``: ``epochs.csv`` (the
whole batch's loss per epoch), ``model.pt`` and ``scores.json`` (validation
and test metrics, number of processes, training time).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch.distributed as dist
from tqdm import tqdm

from mtcsnn.benchmark import METRICS, PRESETS, build_model, load_config
from mtcsnn.data.forecast import make_forecast_task
from mtcsnn.io import write_json
from mtcsnn.neurons import NEURONS
from mtcsnn.training.distributed import init_distributed, train_distributed
from mtcsnn.training.loop import evaluate, save_model, seed_everything


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train-ddp",
        help="train one model data-parallel (start it with torchrun)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    source.add_argument("--config", type=Path, help="a JSON benchmark config")
    parser.add_argument("--model", choices=sorted(NEURONS), default="mtc")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument(
        "--backend", choices=("gloo", "nccl"), help="default: nccl with CUDA, else gloo"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else PRESETS[args.preset]
    if args.epochs is not None:
        config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, epochs=args.epochs)
        )
    train_config = dataclasses.replace(config.train, seed=args.seed)
    context = init_distributed(args.backend)
    try:
        splits = make_forecast_task(config.task)
        seed_everything(args.seed)
        model = build_model(args.model, config).to(context.device)
        with tqdm(
            total=train_config.epochs,
            unit="epoch",
            dynamic_ncols=True,
            disable=not context.is_main,
        ) as bar:

            def progress(record):
                bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
                bar.update(1)

            result = train_distributed(
                model,
                splits,
                train_config,
                context,
                log_csv=args.out / "epochs.csv",
                callback=progress,
            )
        if context.is_main:
            scores = {
                split: {k: evaluate(model, splits, split)[k] for k in METRICS}
                for split in ("validation", "test")
            }
            save_model(
                args.out / "model.pt",
                model,
                {"model": args.model, "seed": args.seed, "bench": config.to_dict()},
            )
            write_json(
                args.out / "scores.json",
                {
                    "model": args.model,
                    "seed": args.seed,
                    "processes": context.world_size,
                    "backend": context.backend,
                    "train_seconds": result.seconds,
                    "epochs": len(result.history),
                    "final_loss": result.history[-1].loss,
                    **scores,
                },
            )
            print(
                f"{args.model} on {context.world_size} process(es): validation "
                f"NRMSE {scores['validation']['nrmse']:.4f}, test NRMSE "
                f"{scores['test']['nrmse']:.4f}, {result.seconds:.1f} s; wrote "
                f"{args.out / 'scores.json'}"
            )
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0
