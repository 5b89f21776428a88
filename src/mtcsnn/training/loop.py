"""The training loop for forecasting networks, with checkpoints and resume.

Adam with a cosine-annealed learning rate (from ``lr`` down to
``lr * lr_final_ratio`` over ``epochs``), gradient-norm clipping, and the
mean squared error over every step after the warm-up of each window. An
epoch is one optimiser step on a batch of freshly drawn training windows
(:meth:`mtcsnn.data.ForecastSplits.sample_batch`). After every step each
neuron layer's ``apply_constraints`` runs (for parameters that are kept in
range by clamping).

Non-finite steps
    If an epoch's loss or gradient norm is NaN or infinite, its step is
    skipped: no optimiser step, no constraint, weights and Adam's moments
    stay as they were. The batch generator and the learning-rate schedule
    still advance (the schedule follows the epoch number), and the epoch's
    record has ``skipped = 1``. After ``max_bad_steps`` skipped steps in a
    row, training stops with :class:`NonFiniteError`. So a NaN never reaches
    the weights, nor a checkpoint.

Checkpoints
    With ``checkpoint=PATH`` the whole state of the run is written to
    ``PATH`` every ``checkpoint_every`` epochs and after the last one: the
    model's ``state_dict``, Adam's state, the schedule, every random
    generator (the numpy generator that draws the batches, numpy's global
    one, torch's CPU generator and :mod:`random`), the epoch, the count of
    skipped steps, the training time so far, the per-epoch history and the
    configuration. A periodic checkpoint waits for the next good step when
    it falls on a skipped one, so the last checkpoint always follows a good
    step. Files are replaced atomically and hold tensors and plain values
    only (they load with ``torch.load(..., weights_only=True)``).
    ``resume=True`` restores all of it and goes on: on the CPU the resumed
    run ends with exactly the weights, history and scores of a run that was
    never interrupted. Rebuild the model with the same seed before resuming
    (the checkpoint restores its tensors, not its construction).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
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
from mtcsnn.io import (
    atomic_write_text,
    load_torch,
    remove_temporaries,
    save_torch,
)
from mtcsnn.validation import check_float, check_int

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "mtcsnn-checkpoint"
CHECKPOINT_VERSION = 1

MAX_SEED = 2**32 - 1


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
        Initial learning rate, in (0, 1], and the fraction of it reached at
        the end of the cosine schedule, in (0, 1].
    clip
        Maximum gradient norm (> 0).
    eval_every
        Validation NRMSE is computed every ``eval_every`` epochs and at the end.
    seed
        Seeds parameters, batches and everything random, in ``[0, 2**32 - 1]``.
    max_bad_steps
        Training stops after this many skipped (non-finite) steps in a row.
    """

    epochs: int = 300
    batch_size: int = 128
    lr: float = 3e-3
    lr_final_ratio: float = 0.01
    clip: float = 1.0
    eval_every: int = 50
    seed: int = 0
    max_bad_steps: int = 10

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every", "max_bad_steps"):
            check_int(f"TrainConfig.{name}", getattr(self, name), 1)
        check_int("TrainConfig.seed", self.seed, 0, MAX_SEED)
        lr = check_float("TrainConfig.lr", self.lr, 0, 1, low_open=True)
        clip = check_float("TrainConfig.clip", self.clip, 0, low_open=True)
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "clip", clip)
        ratio = check_float(
            "TrainConfig.lr_final_ratio", self.lr_final_ratio, 0, 1, low_open=True
        )
        object.__setattr__(self, "lr_final_ratio", ratio)


@dataclass
class EpochRecord:
    """One row of the per-epoch log.

    ``loss`` and ``grad_norm`` are NaN or infinite on a skipped step
    (``skipped = 1``); ``grad_norm`` is NaN when the loss already was.
    """

    epoch: int
    loss: float
    lr: float
    grad_norm: float
    seconds: float
    val_nrmse: float = float("nan")
    skipped: int = 0


@dataclass
class TrainResult:
    """History and timing of a training run.

    Attributes
    ----------
    history
        Every epoch from the first, including those run before a resume.
    seconds
        Training time over all sessions of the run.
    skipped_steps
        Steps skipped because the loss or gradient was not finite.
    resumed_from
        The checkpoint's epoch if the run was resumed, else ``None``.
    """

    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0
    skipped_steps: int = 0
    resumed_from: int | None = None


class TrainingStopped(RuntimeError):
    """Training ended before its last epoch.

    Attributes
    ----------
    epoch
        The last epoch that ran.
    checkpoint_epoch
        Epoch of the checkpoint left on disk, ``None`` if there is none.
    """

    def __init__(self, message: str, epoch: int, checkpoint_epoch: int | None):
        super().__init__(message)
        self.epoch = epoch
        self.checkpoint_epoch = checkpoint_epoch


class NonFiniteError(TrainingStopped):
    """Too many steps in a row had a NaN or infinite loss or gradient."""


class Interrupted(TrainingStopped):
    """Training was asked to stop (``stop()`` returned true) and checkpointed."""


def _apply_constraints(model: nn.Module) -> None:
    for module in model.modules():
        constrain = getattr(module, "apply_constraints", None)
        if callable(constrain):
            constrain()


def _finite_tensors(tensors) -> bool:
    return all(
        bool(torch.isfinite(t).all())
        for t in tensors
        if isinstance(t, Tensor) and t.is_floating_point()
    )


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


# ---------------------------------------------------------------------------
# Checkpoints


def _plain(data: Any) -> Any:
    """``data`` as JSON would give it back (tuples become lists)."""
    return json.loads(json.dumps(data))


def _history_tensors(history: list[EpochRecord]) -> dict[str, Tensor]:
    columns: dict[str, Tensor] = {}
    for f in dataclasses.fields(EpochRecord):
        values = [getattr(r, f.name) for r in history]
        dtype = torch.int64 if f.type in ("int", int) else torch.float64
        columns[f.name] = torch.tensor(values, dtype=dtype)
    return columns


def _history_records(columns: dict[str, Tensor]) -> list[EpochRecord]:
    names = [f.name for f in dataclasses.fields(EpochRecord)]
    present = {k: v.tolist() for k, v in columns.items() if k in names}
    rows = len(present["epoch"])
    if any(len(v) != rows for v in present.values()):
        raise ValueError("history columns differ in length")
    return [EpochRecord(**{k: v[i] for k, v in present.items()}) for i in range(rows)]


def _rng_state(batches: np.random.Generator) -> dict[str, Any]:
    legacy = np.random.get_state(legacy=True)
    return {
        "batches": batches.bit_generator.state,
        "numpy": {
            "keys": torch.from_numpy(legacy[1].astype(np.int64)),
            "pos": int(legacy[2]),
            "has_gauss": int(legacy[3]),
            "cached_gaussian": float(legacy[4]),
        },
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
    }


def _set_rng_state(batches: np.random.Generator, state: dict[str, Any]) -> None:
    batches.bit_generator.state = state["batches"]
    legacy = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            legacy["keys"].numpy().astype(np.uint32),
            legacy["pos"],
            legacy["has_gauss"],
            legacy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically, refusing one with non-finite tensors.

    Raises
    ------
    ValueError
        If a floating-point tensor of the model or the optimiser holds a NaN
        or an infinity; nothing is written then.
    """
    tensors = list(state["model"].values())
    for entry in state["optimiser"]["state"].values():
        tensors.extend(entry.values())
    if not _finite_tensors(tensors):
        raise ValueError(
            f"refused to write {path}: the model or optimiser state is not finite"
        )
    save_torch(path, state)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`train`, refusing pickled code.

    Raises
    ------
    mtcsnn.io.UnsafeFileError
        If the file would build Python objects other than tensors and plain
        values (nothing in it is run).
    ValueError
        If it is damaged or not a checkpoint of this format.
    """
    state = load_torch(path)
    if (
        not isinstance(state, dict)
        or state.get("format") != CHECKPOINT_FORMAT
        or state.get("version") != CHECKPOINT_VERSION
    ):
        raise ValueError(
            f"{path}: not an mtcsnn checkpoint (format {CHECKPOINT_FORMAT!r}, "
            f"version {CHECKPOINT_VERSION})"
        )
    return state


def _first_difference(saved: Any, current: Any, prefix: str = "") -> str:
    if isinstance(saved, dict) and isinstance(current, dict):
        for key in dict.fromkeys([*saved, *current]):
            if saved.get(key) != current.get(key):
                return _first_difference(
                    saved.get(key), current.get(key), f"{prefix}{key}."
                )
    return f"{prefix.rstrip('.') or 'config'} is {saved!r} there and {current!r} here"


@dataclass
class _Progress:
    history: list[EpochRecord] = field(default_factory=list)
    skipped: int = 0
    streak: int = 0
    seconds: float = 0.0
    epoch: int = 0


def _restore(
    path: Path,
    config_record: dict[str, Any],
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    rng: np.random.Generator,
) -> _Progress:
    state = load_checkpoint(path)
    if state.get("config") != config_record:
        raise ValueError(
            f"{path} belongs to another run: "
            + _first_difference(state.get("config"), config_record)
        )
    try:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(rng, state["rng"])
        progress = _Progress(
            history=_history_records(state["history"]),
            skipped=int(state["skipped_steps"]),
            streak=int(state["bad_streak"]),
            seconds=float(state["seconds"]),
            epoch=int(state["epoch"]),
        )
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
        first = (str(err).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: damaged checkpoint ({first})") from None
    if len(progress.history) != progress.epoch or any(
        r.epoch != k for k, r in enumerate(progress.history, 1)
    ):
        raise ValueError(f"{path}: damaged checkpoint (history does not match epoch)")
    return progress


def _csv_text(history: list[EpochRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS)
    writer.writeheader()
    for record in history:
        writer.writerow(asdict(record))
    return buffer.getvalue()


_CSV_FIELDS = [f.name for f in dataclasses.fields(EpochRecord)]


def train(
    model: nn.Module,
    splits: ForecastSplits,
    config: TrainConfig,
    *,
    log_csv: Path | None = None,
    callback: Callable[[EpochRecord], None] | None = None,
    checkpoint: Path | None = None,
    checkpoint_every: int = 10,
    resume: bool = False,
    run_config: dict[str, Any] | None = None,
    stop: Callable[[], bool] | None = None,
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
        If given, every epoch is appended to this CSV file as it finishes; on
        resume it is first rewritten from the checkpoint's history, so it
        lists every epoch exactly once.
    callback
        Called with each epoch's record (the command line draws its progress
        bar with it).
    checkpoint
        File for the run's checkpoints (see the module docstring); ``None``
        writes none.
    checkpoint_every
        Epochs between checkpoints (int >= 1).
    resume
        Continue from ``checkpoint`` if it exists (else start afresh). Its
        configuration must equal ``config`` and ``run_config``.
    run_config
        JSON-compatible description of the rest of the run (model, data),
        stored in the checkpoint and compared on resume.
    stop
        Polled after every epoch; when it returns true, a checkpoint is
        written and :class:`Interrupted` is raised.

    Raises
    ------
    NonFiniteError
        After ``config.max_bad_steps`` skipped steps in a row, or if a step
        made a weight non-finite; the last checkpoint is left as it was.
    Interrupted
        When ``stop()`` returned true.
    ValueError
        If the checkpoint to resume from belongs to another configuration
        or is damaged; :class:`mtcsnn.io.UnsafeFileError` if it holds code.
    forward
        Called instead of ``model`` in the training step, e.g. a
        :class:`torch.nn.parallel.DistributedDataParallel` wrapper of it that
        averages the gradients over processes; evaluation uses ``model``.
        With it, the backward always runs (every process must join the
        averaging) and a step is skipped when the averaged gradient is not
        finite, a decision all processes share.
    shard
        Maps every drawn batch ``(x, y)``, each ``[W, B, 1]``, to what this
        process trains on (for data-parallel training, its share of the
        batch on its device; see :mod:`mtcsnn.training.distributed`).
    """
    check_int("checkpoint_every", checkpoint_every, 1)
    rng = np.random.default_rng(config.seed)
    dtype = next(model.parameters()).dtype
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=config.epochs, eta_min=config.lr * config.lr_final_ratio
    )
    config_record = _plain({"train": asdict(config), "run": run_config or {}})
    progress = _Progress()
    resumed_from = None
    if resume and checkpoint is not None:
        remove_temporaries(checkpoint)
        if checkpoint.exists():
            progress = _restore(
                checkpoint, config_record, model, optimiser, scheduler, rng
            )
            resumed_from = progress.epoch
            log.info(
                "resumed %s at epoch %d of %d",
                checkpoint,
                progress.epoch,
                config.epochs,
            )
    saved_epoch = resumed_from

    def write_checkpoint(epoch: int) -> None:
        nonlocal saved_epoch
        if checkpoint is None:
            return
        save_checkpoint(
            checkpoint,
            {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "epoch": epoch,
                "config": config_record,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": _rng_state(rng),
                "skipped_steps": progress.skipped,
                "bad_streak": progress.streak,
                "seconds": progress.seconds + time.perf_counter() - start,
                "history": _history_tensors(progress.history),
            },
        )
        saved_epoch = epoch
        log.debug("checkpoint of epoch %d written to %s", epoch, checkpoint)

    def kept() -> str:
        if saved_epoch is None:
            return "no checkpoint was written"
        return f"the checkpoint of epoch {saved_epoch} is kept in {checkpoint}"

    warm = splits.task.warmup
    step = model if forward is None else forward
    handle = None
    writer = None
    if log_csv is not None:
        if progress.epoch > 0:
            atomic_write_text(log_csv, _csv_text(progress.history))
            handle = open(log_csv, "a", newline="")  # noqa: SIM115 - closed below
        else:
            log_csv.parent.mkdir(parents=True, exist_ok=True)
            handle = open(log_csv, "w", newline="")  # noqa: SIM115 - closed below
        writer = csv.DictWriter(handle, fieldnames=_CSV_FIELDS)
        if progress.epoch == 0:
            writer.writeheader()
    start = time.perf_counter()
    try:
        for epoch in range(progress.epoch + 1, config.epochs + 1):
            tick = time.perf_counter()
            model.train()
            x, y = splits.sample_batch(config.batch_size, rng, dtype=dtype)
            if shard is not None:
                x, y = shard(x, y)
            optimiser.zero_grad(set_to_none=True)
            loss = torch.mean((step(x)[warm:] - y[warm:]) ** 2)
            loss_value = loss.item()
            grad_norm = math.nan
            if forward is None:
                good = math.isfinite(loss_value)
                if good:
                    loss.backward()
            else:
                # Every process must join the gradient averaging, and all must
                # take the same decision: the averaged gradient is the same on
                # all of them, and a non-finite loss anywhere makes it
                # non-finite everywhere.
                loss.backward()
                good = True
            if good:
                grad_norm = float(
                    nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                )
                good = math.isfinite(grad_norm)
            lr = optimiser.param_groups[0]["lr"]
            if good:
                optimiser.step()
                progress.streak = 0
            else:
                optimiser.zero_grad(set_to_none=True)
                progress.skipped += 1
                progress.streak += 1
                log.warning(
                    "epoch %d: loss %g, gradient norm %g: step skipped (%d in a row)",
                    epoch,
                    loss_value,
                    grad_norm,
                    progress.streak,
                )
            scheduler.step()
            if good:
                _apply_constraints(model)
                if not _finite_tensors(model.parameters()):
                    raise NonFiniteError(
                        f"training stopped at epoch {epoch}: its update (optimiser "
                        f"step and constraints) made weights non-finite (lr "
                        f"{lr:g}); {kept()}",
                        epoch,
                        saved_epoch,
                    )

            record = EpochRecord(
                epoch,
                loss_value,
                lr,
                grad_norm,
                time.perf_counter() - tick,
                skipped=int(not good),
            )
            if epoch % config.eval_every == 0 or epoch == config.epochs:
                record.val_nrmse = evaluate(model, splits, "validation")["nrmse"]
                log.info(
                    "epoch %d: loss %.4g, validation NRMSE %.4g",
                    epoch,
                    record.loss,
                    record.val_nrmse,
                )
            progress.history.append(record)
            if writer is not None:
                writer.writerow(asdict(record))
                handle.flush()
            if callback is not None:
                callback(record)

            if progress.streak >= config.max_bad_steps:
                raise NonFiniteError(
                    f"training stopped at epoch {epoch}: {progress.streak} steps in "
                    "a row had a non-finite loss or gradient (max_bad_steps = "
                    f"{config.max_bad_steps}); {kept()}",
                    epoch,
                    saved_epoch,
                )
            since = epoch - (saved_epoch or 0)
            if epoch == config.epochs or (
                progress.streak == 0 and since >= checkpoint_every
            ):
                write_checkpoint(epoch)
            if stop is not None and epoch < config.epochs and stop():
                write_checkpoint(epoch)
                raise Interrupted(
                    f"interrupted after epoch {epoch} of {config.epochs}; "
                    + (
                        f"checkpoint written to {checkpoint}"
                        if checkpoint is not None
                        else "no checkpoint was written"
                    ),
                    epoch,
                    saved_epoch,
                )
    finally:
        if handle is not None:
            handle.close()
    seconds = progress.seconds + time.perf_counter() - start
    return TrainResult(progress.history, seconds, progress.skipped, resumed_from)


def save_model(path: Path, model: nn.Module, config: dict[str, Any]) -> None:
    """Save weights and the full configuration together, atomically.

    The file holds only tensors and plain Python values, so it loads with
    ``torch.load(..., weights_only=True)``.
    """
    save_torch(path, {"state_dict": model.state_dict(), "config": config})


def load_model(path: Path) -> dict[str, Any]:
    """Load what :func:`save_model` wrote, refusing pickled code.

    Raises
    ------
    mtcsnn.io.UnsafeFileError
        If the file would build Python objects other than tensors and plain
        values (nothing in it is run).
    ValueError
        If it is damaged or holds no ``state_dict``.
    """
    data = load_torch(path)
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict):
        raise ValueError(f"{path}: not a saved model (no state_dict)")
    return data
