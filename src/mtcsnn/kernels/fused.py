r"""Fused scans as :class:`torch.autograd.Function` s, for every neuron type.

A fused scan runs the whole time loop of a neuron layer in one compiled
kernel (forward), and its backward runs the hand-derived adjoint recurrence
backwards in time in another, instead of recording one autograd node per
operation and step. Each neuron type is described by a :class:`Kind`: how
its parameters become a per-neuron coefficient matrix ``[K, N]`` (built in
PyTorch, so that autograd carries the coefficient gradients on to the
parameters and through their constraint parametrisations), how many state
variables it has, and which scalars its kernels need.

What is stored for the backward:

* ``checkpoint = None``: the state after every step, ``[T, B, S, N]``
  (the traces that :meth:`~mtcsnn.neurons.base.NeuronLayer.trace` returns
  anyway), plus the input;
* ``checkpoint = L``: only the state before every ``L``-th step,
  ``[ceil(T / L), B, S, N]``; the backward recomputes each chunk of ``L``
  steps from its checkpoint (one extra forward pass in all) into a buffer
  of ``L`` steps before running the adjoint over it. Memory for the states
  drops from ``T`` to about ``T / L + L`` steps' worth; ``L`` near
  ``sqrt(T)`` minimises it, and chunks of a few hundred steps keep the
  per-chunk overhead small. When the traces are recorded they are kept
  anyway, and ``checkpoint`` changes nothing.

The gradients returned are those of the plain path of
:mod:`mtcsnn.neurons` (the same surrogate derivatives for LIF and SE-AdLIF),
for the input current, the initial state and every coefficient; the fused
backward itself is not differentiable again (no double backward).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from mtcsnn.neurons.adlif import decay


def _row(value: Any, like: Tensor) -> Tensor:
    """A parameter (number or ``[N]`` tensor) as an ``[N]`` row like ``like``."""
    if isinstance(value, Tensor):
        return value.to(dtype=like.dtype, device=like.device).expand(like.shape[-1])
    return torch.full(
        (like.shape[-1],), float(value), dtype=like.dtype, device=like.device
    )


def _same(fields: tuple[Tensor, ...], p: Any) -> tuple[Tensor, ...]:
    return tuple(fields)


@dataclass(frozen=True)
class Kind:
    """How one neuron type maps onto its fused kernels.

    Attributes
    ----------
    name
        ``"mtc"``, ``"lif"`` or ``"adlif"``: the kernels' prefix.
    coefficients
        ``(p, like) -> [K, N]`` coefficient matrix, differentiable in ``p``.
    scalars
        ``p -> tuple`` of plain numbers passed to both kernels (in the arrays'
        dtype), forward first, then those only the backward needs.
    n_forward_scalars
        How many of ``scalars`` the forward kernel takes.
    pack
        ``(state, p) -> tuple`` of the ``S`` state tensors the kernels keep,
        in their order, from the layer's state tuple.
    unpack
        ``(fields, p) -> tuple`` of the layer's state fields (in the order of
        its state tuple) from the kernels' ``S`` trace fields.
    """

    name: str
    coefficients: Callable[[Any, Tensor], Tensor]
    scalars: Callable[[Any], tuple[Any, ...]]
    n_forward_scalars: int
    pack: Callable[[tuple[Tensor, ...], Any], tuple[Tensor, ...]] = _same
    unpack: Callable[[tuple[Tensor, ...], Any], tuple[Tensor, ...]] = _same


def _mtc_coefficients(p: Any, like: Tensor) -> Tensor:
    dt = p.dt
    tau_f = 0.0 if p.fast_instantaneous else dt / p.tau_f
    rows = (
        dt / p.tau_m,
        p.R,
        p.u_rest,
        dt / p.tau_s,
        dt / p.tau_us,
        tau_f,
        p.alpha_f,
        p.delta_f,
        p.alpha_sp,
        p.delta_sp,
        p.alpha_sn,
        p.delta_sn,
        p.alpha_us,
        p.delta_us,
        p.u_th,
        p.u_sat,
    )
    return torch.stack([_row(v, like) for v in rows])


def _mtc_pack(state: tuple[Tensor, ...], p: Any) -> tuple[Tensor, ...]:
    # The kernels keep (u_m, u_s, u_us[, u_f]): no u_f when it is u_m.
    u_m, u_f, u_s, u_us = state
    return (u_m, u_s, u_us) if p.fast_instantaneous else (u_m, u_s, u_us, u_f)


def _mtc_unpack(fields: tuple[Tensor, ...], p: Any) -> tuple[Tensor, ...]:
    u_m, u_s, u_us = fields[:3]
    return (u_m, u_m if p.fast_instantaneous else fields[3], u_s, u_us)


def _lif_coefficients(p: Any, like: Tensor) -> Tensor:
    beta = p.beta.clamp(0, 1) if isinstance(p.beta, Tensor) else p.beta
    return torch.stack([_row(beta, like), _row(p.threshold, like)])


def _adlif_coefficients(p: Any, like: Tensor) -> Tensor:
    rows = (decay(p.tau_u, p.dt), decay(p.tau_w, p.dt), p.a, p.b_w, p.threshold)
    return torch.stack([_row(v, like) for v in rows])


MTC_KIND = Kind(
    "mtc",
    _mtc_coefficients,
    lambda p: (p.fast_instantaneous,),
    1,
    _mtc_pack,
    _mtc_unpack,
)
LIF_KIND = Kind(
    "lif",
    _lif_coefficients,
    # Surrogate (alpha / 2) / (1 + (pi / 2 alpha x)^2), constants as PyTorch
    # rounds them for the plain path.
    lambda p: (p.surrogate_alpha / 2, math.pi / 2 * p.surrogate_alpha),
    0,
)
ADLIF_KIND = Kind(
    "adlif",
    _adlif_coefficients,
    # q, then the SLAYER surrogate's alpha and scale c alpha / 2.
    lambda p: (
        p.q,
        p.surrogate_alpha,
        p.surrogate_c * p.surrogate_alpha / 2,
    ),
    1,
)
KINDS = {kind.name: kind for kind in (MTC_KIND, LIF_KIND, ADLIF_KIND)}
"""The fused description of each neuron type, by name."""


class Backend:
    """A fused backend: allocates the results, its subclass runs the kernels.

    Subclasses set :attr:`name` and implement :meth:`launch_forward` and
    :meth:`launch_backward`, which fill the tensors they are given; they may
    override :meth:`empty` to allocate large buffers differently.
    """

    name: str = ""

    @staticmethod
    def empty(shape: tuple[int, ...], like: Tensor) -> Tensor:
        """An uninitialised tensor of ``shape`` like ``like``."""
        return like.new_empty(shape)

    def forward(
        self,
        kind: Kind,
        i_in: Tensor,
        state0: Tensor,
        coeffs: Tensor,
        scalars: tuple[Any, ...],
        *,
        out: Tensor | None = None,
        traces: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """Run the forward scan of ``i_in`` ``[T, B, N]`` from ``state0``.

        Writes the output into ``out`` ``[T, B, N]`` (made if ``None``) and,
        if given, the state after every step into ``traces`` ``[T, B, S, N]``;
        returns ``(out, traces, final state [B, S, N])``.
        """
        out = self.empty(i_in.shape, i_in) if out is None else out
        final = torch.empty_like(state0)
        self.launch_forward(kind, i_in, state0, coeffs, scalars, out, traces, final)
        return out, traces, final

    def backward(
        self,
        kind: Kind,
        i_in: Tensor,
        state0: Tensor,
        coeffs: Tensor,
        scalars: tuple[Any, ...],
        traces: Tensor,
        g_out: Tensor,
        g_traces: Tensor | None,
        lam_end: Tensor | None,
        *,
        d_in: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Run the adjoint scan, from ``lam_end`` (``None``: zero) back in time.

        Returns the input gradient (written into ``d_in`` if given), the
        gradient with respect to ``state0`` and the coefficient gradients per
        batch row ``[B, K, N]``.
        """
        d_in = self.empty(i_in.shape, i_in) if d_in is None else d_in
        d_state0 = torch.empty_like(state0)
        d_c = coeffs.new_empty((i_in.shape[1], *coeffs.shape))
        self.launch_backward(
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
        )
        return d_in, d_state0, d_c

    def launch_forward(
        self,
        kind: Kind,
        i_in: Tensor,
        state0: Tensor,
        coeffs: Tensor,
        scalars: tuple[Any, ...],
        out: Tensor,
        traces: Tensor | None,
        final: Tensor,
    ) -> None:
        """Fill ``out``, ``traces`` (if not ``None``) and ``final``."""
        raise NotImplementedError

    def launch_backward(
        self,
        kind: Kind,
        i_in: Tensor,
        state0: Tensor,
        coeffs: Tensor,
        scalars: tuple[Any, ...],
        traces: Tensor,
        g_out: Tensor,
        g_traces: Tensor | None,
        lam_end: Tensor | None,
        d_in: Tensor,
        d_state0: Tensor,
        d_c: Tensor,
    ) -> None:
        """Fill ``d_in``, ``d_state0`` and ``d_c`` ``[B, K, N]``."""
        raise NotImplementedError


class FusedScan(torch.autograd.Function):
    """Forward and adjoint scans of one neuron layer in a backend's kernels.

    ``apply(kind, backend, checkpoint, record, scalars, i_in, state0,
    coeffs)`` with ``i_in`` ``[T, B, N]``, ``state0`` ``[B, S, N]`` and
    ``coeffs`` ``[K, N]`` returns the output ``[T, B, N]`` and the state
    traces ``[T, B, S, N]`` (an empty tensor unless ``record``).

    With ``checkpoint = L`` and no recorded traces, the forward runs in chunks
    of ``L`` steps and keeps only the state before each chunk; the backward
    recomputes each chunk's traces from it, last chunk first, and runs the
    adjoint over the chunk, starting from the adjoint that the later chunks
    handed back.
    """

    @staticmethod
    def forward(ctx, kind, backend, checkpoint, record, scalars, i_in, state0, coeffs):
        n_steps, batch, n = i_in.shape
        ctx.kind, ctx.backend, ctx.scalars = kind, backend, scalars
        ctx.set_materialize_grads(False)
        if record or checkpoint is None:
            traces = backend.empty((n_steps, batch, state0.shape[1], n), i_in)
            out, _, _ = backend.forward(
                kind, i_in, state0, coeffs, scalars, traces=traces
            )
            ctx.chunk = None
            ctx.save_for_backward(i_in, state0, coeffs, traces)
            return out, traces if record else i_in.new_empty(0)
        out = backend.empty(i_in.shape, i_in)
        starts = []
        state = state0
        for t0 in range(0, n_steps, checkpoint):
            t1 = min(n_steps, t0 + checkpoint)
            starts.append(state)
            _, _, state = backend.forward(
                kind, i_in[t0:t1], state, coeffs, scalars, out=out[t0:t1]
            )
        ctx.chunk = checkpoint
        ctx.save_for_backward(i_in, state0, coeffs, torch.stack(starts))
        return out, i_in.new_empty(0)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_traces):
        i_in, state0, coeffs, stored = ctx.saved_tensors
        kind, backend, scalars = ctx.kind, ctx.backend, ctx.scalars
        g_out = torch.zeros_like(i_in) if g_out is None else g_out.contiguous()
        if g_traces is not None:
            g_traces = g_traces.contiguous()
        if ctx.chunk is None:
            d_in, d_state0, d_c = backend.backward(
                kind, i_in, state0, coeffs, scalars, stored, g_out, g_traces, None
            )
            d_c = d_c.sum(0)
        else:
            n_steps, batch, n = i_in.shape
            d_in = backend.empty(i_in.shape, i_in)
            buffer = backend.empty((ctx.chunk, batch, state0.shape[1], n), i_in)
            d_state0, d_c = None, torch.zeros_like(coeffs)
            for k in range(len(stored) - 1, -1, -1):
                t0, t1 = k * ctx.chunk, min(n_steps, (k + 1) * ctx.chunk)
                traces = buffer[: t1 - t0]
                backend.forward(
                    kind, i_in[t0:t1], stored[k], coeffs, scalars, traces=traces
                )
                _, d_state0, d_chunk = backend.backward(
                    kind,
                    i_in[t0:t1],
                    stored[k],
                    coeffs,
                    scalars,
                    traces,
                    g_out[t0:t1],
                    None if g_traces is None else g_traces[t0:t1],
                    d_state0,
                    d_in=d_in[t0:t1],
                )
                d_c += d_chunk.sum(0)
        return None, None, None, None, None, d_in, d_state0, d_c


def check_checkpoint(checkpoint: Any) -> int | None:
    """``checkpoint`` if it is ``None`` or an int >= 1, else :class:`ValueError`."""
    if checkpoint is not None and (
        isinstance(checkpoint, bool)
        or not isinstance(checkpoint, int)
        or checkpoint < 1
    ):
        raise ValueError(
            f"checkpoint = {checkpoint!r} is out of range: must be None or an int >= 1"
        )
    return checkpoint


def fused_scan(
    kind: Kind,
    backend: Any,
    i_in: Tensor,
    state: tuple[Tensor, ...],
    p: Any,
    *,
    record: bool,
    checkpoint: int | None = None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run a layer's fused scan on a time-first input.

    Parameters
    ----------
    kind
        The neuron type (:data:`KINDS`).
    backend
        A backend object (see :mod:`mtcsnn.kernels`).
    i_in
        Input current ``[T, B, N]``.
    state
        The layer's initial state, a tuple of ``[B, N]`` tensors.
    p
        The layer's parameters (``layer.params()``).
    record
        Whether the state traces are wanted.
    checkpoint
        Chunk length ``L`` of the low-memory mode, or ``None`` to store every
        state for the backward.

    Returns
    -------
    out, fields
        Output ``[T, B, N]`` and, if ``record``, the state traces (one
        ``[T, B, N]`` tensor per field of the layer's state), else ``()``.
    """
    check_checkpoint(checkpoint)
    dtype = torch.promote_types(i_in.dtype, state[0].dtype)
    for value in vars(p).values():
        if isinstance(value, Tensor):
            dtype = torch.promote_types(dtype, value.dtype)
    i_in = i_in.to(dtype).contiguous()
    packed = kind.pack(tuple(state), p)
    state0 = torch.stack([s.to(dtype) for s in packed], dim=1).contiguous()
    coeffs = kind.coefficients(p, i_in).contiguous()
    # Nothing to store for a backward that cannot happen.
    needs_grad = torch.is_grad_enabled() and any(
        t.requires_grad for t in (i_in, state0, coeffs)
    )
    if needs_grad:
        out, traces = FusedScan.apply(
            kind, backend, checkpoint, record, kind.scalars(p), i_in, state0, coeffs
        )
    else:
        n_steps, batch, n = i_in.shape
        traces = (
            backend.empty((n_steps, batch, state0.shape[1], n), i_in)
            if record
            else None
        )
        out, _, _ = backend.forward(
            kind, i_in, state0, coeffs, kind.scalars(p), traces=traces
        )
    if not record:
        return out, ()
    return out, kind.unpack(tuple(traces.unbind(2)), p)


__all__ = [
    "ADLIF_KIND",
    "Backend",
    "KINDS",
    "LIF_KIND",
    "MTC_KIND",
    "FusedScan",
    "Kind",
    "check_checkpoint",
    "fused_scan",
]
