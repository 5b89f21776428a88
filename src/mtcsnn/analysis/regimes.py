r"""Firing regimes of the MTC neuron: step protocol, classifier, presets, map.

A neuron's regime is read off its response to a current step: it rests at a
holding current ``hold``, then from ``t_on`` to ``t_end`` receives
``current``. The neuron starts at rest (every state at the lowest equilibrium
of the ultra-slow I-V curve at ``hold``, see
:func:`~mtcsnn.analysis.iv.resting_voltage`), so the response is that of a
settled neuron, not of an arbitrary initial state.

Classifier
----------
:func:`classify_regime` labels the spikes in the step window
``(t_on, t_end]`` (duration ``D``) with the first rule that holds:

1. **blocked** -- no spike in the last ``LATE_FRACTION`` of the window and a
   mean membrane voltage there above ``BLOCK_VOLTAGE``: stuck depolarised
   (needs the voltage trace);
2. **silent** -- no spike;
3. **phasic** -- every spike within ``ONSET_FRACTION * D`` of the onset, then
   silence;
4. **bursting** -- the spike train splits, at inter-spike intervals (ISIs)
   longer than ``BURST_GAP_FACTOR`` times the median ISI, into at least two
   bursts of ``MIN_BURST_SPIKES`` or more spikes; or into one such burst that
   ends on its own (the silence after it is also such a long gap);
5. **adapting** -- sustained firing whose ISIs lengthen: adaptation index
   above ``ADAPTATION_THRESHOLD``;
6. **tonic** -- any other sustained firing, including a single spike after
   the onset window (too few spikes to show a pattern).

The adaptation index compares the mean of the last quarter of the ISIs
(long gaps excluded) with the mean of the first quarter,
``A = (late - early) / (late + early)``: 0 for a regular train, > 0 when
firing slows. It is a global version of the usual mean of
``(ISI_{k+1} - ISI_k) / (ISI_{k+1} + ISI_k)``, chosen because adaptation
through the ultra-slow element spreads over tens of spikes, where each
consecutive change is small and the local mean is diluted by the steady
ISIs that follow.

Presets
-------
:data:`REGIME_PRESETS` holds one parameter set and step protocol per regime,
each checked (by the tests) to be labelled as its name says. Times are in
Euler steps (``dt = 1``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from mtcsnn.analysis.iv import resting_voltage
from mtcsnn.analysis.protocols import n_steps
from mtcsnn.analysis.spikes import spike_times
from mtcsnn.neurons.base import as_tensor
from mtcsnn.neurons.mtc import MTC, PRESETS, MTCParams

log = logging.getLogger(__name__)

REGIMES = ("silent", "tonic", "phasic", "bursting", "adapting", "blocked")
"""The labels of :func:`classify_regime`."""

ONSET_FRACTION = 0.2
"""Phasic: all spikes fall within this fraction of the step window."""

BURST_GAP_FACTOR = 3.0
"""An ISI longer than this many median ISIs separates two bursts."""

MIN_BURST_SPIKES = 2
"""Fewest spikes in a burst."""

ADAPTATION_THRESHOLD = 0.1
"""Adapting: adaptation index above this (late ISIs ~22 % longer than early)."""

LATE_FRACTION = 0.25
"""Depolarisation block is judged on this final fraction of the step window."""

BLOCK_VOLTAGE = 0.5
"""Blocked: mean ``u_m`` of the late window above this (voltage units).

Halfway up the transduction ramp for the default ``u_th = 0``, ``u_sat = 1``.
"""


# ----------------------------------------------------------------------------
# Step protocol and simulation
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepProtocol:
    """A current step from a holding level, applied to a neuron at rest.

    Attributes
    ----------
    hold
        Current before ``t_on``, where the neuron rests (``R I_in`` units).
    current
        Current from ``t_on`` to ``t_end``.
    t_on, t_end
        Step onset and end of the simulation, ``0 <= t_on < t_end`` (time
        units of ``dt``).
    """

    hold: float
    current: float
    t_on: float
    t_end: float

    def __post_init__(self) -> None:
        for name in ("hold", "current", "t_on", "t_end"):
            if not math.isfinite(getattr(self, name)):
                value = getattr(self, name)
                raise ValueError(f"StepProtocol.{name} = {value!r} is not finite")
        if not 0 <= self.t_on < self.t_end:
            raise ValueError(
                f"StepProtocol needs 0 <= t_on < t_end, got t_on = {self.t_on!r}, "
                f"t_end = {self.t_end!r}"
            )

    def input_current(self, dt: float, currents: ArrayLike | None = None) -> Tensor:
        """The input current, float64, ``[T]`` (``[T, B]`` for ``B`` step levels).

        ``T = round(t_end / dt)``; entry ``k`` drives the step from time
        ``k dt`` to ``(k + 1) dt``, and the step level applies from the first
        ``k dt >= t_on``. ``currents`` replaces ``current`` by ``B`` levels.
        """
        steps = n_steps(self.t_end, dt)
        on = (torch.arange(steps, dtype=torch.float64) * dt >= self.t_on)[:, None]
        if currents is None:
            levels = torch.tensor([self.current], dtype=torch.float64)
        else:
            levels = torch.as_tensor(np.asarray(currents, dtype=np.float64)).reshape(-1)
        hold = torch.tensor(self.hold, dtype=torch.float64)
        i_in = torch.where(on, levels[None, :], hold)
        return i_in[:, 0] if currents is None else i_in


def n_neurons(params: MTCParams) -> int:
    """Number of neurons ``N`` a parameter set describes (1 if all scalars)."""
    sizes = {
        as_tensor(getattr(params, f.name)).numel()
        for f in dataclasses.fields(params)
        if f.name != "dt"
    }
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"per-neuron parameters differ in length: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


class StepResponse(NamedTuple):
    """Membrane voltage under a step protocol.

    ``t`` is ``[T + 1]`` (time 0, the resting state, then after each step),
    ``i_in`` ``[T, B]`` and ``u_m`` ``[T + 1, B, N]`` for ``B`` step levels and
    ``N`` neurons.
    """

    t: np.ndarray
    i_in: np.ndarray
    u_m: np.ndarray


def simulate_step(
    params: MTCParams,
    protocol: StepProtocol,
    currents: ArrayLike | None = None,
) -> StepResponse:
    """Run MTC neurons at rest through a current step, all in one batched call.

    Parameters
    ----------
    params
        Parameters, scalars or per-neuron ``[N]`` tensors; ``u_m0`` and
        ``u_x0`` are replaced by each neuron's resting voltage at
        ``protocol.hold``.
    protocol
        Holding level, onset and duration.
    currents
        ``B`` step levels, one per batch entry (default: ``protocol.current``).

    Returns
    -------
    StepResponse
        Times, input and ``u_m`` ``[T + 1, B, N]``, float64.
    """
    n = n_neurons(params)
    rest = resting_voltage(params, protocol.hold)
    start = params.replace(u_m0=rest, u_x0=rest)
    i_in = protocol.input_current(params.dt, currents)
    if i_in.dim() == 1:
        i_in = i_in[:, None]
    layer = MTC(n, start, dtype=torch.float64)
    with torch.no_grad():
        state = layer.initial_state(i_in.shape[1])
        trace = layer.trace(i_in[:, :, None].expand(-1, -1, n), state)
    u_m = torch.cat([state.u_m[None], trace.u_m]).numpy()
    t = np.arange(u_m.shape[0]) * params.dt
    log.info(
        "simulated %d steps of %d neuron(s) x %d step level(s)",
        i_in.shape[0],
        n,
        i_in.shape[1],
    )
    return StepResponse(t, i_in.numpy(), u_m)


# ----------------------------------------------------------------------------
# Classifier
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegimeFeatures:
    """What :func:`classify_regime` measured; times in the unit of ``t``.

    Undefined values (an ISI statistic with fewer than two spikes, the block
    voltage without a trace) are NaN.

    Attributes
    ----------
    n_spikes
        Spikes in the step window ``(t_on, t_end]``.
    rate
        ``n_spikes / (t_end - t_on)``.
    latency
        First spike time minus ``t_on``.
    isi_mean, isi_median, isi_cv
        Mean, median and coefficient of variation (std / mean) of all ISIs.
    n_bursts
        Groups of at least ``MIN_BURST_SPIKES`` spikes between long gaps.
    longest_burst
        Spikes in the largest such group.
    ended
        The train stopped: the silence after the last spike is longer than
        ``BURST_GAP_FACTOR`` times the median ISI (needs two spikes).
    adaptation_index
        ``(late - early) / (late + early)`` over the ISIs without long gaps.
    onset_only
        Every spike within ``ONSET_FRACTION`` of the window from the onset.
    late_spikes
        Spikes in the last ``LATE_FRACTION`` of the window.
    late_mean_u_m
        Mean membrane voltage there.
    """

    n_spikes: int
    rate: float
    latency: float
    isi_mean: float
    isi_median: float
    isi_cv: float
    n_bursts: int
    longest_burst: int
    ended: bool
    adaptation_index: float
    onset_only: bool
    late_spikes: int
    late_mean_u_m: float

    def as_dict(self) -> dict[str, Any]:
        """The features as JSON-ready Python values (NaN becomes ``None``)."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float) and math.isnan(value):
                value = None
            out[field.name] = value
        return out


class Regime(NamedTuple):
    """A regime label (one of :data:`REGIMES`) and the features behind it."""

    label: str
    features: RegimeFeatures


def _adaptation_index(isis: np.ndarray) -> float:
    if isis.size < 2:
        return math.nan
    quarter = max(1, isis.size // 4)
    early, late = isis[:quarter].mean(), isis[-quarter:].mean()
    return float((late - early) / (late + early))


def regime_features(
    spikes: ArrayLike,
    *,
    t_on: float,
    t_end: float,
    t: ArrayLike | None = None,
    u_m: ArrayLike | None = None,
) -> RegimeFeatures:
    """Measure a spike train under a step input; see :func:`classify_regime`."""
    if not t_end > t_on:
        raise ValueError(f"need t_end > t_on, got t_on = {t_on!r}, t_end = {t_end!r}")
    all_spikes = np.asarray(spikes, dtype=np.float64).reshape(-1)
    s = np.sort(all_spikes[(all_spikes > t_on) & (all_spikes <= t_end)])
    duration = t_end - t_on
    late_start = t_end - LATE_FRACTION * duration

    late_mean = math.nan
    if u_m is not None:
        if t is None:
            raise ValueError("the voltage trace u_m needs its times t")
        t_arr = np.asarray(t, dtype=np.float64)
        u_arr = np.asarray(u_m, dtype=np.float64)
        if t_arr.shape != u_arr.shape or t_arr.ndim != 1:
            raise ValueError(
                f"t and u_m must be 1-d of equal length, got {t_arr.shape} and "
                f"{u_arr.shape}"
            )
        late = (t_arr > late_start) & (t_arr <= t_end)
        if late.any():
            late_mean = float(u_arr[late].mean())

    isis = np.diff(s)
    nan = math.nan
    isi_mean = float(isis.mean()) if isis.size else nan
    isi_median = float(np.median(isis)) if isis.size else nan
    isi_cv = float(isis.std() / isis.mean()) if isis.size else nan

    if isis.size:
        gap = isis > BURST_GAP_FACTOR * isi_median
        groups = np.split(s, np.nonzero(gap)[0] + 1)
        sizes = [g.size for g in groups if g.size >= MIN_BURST_SPIKES]
        ended = bool(t_end - s[-1] > BURST_GAP_FACTOR * isi_median)
        adaptation = _adaptation_index(isis[~gap])
    else:
        sizes, ended, adaptation = [], False, nan

    return RegimeFeatures(
        n_spikes=int(s.size),
        rate=float(s.size / duration),
        latency=float(s[0] - t_on) if s.size else nan,
        isi_mean=isi_mean,
        isi_median=isi_median,
        isi_cv=isi_cv,
        n_bursts=len(sizes),
        longest_burst=max(sizes, default=0),
        ended=ended,
        adaptation_index=adaptation,
        onset_only=bool(s.size and s[-1] - t_on <= ONSET_FRACTION * duration),
        late_spikes=int((s > late_start).sum()),
        late_mean_u_m=late_mean,
    )


def label_regime(f: RegimeFeatures) -> str:
    """The regime label of a set of features (rules in the module docstring)."""
    if f.late_spikes == 0 and f.late_mean_u_m > BLOCK_VOLTAGE:
        return "blocked"
    if f.n_spikes == 0:
        return "silent"
    if f.onset_only:
        return "phasic"
    if f.n_bursts >= 2 or (f.n_bursts == 1 and f.ended):
        return "bursting"
    if f.adaptation_index > ADAPTATION_THRESHOLD:
        return "adapting"
    return "tonic"


def classify_regime(
    spikes: ArrayLike,
    *,
    t_on: float,
    t_end: float,
    t: ArrayLike | None = None,
    u_m: ArrayLike | None = None,
) -> Regime:
    """Label the response of a neuron to a current step.

    Parameters
    ----------
    spikes
        Spike times ``[n_spikes]``; only those in ``(t_on, t_end]`` count.
    t_on, t_end
        Step onset and end of the observation.
    t, u_m
        Optional membrane voltage trace ``[T]`` at times ``[T]``; without it
        depolarisation block cannot be told from silence or phasic firing.

    Returns
    -------
    Regime
        ``label`` in :data:`REGIMES` and the :class:`RegimeFeatures` used.

    Examples
    --------
    >>> classify_regime([], t_on=0.0, t_end=100.0).label
    'silent'
    >>> classify_regime([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
    ...                 t_on=0.0, t_end=100.0).label
    'tonic'
    """
    features = regime_features(spikes, t_on=t_on, t_end=t_end, t=t, u_m=u_m)
    return Regime(label_regime(features), features)


def classify_response(
    response: StepResponse, protocol: StepProtocol, u_th: float | Tensor = 0.0
) -> list[list[Regime]]:
    """Classify every trace of a :func:`simulate_step` result.

    Spikes are the upward crossings of ``u_th`` (a number or per-neuron
    ``[N]``) by ``u_m``. Returns a nested list ``[B][N]`` of :class:`Regime`.
    A neuron that spikes before the onset was not at rest at the holding
    current; that is logged as a warning, since its label then describes the
    response of a neuron already firing.
    """
    _, n_batch, n_cells = response.u_m.shape
    thresholds = as_tensor(u_th).expand(n_cells).numpy()
    out = []
    for b in range(n_batch):
        row = []
        for j in range(n_cells):
            u = response.u_m[:, b, j]
            spikes = spike_times(response.t, u, float(thresholds[j]))
            early = int((spikes <= protocol.t_on).sum())
            if early:
                log.warning(
                    "trace (batch %d, neuron %d) spiked %d times at the holding "
                    "current %g: not at rest before the step",
                    b,
                    j,
                    early,
                    protocol.hold,
                )
            row.append(
                classify_regime(
                    spikes,
                    t_on=protocol.t_on,
                    t_end=protocol.t_end,
                    t=response.t,
                    u_m=u,
                )
            )
        out.append(row)
    return out


# ----------------------------------------------------------------------------
# Presets
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegimePreset:
    """A parameter set and the step protocol under which it shows its regime.

    Attributes
    ----------
    regime
        The label :func:`classify_regime` gives its response.
    params
        Neuron parameters (initial state aside: the neuron starts at rest).
    protocol
        The current step that shows the regime.
    description
        What the response looks like, and which element makes it.
    """

    regime: str
    params: MTCParams
    protocol: StepProtocol
    description: str

    def run(self) -> tuple[StepResponse, Regime]:
        """Simulate the protocol and classify the response."""
        response = simulate_step(self.params, self.protocol)
        (regime,) = classify_response(response, self.protocol, self.params.u_th)[0]
        return response, regime


_TONIC = PRESETS["tonic"]
_REFERENCE = PRESETS["reference"]

REGIME_PRESETS: dict[str, RegimePreset] = {
    "tonic": RegimePreset(
        "tonic",
        _TONIC,
        StepProtocol(hold=-2.0, current=0.0, t_on=200.0, t_end=1500.0),
        "Slow negative and ultra-slow elements off: regular spikes every ~52 "
        "steps for as long as the step lasts.",
    ),
    "phasic": RegimePreset(
        "phasic",
        _TONIC.replace(alpha_us=3.0, delta_us=-1.5, tau_us=500.0),
        StepProtocol(hold=-2.0, current=0.0, t_on=200.0, t_end=2000.0),
        "A strong ultra-slow positive element (gain 3) catches up with the step "
        "within a few spikes and silences the neuron: 3 spikes at the onset.",
    ),
    "bursting": RegimePreset(
        "bursting",
        _REFERENCE,
        StepProtocol(hold=-3.0, current=-1.5, t_on=200.0, t_end=6000.0),
        "Ribar & Sepulchre's neuron: the slow negative element makes bursts, "
        "the ultra-slow positive one ends them; bursts of ~9 spikes every ~1900 "
        "steps after a longer first one.",
    ),
    "adapting": RegimePreset(
        "adapting",
        _TONIC.replace(alpha_us=2.0, delta_us=-1.2, tau_us=500.0),
        StepProtocol(hold=-2.0, current=0.0, t_on=200.0, t_end=3500.0),
        "A weaker ultra-slow positive element (gain 2) slows firing without "
        "stopping it: intervals grow from ~49 to ~92 steps.",
    ),
    "silent": RegimePreset(
        "silent",
        _REFERENCE,
        StepProtocol(hold=-3.0, current=-2.7, t_on=200.0, t_end=1500.0),
        "Ribar & Sepulchre's neuron below its excitable window: the membrane "
        "depolarises but never reaches threshold.",
    ),
    "blocked": RegimePreset(
        "blocked",
        _REFERENCE,
        StepProtocol(hold=-3.0, current=1.5, t_on=200.0, t_end=1500.0),
        "Ribar & Sepulchre's neuron above its excitable window: one spike at "
        "the onset, then the membrane stays depolarised (u_m ~ 2) and silent.",
    ),
}
"""One preset per regime in :data:`REGIMES`, keyed by regime name."""


# ----------------------------------------------------------------------------
# Regime map
# ----------------------------------------------------------------------------


MAP_PROTOCOL = StepProtocol(hold=-3.5, current=0.0, t_on=200.0, t_end=6000.0)
"""Default protocol of :func:`regime_map` (its ``current`` is replaced)."""

MAP_CURRENTS = tuple(float(c) for c in np.linspace(-3.0, 1.5, 19))
"""Default step levels of :func:`regime_map`."""

MAP_VALUES = tuple(float(a) for a in np.linspace(0.0, 3.5, 15))
"""Default values of the swept parameter (``alpha_us``) of :func:`regime_map`."""


@dataclass(frozen=True)
class RegimeMap:
    """Regimes on a grid of step currents against values of one parameter.

    Attributes
    ----------
    parameter
        Name of the swept :class:`~mtcsnn.neurons.mtc.MTCParams` field.
    values
        Its values, ``[N]`` (rows).
    currents
        Step levels, ``[B]`` (columns).
    labels
        Regime labels, ``[N, B]`` strings.
    features
        The classifier's features, ``[N][B]``.
    protocol
        Holding level, onset and duration used (``current`` unused).
    """

    parameter: str
    values: np.ndarray
    currents: np.ndarray
    labels: np.ndarray
    features: list[list[RegimeFeatures]]
    protocol: StepProtocol

    def codes(self) -> np.ndarray:
        """Labels as indices into :data:`REGIMES`, ``[N, B]`` ints."""
        index = {name: k for k, name in enumerate(REGIMES)}
        return np.vectorize(index.__getitem__, otypes=[int])(self.labels)


def regime_map(
    params: MTCParams | None = None,
    *,
    parameter: str = "alpha_us",
    values: ArrayLike = MAP_VALUES,
    currents: ArrayLike = MAP_CURRENTS,
    protocol: StepProtocol = MAP_PROTOCOL,
) -> RegimeMap:
    """Classify the step response over a grid of currents and parameter values.

    All ``N x B`` neurons run in one batched simulation: the swept parameter
    becomes a per-neuron ``[N]`` tensor and each step level a batch entry.

    Parameters
    ----------
    params
        Base parameters (scalars); default Ribar & Sepulchre's neuron.
    parameter
        Field of :class:`~mtcsnn.neurons.mtc.MTCParams` to sweep.
    values
        Its values, ``[N]``.
    currents
        Step levels, ``[B]``.
    protocol
        Holding level, onset and duration; its ``current`` is replaced by
        ``currents``. The default holds at -3.5, where every default grid
        point rests, and runs 6000 steps (two ultra-slow time constants of
        the reference neuron, enough for two bursts).

    Returns
    -------
    RegimeMap
        Labels and features, ``[N, B]``.

    Notes
    -----
    The default grid (15 gains ``alpha_us`` in ``[0, 3.5]`` by 19 currents in
    ``[-3, 1.5]``, 285 neurons, 6000 steps, about 2 s on one CPU core) shows
    all six regimes of the reference neuron.
    """
    params = _REFERENCE if params is None else params
    names = {f.name for f in dataclasses.fields(params)}
    if parameter == "dt" or parameter not in names:
        raise ValueError(f"cannot sweep {parameter!r}: not a per-neuron parameter")
    if parameter in ("u_m0", "u_x0"):
        raise ValueError(
            f"cannot sweep {parameter!r}: every neuron starts at its resting voltage"
        )
    if n_neurons(params) != 1:
        raise ValueError("regime_map takes scalar base parameters")
    values_arr = np.asarray(values, dtype=np.float64).reshape(-1)
    currents_arr = np.asarray(currents, dtype=np.float64).reshape(-1)
    if values_arr.size == 0 or currents_arr.size == 0:
        raise ValueError("regime_map needs at least one value and one current")
    swept = params.replace(**{parameter: torch.from_numpy(values_arr.copy())})
    response = simulate_step(swept, protocol, currents_arr)
    regimes = classify_response(response, protocol, swept.u_th)
    labels = np.array([[r.label for r in row] for row in regimes]).T
    features = [
        [regimes[b][j].features for b in range(currents_arr.size)]
        for j in range(values_arr.size)
    ]
    log.info(
        "regime map over %s (%d values) x current (%d levels): %s",
        parameter,
        values_arr.size,
        currents_arr.size,
        {name: int((labels == name).sum()) for name in REGIMES},
    )
    return RegimeMap(parameter, values_arr, currents_arr, labels, features, protocol)
