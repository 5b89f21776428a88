r"""The hyperbolic tangent the fused kernels use.

A scalar ``tanh`` from the maths library cannot be vectorised by a compiler,
and with four of them per neuron and step it decides the speed of a fused
MTC scan. The float32 kernels therefore use a branch-free rational
approximation, odd in ``x``, that vectorises::

    tanh(x) ~= c P(c^2) / Q(c^2),   c = clamp(x, -X_MAX, X_MAX)

with ``P`` and ``Q`` of degree 4 in ``c^2`` (coefficients :data:`P_COEFFS`,
:data:`Q_COEFFS`, fitted for this library by an iteratively reweighted
least-squares fit of ``tanh(x) / x`` on ``[0, X_MAX]``) and the result clamped
to ``[-1, 1]``. Evaluated in float32 its error against the exact ``tanh`` is
at most :data:`MAX_ABS_ERROR` (``4e-7``, about 3 units in the last place
near ``|tanh| = 1``) for every float32 ``x``; beyond ``X_MAX = 9`` the exact
value rounds to ``+-1`` in float32 anyway.

The backward kernels use the derivative ``1 - t^2`` of the same ``t`` the
forward computed, so that the gradient is consistent with the forward pass
(to the same ``4e-7``). Float64 kernels use an exact ``tanh`` instead, so
that they agree with the plain PyTorch path to rounding.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

X_MAX = 9.0
"""Inputs are clamped to ``[-X_MAX, X_MAX]``."""

P_COEFFS = (
    1.0,
    0.13381126523017883,
    0.0034957078751176596,
    2.0611048967111856e-05,
    1.3357378314537982e-08,
)
"""Numerator coefficients, lowest power of ``c^2`` first (float32 values)."""

Q_COEFFS = (
    1.0,
    0.4671444296836853,
    0.025877438485622406,
    0.0003285830607637763,
    7.777672408337821e-07,
)
"""Denominator coefficients, lowest power of ``c^2`` first (float32 values)."""

MAX_ABS_ERROR = 4e-7
"""Bound on ``|tanh_rational(x) - tanh(x)|`` in float32, for every float32 ``x``."""


def tanh_rational(x: Tensor) -> Tensor:
    """The float32 kernels' approximation, in PyTorch, for any shape and dtype.

    Evaluated in the dtype of ``x`` with the same Horner scheme as the kernels
    (in float32 it reproduces them up to the order of floating-point
    operations, which a compiler may change).
    """
    c = torch.clamp(x, -X_MAX, X_MAX)
    y = c * c
    p = torch.full_like(y, P_COEFFS[-1])
    for coefficient in P_COEFFS[-2::-1]:
        p = p * y + coefficient
    q = torch.full_like(y, Q_COEFFS[-1])
    for coefficient in Q_COEFFS[-2::-1]:
        q = q * y + coefficient
    return torch.clamp(c * p / q, -1.0, 1.0)


def max_error_float32(samples: int = 2_000_001) -> float:
    """Measured ``max |tanh_rational(x) - tanh(x)|`` on a float32 grid of [-12, 12].

    The reference ``tanh`` is computed in float64.
    """
    x = torch.from_numpy(np.linspace(-12.0, 12.0, samples, dtype=np.float32))
    approx = tanh_rational(x).double()
    return float((approx - torch.tanh(x.double())).abs().max())


__all__ = [
    "MAX_ABS_ERROR",
    "P_COEFFS",
    "Q_COEFFS",
    "X_MAX",
    "max_error_float32",
    "tanh_rational",
]
