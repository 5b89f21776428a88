"""Argument types and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import math

import torch

from mtcsnn.io import atomic_write_text, write_json

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


def assignment(text: str) -> tuple[str, float]:
    """An argparse type: ``NAME=VALUE`` with a finite float value."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), finite_float(value)


__all__ = [
    "DTYPES",
    "assignment",
    "atomic_write_text",
    "finite_float",
    "positive_float",
    "write_json",
]
