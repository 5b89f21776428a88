"""A grid over some parameters, Optuna's TPE over the others.

The timescale ratios of an MTC neuron are searched the way they are tuned by
hand, on a grid, while gains, offsets and training settings go to the
Tree-structured Parzen Estimator (TPE). Each new trial takes the grid cell
tried least so far (counting running, finished and failed trials; ties broken
at random), so ``N`` trials visit each of ``G`` cells ``floor(N / G)`` or
``ceil(N / G)`` times when they run one after another; workers that start
trials at the same moment can pick the same cell, which later trials even
out. TPE chooses the other values from the results of all earlier trials.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


class GridTPESampler(BaseSampler):
    """Grid values for the parameters in ``grid``, ``base`` for the rest.

    Parameters
    ----------
    grid
        ``{name: values}``; every combination is one cell.
    base
        The sampler of every other parameter (a
        :class:`optuna.samplers.TPESampler`).
    seed
        Seeds the tie-break between equally tried cells.
    """

    def __init__(
        self,
        grid: dict[str, Sequence[float]],
        base: BaseSampler,
        *,
        seed: int | None = None,
    ) -> None:
        self._names = list(grid)
        self._cells = list(itertools.product(*(list(v) for v in grid.values())))
        self._base = base
        self._rng = np.random.default_rng(seed)
        self._chosen: dict[int, tuple[float, ...]] = {}

    def reseed_rng(self) -> None:
        self._base.reseed_rng()
        self._rng = np.random.default_rng()

    def _cell_of(self, trial: FrozenTrial) -> tuple[float, ...] | None:
        if not all(name in trial.params for name in self._names):
            return None
        return tuple(trial.params[name] for name in self._names)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._base.before_trial(study, trial)
        if not self._names or self._cell_of(trial) is not None:
            # No grid, or a retried trial that keeps its values.
            return
        counts = dict.fromkeys(self._cells, 0)
        for other in study.get_trials(deepcopy=False):
            if other.number == trial.number or other.state == TrialState.WAITING:
                continue
            cell = self._cell_of(other)
            if cell in counts:
                counts[cell] += 1
        fewest = min(counts.values())
        candidates = [cell for cell, n in counts.items() if n == fewest]
        self._chosen[trial.number] = candidates[self._rng.integers(len(candidates))]

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        space = self._base.infer_relative_search_space(study, trial)
        return {k: v for k, v in space.items() if k not in self._names}

    def sample_relative(
        self,
        study: Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        return self._base.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if param_name in self._names:
            cell = self._chosen.get(trial.number)
            if cell is None:
                raise RuntimeError(
                    f"trial {trial.number} asked for {param_name} without a grid cell"
                )
            return cell[self._names.index(param_name)]
        return self._base.sample_independent(
            study, trial, param_name, param_distribution
        )

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._chosen.pop(trial.number, None)
        self._base.after_trial(study, trial, state, values)


__all__ = ["GridTPESampler"]
