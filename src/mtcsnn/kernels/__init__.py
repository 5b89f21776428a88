"""Fast backends for the neuron layers: fused forward and adjoint scans.

The plain PyTorch path of :mod:`mtcsnn.neurons` (a Python loop over the pure
step functions, differentiated by autograd) is the reference. The backends
here run the same recurrences, and their hand-derived adjoints, in compiled
code:

* ``"cpu"``: C++ kernels built at first use with the system's compiler
  (:mod:`mtcsnn.kernels.cpu`), batch rows spread over the cores, neurons
  vectorised;
* ``"triton"``: GPU kernels written in Triton
  (:mod:`mtcsnn.kernels.triton_gpu`), a block of neurons per program, the
  time loop inside the kernel. With ``TRITON_INTERPRET=1`` they also run,
  slowly, on CPU tensors, which is how they are tested without a GPU;
* ``"torch"``: the plain path.

A layer's ``backend`` is ``"auto"`` by default: Triton for CUDA tensors (when
installed), the C++ kernels for float32 and float64 CPU tensors (when they
build: a C++ compiler is needed), the plain path otherwise. The environment
variable ``MTCSNN_BACKEND`` overrides ``"auto"`` for every layer (e.g.
``MTCSNN_BACKEND=torch`` to compare against the reference). Float32 kernels
use a rational ``tanh`` whose error is at most ``4e-7``
(:mod:`mtcsnn.kernels.tanh`); float64 kernels agree with the plain path to
rounding.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import Any

import torch
from torch import Tensor

from mtcsnn.kernels.fused import KINDS, fused_scan

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "cpu", "triton")
"""Accepted backend names."""

_FLOAT = (torch.float32, torch.float64)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_backend(name: str) -> str:
    """Return ``name`` if it is a known backend, else raise :class:`ValueError`."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return name


def resolve_backend(requested: str, x: Tensor) -> str:
    """The backend that runs a scan of ``x`` when ``requested`` is asked for.

    ``"auto"`` (or the ``MTCSNN_BACKEND`` environment variable, if set)
    follows the device and dtype of ``x``, and falls back to the plain path
    (with a warning, once) if the CPU kernels cannot be built. A forced
    backend that cannot run ``x`` raises :class:`ValueError` saying why.
    """
    check_backend(requested)
    if requested == "auto":
        requested = check_backend(os.environ.get("MTCSNN_BACKEND", "auto") or "auto")
    if requested == "auto":
        if x.dtype not in _FLOAT:
            return "torch"
        if x.device.type == "cuda" and _installed("triton"):
            return "triton"
        if x.device.type == "cpu" and _cpu_available():
            return "cpu"
        return "torch"
    if requested == "torch":
        return requested
    if x.dtype not in _FLOAT:
        raise ValueError(
            f"the {requested} backend runs float32 and float64, not {x.dtype}"
        )
    if requested == "cpu":
        if x.device.type != "cpu":
            raise ValueError(f"the cpu backend runs CPU tensors, not {x.device} ones")
        get_backend("cpu")
    if requested == "triton":
        if not _installed("triton"):
            raise ValueError("the triton backend needs triton: pip install triton")
        if x.device.type != "cuda" and not _interpreting():
            raise ValueError(
                "the triton backend runs CUDA tensors, or CPU tensors under "
                "TRITON_INTERPRET=1"
            )
    return requested


_BACKENDS: dict[str, Any] = {}
_UNAVAILABLE: dict[str, str] = {}


def get_backend(name: str) -> Any:
    """The backend object for ``"cpu"`` or ``"triton"`` (made once).

    Raises
    ------
    ValueError
        If the backend cannot be made here (e.g. the CPU kernels do not
        build); the message says why.
    """
    if name in _UNAVAILABLE:
        raise ValueError(_UNAVAILABLE[name])
    if name not in _BACKENDS:
        try:
            if name == "cpu":
                from mtcsnn.kernels.cpu import CpuBackend

                _BACKENDS[name] = CpuBackend()
            elif name == "triton":
                from mtcsnn.kernels.triton_gpu import TritonBackend

                _BACKENDS[name] = TritonBackend()
            else:
                raise ValueError(f"no fused kernels for backend {name!r}")
        except (RuntimeError, OSError, ImportError) as err:
            _UNAVAILABLE[name] = f"the {name} backend is unavailable: {err}"
            raise ValueError(_UNAVAILABLE[name]) from err
        log.info("backend %s loaded", name)
    return _BACKENDS[name]


def _cpu_available() -> bool:
    if "cpu" in _BACKENDS:
        return True
    if "cpu" in _UNAVAILABLE:
        return False
    try:
        get_backend("cpu")
    except ValueError as err:
        log.warning("%s; neuron layers use the plain PyTorch path", err)
        return False
    return True


def run_fused(
    kind_name: str,
    backend: str,
    i_in: Tensor,
    state: tuple[Tensor, ...],
    p: Any,
    *,
    record: bool,
    checkpoint: int | None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Fused scan of the neuron type ``kind_name`` on a resolved backend.

    See :func:`mtcsnn.kernels.fused.fused_scan` for the arguments and the
    result.
    """
    return fused_scan(
        KINDS[kind_name],
        get_backend(backend),
        i_in,
        state,
        p,
        record=record,
        checkpoint=checkpoint,
    )


__all__ = [
    "BACKENDS",
    "check_backend",
    "get_backend",
    "resolve_backend",
    "run_fused",
]
