"""What a sweep searches: the configuration file and its search space.

A sweep tunes one benchmark model. Its JSON file names the benchmark to start
from and the parameters to vary::

    {
      "bench": "quick",
      "model": "mtc",
      "seed": 0,
      "grid": {"tau_s/tau_m": [5, 10, 20], "tau_us/tau_s": [10, 30, 100]},
      "search": {
        "alpha_f": {"low": 1.0, "high": 3.0},
        "delta_sn": {"low": -2.0, "high": -1.0},
        "lr": {"low": 1e-3, "high": 3e-2, "log": true},
        "input_centre": {"low": -1.5, "high": -0.5}
      },
      "pruning": {"startup_trials": 4, "warmup_epochs": 0}
    }

* ``bench``: a preset name of :data:`mtcsnn.benchmark.PRESETS` or a whole
  benchmark configuration (what ``mtcsnn bench --config`` reads).
* ``grid``: the MTC timescale ratios ``tau_s/tau_m`` and ``tau_us/tau_s``,
  each a list of values > 0 that every trial takes one of (cells in turn,
  the least tried first), so that ``tau_s = r_s tau_m`` and
  ``tau_us = r_us tau_s``.
* ``search``: the dimensions chosen by TPE, each ``{"low", "high"}`` (plus
  ``"log": true`` for a log scale, ``"step"`` for a grid of its own) or
  ``{"choices": [...]}``. Names: any neuron parameter of the model (except
  ``dt``; for MTC ``tau_s`` and ``tau_us`` only when their ratio is not on
  the grid), the training settings ``lr``, ``lr_final_ratio``, ``clip``,
  ``batch_size``, the network's ``n_hidden`` and ``cutoff``, and the input
  bias window as ``input_centre`` and ``input_width`` (the window is
  ``[centre - width/2, centre + width/2]``).
* ``pruning``: a median pruner (a trial stops once its validation NRMSE at an
  evaluation is worse than the median of earlier trials at the same epoch,
  after ``startup_trials`` complete trials and ``warmup_epochs`` epochs), or
  ``null`` for none. Intermediate values are the validation NRMSE every
  ``eval_every`` epochs of the benchmark's training.
* ``tpe_startup_trials``: random trials before TPE takes over (default 10).
* ``seed``: seeds every trial's network and batches, so a trial's result is
  reproduced by ``mtcsnn bench --config`` of its configuration.
* ``study``: the study's name in the storage (default ``mtcsnn-sweep``).

Every value is checked when the file is read: unknown keys, wrong types and
bounds that no trial could use are rejected with a one-line message.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtcsnn.benchmark import (
    PRESETS,
    BenchConfig,
    NeuronConfig,
    neuron_params,
)
from mtcsnn.models.forecaster import EXCITABLE_WINDOW
from mtcsnn.neurons import NEURONS

RATIOS = ("tau_s/tau_m", "tau_us/tau_s")
"""Names of the MTC timescale ratios that a sweep can put on its grid."""

TRAIN_DIMENSIONS = {
    "lr": float,
    "lr_final_ratio": float,
    "clip": float,
    "batch_size": int,
}
NETWORK_DIMENSIONS = {"n_hidden": int, "cutoff": float}
INPUT_DIMENSIONS = {"input_centre": float, "input_width": float}


@dataclass(frozen=True)
class Dimension:
    """One searched setting: a range (optionally on a log scale or a step) or choices.

    Attributes
    ----------
    name
        The setting.
    kind
        ``float`` or ``int``: the type of its values.
    low, high
        Bounds, ``low < high``; ``None`` with ``choices``.
    log
        Sample on a log scale (``low > 0``).
    step
        Spacing of the values, or ``None`` for a continuum (floats) or 1 (ints).
    choices
        The values, instead of a range.
    """

    name: str
    kind: type
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    @classmethod
    def from_dict(cls, name: str, kind: type, spec: Any) -> Dimension:
        where = f"search.{name}"
        if not isinstance(spec, dict):
            raise ValueError(
                f"{where} must be {{low, high}} or {{choices}}, got {spec!r}"
            )
        unknown = sorted(set(spec) - {"low", "high", "log", "step", "choices"})
        if unknown:
            raise ValueError(
                f"{where} has no key {', '.join(map(repr, unknown))}; known: low, "
                "high, log, step, choices"
            )
        if "choices" in spec:
            if set(spec) != {"choices"}:
                raise ValueError(f"{where}: choices cannot be combined with a range")
            values = spec["choices"]
            if not isinstance(values, list) or not values:
                raise ValueError(f"{where}.choices must be a non-empty list")
            for value in values:
                _check_number(f"{where}.choices", value, kind)
            if len(set(values)) != len(values):
                raise ValueError(f"{where}.choices has repeated values")
            return cls(name, kind, choices=tuple(kind(v) for v in values))
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"{where} needs both low and high (or choices)")
        low = _check_number(f"{where}.low", spec["low"], kind)
        high = _check_number(f"{where}.high", spec["high"], kind)
        if not low < high:
            raise ValueError(f"{where}: low = {low!r} must be < high = {high!r}")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise ValueError(f"{where}.log = {log!r} must be true or false")
        if log and low <= 0:
            raise ValueError(f"{where}: a log scale needs low > 0, got {low!r}")
        step = spec.get("step")
        if step is not None:
            step = _check_number(f"{where}.step", step, kind)
            if step <= 0:
                raise ValueError(f"{where}.step = {step!r} must be > 0")
            if log:
                raise ValueError(f"{where}: step and log cannot be combined")
        return cls(name, kind, low, high, log, step)

    def values_to_check(self) -> tuple[Any, ...]:
        """The extreme values, which validation tries one at a time."""
        return self.choices if self.choices is not None else (self.low, self.high)

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this dimension's value."""
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind is int:
            return trial.suggest_int(
                self.name, self.low, self.high, step=self.step or 1, log=self.log
            )
        return trial.suggest_float(
            self.name, self.low, self.high, step=self.step, log=self.log
        )

    def to_dict(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        spec: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            spec["log"] = True
        if self.step is not None:
            spec["step"] = self.step
        return spec


def _check_number(where: str, value: Any, kind: type) -> Any:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} = {value!r} must be an integer")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} = {value!r} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{where} = {value!r} must be finite")
    return float(value)


KEYS = (
    "bench",
    "model",
    "seed",
    "grid",
    "search",
    "pruning",
    "tpe_startup_trials",
    "study",
)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: the benchmark, the model and the search space.

    Build it with :meth:`from_dict` or :func:`load_sweep_config`; see the
    module documentation for the file format.

    Attributes
    ----------
    bench
        The benchmark configuration every trial starts from.
    model
        The neuron type tuned.
    seed
        Seed of every trial's network and batches.
    grid
        ``{ratio: values}`` for the names in :data:`RATIOS`.
    search
        The dimensions TPE chooses.
    pruning
        ``{"startup_trials", "warmup_epochs"}`` of the median pruner, or
        ``None`` for no pruning.
    tpe_startup_trials
        Random trials before TPE models the results.
    study
        Name of the study in the storage.
    """

    bench: BenchConfig
    model: str = "mtc"
    seed: int = 0
    grid: dict[str, tuple[float, ...]] = field(default_factory=dict)
    search: tuple[Dimension, ...] = ()
    pruning: dict[str, int] | None = field(
        default_factory=lambda: {"startup_trials": 4, "warmup_epochs": 0}
    )
    tpe_startup_trials: int = 10
    study: str = "mtcsnn-sweep"

    @classmethod
    def from_dict(cls, data: Any) -> SweepConfig:
        """Validate a parsed sweep file.

        Raises
        ------
        ValueError
            With a one-line message naming the offending key.
        """
        if not isinstance(data, dict):
            raise ValueError("a sweep config must be a JSON object")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ValueError(
                f"unknown key {', '.join(map(repr, unknown))}; known: {', '.join(KEYS)}"
            )
        bench = data.get("bench", "quick")
        if isinstance(bench, str):
            if bench not in PRESETS:
                raise ValueError(
                    f"bench = {bench!r} is not a preset; known: {', '.join(PRESETS)}"
                )
            bench = PRESETS[bench]
        elif isinstance(bench, dict):
            bench = BenchConfig.from_dict(bench)
        else:
            raise ValueError("bench must be a preset name or a benchmark config")
        model = data.get("model", "mtc")
        if model not in NEURONS:
            raise ValueError(
                f"model = {model!r} is unknown; known: {', '.join(NEURONS)}"
            )
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed = {seed!r} must be an int >= 0")
        grid = _read_grid(data.get("grid", {}), model)
        search = _read_search(data.get("search", {}), model, grid)
        if not grid and not search:
            raise ValueError("nothing to search: give a grid, a search or both")
        pruning = _read_pruning(data.get("pruning", {}))
        startup = data.get("tpe_startup_trials", 10)
        if isinstance(startup, bool) or not isinstance(startup, int) or startup < 0:
            raise ValueError(f"tpe_startup_trials = {startup!r} must be an int >= 0")
        study = data.get("study", "mtcsnn-sweep")
        if not isinstance(study, str) or not study.strip():
            raise ValueError(f"study = {study!r} must be a non-empty name")
        config = cls(
            bench=dataclasses.replace(bench, models=(model,)),
            model=model,
            seed=seed,
            grid=grid,
            search=search,
            pruning=pruning,
            tpe_startup_trials=startup,
            study=study,
        )
        config._check_bounds()
        return config

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`from_dict` reads (with the benchmark written out)."""
        return {
            "bench": self.bench.to_dict(),
            "model": self.model,
            "seed": self.seed,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "search": {d.name: d.to_dict() for d in self.search},
            "pruning": None if self.pruning is None else dict(self.pruning),
            "tpe_startup_trials": self.tpe_startup_trials,
            "study": self.study,
        }

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Every grid and search value of one trial, ``{name: value}``.

        The grid ratios are asked for as floats over their values' range;
        :class:`mtcsnn.tuning.sampler.GridTPESampler` returns a grid value.
        """
        params = {}
        for name, values in self.grid.items():
            params[name] = trial.suggest_float(
                name, min(values), max(values), log=min(values) > 0
            )
        for dimension in self.search:
            params[dimension.name] = dimension.suggest(trial)
        return params

    def trial_config(self, params: dict[str, Any]) -> BenchConfig:
        """The benchmark configuration of one trial's values.

        Raises
        ------
        ValueError
            If the values make an invalid configuration.
        """
        bench = self.bench
        base = bench.neuron.get(self.model, NeuronConfig())
        changes = dict(base.params)
        window = base.input_window or EXCITABLE_WINDOW.get(self.model, (0.0, 1.0))
        centre, width = (window[0] + window[1]) / 2, window[1] - window[0]
        train_changes = {}
        network_changes = {}
        for name, value in params.items():
            if name in TRAIN_DIMENSIONS:
                train_changes[name] = value
            elif name in NETWORK_DIMENSIONS:
                network_changes[name] = value
            elif name == "input_centre":
                centre = float(value)
            elif name == "input_width":
                width = float(value)
            elif name not in RATIOS:
                changes[name] = float(value)
        if self.grid:
            defaults = neuron_params(self.model, {})
            tau_m = changes.get("tau_m", float(defaults.tau_m))
            tau_s = changes.get("tau_s", float(defaults.tau_s))
            if "tau_s/tau_m" in params:
                tau_s = float(params["tau_s/tau_m"]) * tau_m
                changes["tau_s"] = tau_s
            if "tau_us/tau_s" in params:
                changes["tau_us"] = float(params["tau_us/tau_s"]) * tau_s
        if width <= 0:
            raise ValueError(f"input_width = {width!r} must be > 0")
        neuron = dict(bench.neuron)
        neuron[self.model] = NeuronConfig(
            params=changes,
            input_window=(centre - width / 2, centre + width / 2),
        )
        return dataclasses.replace(
            bench,
            train=dataclasses.replace(bench.train, seed=self.seed, **train_changes),
            neuron=neuron,
            **network_changes,
        )

    def _check_bounds(self) -> None:
        """Build the configuration of every extreme value, one dimension at a time."""
        for name, values in self.grid.items():
            for value in values:
                try:
                    self.trial_config({name: value})
                except ValueError as err:
                    raise ValueError(f"grid.{name} = {value!r}: {err}") from None
        for dimension in self.search:
            for value in dimension.values_to_check():
                try:
                    self.trial_config({dimension.name: value})
                except ValueError as err:
                    raise ValueError(
                        f"search.{dimension.name} = {value!r}: {err}"
                    ) from None


def _read_grid(grid: Any, model: str) -> dict[str, tuple[float, ...]]:
    if not isinstance(grid, dict):
        raise ValueError(f"grid must be a mapping {{ratio: [values]}}, got {grid!r}")
    if grid and model != "mtc":
        raise ValueError(f"grid: the timescale ratios are MTC's, not {model!r}'s")
    out = {}
    for name, values in grid.items():
        if name not in RATIOS:
            raise ValueError(
                f"grid.{name} is not a timescale ratio; known: {', '.join(RATIOS)}"
            )
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid.{name} must be a non-empty list of numbers")
        checked = [_check_number(f"grid.{name}", v, float) for v in values]
        if min(checked) <= 0:
            raise ValueError(f"grid.{name} values must be > 0, got {min(checked)!r}")
        if len(set(checked)) != len(checked):
            raise ValueError(f"grid.{name} has repeated values")
        out[name] = tuple(sorted(checked))
    return {name: out[name] for name in RATIOS if name in out}


def _read_search(search: Any, model: str, grid: dict) -> tuple[Dimension, ...]:
    if not isinstance(search, dict):
        raise ValueError(f"search must be a mapping {{name: range}}, got {search!r}")
    fields = {
        f.name: float
        for f in dataclasses.fields(NEURONS[model].Params)
        if f.name != "dt"
    }
    known = {**fields, **TRAIN_DIMENSIONS, **NETWORK_DIMENSIONS, **INPUT_DIMENSIONS}
    derived = {"tau_s/tau_m": "tau_s", "tau_us/tau_s": "tau_us"}
    dimensions = []
    for name, spec in search.items():
        if name not in known:
            raise ValueError(
                f"search.{name} is not a setting of model {model!r}; known: "
                f"{', '.join(sorted(known))}"
            )
        for ratio, tau in derived.items():
            if name == tau and ratio in grid:
                raise ValueError(
                    f"search.{name} is set by the grid's {ratio}; search one or the "
                    "other"
                )
        dimensions.append(Dimension.from_dict(name, known[name], spec))
    return tuple(dimensions)


def _read_pruning(pruning: Any) -> dict[str, int] | None:
    if pruning is None:
        return None
    if not isinstance(pruning, dict):
        raise ValueError(
            "pruning must be {startup_trials, warmup_epochs} or null for none"
        )
    unknown = sorted(set(pruning) - {"startup_trials", "warmup_epochs"})
    if unknown:
        raise ValueError(
            f"pruning has no key {', '.join(map(repr, unknown))}; known: "
            "startup_trials, warmup_epochs"
        )
    out = {"startup_trials": 4, "warmup_epochs": 0}
    for key, value in pruning.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"pruning.{key} = {value!r} must be an int >= 0")
        out[key] = value
    return out


def load_sweep_config(path: Path) -> SweepConfig:
    """Read and validate a sweep file (see the module documentation).

    Raises
    ------
    ValueError
        If the file is not JSON or not a valid sweep; the message names the
        file and the offending key.
    """
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None
    try:
        return SweepConfig.from_dict(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


__all__ = ["RATIOS", "Dimension", "SweepConfig", "load_sweep_config"]
