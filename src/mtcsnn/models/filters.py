r"""A fixed, differentiable low-pass filter for reading out spiking layers.

A Butterworth filter of order ``order`` with cut-off ``cutoff`` (cycles per
step, below the Nyquist frequency 0.5), designed by :func:`scipy.signal.butter`
and run causally from rest along the time axis by :func:`scipy.signal.lfilter`.
The filter is linear and time-invariant, ``y = L x`` with ``L`` the lower
triangular Toeplitz matrix of its impulse response, so its backward pass is
the same filter run over the reversed gradient: ``L^T g = rev(L rev(g))``.
Both directions therefore run in compiled code instead of a Python loop.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import signal
from torch import Tensor, nn


def lowpass_coefficients(cutoff: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Butterworth ``(b, a)`` for ``cutoff`` in cycles per step (0 < cutoff < 0.5)."""
    if not 0.0 < cutoff < 0.5:
        raise ValueError(
            f"cutoff = {cutoff!r} is out of range: must be in (0, 0.5) cycles per step"
        )
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order = {order!r} is out of range: must be an int >= 1")
    b, a = signal.butter(order, cutoff / 0.5)
    return b, a


def _lfilter(b: np.ndarray, a: np.ndarray, x: Tensor, *, reverse: bool) -> Tensor:
    data = x.detach().cpu().numpy()
    if reverse:
        data = data[::-1]
    out = signal.lfilter(b, a, data, axis=0)
    if reverse:
        out = out[::-1]
    return torch.from_numpy(np.ascontiguousarray(out)).to(x.device, x.dtype)


class _LowPassFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, b: np.ndarray, a: np.ndarray) -> Tensor:
        ctx.coefficients = (b, a)
        return _lfilter(b, a, x, reverse=False)

    @staticmethod
    def backward(ctx, grad: Tensor):
        b, a = ctx.coefficients
        return _lfilter(b, a, grad, reverse=True), None, None


class LowPass(nn.Module):
    """Fixed Butterworth low-pass along time; ``[T, ...]`` in, same shape out.

    Parameters
    ----------
    cutoff
        Cut-off frequency in cycles per step.
    order
        Filter order (4: the readout of the MTC network in the literature).
    """

    def __init__(self, cutoff: float = 0.1, order: int = 4) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        self.order = order
        self.b, self.a = lowpass_coefficients(self.cutoff, order)

    def forward(self, x: Tensor) -> Tensor:
        return _LowPassFunction.apply(x, self.b, self.a)

    def extra_repr(self) -> str:
        return f"cutoff={self.cutoff:g}, order={self.order}"
