"""Data: the Mackey-Glass series and the forecasting task built on it."""

from mtcsnn.data.forecast import ForecastSplits, ForecastTask, make_forecast_task
from mtcsnn.data.mackey_glass import MackeyGlass, mackey_glass, mackey_glass_cached

__all__ = [
    "ForecastSplits",
    "ForecastTask",
    "MackeyGlass",
    "mackey_glass",
    "mackey_glass_cached",
    "make_forecast_task",
]
