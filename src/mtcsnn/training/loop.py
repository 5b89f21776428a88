"""The training loop for forecasting networks.

Adam with a cosine-annealed learning rate (from ``lr`` down to
``lr * lr_final_ratio`` over ``epochs``), gradient-norm clipping, and the
mean squared error over every step after the warm-up of each window. An
epoch is one optimiser step on a batch of freshly drawn training windows
(:meth:`mtcsnn.data.ForecastSplits.sample_batch`). After every step each
neuron layer's ``apply_constraints`` runs (for parameters that are kept in
range by clamping).
"""

from __future__ import annotations

import csv
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mtcsnn import metrics
from mtcsnn.data.forecast import ForecastSplits

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed torch, numpy and :mod:`random`; return a numpy generator from ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes
    ----------
    epochs
        Optimiser steps (one batch each).
    batch_size
        Windows per batch.
    lr, lr_final_ratio
        Initial learning rate and the fraction of it reached at the end of
        the cosine schedule.
    clip
        Maximum gradient norm.
    eval_every
        Validation NRMSE is computed every ``eval_every`` epochs and at the end.
    seed
        Seeds parameters, batches and everything random.
    """

    epochs: int = 300
    batch_size: int = 128
    lr: float = 3e-3
    lr_final_ratio: float = 0.01
    clip: float = 1.0
    eval_every: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"TrainConfig.{name} = {value!r} is out of range: must be an "
                    "int >= 1"
                )
        for name in ("lr", "clip"):
            value = getattr(self, name)
            if not (
                isinstance(value, (int, float)) and math.isfinite(value) and value > 0
            ):
                raise ValueError(
                    f"TrainConfig.{name} = {value!r} is out of range: must be > 0"
                )
        if not 0 < self.lr_final_ratio <= 1:
            raise ValueError(
                f"TrainConfig.lr_final_ratio = {self.lr_final_ratio!r} is out of "
                "range: must be in (0, 1]"
            )


@dataclass
class EpochRecord:
    """One row of the per-epoch log."""

    epoch: int
    loss: float
    lr: float
    grad_norm: float
    seconds: float
    val_nrmse: float = float("nan")


@dataclass
class TrainResult:
    """History and timing of a training run."""

    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0


def _apply_constraints(model: nn.Module) -> None:
    for module in model.modules():
        constrain = getattr(module, "apply_constraints", None)
        if callable(constrain):
            constrain()


def evaluate(
    model: nn.Module, splits: ForecastSplits, split: str = "test"
) -> dict[str, Any]:
    """Accuracy and sparsity of ``model`` on a whole split, after the warm-up.

    Returns
    -------
    dict
        ``mse``, ``nrmse``, ``smape`` (on normalised values; NRMSE is scale
        free), ``activation_sparsity``, ``event_rate``, ``synops_dense``,
        ``synops_effective_acs``, ``synops_effective_macs``, ``synops_effective``
        (per step), and the tensors ``y_hat``, ``y``, ``recording`` for plots.
    """
    first = next(model.parameters())
    x, y = splits.sequence(split, dtype=first.dtype)
    x, y = x.to(first.device), y.to(first.device)
    model.eval()
    with torch.no_grad():
        rec = model.record(x)
    warm = splits.task.warmup
    y_hat, target = rec.y[warm:], y[warm:]
    hidden = [h[warm:] for h in rec.hidden]
    ops = metrics.synaptic_ops(
        [lin.weight for lin in model.linear_layers()],
        [a[warm:] for a in rec.synapse_inputs],
    )
    return {
        "mse": metrics.mse(y_hat, target),
        "nrmse": metrics.nrmse(y_hat, target),
        "smape": metrics.smape(
            y_hat * splits.std + splits.mean, target * splits.std + splits.mean
        ),
        "activation_sparsity": metrics.activation_sparsity(hidden),
        "event_rate": metrics.event_rate(hidden),
        "synops_dense": ops.dense,
        "synops_effective_acs": ops.effective_acs,
        "synops_effective_macs": ops.effective_macs,
        "synops_effective": ops.effective,
        "y_hat": y_hat,
        "y": target,
        "recording": rec,
    }


def train(
    model: nn.Module,
    splits: ForecastSplits,
    config: TrainConfig,
    *,
    log_csv: Path | None = None,
    callback: Callable[[EpochRecord], None] | None = None,
    forward: Callable[[Tensor], Tensor] | None = None,
    shard: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None,
) -> TrainResult:
    """Train ``model`` on the training windows of ``splits``.

    Parameters
    ----------
    model
        A network with ``forward(x [T, B, 1]) -> [T, B, 1]`` and ``record``.
    splits
        The task's data.
    config
        Optimisation settings; ``config.seed`` seeds the batches (seed the
        model's initialisation before building it, with
        :func:`seed_everything`).
    log_csv
        If given, every epoch is appended to this CSV file as it finishes.
    callback
        Called with each epoch's record (the command line draws its progress
        bar with it).
    forward
        Called instead of ``model`` in the training step, e.g. a
        :class:`torch.nn.parallel.DistributedDataParallel` wrapper of it that
        averages the gradients over processes; evaluation uses ``model``.
    shard
        Maps every drawn batch ``(x, y)``, each ``[W, B, 1]``, to what this
        process trains on (for data-parallel training, its share of the
        batch on its device; see :mod:`mtcsnn.training.distributed`).
    """
    rng = np.random.default_rng(config.seed)
    dtype = next(model.parameters()).dtype
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=config.epochs, eta_min=config.lr * config.lr_final_ratio
    )
    warm = splits.task.warmup
    step = model if forward is None else forward
    result = TrainResult()
    writer = None
    handle = None
    if log_csv is not None:
        log_csv.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log_csv, "w", newline="")  # noqa: SIM115 - closed below
        writer = csv.DictWriter(
            handle, fieldnames=list(asdict(EpochRecord(0, 0, 0, 0, 0)))
        )
        writer.writeheader()
    start = time.perf_counter()
    try:
        for epoch in range(1, config.epochs + 1):
            tick = time.perf_counter()
            model.train()
            x, y = splits.sample_batch(config.batch_size, rng, dtype=dtype)
            if shard is not None:
                x, y = shard(x, y)
            optimiser.zero_grad(set_to_none=True)
            loss = torch.mean((step(x)[warm:] - y[warm:]) ** 2)
            loss.backward()
            grad_norm = float(nn.utils.clip_grad_norm_(model.parameters(), config.clip))
            lr = optimiser.param_groups[0]["lr"]
            optimiser.step()
            scheduler.step()
            _apply_constraints(model)

            record = EpochRecord(
                epoch, loss.item(), lr, grad_norm, time.perf_counter() - tick
            )
            if epoch % config.eval_every == 0 or epoch == config.epochs:
                record.val_nrmse = evaluate(model, splits, "validation")["nrmse"]
                log.info(
                    "epoch %d: loss %.4g, validation NRMSE %.4g",
                    epoch,
                    record.loss,
                    record.val_nrmse,
                )
            result.history.append(record)
            if writer is not None:
                writer.writerow(asdict(record))
                handle.flush()
            if callback is not None:
                callback(record)
    finally:
        if handle is not None:
            handle.close()
    result.seconds = time.perf_counter() - start
    return result


def save_model(path: Path, model: nn.Module, config: dict[str, Any]) -> None:
    """Save weights and the full configuration together, atomically.

    The file holds only tensors and plain Python values, so it loads with
    ``torch.load(..., weights_only=True)``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"state_dict": model.state_dict(), "config": config}, tmp)
    tmp.replace(path)


def load_model(path: Path) -> dict[str, Any]:
    """Load what :func:`save_model` wrote, refusing pickled code."""
    return torch.load(path, map_location="cpu", weights_only=True)
