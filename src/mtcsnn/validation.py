"""Checks of configuration values whose messages name the key and the range.

The configuration classes (:class:`mtcsnn.data.ForecastTask`,
:class:`mtcsnn.training.TrainConfig`, :class:`mtcsnn.benchmark.BenchConfig`)
check every field with these helpers when they are built, and
:func:`build` makes one from a parsed JSON object, refusing keys the class
does not have. A refused value raises :class:`ConfigError`, a
:class:`ValueError` with a one-line message such as::

    train.lr = -1 is out of range: must be a finite number > 0
    task.window = 'long' has the wrong type: must be an int >= 1
    unknown key 'train.learning_rate'; allowed: epochs, batch_size, lr, ...
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

T = TypeVar("T")

_REPR_LIMIT = 60


def short_repr(value: Any) -> str:
    """``repr(value)`` on one line, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


class ConfigError(ValueError):
    """A configuration value of the wrong type or outside its allowed range.

    Parameters
    ----------
    key
        Where the value sits, ``Owner.field`` (``TrainConfig.lr``) or a path
        in a configuration file (``train.lr``).
    value
        The refused value.
    allowed
        What the key accepts, e.g. ``"an int >= 1"``.
    problem
        ``"is out of range"`` or ``"has the wrong type"``.
    """

    def __init__(
        self, key: str, value: Any, allowed: str, problem: str = "is out of range"
    ) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.problem = problem
        super().__init__(f"{key} = {short_repr(value)} {problem}: must be {allowed}")

    def under(self, prefix: str) -> ConfigError:
        """The same error with the owner of the key replaced by ``prefix``.

        ``TrainConfig.lr`` under ``"train."`` becomes ``train.lr``; under
        ``""`` it becomes ``lr``.
        """
        field = self.key.rsplit(".", 1)[-1]
        return ConfigError(prefix + field, self.value, self.allowed, self.problem)


def check_int(key: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in ``[low, high]``."""
    allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, allowed, "has the wrong type")
    if value < low or (high is not None and value > high):
        raise ConfigError(key, value, allowed)
    return value


def check_float(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite number in the given interval.

    ``low_open`` and ``high_open`` exclude the bounds; ints are accepted,
    bools and strings are not.
    """
    if low is not None and high is not None:
        allowed = (
            f"a number in {'(' if low_open else '['}{low:g}, "
            f"{high:g}{')' if high_open else ']'}"
        )
    elif low is not None:
        allowed = f"a finite number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        allowed = f"a finite number {'<' if high_open else '<='} {high:g}"
    else:
        allowed = "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, value, allowed, "has the wrong type")
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(key, value, allowed) from None
    if not math.isfinite(number):
        raise ConfigError(key, value, allowed)
    if low is not None and (number < low or (low_open and number == low)):
        raise ConfigError(key, value, allowed)
    if high is not None and (number > high or (high_open and number == high)):
        raise ConfigError(key, value, allowed)
    return number


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of dataclass ``cls``, in order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def check_mapping(key: str, data: Any, cls: type) -> dict[str, Any]:
    """``data`` as a dict if it is one whose keys are all fields of ``cls``.

    ``key`` is the path of ``data`` in the file (``""`` for the whole file);
    an unknown key is reported with its full path.
    """
    names = field_names(cls)
    if not isinstance(data, dict):
        raise ConfigError(
            key or "config",
            data,
            "a JSON object with keys from " + ", ".join(names),
            "has the wrong type",
        )
    for name in data:
        if name not in names:
            path = f"{key}.{name}" if key and isinstance(name, str) else name
            raise ValueError(
                f"unknown key {short_repr(path)}; allowed: {', '.join(names)}"
            )
    return dict(data)


def build(cls: type[T], data: Any, key: str = "", **values: Any) -> T:
    """``cls(**data, **values)`` with errors reported under ``key``.

    ``data`` must be a mapping of fields of ``cls`` (see :func:`check_mapping`)
    holding every field without a default;
    ``values`` replaces entries already converted by the caller (nested
    configurations). A :class:`ConfigError` raised by ``cls`` names the key
    as a path in the file, ``key.field``.
    """
    fields = check_mapping(key, data, cls)
    fields.update(values)
    for f in dataclasses.fields(cls):
        required = (
            f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        )
        if required and f.name not in fields:
            path = f"{key}.{f.name}" if key else f.name
            raise ValueError(f"missing key {path!r}")
    try:
        return cls(**fields)
    except ConfigError as err:
        raise err.under(f"{key}." if key else "") from None
