"""Networks built from the neuron layers."""

from mtcsnn.models.filters import LowPass, lowpass_coefficients
from mtcsnn.models.forecaster import Forecaster, Recording

__all__ = ["Forecaster", "LowPass", "Recording", "lowpass_coefficients"]
