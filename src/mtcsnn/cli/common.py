"""Argument types and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from mtcsnn.analysis.regimes import REGIME_PRESETS
from mtcsnn.io import atomic_write_text, write_json
from mtcsnn.neurons.mtc import PRESETS, MTCParams
from mtcsnn.validation import short_repr

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def finite_float(text: str) -> float:
    """An argparse type: a finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int in ``[low, high]`` (no upper bound if ``None``)."""
    allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {allowed}, got {short_repr(text)}"
            ) from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be {allowed}, got {short_repr(text)}"
            )
        return value

    parse.__name__ = allowed
    return parse


@contextlib.contextmanager
def stop_on_signal() -> Iterator[Callable[[], bool]]:
    """Turn the first SIGINT or SIGTERM into a request to stop.

    Yields a function that tells whether a stop was requested; training
    polls it after every epoch, writes a checkpoint and ends. A second
    signal acts as usual (Ctrl-C raises ``KeyboardInterrupt``, SIGTERM
    ends the process). Outside the main thread no handler can be installed
    and the function always returns false.
    """
    requested: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = {}

    def handler(signum: int, frame) -> None:
        requested.append(signum)
        for number, old in previous.items():
            signal.signal(number, old)
        sys.stderr.write(
            "\nmtcsnn: stopping after this epoch and writing a checkpoint "
            "(signal again to stop at once)\n"
        )

    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, handler)
    try:
        yield lambda: bool(requested)
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def assignment(text: str) -> tuple[str, float]:
    """An argparse type: ``NAME=VALUE`` with a finite float value."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), finite_float(value)


def grid(text: str) -> np.ndarray:
    """An argparse type: ``START:STOP:COUNT`` (evenly spaced) or ``A,B,C``."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            n = int(count)
            if n < 1:
                raise ValueError
            values = np.linspace(float(start), float(stop), n)
        else:
            values = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP:COUNT or a comma-separated list, got {text!r}"
        ) from None
    if not np.isfinite(values).all():
        raise argparse.ArgumentTypeError(f"values must be finite, got {text!r}")
    return values


PRESET_NAMES = tuple(sorted(set(PRESETS) | set(REGIME_PRESETS)))
"""Names accepted by :func:`preset_params`."""


def preset_params(name: str, changes: dict[str, float]) -> MTCParams:
    """Parameters of an MTC preset, or of a firing-regime preset, changed.

    The MTC presets (:data:`mtcsnn.neurons.mtc.PRESETS`) come first; the
    regime presets (:data:`mtcsnn.analysis.regimes.REGIME_PRESETS`) add
    ``phasic``, ``bursting``, ``adapting``, ``silent`` and ``blocked``.
    """
    if name in PRESETS:
        return MTCParams.preset(name, **changes)
    if name in REGIME_PRESETS:
        return REGIME_PRESETS[name].params.replace(**changes)
    raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESET_NAMES)}")


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write equal-length columns ``{name: [K]}`` as CSV with a header, atomically."""
    buffer = io.StringIO()
    np.savetxt(
        buffer,
        np.column_stack(list(columns.values())),
        delimiter=",",
        fmt="%.17g",
        header=",".join(columns),
        comments="",
    )
    atomic_write_text(path, buffer.getvalue())


__all__ = [
    "DTYPES",
    "PRESET_NAMES",
    "assignment",
    "atomic_write_text",
    "bounded_int",
    "finite_float",
    "grid",
    "positive_float",
    "positive_int",
    "preset_params",
    "stop_on_signal",
    "write_csv",
    "write_json",
]
