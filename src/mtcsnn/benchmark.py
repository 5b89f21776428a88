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

import torch

from mtcsnn.data.forecast import ForecastSplits, ForecastTask, make_forecast_task
from mtcsnn.io import atomic_write_text, write_json
from mtcsnn.models.filters import lowpass_coefficients
from mtcsnn.models.forecaster import Forecaster, check_window
from mtcsnn.neurons import NEURONS
from mtcsnn.training.loop import (
    EpochRecord,
    TrainConfig,
    evaluate,
    save_model,
    seed_everything,
    train,
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
    def from_dict(cls, data: dict[str, Any]) -> NeuronConfig:
        """From a mapping with the keys ``params`` and ``input_window``."""
        return cls(**_known_keys(cls, data))


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


def _known_keys(cls: type, data: Any) -> dict[str, Any]:
    """``data`` as a dict, if it is a mapping whose keys are fields of ``cls``."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} must be a mapping, got {data!r}")
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(
            f"{cls.__name__} has no field {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(known)}"
        )
    return dict(data)


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
        Hidden layer width and depth, equal for all models.
    cutoff, order
        Readout low-pass filter, cycles per step.
    models
        Neuron types to compare.
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
        for name in ("n_hidden", "n_layers", "order"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"BenchConfig.{name} = {value!r} is out of range: must be an "
                    "int >= 1"
                )
        if isinstance(self.cutoff, bool) or not isinstance(self.cutoff, (int, float)):
            raise ValueError(f"BenchConfig.cutoff = {self.cutoff!r} must be a number")
        try:
            lowpass_coefficients(self.cutoff, self.order)
        except ValueError as err:
            raise ValueError(f"BenchConfig.{err}") from None
        for name in (*self.models, *self.neuron):
            if name not in NEURONS:
                raise ValueError(
                    f"BenchConfig: unknown model {name!r}; known: {', '.join(NEURONS)}"
                )
        for name, override in self.neuron.items():
            if not isinstance(override, NeuronConfig):
                raise ValueError(
                    f"BenchConfig.neuron.{name} must be a NeuronConfig, got "
                    f"{override!r}"
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
    def from_dict(cls, data: dict[str, Any]) -> BenchConfig:
        """From the mapping :meth:`to_dict` writes; unknown keys are rejected."""
        data = _known_keys(cls, data)
        data["task"] = ForecastTask(**_known_keys(ForecastTask, data.get("task", {})))
        data["train"] = TrainConfig(**_known_keys(TrainConfig, data.get("train", {})))
        if "models" in data:
            if isinstance(data["models"], str) or not isinstance(
                data["models"], (list, tuple)
            ):
                raise ValueError(
                    f"BenchConfig.models = {data['models']!r} must be a list of names"
                )
            data["models"] = tuple(data["models"])
        if "neuron" in data:
            neuron = data["neuron"]
            if not isinstance(neuron, dict):
                raise ValueError(
                    f"BenchConfig.neuron = {neuron!r} must be a mapping "
                    "{model: {params, input_window}}"
                )
            data["neuron"] = {
                name: NeuronConfig.from_dict(value) for name, value in neuron.items()
            }
        return cls(**data)


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


def run_one(
    name: str,
    seed: int,
    config: BenchConfig,
    splits: ForecastSplits,
    out: Path,
    *,
    callback: Callable[[EpochRecord], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and test one model with one seed; return its results and outputs."""
    seed_everything(seed)
    model = build_model(name, config)
    train_config = dataclasses.replace(config.train, seed=seed)
    run_dir = out / f"{name}_seed{seed}"
    result = train(
        model, splits, train_config, log_csv=run_dir / "epochs.csv", callback=callback
    )
    scores = evaluate(model, splits, "test")
    save_model(
        run_dir / "model.pt",
        model,
        {
            "model": name,
            "seed": seed,
            "bench": config.to_dict(),
            "neuron": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in NEURON_SETTINGS.get(name, {}).items()
            },
            "neuron_changes": asdict(config.neuron.get(name, NeuronConfig())),
        },
    )
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
        "final_loss": result.history[-1].loss,
        "final_val_nrmse": result.history[-1].val_nrmse,
    }
    log.info(
        "%s seed %d: test NRMSE %.4f, sparsity %.3f",
        name,
        seed,
        record["nrmse"],
        record["activation_sparsity"],
    )
    return record, {"model": model, "scores": scores, "history": result.history}


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
) -> dict[str, Any]:
    """Train every model of ``config`` with seeds ``0 .. seeds-1`` and report.

    Writes ``results.json`` (per model and seed: every metric, parameter
    count, training time and epochs; plus the summary and the configuration),
    ``results.md`` and, if ``figures`` and matplotlib is installed, the
    figures ``forecasts.png``, ``activity.png``, ``sparsity.png`` and
    ``training.png``. Result files are written atomically after each run, so
    an interrupted benchmark keeps what it finished.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds = {seeds!r} is out of range: must be an int >= 1")
    out.mkdir(parents=True, exist_ok=True)
    splits = make_forecast_task(config.task)
    records: list[dict[str, Any]] = []
    outputs: dict[str, dict[str, Any]] = {}
    for seed in range(seeds):
        for name in config.models:

            def report(rec: EpochRecord, name=name, seed=seed) -> None:
                if callback is not None:
                    callback(name, seed, rec)

            record, output = run_one(name, seed, config, splits, out, callback=report)
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


def load_config(path: Path) -> BenchConfig:
    """A :class:`BenchConfig` from a JSON file (unknown keys are rejected).

    Raises
    ------
    ValueError
        If the file is not JSON or holds an invalid configuration.
    """
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None
    return BenchConfig.from_dict(data)
