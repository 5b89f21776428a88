"""Single-neuron analysis: spikes, protocols, I-V curves and firing regimes."""

from mtcsnn.analysis.iv import (
    IVCurves,
    NegativeSlope,
    iv_curves,
    iv_slopes,
    negative_slope_intervals,
    resting_voltage,
)
from mtcsnn.analysis.protocols import PROTOCOLS, make_protocol
from mtcsnn.analysis.regimes import (
    REGIME_PRESETS,
    REGIMES,
    Regime,
    RegimeFeatures,
    RegimeMap,
    RegimePreset,
    StepProtocol,
    StepResponse,
    classify_regime,
    classify_response,
    regime_map,
    simulate_step,
)
from mtcsnn.analysis.spikes import spike_times

__all__ = [
    "IVCurves",
    "NegativeSlope",
    "PROTOCOLS",
    "REGIMES",
    "REGIME_PRESETS",
    "Regime",
    "RegimeFeatures",
    "RegimeMap",
    "RegimePreset",
    "StepProtocol",
    "StepResponse",
    "classify_regime",
    "classify_response",
    "iv_curves",
    "iv_slopes",
    "make_protocol",
    "negative_slope_intervals",
    "regime_map",
    "resting_voltage",
    "simulate_step",
    "spike_times",
]
