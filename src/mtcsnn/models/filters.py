r"""A fixed, differentiable low-pass filter for reading out spiking layers.

A Butterworth filter of order ``order`` with cut-off ``cutoff`` (cycles per
step, below the Nyquist frequency 0.5), designed by :func:`scipy.signal.butter`
and run causally from rest along the time axis by :func:`scipy.signal.lfilter`.
The filter is linear and time-invariant, ``y = L x`` with ``L`` the lower
triangular Toeplitz matrix of its impulse response, so its backward pass is
the same filter run over the reversed gradient: ``L^T g = rev(L rev(g))``.
Both directions therefore run in compiled code instead of a Python loop.

For a model that runs one step at a time (feeding back its own prediction),
:meth:`LowPass.step` advances the same filter by one step from an explicit
state, in SciPy's transposed direct form II::

    y[t]     = b_0 x[t] + z_0[t-1]
    z_i[t]   = b_(i+1) x[t] + z_(i+1)[t-1] - a_(i+1) y[t]     i = 0 .. n-2
    z_(n-1)[t] = b_n x[t] - a_n y[t]

(``a_0 = 1``), so stepping from the zero state reproduces the sequence filter
and a state taken from :func:`scipy.signal.lfilter`'s ``zf`` continues it.
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

    def initial_state(self, like: Tensor) -> Tensor:
        """The filter at rest for steps shaped as ``like``: ``[order, *like.shape]``."""
        return like.new_zeros((self.order, *like.shape))

    def step(self, x: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """Advance the filter by one step.

        Parameters
        ----------
        x
            Input at this step, any shape ``S``.
        state
            Filter state ``[order, *S]`` (:meth:`initial_state` is at rest).

        Returns
        -------
        y, state
            Output ``S`` and the new state ``[order, *S]``.
        """
        b, a = self.b.tolist(), self.a.tolist()
        y = b[0] * x + state[0]
        z = [b[i + 1] * x + state[i + 1] - a[i + 1] * y for i in range(self.order - 1)]
        z.append(b[self.order] * x - a[self.order] * y)
        return y, torch.stack(z)

    def extra_repr(self) -> str:
        return f"cutoff={self.cutoff:g}, order={self.order}"
