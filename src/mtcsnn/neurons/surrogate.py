r"""Spike functions with surrogate gradients.

A spiking neuron emits ``S = H(x)`` with ``x = u - threshold`` the membrane
voltage above threshold and ``H`` the Heaviside step, here ``H(0) = 0``: a
spike needs ``u > threshold`` strictly, as in snnTorch and in Baronig et al.'s
SE-AdLIF code. ``H`` has no useful derivative, so the backward pass
replaces ``dS/dx`` by a smooth surrogate:

* **ArcTan** (Fang et al., ICCV 2021; snnTorch's default, ``alpha = 2``)::

      dS/dx = (alpha / 2) / (1 + (pi / 2 alpha x)^2)         peak alpha / 2

* **SLAYER** (Shrestha & Orchard, NeurIPS 2018; Baronig et al. 2025 use
  ``alpha = 5``, ``c = 0.4``)::

      dS/dx = (c alpha / 2) exp(-alpha |x|)                   peak c alpha / 2

The derivative formulas are plain functions (:func:`atan_derivative`,
:func:`slayer_derivative`) so that any other implementation of the same
neuron, such as a fused kernel, can use exactly the same numbers. The spike
functions are :class:`torch.autograd.Function` s; ``alpha`` and ``c`` are
Python numbers and receive no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor


def heaviside(x: Tensor) -> Tensor:
    """``1`` where ``x > 0``, else ``0``, in the dtype of ``x``."""
    return (x > 0).to(x.dtype)


def atan_derivative(x: Tensor, alpha: float = 2.0) -> Tensor:
    """ArcTan surrogate ``(alpha / 2) / (1 + (pi / 2 alpha x)^2)``.

    Same order of operations as snnTorch's ``ATan``, so float32 results agree
    bit for bit. ``x = u - threshold``, any shape; the result has its shape.
    """
    return alpha / 2 / (1 + (math.pi / 2 * alpha * x) ** 2)


def slayer_derivative(x: Tensor, alpha: float = 5.0, c: float = 0.4) -> Tensor:
    """SLAYER surrogate ``(c alpha / 2) exp(-alpha |x|)``.

    ``x = u - threshold``, any shape; the result has its shape.
    """
    return c * alpha / 2 * torch.exp(-alpha * x.abs())


class ATanSpike(torch.autograd.Function):
    """Heaviside forward, :func:`atan_derivative` backward."""

    @staticmethod
    def forward(x: Tensor, alpha: float) -> Tensor:
        return heaviside(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, alpha = inputs
        ctx.save_for_backward(x)
        ctx.alpha = alpha

    @staticmethod
    def backward(ctx: Any, grad_s: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return atan_derivative(x, ctx.alpha) * grad_s, None


class SLAYERSpike(torch.autograd.Function):
    """Heaviside forward, :func:`slayer_derivative` backward."""

    @staticmethod
    def forward(x: Tensor, alpha: float, c: float) -> Tensor:
        return heaviside(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, alpha, c = inputs
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        ctx.c = c

    @staticmethod
    def backward(ctx: Any, grad_s: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        return slayer_derivative(x, ctx.alpha, ctx.c) * grad_s, None, None


def atan_spike(x: Tensor, alpha: float = 2.0) -> Tensor:
    """Spikes ``H(x)`` with the ArcTan surrogate gradient; shape of ``x``."""
    return ATanSpike.apply(x, alpha)


def slayer_spike(x: Tensor, alpha: float = 5.0, c: float = 0.4) -> Tensor:
    """Spikes ``H(x)`` with the SLAYER surrogate gradient; shape of ``x``."""
    return SLAYERSpike.apply(x, alpha, c)


__all__ = [
    "ATanSpike",
    "SLAYERSpike",
    "atan_derivative",
    "atan_spike",
    "heaviside",
    "slayer_derivative",
    "slayer_spike",
]
