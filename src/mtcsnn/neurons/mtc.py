r"""The Multi-Timescale Conductance (MTC) neuron.

Continuous time (Ribar & Sepulchre, IEEE TCAS-I 66(8), 2019; Fulleda-Garcia,
Soldado-Magraner & Margarit-Taulé, arXiv 2605.11835, 2026)::

    tau_x du_x/dt = u_m - u_x                          x in {f, s, us}
    I_f-  = -alpha_f  tanh(u_f  - delta_f)             fast negative
    I_s+  = +alpha_sp tanh(u_s  - delta_sp)            slow positive
    I_s-  = -alpha_sn tanh(u_s  - delta_sn)            slow negative
    I_us+ = +alpha_us tanh(u_us - delta_us)            ultra-slow positive
    tau_m du_m/dt = -(u_m - u_rest) + R I_in - R (I_f- + I_s+ + I_s- + I_us+)

The fast negative conductance makes the spike upstroke, the slow positive one
ends it, and the slow negative plus ultra-slow positive pair gives bursting and
adaptation. ``delta`` is a voltage offset and ``alpha >= 0`` a gain; a gain of
0 switches its element off.

Discrete time, explicit Euler with step ``dt`` (all states updated from their
values at step ``t``)::

    u_x[t+1] = u_x[t] + (dt / tau_x) (u_m[t] - u_x[t])
    u_m[t+1] = u_m[t] + (dt / tau_m) (-(u_m[t] - u_rest) + R I_in[t] - R I_sum[t])
    s[t+1]   = min(relu(u_m[t+1] - u_th) / (u_sat - u_th), 1)

Choices where the published description is silent:

* **Fast filter.** ``tau_f = 0`` (the default) makes it instantaneous,
  ``u_f = u_m``, as in Ribar & Sepulchre's circuit: the upstroke then needs no
  extra state, explicit Euler is stable at ``dt = 1`` and the spike count
  stays within about one spike of a fine-step solution. ``tau_f > 0`` gives a
  first-order filter; keep ``dt <= 0.2 tau_f`` there, since coarser steps
  over-count spikes by 20-30 %.
* **Transduction** ``s`` is the "semi-digital" output: exactly 0 below
  ``u_th``, a linear ramp up to ``u_sat``, 1 above. Defaults ``u_th = 0`` (the
  centre of the fast element) and ``u_sat = 1``.
* **Output timing.** ``s[t+1]`` is read off the membrane voltage after the
  update driven by ``I_in[t]``, so output ``t`` of a sequence already reacts to
  input ``t``.
* **Initial state.** ``u_m0`` and ``u_x0`` (all filters) default to Ribar &
  Sepulchre's -1.9 and -1.8; an instantaneous fast filter starts at ``u_m0``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from mtcsnn.neurons.base import (
    NeuronLayer,
    Positive,
    Value,
    as_tensor,
    check,
    replace_fields,
)

TIME_CONSTANTS = ("tau_m", "tau_f", "tau_s", "tau_us")
GAINS = ("alpha_f", "alpha_sp", "alpha_sn", "alpha_us")
OFFSETS = ("delta_f", "delta_sp", "delta_sn", "delta_us")


@dataclass(frozen=True)
class MTCParams:
    """Parameters of the MTC neuron; each a scalar or a per-neuron ``[N]`` tensor.

    Voltages are in the model's dimensionless units, times in the unit of
    ``dt`` (one step of a sampled signal in the networks of this library).
    Defaults are Ribar & Sepulchre's bursting neuron (preset ``reference``).

    Attributes
    ----------
    alpha_f, delta_f
        Gain (>= 0) and offset of the fast negative element.
    alpha_sp, delta_sp
        Slow positive element.
    alpha_sn, delta_sn
        Slow negative element.
    alpha_us, delta_us
        Ultra-slow positive element.
    tau_m
        Membrane time constant ``R C`` (> 0).
    tau_f
        Fast filter time constant; 0 makes the filter instantaneous.
    tau_s, tau_us
        Slow and ultra-slow filter time constants (> 0).
    R
        Membrane resistance (> 0).
    u_rest
        Resting voltage of the leak.
    u_th, u_sat
        Transduction threshold and saturation voltage, ``u_sat > u_th``.
    u_m0, u_x0
        Initial membrane voltage and initial filtered voltages.
    dt
        Euler step, a Python number; ``dt / tau <= 2`` for every time constant
        (explicit Euler diverges beyond).

    Raises
    ------
    ValueError
        On a non-finite value or one out of range; the message names the
        parameter, its value and the bound.
    """

    alpha_f: Value = 2.0
    delta_f: Value = 0.0
    alpha_sp: Value = 2.0
    delta_sp: Value = 0.0
    alpha_sn: Value = 1.5
    delta_sn: Value = -1.5
    alpha_us: Value = 1.5
    delta_us: Value = -1.5
    tau_m: Value = 1.0
    tau_f: Value = 0.0
    tau_s: Value = 50.0
    tau_us: Value = 2500.0
    R: Value = 1.0
    u_rest: Value = 0.0
    u_th: Value = 0.0
    u_sat: Value = 1.0
    u_m0: Value = -1.9
    u_x0: Value = -1.8
    dt: float = 1.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if isinstance(self.dt, Tensor) or isinstance(self.dt, bool):
            raise TypeError(f"{owner}.dt must be a Python number, got {self.dt!r}")
        check(owner, "dt", self.dt, low=0.0, low_open=True)
        for field in dataclasses.fields(self):
            check(owner, field.name, getattr(self, field.name))
        for name in GAINS:
            check(owner, name, getattr(self, name), low=0.0)
        check(owner, "R", self.R, low=0.0, low_open=True)
        for name in TIME_CONSTANTS:
            value = getattr(self, name)
            if name == "tau_f":
                tau_f = as_tensor(value)
                if bool((tau_f == 0).all()):
                    # Normalised so the step function can branch without a sync.
                    object.__setattr__(self, "tau_f", 0.0)
                    continue
                check(owner, name, value, low=0.0, low_open=True)
            else:
                check(owner, name, value, low=0.0, low_open=True)
            # dt / tau <= 2  <=>  tau >= dt / 2
            if not bool((as_tensor(value) >= self.dt / 2).all()):
                bad = as_tensor(value).min().item()
                raise ValueError(
                    f"{owner}.{name} = {bad!r} is out of range for dt = {self.dt:g}: "
                    f"explicit Euler diverges unless dt / {name} <= 2, "
                    f"i.e. {name} >= {self.dt / 2:g}"
                )
        gap = as_tensor(self.u_sat) - as_tensor(self.u_th)
        if not bool((gap > 0).all()):
            raise ValueError(
                f"{owner}.u_sat = {self.u_sat!r} is out of range: must be > "
                f"u_th = {self.u_th!r}"
            )

    @property
    def fast_instantaneous(self) -> bool:
        """True if the fast filter is instantaneous (``tau_f = 0``)."""
        return not isinstance(self.tau_f, Tensor) and self.tau_f == 0.0

    def replace(self, **changes: Value) -> MTCParams:
        """A copy with some parameters changed, validated like a new one."""
        return replace_fields(self, **changes)

    @classmethod
    def preset(cls, name: str, **changes: Value) -> MTCParams:
        """A named parameter set (see :data:`PRESETS`), optionally changed."""
        try:
            base = PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown MTC preset {name!r}; known: {', '.join(PRESETS)}"
            ) from None
        return base.replace(**changes) if changes else base


PRESETS: dict[str, MTCParams] = {
    # Ribar & Sepulchre's bursting neuron. Constant R I_in: silent <= -2.5,
    # bursting about -2..-1, tonic about -0.5..0.5, depolarisation block >= 1.
    "reference": MTCParams(),
    # Slow negative and ultra-slow elements off: tonic spiking for
    # -0.75 <= R I_in <= 0.75, no adaptation.
    "tonic": MTCParams(alpha_sn=0.0, alpha_us=0.0),
    # Faster slow timescales for signals sampled once per time unit (such as
    # Mackey-Glass, dominant period ~50 steps): spikes a few steps wide
    # instead of ~27, adaptation over hundreds of steps.
    "mackey_glass": MTCParams(tau_s=10.0, tau_us=300.0),
}
"""Named MTC parameter sets."""


class MTCState(NamedTuple):
    """State of a layer of MTC neurons, each field ``[B, N]``."""

    u_m: Tensor
    u_f: Tensor
    u_s: Tensor
    u_us: Tensor


class MTCTrace(NamedTuple):
    """Output and state of an MTC layer after every step, each ``[T, B, N]``."""

    s: Tensor
    u_m: Tensor
    u_f: Tensor
    u_s: Tensor
    u_us: Tensor


def transduction(u_m: Tensor, u_th: Value, u_sat: Value) -> Tensor:
    """Semi-digital output ``s = min(relu(u_m - u_th) / (u_sat - u_th), 1)``.

    Exactly 0 below ``u_th`` (sparse), a linear ramp on the upstroke where
    the gradient flows, exactly 1 from ``u_sat`` up. Shape of ``u_m``.
    """
    return torch.clamp((u_m - u_th) / (u_sat - u_th), 0.0, 1.0)


def fast_current(u_f: Tensor, p: MTCParams) -> Tensor:
    """Fast negative element ``I_f- = -alpha_f tanh(u_f - delta_f)``."""
    return -p.alpha_f * torch.tanh(u_f - p.delta_f)


def slow_current(u_s: Tensor, p: MTCParams) -> Tensor:
    """Slow pair ``I_s+ + I_s-``.

    ``alpha_sp tanh(u_s - delta_sp) - alpha_sn tanh(u_s - delta_sn)``.
    """
    return p.alpha_sp * torch.tanh(u_s - p.delta_sp) - p.alpha_sn * torch.tanh(
        u_s - p.delta_sn
    )


def ultraslow_current(u_us: Tensor, p: MTCParams) -> Tensor:
    """Ultra-slow positive element ``I_us+ = alpha_us tanh(u_us - delta_us)``."""
    return p.alpha_us * torch.tanh(u_us - p.delta_us)


def element_currents(u_f: Tensor, u_s: Tensor, u_us: Tensor, p: MTCParams) -> Tensor:
    """Sum of the four element currents ``I_f- + I_s+ + I_s- + I_us+``.

    Each argument is a (filtered) voltage of any broadcastable shape; the
    result, in units of current, enters the membrane equation as ``-R I_sum``.
    """
    return fast_current(u_f, p) + slow_current(u_s, p) + ultraslow_current(u_us, p)


def mtc_step(i_in: Tensor, state: MTCState, p: MTCParams) -> tuple[Tensor, MTCState]:
    """One explicit-Euler step of the MTC neuron.

    Parameters
    ----------
    i_in
        Input current ``I_in[t]``, ``[B, N]``.
    state
        ``(u_m, u_f, u_s, u_us)`` at step ``t``, each ``[B, N]``.
    p
        Parameters, scalars or ``[N]`` tensors.

    Returns
    -------
    s, state
        Transduced output ``s[t+1]`` and the state at ``t+1``, all ``[B, N]``.
    """
    u_m, u_f, u_s, u_us = state
    dt = p.dt
    u_f_now = u_m if p.fast_instantaneous else u_f

    i_sum = element_currents(u_f_now, u_s, u_us, p)

    u_s_next = u_s + (dt / p.tau_s) * (u_m - u_s)
    u_us_next = u_us + (dt / p.tau_us) * (u_m - u_us)
    u_m_next = u_m + (dt / p.tau_m) * (-(u_m - p.u_rest) + p.R * (i_in - i_sum))
    if p.fast_instantaneous:
        u_f_next = u_m_next
    else:
        u_f_next = u_f + (dt / p.tau_f) * (u_m - u_f)

    s = transduction(u_m_next, p.u_th, p.u_sat)
    return s, MTCState(u_m_next, u_f_next, u_s_next, u_us_next)


def _time_constant(name: str):
    def make(layer: NeuronLayer) -> Positive:
        # tau > dt / 2 keeps explicit Euler stable however training moves it.
        return Positive(layer.dt / 2)

    make.__name__ = f"constraint_{name}"
    return make


def _gain(layer: NeuronLayer) -> Positive:
    return Positive(0.0)


class MTC(NeuronLayer):
    """A layer of ``N`` MTC neurons over a sequence of input currents.

    Parameters
    ----------
    n_neurons
        Number of neurons ``N``.
    params
        An :class:`MTCParams` or the name of a preset (``"reference"``,
        ``"tonic"``, ``"mackey_glass"``).
    train
        Parameters to train, each per neuron: any of the gains ``alpha_*``
        (kept positive as ``exp(raw)``), offsets ``delta_*`` and ``u_rest``
        (free), time constants ``tau_m``, ``tau_s``, ``tau_us`` and, if the fast
        filter is not instantaneous, ``tau_f`` (kept above ``dt / 2`` as
        ``dt / 2 + exp(raw)``, where explicit Euler is stable), ``R`` (kept
        positive); or ``"all"``. The rest are buffers.
    batch_first
        Sequences ``[B, T, N]`` instead of ``[T, B, N]``.
    device, dtype
        Where and in which floating type the parameters are made.
    backend, checkpoint
        Implementation of the time loop and low-memory mode of fused
        backends (see :class:`~mtcsnn.neurons.base.NeuronLayer`).

    Examples
    --------
    >>> layer = MTC(64, "mackey_glass", train=("alpha_f", "delta_f"))
    >>> s = layer(torch.full((100, 8, 64), -1.5))        # [T, B, N] in [0, 1]
    >>> trace = layer.trace(torch.full((100, 8, 64), -1.5))
    >>> trace.u_m.shape
    torch.Size([100, 8, 64])

    Warning
    -------
    A gain that is 0 (a switched-off element) cannot be trained: its log
    parametrisation has no finite value there.
    """

    State = MTCState
    Trace = MTCTrace
    Params = MTCParams
    constraints = {
        **{name: _gain for name in GAINS},
        **{name: None for name in OFFSETS},
        **{name: _time_constant(name) for name in TIME_CONSTANTS},
        "R": _gain,
        "u_rest": None,
    }

    def __init__(
        self,
        n_neurons: int,
        params: MTCParams | str = "reference",
        *,
        train: tuple[str, ...] | list[str] | str = (),
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        backend: str = "auto",
        checkpoint: int | None = None,
    ) -> None:
        if isinstance(params, str):
            params = MTCParams.preset(params)
        if train == "all":
            # Every parameter that can be trained here: not a switched-off gain.
            names = tuple(
                n
                for n in self.constraints
                if n not in GAINS or bool((as_tensor(getattr(params, n)) > 0).all())
            )
        else:
            names = (train,) if isinstance(train, str) else tuple(train)
        if params.fast_instantaneous:
            if "tau_f" in names and train != "all":
                raise ValueError(
                    "MTC cannot train tau_f when the fast filter is instantaneous "
                    "(tau_f = 0); set tau_f > 0 to make it a trainable filter"
                )
            names = tuple(n for n in names if n != "tau_f")
        for name in names:
            if name in GAINS and not bool((as_tensor(getattr(params, name)) > 0).all()):
                raise ValueError(
                    f"MTC cannot train {name} = {getattr(params, name)!r}: a trained "
                    "gain must be > 0 (its parametrisation is exp(raw))"
                )
        self._instantaneous = params.fast_instantaneous
        super().__init__(
            n_neurons,
            params,
            train=names,
            batch_first=batch_first,
            device=device,
            dtype=dtype,
            backend=backend,
            checkpoint=checkpoint,
        )

    def is_static(self, name: str) -> bool:
        return super().is_static(name) or (name == "tau_f" and self._instantaneous)

    def initial_state(
        self,
        batch_size: int,
        *,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> MTCState:
        """Every neuron at ``u_m0`` with its filters at ``u_x0``; ``[B, N]`` each."""
        shape = (batch_size, self.n_neurons)
        kwargs = {
            "device": device or self.u_m0.device,
            "dtype": dtype or self.u_m0.dtype,
        }
        u_m = self.u_m0.detach().to(**kwargs).expand(shape).clone()
        u_x = self.u_x0.detach().to(**kwargs).expand(shape).clone()
        u_f = u_m.clone() if self._instantaneous else u_x.clone()
        return MTCState(u_m, u_f, u_x.clone(), u_x.clone())

    step = staticmethod(mtc_step)
    kernel = "mtc"


__all__ = [
    "MTC",
    "MTCParams",
    "MTCState",
    "MTCTrace",
    "PRESETS",
    "element_currents",
    "fast_current",
    "mtc_step",
    "slow_current",
    "transduction",
    "ultraslow_current",
]
