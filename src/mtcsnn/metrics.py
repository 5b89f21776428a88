r"""Accuracy and sparsity metrics.

Accuracy, on predictions ``y_hat`` and targets ``y`` of equal shape:

* ``mse = mean((y_hat - y)^2)``
* ``nrmse = sqrt(mse) / std(y)`` (population standard deviation)
* ``smape = 200 mean(|y_hat - y| / (|y_hat| + |y|))``, in ``[0, 200]``; a
  term with ``|y_hat| + |y| = 0`` counts 0, a NaN prediction counts 200.

Sparsity, on the outputs of the spiking layers:

* **activation sparsity**: fraction of exactly-zero outputs over neurons,
  steps and samples;
* **event rate**: spikes (upward crossings of the output from 0 to a
  positive value, i.e. onsets of a non-zero run) per neuron per step;
* **synaptic operations per step** of a linear layer ``W`` (``[out, in]``)
  with input ``a``: *dense* ``in x out``; *effective* the products with a
  non-zero input and a non-zero weight, split into accumulates (ACs, input
  exactly ``+1`` or ``-1``, no multiplication needed) and
  multiply-accumulates (MACs, any other non-zero input). Counted per input
  element, so a graded MTC output costs MACs on its ramp and ACs when
  saturated at 1.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


def mse(y_hat: Tensor, y: Tensor) -> float:
    """Mean squared error."""
    return float(torch.mean((y_hat - y) ** 2))


def nrmse(y_hat: Tensor, y: Tensor) -> float:
    """Root mean squared error over the target's standard deviation."""
    return float(torch.sqrt(torch.mean((y_hat - y) ** 2)) / torch.std(y, correction=0))


def smape(y_hat: Tensor, y: Tensor) -> float:
    """Symmetric mean absolute percentage error in ``[0, 200]``."""
    num = torch.abs(y_hat - y)
    den = torch.abs(y_hat) + torch.abs(y)
    ratio = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)
    ratio = torch.where(torch.isnan(y_hat), 1.0, ratio)
    return float(200.0 * ratio.mean())


def activation_sparsity(outputs: list[Tensor]) -> float:
    """Fraction of exactly-zero entries over all spiking-layer outputs."""
    zeros = sum(int((o == 0).sum()) for o in outputs)
    total = sum(o.numel() for o in outputs)
    return zeros / total


def event_rate(outputs: list[Tensor]) -> float:
    """Spike onsets per neuron per step; outputs ``[T, B, N]``, time first.

    An onset is a step whose output is non-zero after a zero output (the
    step before the sequence counts as zero).
    """
    onsets = 0
    cells = 0
    for out in outputs:
        active = out != 0
        before = torch.zeros_like(active[:1])
        previous = torch.cat([before, active[:-1]])
        onsets += int((active & ~previous).sum())
        cells += out.numel()
    return onsets / cells


class SynapticOps(NamedTuple):
    """Synaptic operations per step (summed over layers, averaged over samples)."""

    dense: float
    effective_acs: float
    effective_macs: float

    @property
    def effective(self) -> float:
        return self.effective_acs + self.effective_macs


def synaptic_ops(weights: list[Tensor], inputs: list[Tensor]) -> SynapticOps:
    """Synaptic operations per step of linear layers.

    Parameters
    ----------
    weights
        Weight matrices ``[out, in]``, one per layer.
    inputs
        Their inputs, ``[T, B, in]`` each.
    """
    dense = acs = macs = 0.0
    for w, a in zip(weights, inputs, strict=True):
        steps_samples = a.shape[0] * a.shape[1]
        fan_out_nonzero = (w != 0).sum(dim=0).to(torch.float64)  # [in]
        binary = (a == 1) | (a == -1)
        graded = (a != 0) & ~binary
        dense += w.shape[0] * w.shape[1]
        acs += float((binary.to(torch.float64) * fan_out_nonzero).sum()) / steps_samples
        macs += (
            float((graded.to(torch.float64) * fan_out_nonzero).sum()) / steps_samples
        )
    return SynapticOps(dense, acs, macs)
