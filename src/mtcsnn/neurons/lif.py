r"""The leaky integrate-and-fire (LIF) neuron, as snnTorch's ``Leaky``.

This is the LIF baseline: snnTorch 1.0's ``Leaky`` with its default settings
(subtract reset, reset delayed by one step, ArcTan surrogate with
``alpha = 2``), reproduced operation for operation so that membrane, spikes
and gradients agree with snnTorch to float32 precision::

    r[t] = H(u[t-1] - threshold)                     reset, gradient stopped
    u[t] = clamp(beta, 0, 1) u[t-1] + I_in[t] - r[t] threshold
    s[t] = H(u[t] - threshold)                       ArcTan surrogate

``H(x)`` is 1 for ``x > 0`` and 0 otherwise (see
:mod:`mtcsnn.neurons.surrogate`). The reset of step ``t`` is recomputed from
the previous membrane, so the state is the membrane ``u`` alone, and the
membrane reported at step ``t`` is the one before that step's spike is
subtracted (snnTorch's ``mem``); the subtraction shows at ``t + 1``. The
initial membrane is 0.

Choices where snnTorch leaves room:

* **Trained decay.** ``beta`` is trained as a raw parameter and clamped to
  ``[0, 1]`` inside the step, exactly as snnTorch does with
  ``learn_beta=True``; an :class:`~mtcsnn.neurons.base.Interval`
  parametrisation would change the gradient and so the training trajectory.
  The stored value may therefore leave ``[0, 1]`` during training; its
  gradient is then 0, as in snnTorch, and the neuron uses the clamped value.
* **Trained threshold** is kept positive as ``exp(raw)``, whereas snnTorch's
  ``learn_threshold=True`` trains it unconstrained: the dynamics and the
  gradient with respect to the threshold are the same, the optimiser's step
  on it is not.
* ``beta`` is a decay per step, so ``dt`` does not enter the dynamics; it is
  kept so that every neuron type has the same parameter interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from mtcsnn.neurons.base import (
    NeuronLayer,
    Positive,
    Value,
    check,
    check_number,
    replace_fields,
)
from mtcsnn.neurons.surrogate import atan_spike, heaviside


@dataclass(frozen=True)
class LIFParams:
    """Parameters of the LIF neuron; ``beta`` and ``threshold`` scalars or ``[N]``.

    Attributes
    ----------
    beta
        Membrane decay per step, in ``[0, 1]``. The default 0.9 is a membrane
        time constant ``-dt / ln(beta)`` of about 9.5 steps.
    threshold
        Firing threshold (> 0), also the amount subtracted on reset.
    surrogate_alpha
        Slope of the ArcTan surrogate (> 0), a Python number; peak
        derivative ``surrogate_alpha / 2``.
    dt
        Step, a Python number (> 0); unused by the dynamics.

    Raises
    ------
    ValueError
        On a non-finite value or one out of range; the message names the
        parameter, its value and the bound.
    """

    beta: Value = 0.9
    threshold: Value = 1.0
    surrogate_alpha: float = 2.0
    dt: float = 1.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("surrogate_alpha", "dt"):
            check_number(owner, name, getattr(self, name), low=0.0, low_open=True)
        check(owner, "beta", self.beta, low=0.0, high=1.0)
        check(owner, "threshold", self.threshold, low=0.0, low_open=True)

    def replace(self, **changes: Value) -> LIFParams:
        """A copy with some parameters changed, validated like a new one."""
        return replace_fields(self, **changes)


class LIFState(NamedTuple):
    """State of a layer of LIF neurons: the membrane ``u``, ``[B, N]``."""

    u: Tensor


class LIFTrace(NamedTuple):
    """Spikes and membrane after every step, each ``[T, B, N]``."""

    s: Tensor
    u: Tensor


def lif_step(i_in: Tensor, state: LIFState, p: LIFParams) -> tuple[Tensor, LIFState]:
    """One step of the LIF neuron (snnTorch ``Leaky``, default settings).

    Parameters
    ----------
    i_in
        Input current ``I_in[t]``, ``[B, N]``.
    state
        Membrane ``u[t-1]``, ``[B, N]``.
    p
        Parameters; ``beta`` is clamped to ``[0, 1]`` here.

    Returns
    -------
    s, state
        Spikes ``s[t]`` (0 or 1) and the membrane ``u[t]``, both ``[B, N]``.
    """
    (u,) = state
    beta = p.beta.clamp(0, 1) if isinstance(p.beta, Tensor) else p.beta

    reset = heaviside(u - p.threshold).detach()

    # Same order of operations as snnTorch, for bit-equal float32 results.
    u_next = beta * u + i_in - reset * p.threshold

    s = atan_spike(u_next - p.threshold, p.surrogate_alpha)
    return s, LIFState(u_next)


def _positive(layer: NeuronLayer) -> Positive:
    return Positive(0.0)


class LIF(NeuronLayer):
    """A layer of ``N`` LIF neurons over a sequence of input currents.

    Parameters
    ----------
    n_neurons
        Number of neurons ``N``.
    params
        An :class:`LIFParams`; default ``LIFParams()``.
    train
        Parameters to train, each per neuron: ``beta`` (clamped to ``[0, 1]``
        in the step, as snnTorch does), ``threshold`` (kept positive as
        ``exp(raw)``), or ``"all"``. The rest are buffers.
    batch_first
        Sequences ``[B, T, N]`` instead of ``[T, B, N]``.
    device, dtype
        Where and in which floating type the parameters are made.
    backend, checkpoint
        Implementation of the time loop and low-memory mode of fused
        backends (see :class:`~mtcsnn.neurons.base.NeuronLayer`).

    Examples
    --------
    >>> layer = LIF(64, LIFParams(beta=0.95), train="beta")
    >>> s = layer(torch.rand(100, 8, 64))                # [T, B, N] of 0 / 1
    >>> layer.trace(torch.rand(100, 8, 64)).u.shape
    torch.Size([100, 8, 64])
    """

    State = LIFState
    Trace = LIFTrace
    Params = LIFParams
    constraints = {"beta": None, "threshold": _positive}
    static_fields = ("surrogate_alpha", "dt")

    def __init__(
        self,
        n_neurons: int,
        params: LIFParams | None = None,
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
            LIFParams() if params is None else params,
            train=train,
            batch_first=batch_first,
            device=device,
            dtype=dtype,
            backend=backend,
            checkpoint=checkpoint,
        )

    def initial_state(
        self,
        batch_size: int,
        *,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> LIFState:
        """Every membrane at 0, ``[B, N]``."""
        u = self.zeros(batch_size, device=device, dtype=dtype)
        return LIFState(u)

    step = staticmethod(lif_step)
    kernel = "lif"


__all__ = ["LIF", "LIFParams", "LIFState", "LIFTrace", "lif_step"]
