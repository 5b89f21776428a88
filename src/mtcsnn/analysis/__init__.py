"""Single-neuron analysis: spike detection, input protocols and I-V curves."""

from mtcsnn.analysis.iv import IVCurves, iv_curves
from mtcsnn.analysis.protocols import PROTOCOLS, make_protocol
from mtcsnn.analysis.spikes import spike_times

__all__ = ["IVCurves", "PROTOCOLS", "iv_curves", "make_protocol", "spike_times"]
