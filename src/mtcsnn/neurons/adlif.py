r"""The adaptive LIF neuron with symplectic-Euler discretisation (SE-AdLIF).

This is the adaptive baseline of Baronig, Ferrand, Sabathiel & Legenstein,
"Advancing spatio-temporal processing in spiking neural networks through
adaptation" (Nature Communications, 2025; arXiv 2408.07517), in its
feed-forward form (no recurrent weights). With the decays
``a_u = exp(-dt / tau_u)`` and ``a_w = exp(-dt / tau_w)``, one step is::

    u'   = a_u u[t-1] + (1 - a_u) (I_in[t] - w[t-1])
    z[t] = H(u' - threshold)                           SLAYER surrogate
    u[t] = u' (1 - z[t])                               reset to 0, z detached
    w[t] = a_w w[t-1] + (1 - a_w) q (a u[t] + b_w z[t])

The adaptation ``w`` is updated from the *new* membrane and spike (the
symplectic-Euler step, which keeps the oscillatory sub-threshold dynamics
stable); the membrane reset stops the gradient through ``z``, while the
spike-triggered adaptation ``b_w z[t]`` lets it through. ``H(x)`` is 1 for
``x > 0``; its surrogate derivative is ``(c alpha / 2) exp(-alpha |x|)`` with
``alpha = 5``, ``c = 0.4`` (:mod:`mtcsnn.neurons.surrogate`). ``I_in`` is the
full input current ``W x + b``: the bias belongs to the input projection.

Training, as published:

* ``tau_u`` in ``[5, 25]`` and ``tau_w`` in ``[60, 300]`` (in steps of
  ``dt``) are trained through the weight ``w_tau`` of the interpolation
  ``tau = w_tau tau_max + (1 - w_tau) tau_min``; ``w_tau`` is clamped to
  ``[0, 1]`` by :meth:`AdLIF.apply_constraints`.
* ``a`` in ``[0, 1]`` and ``b_w`` in ``[0, 2]`` are trained directly and
  clamped into their ranges by :meth:`AdLIF.apply_constraints`.

The training loop must call ``layer.apply_constraints()`` (or the same method
of every layer) after each ``optimizer.step()``.

Choices where the published description leaves room:

* **q = 120** by default. The authors use 120 on every classification task
  (SHD, SSC, BSD, ECG) and 228 on their recurrent oscillator-regression task;
  with ``tau_w`` in ``[60, 300]``, ``(1 - a_w) q`` lies in about ``[0.4, 2]``,
  so the adaptation current stays of the order of the input current. It is a
  parameter (:attr:`AdLIFParams.q`) for tasks that want the other value.
* **Initialisation.** :class:`AdLIF` without explicit parameters draws them
  per neuron as the authors' code does: ``w_tau ~ U[0, 1]`` for both time
  constants, ``a ~ U[0, 1]``, ``b_w ~ U[0, 2]`` (see
  :meth:`AdLIFParams.sample`). The dataclass defaults are the mid-points.
* **State** ``u`` reported by :meth:`~mtcsnn.neurons.base.NeuronLayer.trace`
  is the membrane after the reset; the initial state is ``u = w = 0``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from mtcsnn.neurons.base import (
    Interpolation,
    NeuronLayer,
    Value,
    check,
    check_number,
    replace_fields,
)
from mtcsnn.neurons.surrogate import slayer_spike

A_RANGE = (0.0, 1.0)
"""Range of the sub-threshold coupling ``a``."""
B_W_RANGE = (0.0, 2.0)
"""Range of the spike-triggered adaptation ``b_w``."""
STATIC = (
    "q",
    "tau_u_min",
    "tau_u_max",
    "tau_w_min",
    "tau_w_max",
    "surrogate_alpha",
    "surrogate_c",
    "dt",
)


@dataclass(frozen=True)
class AdLIFParams:
    """Parameters of SE-AdLIF; the first five scalars or per-neuron ``[N]``.

    Times are in the unit of ``dt`` (one step of a sampled signal in the
    networks of this library); voltages and currents are dimensionless.

    Attributes
    ----------
    tau_u
        Membrane time constant, in ``[tau_u_min, tau_u_max]``.
    tau_w
        Adaptation time constant, in ``[tau_w_min, tau_w_max]``.
    a
        Sub-threshold coupling of the membrane into the adaptation, in
        ``[0, 1]``.
    b_w
        Spike-triggered adaptation, in ``[0, 2]``.
    threshold
        Firing threshold (> 0); the membrane resets to 0.
    q
        Scale of the adaptation drive (> 0), a Python number; default 120.
    tau_u_min, tau_u_max, tau_w_min, tau_w_max
        Ranges of the time constants (Python numbers, ``0 < min < max``),
        kept while training; defaults ``[5, 25]`` and ``[60, 300]``.
    surrogate_alpha, surrogate_c
        Width and scale of the SLAYER surrogate (Python numbers > 0).
    dt
        Step (Python number > 0).

    Raises
    ------
    ValueError
        On a non-finite value or one out of range; the message names the
        parameter, its value and the bound.
    """

    tau_u: Value = 15.0
    tau_w: Value = 180.0
    a: Value = 0.5
    b_w: Value = 1.0
    threshold: Value = 1.0
    q: float = 120.0
    tau_u_min: float = 5.0
    tau_u_max: float = 25.0
    tau_w_min: float = 60.0
    tau_w_max: float = 300.0
    surrogate_alpha: float = 5.0
    surrogate_c: float = 0.4
    dt: float = 1.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in STATIC:
            check_number(owner, name, getattr(self, name), low=0.0, low_open=True)
        for tau in ("tau_u", "tau_w"):
            low = getattr(self, f"{tau}_min")
            high = getattr(self, f"{tau}_max")
            if not high > low:
                raise ValueError(
                    f"{owner}.{tau}_max = {high!r} is out of range: must be > "
                    f"{tau}_min = {low!r}"
                )
            check(owner, tau, getattr(self, tau), low=low, high=high)
        check(owner, "a", self.a, low=A_RANGE[0], high=A_RANGE[1])
        check(owner, "b_w", self.b_w, low=B_W_RANGE[0], high=B_W_RANGE[1])
        check(owner, "threshold", self.threshold, low=0.0, low_open=True)

    def replace(self, **changes: Value) -> AdLIFParams:
        """A copy with some parameters changed, validated like a new one."""
        return replace_fields(self, **changes)

    @classmethod
    def sample(
        cls,
        n_neurons: int,
        *,
        generator: torch.Generator | None = None,
        **changes: Value,
    ) -> AdLIFParams:
        """Per-neuron parameters drawn as in Baronig et al.'s code.

        ``tau = w_tau tau_max + (1 - w_tau) tau_min`` with ``w_tau ~ U[0, 1]``
        for ``tau_u`` and ``tau_w``, ``a ~ U[0, 1]``, ``b_w ~ U[0, 2]``, each
        an ``[n_neurons]`` float64 tensor drawn from ``generator`` (torch's
        global generator if ``None``). ``changes`` set any other field, or
        replace a drawn one.
        """
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}

        def bound(name: str) -> float:
            return float(changes.get(name, defaults[name]))

        draws = torch.rand(4, n_neurons, generator=generator, dtype=torch.float64)
        w_u, w_w, unit_a, unit_b = draws
        drawn = {
            "tau_u": w_u * bound("tau_u_max") + (1 - w_u) * bound("tau_u_min"),
            "tau_w": w_w * bound("tau_w_max") + (1 - w_w) * bound("tau_w_min"),
            "a": A_RANGE[0] + (A_RANGE[1] - A_RANGE[0]) * unit_a,
            "b_w": B_W_RANGE[0] + (B_W_RANGE[1] - B_W_RANGE[0]) * unit_b,
        }
        return cls(**{**drawn, **changes})


class AdLIFState(NamedTuple):
    """State of a layer of SE-AdLIF neurons, each field ``[B, N]``.

    ``u`` is the membrane after the reset, ``w`` the adaptation current.
    """

    u: Tensor
    w: Tensor


class AdLIFTrace(NamedTuple):
    """Spikes and state after every step, each ``[T, B, N]``."""

    s: Tensor
    u: Tensor
    w: Tensor


def decay(tau: Value, dt: float) -> Value:
    """Exact decay per step ``exp(-dt / tau)`` of a first-order system."""
    if isinstance(tau, Tensor):
        return torch.exp(-dt / tau)
    return math.exp(-dt / tau)


def adlif_step(
    i_in: Tensor, state: AdLIFState, p: AdLIFParams
) -> tuple[Tensor, AdLIFState]:
    """One symplectic-Euler step of SE-AdLIF.

    Parameters
    ----------
    i_in
        Input current ``I_in[t]``, ``[B, N]``.
    state
        ``(u, w)`` at step ``t - 1``, each ``[B, N]``.
    p
        Parameters, scalars or ``[N]`` tensors.

    Returns
    -------
    s, state
        Spikes ``z[t]`` (0 or 1) and the state ``(u[t], w[t])``, all ``[B, N]``.
    """
    u, w = state
    a_u = decay(p.tau_u, p.dt)
    a_w = decay(p.tau_w, p.dt)

    u_next = a_u * u + (1.0 - a_u) * (i_in - w)

    z = slayer_spike(u_next - p.threshold, p.surrogate_alpha, p.surrogate_c)
    u_next = u_next * (1.0 - z.detach())

    # Symplectic Euler: the adaptation sees the new (reset) membrane and spike.
    w_next = a_w * w + (1.0 - a_w) * (p.a * u_next + p.b_w * z) * p.q
    return z, AdLIFState(u_next, w_next)


def _time_constant(name: str):
    def make(layer: NeuronLayer) -> Interpolation:
        static = layer._static
        return Interpolation(static[f"{name}_min"], static[f"{name}_max"])

    make.__name__ = f"constraint_{name}"
    return make


class AdLIF(NeuronLayer):
    """A layer of ``N`` feed-forward SE-AdLIF neurons over a sequence of currents.

    Parameters
    ----------
    n_neurons
        Number of neurons ``N``.
    params
        An :class:`AdLIFParams`; if ``None``, per-neuron values drawn by
        :meth:`AdLIFParams.sample` from torch's global generator (seed it with
        :func:`torch.manual_seed` for reproducible layers).
    train
        Parameters to train, each per neuron: ``tau_u``, ``tau_w`` (through
        their interpolation weight), ``a``, ``b_w``, or ``"all"`` for these
        four, as published. The rest are buffers.
    batch_first
        Sequences ``[B, T, N]`` instead of ``[T, B, N]``.
    device, dtype
        Where and in which floating type the parameters are made.
    backend, checkpoint
        Implementation of the time loop and low-memory mode of fused
        backends (see :class:`~mtcsnn.neurons.base.NeuronLayer`).

    Examples
    --------
    >>> layer = AdLIF(64, train="all")
    >>> optimizer = torch.optim.Adam(layer.parameters(), lr=1e-2)
    >>> loss = layer(torch.rand(100, 8, 64)).mean()     # spikes [T, B, N]
    >>> loss.backward()
    >>> optimizer.step()
    >>> layer.apply_constraints()                        # after every step
    """

    State = AdLIFState
    Trace = AdLIFTrace
    Params = AdLIFParams
    constraints = {
        "tau_u": _time_constant("tau_u"),
        "tau_w": _time_constant("tau_w"),
        "a": None,
        "b_w": None,
    }
    static_fields = STATIC
    #: Parameters trained directly and clamped after every optimiser step.
    clamped = {"a": A_RANGE, "b_w": B_W_RANGE}

    def __init__(
        self,
        n_neurons: int,
        params: AdLIFParams | None = None,
        *,
        train: tuple[str, ...] | list[str] | str = (),
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        backend: str = "auto",
        checkpoint: int | None = None,
    ) -> None:
        super().__init__(
            n_neurons,
            AdLIFParams.sample(n_neurons) if params is None else params,
            train=train,
            batch_first=batch_first,
            device=device,
            dtype=dtype,
            backend=backend,
            checkpoint=checkpoint,
        )

    def apply_constraints(self) -> None:
        """Clamp the trained parameters into their ranges; call after each step.

        The interpolation weights of ``tau_u`` and ``tau_w`` go to ``[0, 1]``
        (so each time constant to its range), ``a`` to ``[0, 1]`` and ``b_w``
        to ``[0, 2]``.
        """
        with torch.no_grad():
            for name in self.trained:
                if name in self.clamped:
                    low, high = self.clamped[name]
                    getattr(self, name).clamp_(low, high)
                else:
                    self.parametrizations[name].original.clamp_(0.0, 1.0)

    def initial_state(
        self,
        batch_size: int,
        *,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> AdLIFState:
        """Membrane and adaptation at 0, ``[B, N]`` each."""
        u = self.zeros(batch_size, device=device, dtype=dtype)
        return AdLIFState(u, u.clone())

    step = staticmethod(adlif_step)
    kernel = "adlif"


__all__ = [
    "AdLIF",
    "AdLIFParams",
    "AdLIFState",
    "AdLIFTrace",
    "adlif_step",
    "decay",
]
