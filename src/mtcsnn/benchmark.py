"""The Mackey-Glass forecasting benchmark: MTC against LIF and SE-AdLIF.

Every model gets the same data, task, network shape (input projection, hidden
spiking layers of equal size, linear readout, low-pass filter), loss,
optimiser and schedule; only the neuron type and which of its parameters are
trained differ (:data:`NEURON_SETTINGS`). Each model is trained once per seed
and scored on the test split, which is never used for any choice.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtcsnn.data.forecast import ForecastSplits, ForecastTask, make_forecast_task
from mtcsnn.io import atomic_write_text, write_json
from mtcsnn.models.filters import lowpass_coefficients
from mtcsnn.models.forecaster import Forecaster, check_window
from mtcsnn.neurons import NEURONS
from mtcsnn.training.loop import (
    MAX_SEED,
    EpochRecord,
    TrainConfig,
    evaluate,
    save_model,
    seed_everything,
    train,
)
from mtcsnn.validation import (
    ConfigError,
    build,
    check_float,
    check_int,
    check_mapping,
    short_repr,
)

log = logging.getLogger(__name__)

NEURON_SETTINGS: dict[str, dict[str, Any]] = {
    # Timescales for a once-per-time-unit signal; every neuron's four gains and
    # four offsets are trained, timescales stay as set.
    "mtc": {
        "params": "mackey_glass",
        "train": (
            "alpha_f",
            "alpha_sp",
            "alpha_sn",
            "alpha_us",
            "delta_f",
            "delta_sp",
            "delta_sn",
            "delta_us",
        ),
    },
    # As snnTorch's Leaky: a trained per-neuron decay.
    "lif": {"train": ("beta",)},
    # As SE-AdLIF: every neuron parameter trained.
    "adlif": {"train": "all"},
}
"""Neuron construction arguments per model name."""

METRICS = (
    "mse",
    "nrmse",
    "smape",
    "activation_sparsity",
    "event_rate",
    "synops_dense",
    "synops_effective_acs",
    "synops_effective_macs",
    "synops_effective",
)


MAX_FILTER_ORDER = 10
"""Highest readout filter order: beyond it the filter's transfer-function form
loses its stability to rounding at low cut-offs."""


@dataclass(frozen=True)
class NeuronConfig:
    """Changes to one model's neurons and input, on top of :data:`NEURON_SETTINGS`.

    Attributes
    ----------
    params
        Neuron parameters to set, ``{name: number}``, applied to the model's
        default parameters (the ``mackey_glass`` preset for MTC, the
        defaults for LIF, every SE-AdLIF neuron's own draw, whose named
        fields are then set to one value for all neurons). A trained
        parameter starts from the value given here.
    input_window
        ``[low, high]``: the range the input bias is drawn from (see
        :class:`mtcsnn.models.Forecaster`); ``None`` keeps the neuron type's
        excitable window.
    """

    params: dict[str, float] = field(default_factory=dict)
    input_window: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.params, dict):
            raise ValueError(
                f"NeuronConfig.params = {self.params!r} must be a mapping "
                "{name: number}"
            )
        for name, value in self.params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(
                    f"NeuronConfig.params.{name} = {value!r} must be a number"
                )
        if self.input_window is not None:
            object.__setattr__(self, "input_window", check_window(self.input_window))

    @classmethod
    def from_dict(cls, data: Any, key: str = "neuron") -> NeuronConfig:
        """From a mapping with the keys ``params`` and ``input_window``."""
        return build(cls, data, key)


def neuron_params(
    name: str, changes: dict[str, float], n_neurons: int | None = None
) -> Any:
    """The parameters of model ``name``'s neurons with ``changes`` applied.

    ``n_neurons`` matters to SE-AdLIF only, whose parameters are drawn per
    neuron (from torch's generator) before the changed fields are set; with
    ``None`` its defaults are changed instead, which validates ``changes``
    without drawing anything.

    Raises
    ------
    ValueError
        On an unknown parameter name or a value out of range.
    """
    if name not in NEURONS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(NEURONS)}")
    cls = NEURONS[name]
    base = NEURON_SETTINGS.get(name, {}).get("params")
    if isinstance(base, str):
        params = cls.Params.preset(base)
    elif base is not None:
        params = base
    elif name == "adlif" and n_neurons is not None:
        params = cls.Params.sample(n_neurons)
    else:
        params = cls.Params()
    if "dt" in changes:
        raise ValueError(f"{name}: dt is the sampling step of the task and stays 1")
    return params.replace(**{k: float(v) for k, v in changes.items()})


@dataclass(frozen=True)
class BenchConfig:
    """Everything that defines a benchmark run.

    Attributes
    ----------
    task
        How the series is cut (horizon, windows, splits).
    train
        Optimisation settings (its seed is replaced by each run's seed).
    n_hidden, n_layers
        Hidden layer width and depth, equal for all models (ints >= 1).
    cutoff, order
        Readout low-pass filter: cut-off in (0, 0.5) cycles per step, order
        in [1, 10]; the pair must give a stable filter.
    models
        Neuron types to compare: distinct names from :data:`NEURON_SETTINGS`.
    neuron
        Per model name, changes to its neuron parameters and input bias
        window (:class:`NeuronConfig`); models not named keep
        :data:`NEURON_SETTINGS`.
    """

    task: ForecastTask = field(default_factory=ForecastTask)
    train: TrainConfig = field(default_factory=TrainConfig)
    n_hidden: int = 64
    n_layers: int = 1
    cutoff: float = 0.1
    order: int = 4
    models: tuple[str, ...] = ("mtc", "lif", "adlif")
    neuron: dict[str, NeuronConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, cls in (("task", ForecastTask), ("train", TrainConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(
                    f"BenchConfig.{name}",
                    getattr(self, name),
                    f"a {cls.__name__}",
                    "has the wrong type",
                )
        check_int("BenchConfig.n_hidden", self.n_hidden, 1)
        check_int("BenchConfig.n_layers", self.n_layers, 1)
        check_int("BenchConfig.order", self.order, 1, MAX_FILTER_ORDER)
        cutoff = check_float(
            "BenchConfig.cutoff", self.cutoff, 0, 0.5, low_open=True, high_open=True
        )
        object.__setattr__(self, "cutoff", cutoff)
        _, a = lowpass_coefficients(cutoff, self.order)
        pole = float(np.abs(np.roots(a)).max())
        if pole >= 1:
            raise ConfigError(
                "BenchConfig.order",
                self.order,
                f"lower for a stable filter at cutoff = {cutoff:g} (its largest "
                f"pole has modulus {pole:.3f} >= 1)",
            )
        allowed = "a non-empty list of distinct names from " + ", ".join(NEURONS)
        models = self.models
        if not isinstance(models, (list, tuple)) or not all(
            isinstance(m, str) for m in models
        ):
            raise ConfigError(
                "BenchConfig.models", models, allowed, "has the wrong type"
            )
        if (
            not models
            or len(set(models)) != len(models)
            or not set(models) <= set(NEURONS)
        ):
            raise ConfigError("BenchConfig.models", models, allowed)
        object.__setattr__(self, "models", tuple(models))
        if not isinstance(self.neuron, dict):
            raise ConfigError(
                "BenchConfig.neuron",
                self.neuron,
                "a mapping {model: NeuronConfig}",
                "has the wrong type",
            )
        for name, override in self.neuron.items():
            if name not in NEURONS:
                raise ValueError(
                    f"BenchConfig.neuron: unknown model {short_repr(name)}; known: "
                    + ", ".join(NEURONS)
                )
            if not isinstance(override, NeuronConfig):
                raise ConfigError(
                    f"BenchConfig.neuron.{name}",
                    override,
                    "a NeuronConfig",
                    "has the wrong type",
                )
            try:
                # A layer of one neuron also checks that trained gains are > 0.
                NEURONS[name](
                    1,
                    neuron_params(name, override.params),
                    train=NEURON_SETTINGS.get(name, {}).get("train", ()),
                )
            except (ValueError, TypeError) as err:
                raise ValueError(f"BenchConfig.neuron.{name}.params: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, key: str = "") -> BenchConfig:
        """Build from a parsed JSON object; missing keys take the defaults.

        Raises
        ------
        ValueError
            With a one-line message naming the key (as a path in the file,
            under ``key``) and its allowed range, for an unknown key, a value
            of the wrong type or out of range.
        """
        fields = check_mapping(key, data, cls)
        prefix = f"{key}." if key else ""
        nested: dict[str, Any] = {
            name: build(sub, fields[name], prefix + name)
            for name, sub in (("task", ForecastTask), ("train", TrainConfig))
            if name in fields
        }
        if "neuron" in fields:
            neuron = fields["neuron"]
            if not isinstance(neuron, dict):
                raise ConfigError(
                    prefix + "neuron",
                    neuron,
                    "a JSON object {model: {params, input_window}}",
                    "has the wrong type",
                )
            nested["neuron"] = {
                name: NeuronConfig.from_dict(value, f"{prefix}neuron.{name}")
                for name, value in neuron.items()
            }
        return build(cls, fields, key, **nested)


PRESETS: dict[str, BenchConfig] = {
    # A few minutes on 2 CPU cores: short windows, small batch, one layer of 32.
    "quick": BenchConfig(
        task=ForecastTask(
            window=1000, warmup=300, train=4000, validation=2500, test=3000
        ),
        train=TrainConfig(epochs=150, batch_size=32, lr=5e-3, eval_every=50),
        n_hidden=32,
    ),
    # The published protocol: batch 128, 10,000 epochs, 64 neurons.
    "paper": BenchConfig(
        train=TrainConfig(epochs=10_000, batch_size=128, lr=3e-3, eval_every=250),
        n_hidden=64,
    ),
    # Seconds: for tests of the whole path.
    "smoke": BenchConfig(
        task=ForecastTask(
            horizon=20,
            window=120,
            warmup=40,
            discard=100,
            train=400,
            validation=200,
            test=200,
        ),
        train=TrainConfig(epochs=3, batch_size=4, eval_every=2),
        n_hidden=8,
    ),
}
"""Named benchmark configurations."""


def build_model(name: str, config: BenchConfig) -> Forecaster:
    """The network for neuron type ``name`` under ``config``."""
    if name not in NEURONS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(NEURONS)}")
    settings = dict(NEURON_SETTINGS.get(name, {}))
    override = config.neuron.get(name, NeuronConfig())
    if override.params:
        settings["params"] = neuron_params(name, override.params, config.n_hidden)
    return Forecaster(
        name,
        config.n_hidden,
        config.n_layers,
        neuron_kwargs=settings,
        cutoff=config.cutoff,
        order=config.order,
        input_window=override.input_window,
    )


@dataclass(frozen=True)
class RunSpec:
    """One model trained with one seed: what ``run.json`` of a run folder holds.

    Attributes
    ----------
    model
        Neuron type, a name from :data:`NEURON_SETTINGS`.
    seed
        Seed of the run, in ``[0, 2**32 - 1]``.
    bench
        The benchmark configuration (its ``train.seed`` is replaced by ``seed``).
    checkpoint_every
        Epochs between checkpoints (does not change the results).
    """

    model: str
    seed: int
    bench: BenchConfig
    checkpoint_every: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in NEURONS:
            raise ConfigError(
                "RunSpec.model", self.model, "one of " + ", ".join(NEURONS)
            )
        check_int("RunSpec.seed", self.seed, 0, MAX_SEED)
        check_int("RunSpec.checkpoint_every", self.checkpoint_every, 1)
        if not isinstance(self.bench, BenchConfig):
            raise ConfigError(
                "RunSpec.bench", self.bench, "a BenchConfig", "has the wrong type"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> RunSpec:
        """From a parsed JSON object, checked as :meth:`BenchConfig.from_dict`."""
        fields = check_mapping("", data, cls)
        if "bench" not in fields:
            raise ValueError("missing key 'bench' (the benchmark configuration)")
        return build(cls, fields, bench=BenchConfig.from_dict(fields["bench"], "bench"))


@dataclass(frozen=True)
class BenchSpec:
    """A whole benchmark: what ``bench.json`` of a benchmark folder holds.

    Attributes
    ----------
    config
        The benchmark configuration.
    seeds
        Each model is trained with seeds ``0 .. seeds - 1`` (int >= 1).
    checkpoint_every
        Epochs between checkpoints (does not change the results).
    """

    config: BenchConfig
    seeds: int = 1
    checkpoint_every: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.config, BenchConfig):
            raise ConfigError(
                "BenchSpec.config", self.config, "a BenchConfig", "has the wrong type"
            )
        check_int("BenchSpec.seeds", self.seeds, 1, MAX_SEED + 1)
        check_int("BenchSpec.checkpoint_every", self.checkpoint_every, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> BenchSpec:
        """From a parsed JSON object, checked as :meth:`BenchConfig.from_dict`."""
        fields = check_mapping("", data, cls)
        if "config" not in fields:
            raise ValueError("missing key 'config' (the benchmark configuration)")
        return build(
            cls, fields, config=BenchConfig.from_dict(fields["config"], "config")
        )


def run_folder(out: Path, name: str, seed: int) -> Path:
    """The folder of model ``name`` with ``seed`` inside benchmark folder ``out``."""
    return Path(out) / f"{name}_seed{seed}"


def run_finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run that trained to the end and was scored."""
    return (Path(run_dir) / "result.json").is_file()


def bench_finished(out: Path) -> bool:
    """Whether every run of the benchmark in ``out`` (see ``bench.json``) finished."""
    try:
        spec = load_bench(out)
    except (OSError, ValueError):
        return False
    return all(
        run_finished(run_folder(out, name, seed))
        for seed in range(spec.seeds)
        for name in spec.config.models
    )


def train_and_test(
    name: str,
    seed: int,
    config: BenchConfig,
    splits: ForecastSplits,
    run_dir: Path,
    *,
    callback: Callable[[EpochRecord], None] | None = None,
    resume: bool = False,
    checkpoint_every: int = 10,
    stop: Callable[[], bool] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and test one model with one seed in ``run_dir``.

    Writes ``run.json`` (the :class:`RunSpec`, first), ``epochs.csv``,
    ``checkpoint.pt`` (every ``checkpoint_every`` epochs and at the end),
    ``model.pt`` and ``result.json`` (the returned record, last). With
    ``resume`` the run continues from ``checkpoint.pt`` if there is one (a
    finished run is only scored again), after checking that ``run.json``
    describes the same run.

    Returns
    -------
    record, outputs
        The run's metrics, parameter counts, training time, epochs and
        skipped steps; and the trained ``model``, its test ``scores`` and
        training ``history``.
    """
    run_dir = Path(run_dir)
    spec = RunSpec(name, seed, config, checkpoint_every)
    if resume and (run_dir / "run.json").exists():
        saved = load_run(run_dir)
        if (saved.model, saved.seed, saved.bench) != (name, seed, config):
            raise ValueError(
                f"{run_dir / 'run.json'} describes another run (model "
                f"{saved.model}, seed {saved.seed}); not resuming it as {name} "
                f"seed {seed}"
            )
    write_json(run_dir / "run.json", spec.to_dict())
    seed_everything(seed)
    model = build_model(name, config)
    train_config = dataclasses.replace(config.train, seed=seed)
    description = {
        "model": name,
        "seed": seed,
        "bench": config.to_dict(),
        "neuron": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in NEURON_SETTINGS.get(name, {}).items()
        },
    }
    result = train(
        model,
        splits,
        train_config,
        log_csv=run_dir / "epochs.csv",
        callback=callback,
        checkpoint=run_dir / "checkpoint.pt",
        checkpoint_every=checkpoint_every,
        resume=resume,
        run_config=description,
        stop=stop,
    )
    scores = evaluate(model, splits, "test")
    save_model(run_dir / "model.pt", model, description)
    record = {
        "model": name,
        "seed": seed,
        **{k: scores[k] for k in METRICS},
        "parameters": sum(p.numel() for p in model.parameters()),
        "trained_parameters": sum(
            p.numel() for p in model.parameters() if p.requires_grad
        ),
        "train_seconds": result.seconds,
        "epochs": len(result.history),
        "skipped_steps": result.skipped_steps,
        "final_loss": result.history[-1].loss,
        "final_val_nrmse": result.history[-1].val_nrmse,
    }
    write_json(run_dir / "result.json", record)
    log.info(
        "%s seed %d: test NRMSE %.4f, sparsity %.3f",
        name,
        seed,
        record["nrmse"],
        record["activation_sparsity"],
    )
    return record, {"model": model, "scores": scores, "history": result.history}


def run_one(
    name: str,
    seed: int,
    config: BenchConfig,
    splits: ForecastSplits,
    out: Path,
    *,
    callback: Callable[[EpochRecord], None] | None = None,
    resume: bool = False,
    checkpoint_every: int = 10,
    stop: Callable[[], bool] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and test one model with one seed in ``out/NAME_seedSEED``.

    See :func:`train_and_test`, which this calls with that folder.
    """
    return train_and_test(
        name,
        seed,
        config,
        splits,
        run_folder(out, name, seed),
        callback=callback,
        resume=resume,
        checkpoint_every=checkpoint_every,
        stop=stop,
    )


def summarise(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean and standard deviation of every metric, per model."""
    summary: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["model"] for r in records):
        rows = [r for r in records if r["model"] == name]
        entry: dict[str, Any] = {"seeds": len(rows)}
        for key in (*METRICS, "parameters", "train_seconds"):
            values = [float(r[key]) for r in rows]
            entry[key] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
        summary[name] = entry
    return summary


def markdown_table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary as a Markdown table (mean ± standard deviation over seeds)."""
    columns = [
        ("nrmse", "test NRMSE", 4),
        ("mse", "test MSE", 4),
        ("smape", "sMAPE", 2),
        ("activation_sparsity", "act. sparsity", 3),
        ("event_rate", "events/neuron/step", 4),
        ("synops_effective", "eff. SynOps/step", 1),
        ("synops_effective_macs", "of which MACs", 1),
        ("synops_dense", "dense SynOps/step", 0),
        ("parameters", "parameters", 0),
    ]
    lines = [
        "| model | seeds | " + " | ".join(c[1] for c in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for name, entry in summary.items():
        cells = []
        for key, _, digits in columns:
            m, s = entry[key]["mean"], entry[key]["std"]
            cells.append(
                f"{m:.{digits}f}"
                if key in ("synops_dense", "parameters")
                else f"{m:.{digits}f} ± {s:.{digits}f}"
            )
        lines.append(f"| {name} | {entry['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run_benchmark(
    config: BenchConfig,
    out: Path,
    seeds: int = 1,
    *,
    callback: Callable[[str, int, EpochRecord], None] | None = None,
    figures: bool = True,
    resume: bool = False,
    checkpoint_every: int = 10,
    stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train every model of ``config`` with seeds ``0 .. seeds-1`` and report.

    Writes ``bench.json`` (the :class:`BenchSpec`, first), one run folder per
    model and seed (see :func:`train_and_test`), ``results.json`` (per model
    and seed: every metric, parameter count, training time, epochs and
    skipped steps; plus the summary and the configuration), ``results.md``
    and, if ``figures`` and matplotlib is installed, the figures
    ``forecasts.png``, ``activity.png``, ``sparsity.png`` and
    ``training.png``. Result files are written atomically after each run, so
    an interrupted benchmark keeps what it finished. With ``resume`` the
    benchmark in ``out`` continues: finished runs are loaded from their last
    checkpoint and scored again without training, the unfinished one goes on
    from its checkpoint; ``config`` and ``seeds`` must match ``bench.json``.
    """
    spec = BenchSpec(config, seeds, checkpoint_every)
    out = Path(out)
    if resume and (out / "bench.json").exists():
        saved = load_bench(out)
        if (saved.config, saved.seeds) != (config, seeds):
            raise ValueError(
                f"{out / 'bench.json'} describes another benchmark; not resuming it"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench.json", spec.to_dict())
    splits = make_forecast_task(config.task)
    records: list[dict[str, Any]] = []
    outputs: dict[str, dict[str, Any]] = {}
    for seed in range(seeds):
        for name in config.models:

            def report(rec: EpochRecord, name=name, seed=seed) -> None:
                if callback is not None:
                    callback(name, seed, rec)

            record, output = run_one(
                name,
                seed,
                config,
                splits,
                out,
                callback=report,
                resume=resume,
                checkpoint_every=checkpoint_every,
                stop=stop,
            )
            records.append(record)
            if seed == 0:
                outputs[name] = output
            summary = summarise(records)
            write_json(
                out / "results.json",
                {
                    "config": config.to_dict(),
                    "seeds": seeds,
                    "runs": records,
                    "summary": summary,
                },
            )
            atomic_write_text(out / "results.md", markdown_table(summary))
    if figures:
        _figures(out, outputs, splits, summarise(records))
    return {"runs": records, "summary": summarise(records)}


def _figures(out: Path, outputs, splits: ForecastSplits, summary) -> None:
    try:
        from mtcsnn import plotting

        plotting._pyplot()
    except ImportError:
        log.warning("matplotlib is not installed: no figures written")
        return
    plotting.save(
        plotting.plot_forecasts(
            {n: (o["scores"]["y_hat"], o["scores"]["y"]) for n, o in outputs.items()},
            warmup=splits.task.warmup,
        ),
        str(out / "forecasts.png"),
    )
    plotting.save(
        plotting.plot_training({n: o["history"] for n, o in outputs.items()}),
        str(out / "training.png"),
    )
    plotting.save(plotting.plot_sparsity(summary), str(out / "sparsity.png"))
    x, _ = splits.sequence("test")
    activity = {}
    for name, o in outputs.items():
        model = o["model"]
        window = x[: min(len(x), splits.task.warmup + 400)]
        window = window.to(next(model.parameters()).dtype)
        with torch.no_grad():
            current = model.encoder(window)
            trace = model.neurons[0].trace(current)
        activity[name] = trace
    plotting.save(plotting.plot_activity(activity), str(out / "activity.png"))


def read_json(path: Path) -> Any:
    """Parse a JSON file, refusing duplicate keys; errors are one-line ValueErrors."""
    path = Path(path)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in pairs:
            if key in data:
                raise ValueError(f"duplicate key {short_repr(key)}")
            data[key] = value
        return data

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except RecursionError:
        raise ValueError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError as err:
        first = (str(err).splitlines() or [""])[0]
        raise ValueError(f"{path}: not valid JSON: {first}") from None


def _from_file(path: Path, parse: Callable[[Any], Any]) -> Any:
    data = read_json(path)
    try:
        return parse(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def load_config(path: Path) -> BenchConfig:
    """A :class:`BenchConfig` from a JSON file.

    Unknown keys, values of the wrong type and values out of range are
    refused with a one-line :class:`ValueError` that names the file, the key
    and what it allows.
    """
    return _from_file(path, BenchConfig.from_dict)


def load_run(run_dir: Path) -> RunSpec:
    """The :class:`RunSpec` in ``run_dir/run.json``, checked as :func:`load_config`."""
    return _from_file(Path(run_dir) / "run.json", RunSpec.from_dict)


def load_bench(out: Path) -> BenchSpec:
    """The :class:`BenchSpec` in ``out/bench.json``, checked as :func:`load_config`."""
    return _from_file(Path(out) / "bench.json", BenchSpec.from_dict)
