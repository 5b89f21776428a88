"""Tuning: sweeps over neuron parameters and training settings on Optuna.

:mod:`mtcsnn.tuning.space` reads and validates a sweep file (it needs no
Optuna); :mod:`mtcsnn.tuning.sweep` runs it on a study that any number of
worker processes, on one machine or many, share (needs the ``sweep`` extra).
"""

from mtcsnn.tuning.space import RATIOS, Dimension, SweepConfig, load_sweep_config

__all__ = ["RATIOS", "Dimension", "SweepConfig", "load_sweep_config"]
