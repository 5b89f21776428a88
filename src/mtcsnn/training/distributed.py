r"""Data-parallel training over processes with :mod:`torch.distributed`.

Every process (rank ``r`` of ``W``) holds a whole copy of the network and
draws the same batch of ``B`` training windows (the batch generator is seeded
by the configuration's seed, identically on every rank); rank ``r`` trains on
windows ``[r B/W, (r + 1) B/W)`` of it. PyTorch's
:class:`~torch.nn.parallel.DistributedDataParallel` averages the gradients
over the ranks during the backward pass. With equal shares the average of
the ranks' mean-squared errors is the whole batch's,

.. math::

    L = \frac{1}{B T'} \sum_{b, t} (\hat y_{tb} - y_{tb})^2
      = \frac{1}{W} \sum_r L_r ,
    \qquad \nabla L = \frac{1}{W} \sum_r \nabla L_r ,

(``T'`` steps after the warm-up) so every rank takes the optimiser step one
process would take on the whole batch, and the copies stay equal. ``B`` must
be a multiple of ``W``.

The processes are started by ``torchrun``, which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; the
backend is NCCL when CUDA is available (one GPU per local rank) and gloo on
CPUs. Without those variables :func:`init_distributed` returns a world of one
process and training runs as usual.

Notes
-----
Each rank evaluates the validation split itself every ``eval_every`` epochs
(the results are equal on all ranks); only the training step is divided.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from mtcsnn.data.forecast import ForecastSplits
from mtcsnn.training.loop import EpochRecord, TrainConfig, TrainResult, train

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands among the training processes.

    Attributes
    ----------
    rank, world_size
        This process's index and the number of processes.
    local_rank
        Its index on its machine (selects its GPU).
    device
        Where its copy of the network lives.
    backend
        ``"gloo"``, ``"nccl"``, or ``None`` for a single process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """True on rank 0, which writes the files."""
        return self.rank == 0


def init_distributed(backend: str | None = None) -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment.

    Parameters
    ----------
    backend
        ``"gloo"`` or ``"nccl"``; ``None`` takes NCCL if CUDA is available,
        gloo otherwise.

    Returns
    -------
    DistributedContext
        A world of one process when ``WORLD_SIZE`` is not set or is 1.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1 and not dist.is_initialized():
        device = torch.device("cuda", 0) if backend == "nccl" else torch.device("cpu")
        return DistributedContext(device=device)
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"unknown backend {backend!r}; known: gloo, nccl")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend)
    context = DistributedContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        device=device,
        backend=backend,
    )
    log.info(
        "rank %d of %d (local rank %d) on %s with %s",
        context.rank,
        context.world_size,
        context.local_rank,
        context.device,
        backend,
    )
    return context


def shard_batch(
    x: Tensor, y: Tensor, rank: int, world_size: int
) -> tuple[Tensor, Tensor]:
    """Rank ``rank``'s contiguous share of a batch ``[W, B, 1]``: ``[W, B/R, 1]``.

    Raises
    ------
    ValueError
        If the batch does not divide evenly among ``world_size`` ranks.
    """
    batch = x.shape[1]
    if batch % world_size:
        raise ValueError(
            f"batch_size = {batch} does not divide among {world_size} processes: "
            "data-parallel training needs a multiple of the number of processes"
        )
    share = batch // world_size
    part = slice(rank * share, (rank + 1) * share)
    return x[:, part], y[:, part]


def train_distributed(
    model: nn.Module,
    splits: ForecastSplits,
    config: TrainConfig,
    context: DistributedContext,
    *,
    log_csv: Path | None = None,
    callback: Callable[[EpochRecord], None] | None = None,
) -> TrainResult:
    """Train ``model`` data-parallel: :func:`mtcsnn.training.train` on every rank.

    Parameters
    ----------
    model
        The network, already on ``context.device`` and built from the same
        seed on every rank (rank 0's parameters are broadcast regardless).
    splits, config
        As for :func:`~mtcsnn.training.train`; ``config.batch_size`` is the
        whole batch over all ranks.
    context
        From :func:`init_distributed`.
    log_csv
        Written by rank 0 only; each row's ``loss`` is the whole batch's
        (the mean of the ranks' losses).
    callback
        Called on every rank with each epoch's record, whose ``loss`` is
        already the whole batch's.

    Returns
    -------
    TrainResult
        The same history on every rank.
    """
    if config.batch_size % context.world_size:
        raise ValueError(
            f"batch_size = {config.batch_size} does not divide among "
            f"{context.world_size} processes: data-parallel training needs a "
            "multiple of the number of processes"
        )
    device = context.device

    def shard(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        x, y = shard_batch(x, y, context.rank, context.world_size)
        return x.to(device), y.to(device)

    forward = None
    if context.world_size > 1:
        forward = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    writer = None
    handle = None
    if log_csv is not None and context.is_main:
        log_csv.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log_csv, "w", newline="")  # noqa: SIM115 - closed below
        writer = csv.DictWriter(
            handle, fieldnames=[f.name for f in dataclasses.fields(EpochRecord)]
        )
        writer.writeheader()

    def report(record: EpochRecord) -> None:
        if context.world_size > 1:
            loss = torch.tensor([record.loss], dtype=torch.float64, device=device)
            dist.all_reduce(loss)
            record.loss = loss.item() / context.world_size
        if writer is not None:
            writer.writerow(asdict(record))
            handle.flush()
        if callback is not None:
            callback(record)

    try:
        return train(
            model, splits, config, callback=report, forward=forward, shard=shard
        )
    finally:
        if handle is not None:
            handle.close()


__all__ = [
    "DistributedContext",
    "init_distributed",
    "shard_batch",
    "train_distributed",
]
