"""Direct multi-step forecasting of a series: input x(t), target x(t + d).

The series (after a discarded transient) is cut into three contiguous
segments, train, validation and test, in that order. Within a segment an
input at position ``i`` has its target at ``i + d``; both stay inside the
segment, so no target of one split is ever an input of another.

* **Normalisation**: z-score with the train segment's mean and standard
  deviation, applied to every split.
* **Training windows**: each optimiser step draws ``batch_size`` windows of
  ``window`` steps at uniformly random positions of the train segment; the
  first ``warmup`` steps of a window are excluded from the loss so that the
  neurons' slow states settle.
* **Evaluation**: the whole validation (or test) segment is run as one
  sequence, and every prediction after the first ``warmup`` steps is scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass_cached
from mtcsnn.validation import ConfigError, check_int


@dataclass(frozen=True)
class ForecastTask:
    """How the forecasting task is cut from the series (lengths in samples).

    Attributes
    ----------
    horizon
        Forecast distance ``d``: the target of input ``x(t)`` is ``x(t + d)``.
    window, warmup
        Length of a training window and of its unscored start.
    discard
        Samples dropped at the start of the series (the transient from the
        constant history).
    train, validation, test
        Segment lengths.
    """

    horizon: int = 675
    window: int = 1500
    warmup: int = 500
    discard: int = 1000
    train: int = 6000
    validation: int = 3000
    test: int = 4000

    def __post_init__(self) -> None:
        for name in ("horizon", "window", "discard", "train", "validation", "test"):
            check_int(
                f"ForecastTask.{name}",
                getattr(self, name),
                0 if name == "discard" else 1,
            )
        check_int("ForecastTask.warmup", self.warmup, 0)
        if not self.warmup < self.window:
            raise ConfigError(
                "ForecastTask.warmup", self.warmup, f">= 0 and < window = {self.window}"
            )
        for name in ("train", "validation", "test"):
            need = self.horizon + (self.window if name == "train" else self.warmup + 1)
            if getattr(self, name) < need:
                raise ConfigError(
                    f"ForecastTask.{name}",
                    getattr(self, name),
                    f">= {need} (horizon + "
                    f"{'window' if name == 'train' else 'warmup + 1'})",
                )

    @property
    def length(self) -> int:
        """Samples of series needed."""
        return self.discard + self.train + self.validation + self.test


@dataclass(frozen=True)
class ForecastSplits:
    """The normalised segments of a series, ready for training.

    Attributes
    ----------
    task
        The task they were cut for.
    train, validation, test
        Normalised segments, float64 ``[S]``.
    mean, std
        The train segment's statistics used to normalise.
    """

    task: ForecastTask
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    mean: float
    std: float

    def sample_batch(
        self, batch_size: int, rng: np.random.Generator, *, dtype=torch.float32
    ) -> tuple[Tensor, Tensor]:
        """Random training windows: inputs and targets, each ``[W, B, 1]``."""
        d, w = self.task.horizon, self.task.window
        starts = rng.integers(0, len(self.train) - d - w + 1, size=batch_size)
        index = starts[None, :] + np.arange(w)[:, None]
        x = torch.as_tensor(self.train[index], dtype=dtype)[..., None]
        y = torch.as_tensor(self.train[index + d], dtype=dtype)[..., None]
        return x, y

    def sequence(self, split: str, *, dtype=torch.float32) -> tuple[Tensor, Tensor]:
        """A whole segment as one sequence: inputs and targets ``[L, 1, 1]``.

        ``L`` is the segment length minus the horizon.
        """
        segment = {
            "train": self.train,
            "validation": self.validation,
            "test": self.test,
        }.get(split)
        if segment is None:
            raise ValueError(f"unknown split {split!r}; known: train, validation, test")
        d = self.task.horizon
        x = torch.as_tensor(segment[:-d], dtype=dtype)[:, None, None]
        y = torch.as_tensor(segment[d:], dtype=dtype)[:, None, None]
        return x, y


def make_forecast_task(
    task: ForecastTask | None = None,
    series: MackeyGlass | None = None,
    *,
    cache_dir: str | None = None,
) -> ForecastSplits:
    """Generate (or load from the cache) the series and cut it into splits."""
    task = task or ForecastTask()
    x = mackey_glass_cached(task.length, series, cache_dir=cache_dir)[task.discard :]
    train = x[: task.train]
    validation = x[task.train : task.train + task.validation]
    test = x[task.train + task.validation :]
    mean, std = float(train.mean()), float(train.std())
    return ForecastSplits(
        task,
        (train - mean) / std,
        (validation - mean) / std,
        (test - mean) / std,
        mean,
        std,
    )
