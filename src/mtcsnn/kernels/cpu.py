r"""The fused CPU backend: C++ kernels built at first use and called via ctypes.

The kernels (``cpu_kernels.cpp`` beside this file) run the whole time loop of
a layer: batch rows are spread over threads (as many as
:func:`torch.get_num_threads`), and within a row the loop over the ``N``
neurons is vectorised by the compiler. They are compiled once per machine
with the system's C++ compiler (``$CXX``, else ``c++``, ``g++`` or
``clang++``) at ``-O3 -march=native``, without ``-ffast-math`` so that NaN and
inf propagate as in PyTorch, into ``$MTCSNN_CACHE/kernels`` (default
``~/.cache/mtcsnn/kernels``); the file name carries a hash of the source,
flags, compiler and processor, so a change of any of them rebuilds. Building
takes a few seconds; without a compiler the layers fall back to the plain
path with a warning.

The adjoint recurrences, for one step of a row of neurons, with ``lam`` the
gradient of the loss with respect to the state after the step plus the
step's direct output and trace gradients:

**MTC**, with ``a, e, b, h`` those gradients for ``u_m, u_f, u_s, u_us``,
``k_x = dt / tau_x``, ``t_x`` the element tanh values and ``w = -k_m R`` the
effect of ``I_sum`` on the new membrane::

    lam_m  = a (1 - k_m + w dI_sum/du_m) + b k_s + h k_us + e k_f
    lam_f  = a w dI_sum/du_f + e (1 - k_f)
    lam_s  = a w dI_sum/du_s + b (1 - k_s)
    lam_us = a w dI_sum/du_us + h (1 - k_us)
    dI     = a k_m R

with ``dI_sum/du_f = -alpha_f (1 - t_f^2)`` (with an instantaneous fast
filter that term belongs to ``dI_sum/du_m`` instead), and each coefficient's
gradient the sum over steps of ``a`` times the derivative of the new
membrane (``k_s``, ``k_us``, ``k_f``: ``b``, ``h``, ``e`` times that of their
filter), plus the transduction's gradients for ``u_th`` and ``u_sat``.

**LIF**, with ``sigma(x) = (alpha / 2) / (1 + (pi / 2 alpha x)^2)``::

    G        = lam + g_s[t] sigma(u[t] - thr) + g_u[t]
    dI[t]    = G,   d beta += G u[t-1],
    d thr   += -G H(u[t-1] - thr) - g_s[t] sigma(u[t] - thr)
    lam      = G beta                                 (the reset is detached)

**SE-AdLIF**, with ``u'`` the membrane before the reset (recomputed),
``sigma(x) = (c alpha / 2) exp(-alpha |x|)``, ``k = (1 - a_w) q`` and ``Lu,
Lw`` the gradients for the new ``u, w``::

    Gu  = Lu + Lw k a,     Gz = g_z[t] + Lw k b_w
    Gu' = Gu (1 - z) + Gz sigma(u' - thr)             (the reset is detached)
    dI[t] = Gu' (1 - a_u),  lam_u = Gu' a_u,  lam_w = -Gu' (1 - a_u) + Lw a_w
    d a_u += Gu' (u[t-1] - I[t] + w[t-1]),  d a_w += Lw (w[t-1] - q (a u + b_w z))
    d a += Lw k u,  d b_w += Lw k z,  d thr += -Gz sigma(u' - thr)
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from mtcsnn.kernels.fused import Backend, Kind
from mtcsnn.kernels.tanh import P_COEFFS, Q_COEFFS, X_MAX

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("cpu_kernels.cpp")
"""The kernels' C++ source."""

FLAGS = (
    "-O3",
    "-march=native",
    "-fopenmp-simd",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-ffp-contract=fast",
    "-std=c++17",
    "-fPIC",
    "-shared",
    "-pthread",
)
"""Compiler flags (no ``-ffast-math``: NaN and inf must propagate)."""

_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}
_CTYPE = {torch.float32: ctypes.c_float, torch.float64: ctypes.c_double}


class BuildError(RuntimeError):
    """The C++ kernels could not be built on this machine."""


def _defines() -> list[str]:
    values = [f"-DMTCSNN_X_MAX={X_MAX!r}f"]
    values += [f"-DMTCSNN_P{i}={c!r}f" for i, c in enumerate(P_COEFFS)]
    values += [f"-DMTCSNN_Q{i}={c!r}f" for i, c in enumerate(Q_COEFFS)]
    return values


def find_compiler() -> str | None:
    """The C++ compiler to build with: ``$CXX``, else the first one on PATH."""
    candidates = [os.environ.get("CXX")] if os.environ.get("CXX") else []
    candidates += ["c++", "g++", "clang++"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_dir() -> Path:
    """Where built kernels are kept: ``$MTCSNN_CACHE/kernels``."""
    root = os.environ.get("MTCSNN_CACHE") or Path.home() / ".cache" / "mtcsnn"
    return Path(root) / "kernels"


def build(compiler: str | None = None) -> Path:
    """Build the kernels if they are not cached yet; return the library's path.

    Raises
    ------
    BuildError
        If there is no compiler or the compilation fails (the message holds
        the compiler's output).
    """
    compiler = compiler or find_compiler()
    if compiler is None:
        raise BuildError("no C++ compiler found (set CXX, or install g++ or clang++)")
    source = SOURCE.read_bytes()
    try:
        version = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise BuildError(f"cannot run the C++ compiler {compiler}: {err}") from err
    key = hashlib.sha256(
        b"\0".join(
            [
                source,
                " ".join((*FLAGS, *_defines())).encode(),
                version.encode(),
                _processor().encode(),
            ]
        )
    ).hexdigest()[:16]
    target = cache_dir() / f"libmtcsnn_cpu_{key}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".build-", suffix=".so")
    os.close(fd)
    command = [compiler, *FLAGS, *_defines(), str(SOURCE), "-o", tmp]
    log.info("building the CPU kernels: %s", " ".join(command))
    try:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(
                f"building the CPU kernels failed ({' '.join(command)}):\n"
                f"{result.stderr.strip()}"
            )
        # Another process may have built it meanwhile: the rename is atomic.
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14


def _madvise():
    if platform.system() != "Linux":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_MADVISE = _madvise()


def empty(shape: tuple[int, ...], like: Tensor) -> Tensor:
    """An uninitialised CPU tensor, backed by huge pages where possible.

    A fresh buffer of hundreds of megabytes costs more in page faults than
    the kernels spend computing into it; on Linux its 2 MiB-aligned interior
    is advised as transparent huge pages (``madvise(MADV_HUGEPAGE)``), which
    cuts the faults 512-fold where the system allows it. Elsewhere, or if the
    advice is refused, it is a plain :func:`torch.empty`.
    """
    tensor = like.new_empty(shape)
    size = tensor.numel() * tensor.element_size()
    if _MADVISE is not None and size >= 2 * _HUGE_PAGE:
        start = -(-tensor.data_ptr() // _HUGE_PAGE) * _HUGE_PAGE
        end = (tensor.data_ptr() + size) // _HUGE_PAGE * _HUGE_PAGE
        if end > start:
            _MADVISE(start, end - start, _MADV_HUGEPAGE)
    return tensor


def _pointer(t: Tensor | None) -> ctypes.c_void_p:
    return ctypes.c_void_p(None if t is None else t.data_ptr())


class CpuBackend(Backend):
    """Runs the C++ kernels on contiguous float32 / float64 CPU tensors."""

    name = "cpu"
    empty = staticmethod(empty)

    def __init__(self) -> None:
        self.library = ctypes.CDLL(str(build()))
        for suffix in _SUFFIX.values():
            for kernel in ("mtc", "lif", "adlif"):
                for way in ("forward", "backward"):
                    function = getattr(self.library, f"mtcsnn_{kernel}_{way}_{suffix}")
                    function.restype = None

    def _call(self, kind: Kind, way: str, dtype: torch.dtype, *args: Any) -> None:
        function = getattr(self.library, f"mtcsnn_{kind.name}_{way}_{_SUFFIX[dtype]}")
        function(*args)

    @staticmethod
    def _scalars(values: tuple[Any, ...], dtype: torch.dtype) -> list[Any]:
        return [
            ctypes.c_int(int(v)) if isinstance(v, bool) else _CTYPE[dtype](v)
            for v in values
        ]

    @staticmethod
    def _threads(batch: int) -> ctypes.c_int:
        return ctypes.c_int(max(1, min(torch.get_num_threads(), batch)))

    def launch_forward(
        self, kind, i_in, state0, coeffs, scalars, out, traces, final
    ) -> None:
        n_steps, batch, n = i_in.shape
        self._call(
            kind,
            "forward",
            i_in.dtype,
            _pointer(i_in),
            _pointer(state0),
            _pointer(coeffs),
            *self._scalars(scalars[: kind.n_forward_scalars], i_in.dtype),
            ctypes.c_int64(n_steps),
            ctypes.c_int64(batch),
            ctypes.c_int64(n),
            _pointer(out),
            _pointer(traces),
            _pointer(final),
            self._threads(batch),
        )

    def launch_backward(
        self,
        kind,
        i_in,
        state0,
        coeffs,
        scalars,
        traces,
        g_out,
        g_traces,
        lam_end,
        d_in,
        d_state0,
        d_c,
    ) -> None:
        n_steps, batch, n = i_in.shape
        self._call(
            kind,
            "backward",
            i_in.dtype,
            _pointer(i_in),
            _pointer(state0),
            _pointer(coeffs),
            *self._scalars(scalars, i_in.dtype),
            ctypes.c_int64(n_steps),
            ctypes.c_int64(batch),
            ctypes.c_int64(n),
            _pointer(traces),
            _pointer(g_out),
            _pointer(g_traces),
            _pointer(lam_end),
            _pointer(d_in),
            _pointer(d_state0),
            _pointer(d_c),
            self._threads(batch),
        )


__all__ = [
    "FLAGS",
    "SOURCE",
    "BuildError",
    "CpuBackend",
    "build",
    "cache_dir",
    "empty",
]
