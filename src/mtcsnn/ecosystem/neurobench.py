r"""Run MTC, LIF and SE-AdLIF networks inside NeuroBench (version 2.3).

Two parts:

* **An adapter**, :class:`AutonomousForecaster`, that wraps a trained
  :class:`~mtcsnn.models.Forecaster` so that NeuroBench's own metrics see it:
  its synapses are the forecaster's ``nn.Linear`` modules, called as modules
  once per step, and each spiking layer is a :class:`StatefulNeuron` that
  returns one tensor and is registered with
  ``TorchModel.add_activation_module``. NeuroBench's ``ActivationSparsity``
  then counts the zeros of every hidden output, and its
  ``SynapticOperations`` the products of every linear layer.
* **Protocol B**, :func:`run_protocol_b`: NeuroBench's Mackey-Glass task.

Protocol B
----------
The series is MG17 (``beta = 0.2, gamma = 0.1, n = 10, tau = 17``) from this
library's generator (:mod:`mtcsnn.data.mackey_glass`), sampled every
``dt = 197 / 75`` time units (75 points per Lyapunov time of 197), with the
first :data:`DISCARD_POINTS` samples (about 1000 time units of transient from
the constant history) dropped, saved as the ``.npy`` file that NeuroBench's
``MackeyGlass`` class loads. NeuroBench's official series is a download,
which this library never does; results are therefore on a regenerated
series, and are labelled so. A user who has the official file passes it
instead (``series=``).

For each of :data:`REPEATS` repeats, NeuroBench's ``MackeyGlass`` is loaded
with ``start_offset = 37.5 r`` points (half a Lyapunov time later each; it
truncates the offset to an integer). Its first 750 points (plus the target of
the last, 751 values) are the training split, the next 750 one-step-ahead
pairs the test split, given to ``Benchmark`` as one batch ``[750, 1, 1]``.

* **Training** (:func:`one_step_splits`, then
  :func:`mtcsnn.training.train`): the training split is z-scored with its own
  mean and standard deviation; each optimiser step draws windows of
  ``window`` consecutive points; the target of input ``x[t]`` is ``x[t + 1]``
  (teacher forcing: the input is the true series, plus Gaussian noise of
  ``input_noise`` standard deviations, so the network learns to predict from
  the slightly wrong inputs its own predictions will be); the first
  ``warmup`` steps of each window are excluded from the loss. The loop's
  "validation" is the teacher-forced fit on the training split itself:
  NeuroBench has no validation split and no choice is made from it. By
  default one network is trained on the first repeat's training split and
  scored on every repeat (keeping that split's normalisation; every repeat
  is still primed on its own training points, and no test point of any
  repeat lies in the first training split); ``retrain=True`` trains a fresh
  one per repeat (as
  NeuroBench's LSTM and ESN baselines do), with seed ``seed + r``.
* **Warm-up** (:meth:`AutonomousForecaster.prime`): a spiking network's
  state (membranes, filtered voltages, adaptation, the readout filter) is its
  memory of the past, and a fresh state knows nothing. Before the test, the
  network runs teacher-forced over the repeat's 750 training inputs, and the
  state after the last of them is kept as the start of the test. The
  warm-up calls the layers' functions directly (``F.linear`` and the neuron
  layer's own ``trace``), not the hooked modules, so NeuroBench's metrics see
  only the test.
* **Test** (:meth:`AutonomousForecaster.forward`): one step at a time. The
  first step's input is the first test point, the true value; from then on
  the input is the network's previous prediction (autonomous prediction
  over 10 Lyapunov times, as NeuroBench's LSTM and ESN examples run). Every
  layer carries its state from step to step, and the readout low-pass filter
  advances with :meth:`~mtcsnn.models.LowPass.step`.
* **Scores**: NeuroBench's ``SMAPE`` (on the original scale), its
  ``ActivationSparsity`` and ``SynapticOperations`` (per test point, i.e.
  per step), ``Footprint`` (bytes of parameters and buffers; the primed
  start state is held in buffers, so it counts) and ``ConnectionSparsity``;
  beside them, this library's own metrics on the same run.

The published numbers beside ours (:data:`PUBLISHED`) were made on
NeuroBench's official series, with a model trained per repeat.

Warning
-------
NeuroBench 2.3 has traps, each guarded here:

* ``Benchmark.run`` catches every metric's exception, prints
  ``Error running ...`` and records 0.0 (a shape mismatch reads as a perfect
  sMAPE); :func:`run_benchmark` captures that output and raises.
* ``MackeyGlass(file_path=None)`` raises ``TypeError`` before its own
  generator is reached; this module always passes a file.
* Activation hooks see only registered module classes whose call returns one
  tensor; synaptic operations only ``nn.Linear`` (and convolution) modules
  called as modules.
* ``SynapticOperations`` decides accumulate (AC) or multiply-accumulate (MAC)
  per call of a layer: a call whose inputs are all in ``{-1, 0, 1}`` counts
  ACs, any graded input makes all of that call's operations MACs. This
  library's :func:`mtcsnn.metrics.synaptic_ops` decides per input element, so
  on MTC's graded output (ramp and plateau at 1 in one step) NeuroBench
  reports more MACs and fewer ACs; their sum, and the dense count, agree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import signal
from torch import Tensor, nn

from mtcsnn import metrics
from mtcsnn.benchmark import NEURON_SETTINGS
from mtcsnn.data.forecast import ForecastSplits, ForecastTask
from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass_cached
from mtcsnn.io import atomic_write_text, write_json
from mtcsnn.models.forecaster import Forecaster, Recording
from mtcsnn.neurons import NEURONS
from mtcsnn.neurons.base import NeuronLayer
from mtcsnn.neurons.mtc import MTCParams
from mtcsnn.training.loop import EpochRecord, TrainConfig, seed_everything, train

log = logging.getLogger(__name__)

LYAPUNOV_TIME = 197.0
"""Lyapunov time of MG17 used by NeuroBench, in time units."""
POINTS_PER_LYAPUNOV = 75
"""Samples per Lyapunov time: ``dt = 197 / 75`` time units."""
TRAIN_POINTS = 750
"""Training points (10 Lyapunov times)."""
TEST_POINTS = 750
"""Test points (10 Lyapunov times)."""
REPEATS = 30
"""Repeats, each starting half a Lyapunov time later."""
OFFSET_POINTS = 0.5 * POINTS_PER_LYAPUNOV
"""Start offset between repeats, in points (NeuroBench truncates to an int)."""
DISCARD_POINTS = 381
"""Samples dropped from the start of the series (about 1000 time units)."""
SERIES_POINTS = 3000
"""Length of the written series: enough for 30 repeats (2588 needed)."""

PUBLISHED: dict[str, float] = {"LSTM": 13.37, "ESN": 14.79}
"""Published sMAPE on NeuroBench's official MG17 series (tau = 17).

The LSTM's leaderboard value; a 2025 fix of its evaluation gives 14.35.
"""

SERIES_NAME = "mg_17.npy"
"""File name of the written series, as NeuroBench names its MG17 file."""


def require_neurobench() -> None:
    """Raise :class:`ImportError` with the install command if NeuroBench is absent."""
    try:
        import neurobench  # noqa: F401
        from neurobench.datasets import mackey_glass  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"NeuroBench is not installed ({err}); install the extra: "
            "pip install 'mtcsnn[neurobench]'"
        ) from err


# ----------------------------------------------------------------------------
# The series
# ----------------------------------------------------------------------------


def protocol_series(
    length: int = SERIES_POINTS, *, cache_dir: Path | str | None = None
) -> np.ndarray:
    """MG17 sampled every ``197 / 75`` time units after the transient, ``[length]``.

    The first :data:`DISCARD_POINTS` samples from the constant history
    ``x0 = 1.2`` are dropped.
    """
    params = MackeyGlass(step=LYAPUNOV_TIME / POINTS_PER_LYAPUNOV)
    series = mackey_glass_cached(length + DISCARD_POINTS, params, cache_dir=cache_dir)
    return series[DISCARD_POINTS:]


def write_series(path: Path, length: int = SERIES_POINTS) -> Path:
    """Write :func:`protocol_series` as the 1-d float64 ``.npy`` NeuroBench loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, protocol_series(length), allow_pickle=False)
    return path


def repeat_offset(repeat: int) -> float:
    """Start offset of repeat ``repeat``, in points (0, 37.5, 75, ...)."""
    return repeat * OFFSET_POINTS


def points_needed(repeats: int) -> int:
    """Series length that ``repeats`` repeats read: last offset + 1501 points."""
    return int(repeat_offset(repeats - 1)) + TRAIN_POINTS + TEST_POINTS + 1


def load_repeat(path: Path, repeat: int):
    """NeuroBench's ``MackeyGlass`` on ``path`` for one repeat (never downloads)."""
    require_neurobench()
    from neurobench.datasets import MackeyGlass as NeuroBenchMackeyGlass

    return NeuroBenchMackeyGlass(
        file_path=str(path),
        start_offset=repeat_offset(repeat),
        bin_window=1,
        download=False,
    )


# ----------------------------------------------------------------------------
# Training data: one step ahead, teacher forced
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OneStepSplits(ForecastSplits):
    """:class:`~mtcsnn.data.ForecastSplits` whose training inputs may carry noise.

    Attributes
    ----------
    input_noise
        Standard deviation (in units of the training split's standard
        deviation) of Gaussian noise added to the inputs of each training
        window, never to the targets: the network learns to predict the true
        next point from slightly wrong inputs, as it must when it runs on its
        own predictions. 0 gives plain teacher forcing.
    """

    input_noise: float = 0.0

    def sample_batch(
        self, batch_size: int, rng: np.random.Generator, *, dtype=torch.float32
    ) -> tuple[Tensor, Tensor]:
        """Training windows ``[W, B, 1]``: noisy inputs, clean next-point targets."""
        x, y = super().sample_batch(batch_size, rng, dtype=dtype)
        if self.input_noise > 0:
            noise = rng.standard_normal(tuple(x.shape)) * self.input_noise
            x = x + torch.as_tensor(noise, dtype=dtype)
        return x, y


def one_step_splits(
    series: np.ndarray, window: int, warmup: int, *, input_noise: float = 0.0
) -> OneStepSplits:
    """The training split, cut for one-step-ahead targets.

    Parameters
    ----------
    series
        The training values, ``[S]`` (751 in Protocol B: 750 inputs, the last
        also the target of the one before), original scale.
    window, warmup
        Training window length and its unscored start, in points.
    input_noise
        See :class:`OneStepSplits`.

    Returns
    -------
    OneStepSplits
        Horizon 1, z-scored with the series' own statistics. Validation and
        test are the training series too (the training loop monitors the
        teacher-forced fit there); the real test is NeuroBench's.
    """
    values = np.asarray(series, dtype=np.float64)
    if not (math.isfinite(input_noise) and input_noise >= 0):
        raise ValueError(f"input_noise = {input_noise!r} is out of range: must be >= 0")
    n = len(values)
    task = ForecastTask(
        horizon=1,
        window=window,
        warmup=warmup,
        discard=0,
        train=n,
        validation=n,
        test=n,
    )
    mean, std = float(values.mean()), float(values.std())
    z = (values - mean) / std
    return OneStepSplits(task, z, z, z, mean, std, float(input_noise))


# ----------------------------------------------------------------------------
# The adapter
# ----------------------------------------------------------------------------


class StatefulNeuron(nn.Module):
    """A neuron layer that carries its state from one call to the next.

    NeuroBench calls a model once per batch and hooks each activation module,
    so a layer run one step at a time must keep its state itself and return
    only its output. ``forward(i_in)`` runs ``layer.trace(i_in, state)`` from
    the stored state (a fresh one if none) and stores the final state.

    Parameters
    ----------
    layer
        Any :class:`~mtcsnn.neurons.base.NeuronLayer` (time-first).
    """

    def __init__(self, layer: NeuronLayer) -> None:
        super().__init__()
        self.layer = layer
        self.state: Any | None = None

    def forward(self, i_in: Tensor) -> Tensor:
        """Output ``[T, B, N]`` for the current ``[T, B, N]``, from the stored state.

        The state after the last step is stored for the next call.
        """
        trace = self.layer.trace(i_in, self.state)
        self.state = self.layer.final_state(trace)
        return trace.s

    def reset(self, state: Any | None = None) -> None:
        """Start the next call from ``state`` (a fresh state if ``None``)."""
        self.state = state


class AutonomousForecaster(nn.Module):
    """A trained forecaster as a NeuroBench model for one-step-ahead prediction.

    Parameters
    ----------
    net
        The trained network; its modules are shared, not copied.
    mean, std
        Normalisation of the training split: the network sees
        ``(x - mean) / std`` and its output ``y`` becomes ``y std + mean``.
    mode
        ``"autonomous"`` (after the first step, the input is the previous
        prediction) or ``"teacher_forced"`` (the input is always the batch).

    Notes
    -----
    ``forward`` takes NeuroBench's test batch ``[L, W, 1]`` (``W = 1``, the
    last point of each lookback window is the input) or ``[L, 1]`` and returns
    predictions ``[L, 1]`` in the batch's dtype, starting every call from the
    state set by :meth:`prime` (at rest before any priming). It runs without
    gradients. The inputs and outputs of every layer of the last call are
    kept in :attr:`last_recording` (time-first ``[L, 1, ...]``), for this
    library's own metrics.
    """

    def __init__(
        self, net: Forecaster, mean: float, std: float, *, mode: str = "autonomous"
    ) -> None:
        super().__init__()
        if mode not in ("autonomous", "teacher_forced"):
            raise ValueError(
                f"mode = {mode!r} is not known; known: autonomous, teacher_forced"
            )
        if not (math.isfinite(std) and std > 0):
            raise ValueError(f"std = {std!r} is out of range: must be > 0")
        self.mode = mode
        self.encoder = net.encoder
        self.projections = net.projections
        self.neurons = nn.ModuleList(StatefulNeuron(layer) for layer in net.neurons)
        self.readout = net.readout
        self.lowpass = net.lowpass
        reference = net.readout.weight
        kwargs = {"device": reference.device, "dtype": reference.dtype}
        self.register_buffer("mean", torch.tensor(float(mean), **kwargs))
        self.register_buffer("std", torch.tensor(float(std), **kwargs))
        # The primed start state lives in buffers, so Footprint counts it.
        self._state_names: list[list[str]] = []
        for k, layer in enumerate(net.neurons):
            names = []
            for name, value in zip(
                layer.State._fields, layer.initial_state(1, **kwargs), strict=True
            ):
                buffer = f"start_{k}_{name}"
                self.register_buffer(buffer, value.clone())
                names.append(buffer)
            self._state_names.append(names)
        one = torch.zeros(1, 1, **kwargs)
        self.register_buffer("start_lowpass", self.lowpass.initial_state(one))
        self.last_recording: Recording | None = None

    # -- state ----------------------------------------------------------------

    def start_state(self) -> list[Any]:
        """Copies of the start state of every neuron layer (``[1, N]`` fields)."""
        return [
            neuron.layer.State(*(getattr(self, b).clone() for b in names))
            for neuron, names in zip(self.neurons, self._state_names, strict=True)
        ]

    def _normalise(self, x: Tensor) -> Tensor:
        return (x.to(self.mean.dtype) - self.mean) / self.std

    @torch.no_grad()
    def prime(self, history: Tensor | np.ndarray) -> None:
        """Run teacher-forced over ``history`` and keep the final state as the start.

        Parameters
        ----------
        history
            The known series before the first test input, original scale,
            ``[L]`` (Protocol B: the 750 training inputs).

        The layers' functions are called directly, not the hooked modules, so
        a benchmark's metrics never count the warm-up.
        """
        x = torch.as_tensor(np.asarray(history), dtype=self.mean.dtype)
        if x.dim() != 1 or len(x) < 1:
            raise ValueError(
                f"history must be a 1-d series of >= 1 points, got {tuple(x.shape)}"
            )
        u = self._normalise(x)[:, None, None]
        current = F.linear(u, self.encoder.weight, self.encoder.bias)
        hidden = current  # replaced by each layer's output
        for k, neuron in enumerate(self.neurons):
            if k > 0:
                proj = self.projections[k - 1]
                current = F.linear(hidden, proj.weight, proj.bias)
            trace = neuron.layer.trace(current)
            for buffer, value in zip(
                self._state_names[k], neuron.layer.final_state(trace), strict=True
            ):
                getattr(self, buffer).copy_(value)
            hidden = trace.s
        r = F.linear(hidden, self.readout.weight, self.readout.bias)[:, 0, 0]
        b, a = self.lowpass.b, self.lowpass.a
        _, zf = signal.lfilter(
            b, a, r.double().cpu().numpy(), zi=np.zeros(self.lowpass.order)
        )
        self.start_lowpass.copy_(torch.as_tensor(zf).reshape(-1, 1, 1))

    # -- running --------------------------------------------------------------

    @torch.no_grad()
    def forward(self, batch: Tensor) -> Tensor:
        """Predictions ``[L, 1]`` of the next point for each of the ``L`` inputs."""
        if batch.dim() == 3:
            inputs = batch[:, -1, 0]
        elif batch.dim() == 2:
            inputs = batch[:, 0]
        else:
            raise ValueError(
                f"expected a batch [L, W, 1] or [L, 1], got {tuple(batch.shape)}"
            )
        for neuron, state in zip(self.neurons, self.start_state(), strict=True):
            neuron.reset(state)
        z = self.start_lowpass.clone()
        synapse_inputs: list[list[Tensor]] = [[] for _ in range(len(self.neurons) + 1)]
        hidden_out: list[list[Tensor]] = [[] for _ in self.neurons]
        predictions: list[Tensor] = []
        previous = None
        for t in range(len(inputs)):
            if self.mode == "autonomous" and previous is not None:
                x = previous
            else:
                x = inputs[t].to(self.mean.dtype)
            u = self._normalise(x).reshape(1, 1, 1)
            synapse_inputs[0].append(u)
            current = self.encoder(u)
            hidden = current  # replaced by each layer's output
            for k, neuron in enumerate(self.neurons):
                if k > 0:
                    synapse_inputs[k].append(hidden)
                    current = self.projections[k - 1](hidden)
                hidden = neuron(current)
                hidden_out[k].append(hidden)
            synapse_inputs[-1].append(hidden)
            r = self.readout(hidden)
            y, z = self.lowpass.step(r[0], z)
            previous = (y * self.std + self.mean).reshape(())
            predictions.append(previous)
        y_all = torch.stack(predictions)[:, None]
        self.last_recording = Recording(
            y_all[:, None],
            [torch.cat(s) for s in synapse_inputs],
            [torch.cat(h) for h in hidden_out],
        )
        return y_all.to(batch.dtype)

    def linear_layers(self) -> list[nn.Linear]:
        """Synapses in the order of :attr:`Recording.synapse_inputs`."""
        return [self.encoder, *self.projections, self.readout]

    def own_metrics(self, target: Tensor) -> dict[str, float]:
        """This library's metrics on the last call, against ``target`` ``[L, 1]``.

        Returns
        -------
        dict
            ``smape`` (original scale), ``activation_sparsity``,
            ``event_rate`` and the synaptic operations per step
            ``synops_dense``, ``synops_effective_acs``,
            ``synops_effective_macs``, ``synops_effective``.
        """
        rec = self.last_recording
        if rec is None:
            raise RuntimeError("own_metrics needs a forward call first")
        y_hat = rec.y[:, 0].to(torch.float64)
        ops = metrics.synaptic_ops(
            [lin.weight for lin in self.linear_layers()], rec.synapse_inputs
        )
        return {
            "smape": metrics.smape(y_hat, target.to(torch.float64)),
            "activation_sparsity": metrics.activation_sparsity(rec.hidden),
            "event_rate": metrics.event_rate(rec.hidden),
            "synops_dense": ops.dense,
            "synops_effective_acs": ops.effective_acs,
            "synops_effective_macs": ops.effective_macs,
            "synops_effective": ops.effective,
        }


# ----------------------------------------------------------------------------
# Running NeuroBench
# ----------------------------------------------------------------------------

STATIC_METRICS = ("Footprint", "ConnectionSparsity")
WORKLOAD_METRICS = ("SMAPE", "ActivationSparsity", "SynapticOperations")


class NeuroBenchError(RuntimeError):
    """NeuroBench reported a metric that failed (it would have recorded 0)."""


def neurobench_model(module: AutonomousForecaster):
    """Wrap ``module`` as NeuroBench's ``TorchModel`` with its neurons registered."""
    require_neurobench()
    from neurobench.models import TorchModel

    model = TorchModel(module)
    model.add_activation_module(StatefulNeuron)
    return model


def make_benchmark(module: AutonomousForecaster, loader):
    """NeuroBench's ``Benchmark`` of ``module`` on ``loader`` with the MG metrics."""
    require_neurobench()
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics import static, workload

    model = neurobench_model(module)
    static_metrics = [getattr(static, name) for name in STATIC_METRICS]
    workload_metrics = [getattr(workload, name) for name in WORKLOAD_METRICS]
    return Benchmark(model, loader, [], [], [static_metrics, workload_metrics])


def run_benchmark(benchmark) -> tuple[dict[str, Any], str]:
    """``benchmark.run()`` with its output captured; raise if a metric failed.

    Returns
    -------
    results, output
        NeuroBench's result dictionary and everything it printed.

    Raises
    ------
    NeuroBenchError
        If NeuroBench printed ``Error running`` (it records 0 for that metric
        and carries on), or a metric is missing or not finite.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        results = benchmark.run(quiet=False)
    output = out.getvalue()
    log.debug("NeuroBench printed: %s", output.strip())
    failed = [line for line in output.splitlines() if "Error running" in line]
    if failed:
        raise NeuroBenchError("; ".join(failed))
    for name in (*STATIC_METRICS, *WORKLOAD_METRICS):
        if name not in results:
            raise NeuroBenchError(f"NeuroBench returned no {name}")
    return results, output


def flatten_results(results: dict[str, Any]) -> dict[str, float]:
    """NeuroBench's results as flat numbers (``SynapticOperations`` split out)."""
    flat: dict[str, float] = {}
    for key, value in results.items():
        if isinstance(value, dict):
            for sub, number in value.items():
                flat[f"{key}.{sub}"] = float(number)
        else:
            flat[key] = float(value)
    return flat


# ----------------------------------------------------------------------------
# Protocol B
# ----------------------------------------------------------------------------


def _default_neurons() -> dict[str, dict[str, Any]]:
    return {
        "mtc": {
            **NEURON_SETTINGS["mtc"],
            "params": MTCParams.preset("mackey_glass", tau_s=5.0, tau_us=100.0),
        }
    }


@dataclass(frozen=True)
class ProtocolBConfig:
    """Network and training settings for Protocol B.

    Attributes
    ----------
    n_hidden, n_layers
        Hidden layer width and depth.
    cutoff, order
        Readout low-pass filter in cycles per step. At 75 points per Lyapunov
        time MG17 keeps 99.9 % of its power below about 0.22 cycles per step
        (its dominant period, ~19 points, is 0.053 cycles per step); a
        cut-off of 0.2 removes the spikes' fast fluctuations and delays the
        signal least among the values tried (0.2, 0.3, 0.45).
    window, warmup
        Training windows and their unscored start, in points.
    input_noise
        Noise on the training inputs (:class:`OneStepSplits`).
    train
        Optimisation settings (its seed is replaced by ``seed``, or
        ``seed + r`` for repeat ``r`` with ``retrain``).
    repeats
        Number of repeats (NeuroBench: 30).
    retrain
        Train a fresh network per repeat instead of once on the first
        repeat's training split.
    seed
        Seeds the network's initialisation and the training batches.
    neuron
        Neuron construction arguments, per model name; models not listed use
        :data:`mtcsnn.benchmark.NEURON_SETTINGS`. The default gives MTC the
        benchmark's trained gains and offsets with faster timescales for this
        sampling (one step is 2.63 time units): ``tau_s = 5`` and
        ``tau_us = 100`` steps, so the 300-step warm-up of a training window
        (and the 750-step warm-up before a test) settles every state.
    """

    n_hidden: int = 64
    n_layers: int = 1
    cutoff: float = 0.2
    order: int = 4
    window: int = 600
    warmup: int = 300
    input_noise: float = 0.05
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=1000, batch_size=32, lr=5e-3, eval_every=100
        )
    )
    repeats: int = REPEATS
    retrain: bool = False
    seed: int = 0
    neuron: dict[str, dict[str, Any]] = field(default_factory=_default_neurons)

    def __post_init__(self) -> None:
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int):
            raise ValueError(f"repeats = {self.repeats!r} must be an int")
        if not 1 <= self.repeats <= REPEATS:
            raise ValueError(
                f"repeats = {self.repeats} is out of range: must be in [1, {REPEATS}]"
            )
        if not 1 <= self.window <= TRAIN_POINTS:
            raise ValueError(
                f"window = {self.window} is out of range: must be in "
                f"[1, {TRAIN_POINTS}]"
            )

    def neuron_settings(self, name: str) -> dict[str, Any]:
        """Construction arguments of the neuron layers of model ``name``."""
        return dict(self.neuron.get(name, NEURON_SETTINGS.get(name, {})))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["neuron"] = {
            name: {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()}
            for name, s in data["neuron"].items()
        }
        return data


PRESETS: dict[str, ProtocolBConfig] = {
    # The default: 30 repeats, one network trained for 1000 steps.
    "default": ProtocolBConfig(),
    # Seconds: for tests of the whole path.
    "smoke": ProtocolBConfig(
        n_hidden=8,
        window=60,
        warmup=20,
        train=TrainConfig(epochs=2, batch_size=4, eval_every=2),
        repeats=2,
    ),
}
"""Named Protocol B configurations."""


def build_network(name: str, config: ProtocolBConfig) -> Forecaster:
    """The forecaster of neuron type ``name`` for Protocol B."""
    if name not in NEURONS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(NEURONS)}")
    return Forecaster(
        name,
        config.n_hidden,
        config.n_layers,
        neuron_kwargs=config.neuron_settings(name),
        cutoff=config.cutoff,
        order=config.order,
    )


def _summary(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    summary = {}
    for key in keys:
        values = [row[key] for row in rows if key in row]
        summary[key] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        }
    return summary


def run_protocol_b(
    name: str,
    out: Path,
    config: ProtocolBConfig | None = None,
    *,
    series: Path | None = None,
    callback: Callable[[int, EpochRecord], None] | None = None,
    repeat_callback: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train model ``name`` and score it with NeuroBench on every repeat.

    Parameters
    ----------
    name
        Neuron type: ``"mtc"``, ``"lif"`` or ``"adlif"``.
    out
        Output folder: ``results.json`` (NeuroBench's results and this
        library's metrics per repeat, their mean and standard deviation, the
        configuration and the series used), ``results.md`` (the table beside
        the published numbers), ``mg_17.npy`` (the regenerated series, unless
        ``series`` is given), ``epochs.csv`` and ``model.pt`` per trained
        network.
    config
        Settings (default :data:`PRESETS` ``["default"]``).
    series
        A Mackey-Glass ``.npy`` to use instead of the regenerated series
        (such as NeuroBench's official ``mg_17.npy``).
    callback
        Called with the repeat and each epoch's record while training.
    repeat_callback
        Called with the repeat and its results when it is scored.
    """
    require_neurobench()
    from torch.utils.data import DataLoader, Subset

    from mtcsnn.training.loop import save_model

    config = config or PRESETS["default"]
    if name not in NEURONS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(NEURONS)}")
    out.mkdir(parents=True, exist_ok=True)
    if series is None:
        series_path = write_series(out / SERIES_NAME)
        series_label = "regenerated"
    else:
        series_path = Path(series)
        series_label = str(series_path)
        length = len(np.load(series_path, allow_pickle=False))
        if length < points_needed(config.repeats):
            raise ValueError(
                f"series {series_path} has {length} points; {config.repeats} "
                f"repeats need {points_needed(config.repeats)}"
            )
    rows: list[dict[str, Any]] = []
    net = None
    splits = None
    for r in range(config.repeats):
        mg = load_repeat(series_path, r)
        values = mg.mackeyglass_soln[: mg.traintime_pts + 1, 0].numpy()
        if net is None or config.retrain:
            seed = config.seed + (r if config.retrain else 0)
            seed_everything(seed)
            net = build_network(name, config)
            splits = one_step_splits(
                values, config.window, config.warmup, input_noise=config.input_noise
            )
            run_dir = out / (f"{name}_repeat{r}" if config.retrain else name)

            def report(record: EpochRecord, r=r) -> None:
                if callback is not None:
                    callback(r, record)

            result = train(
                net,
                splits,
                dataclasses.replace(config.train, seed=seed),
                log_csv=run_dir / "epochs.csv",
                callback=report,
            )
            save_model(
                run_dir / "model.pt",
                net,
                {"model": name, "seed": seed, "protocol_b": config.to_dict()},
            )
            log.info(
                "%s trained in %.1f s: final loss %.4g",
                name,
                result.seconds,
                result.history[-1].loss,
            )
        module = AutonomousForecaster(net, splits.mean, splits.std)
        module.prime(values[: mg.traintime_pts])
        loader = DataLoader(
            Subset(mg, mg.ind_test), batch_size=mg.testtime_pts, shuffle=False
        )
        benchmark = make_benchmark(module, loader)
        try:
            results, _ = run_benchmark(benchmark)
        finally:
            benchmark.model.cleanup_hooks()
        target = mg.mackeyglass_soln[mg.ind_test + 1]
        row = {
            "repeat": r,
            "start_offset": repeat_offset(r),
            "neurobench": flatten_results(results),
            "mtcsnn": module.own_metrics(target),
        }
        rows.append(row)
        log.info(
            "%s repeat %d: sMAPE %.2f, activation sparsity %.3f",
            name,
            r,
            row["neurobench"]["SMAPE"],
            row["neurobench"]["ActivationSparsity"],
        )
        if repeat_callback is not None:
            repeat_callback(r, row)
        report_data = {
            "model": name,
            "series": series_label,
            "config": config.to_dict(),
            "repeats": rows,
            "neurobench": _summary([row["neurobench"] for row in rows]),
            "mtcsnn": _summary([row["mtcsnn"] for row in rows]),
            "published": PUBLISHED,
        }
        write_json(out / "results.json", report_data)
        atomic_write_text(out / "results.md", markdown_table([report_data]))
    return report_data


def markdown_table(reports: list[dict[str, Any]]) -> str:
    """Protocol B results beside the published LSTM and ESN sMAPE.

    ``reports`` are :func:`run_protocol_b` results (one per model); values are
    NeuroBench's, mean ± standard deviation over the repeats.
    """
    lines = [
        "| model | series | repeats | sMAPE | act. sparsity | eff. MACs/step "
        "| eff. ACs/step | dense SynOps/step | footprint (bytes) "
        "| conn. sparsity |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        s = report["neurobench"]
        series = "ours, regenerated" if report["series"] == "regenerated" else "given"

        def cell(key: str, digits: int, s=s) -> str:
            return f"{s[key]['mean']:.{digits}f} ± {s[key]['std']:.{digits}f}"

        lines.append(
            f"| {report['model']} | {series} | {len(report['repeats'])} "
            f"| {cell('SMAPE', 2)} | {cell('ActivationSparsity', 3)} "
            f"| {cell('SynapticOperations.Effective_MACs', 1)} "
            f"| {cell('SynapticOperations.Effective_ACs', 1)} "
            f"| {s['SynapticOperations.Dense']['mean']:.0f} "
            f"| {s['Footprint']['mean']:.0f} "
            f"| {s['ConnectionSparsity']['mean']:.3f} |"
        )
    for model, value in PUBLISHED.items():
        lines.append(
            f"| {model} (published) | NeuroBench official | 30 | {value:.2f} "
            "| — | — | — | — | — | — |"
        )
    return "\n".join(lines) + "\n"
