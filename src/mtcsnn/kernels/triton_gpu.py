r"""The fused GPU backend: Triton kernels, a block of neurons per program.

Each program owns ``BLOCK`` consecutive ``(batch, neuron)`` pairs of the
flattened ``B x N`` index space, keeps their state in registers and loops over
time inside the kernel, so a whole sequence costs one launch forwards and one
backwards. Layouts, the coefficient matrices and the adjoint recurrences are
those of the CPU backend (:mod:`mtcsnn.kernels.cpu`, whose docstring derives
them); the arithmetic mirrors the plain step functions.

Float32 kernels use the rational ``tanh`` of :mod:`mtcsnn.kernels.tanh`.
Float64 kernels compute ``tanh(x) = sign(x) (1 - e) / (1 + e)`` with ``e =
exp(-2 |x|)``, and its Taylor series ``x - x^3 / 3 + 2 x^5 / 15`` for ``|x| <
1e-4``, accurate to a few units in the last place.

With ``TRITON_INTERPRET=1`` (set before :mod:`triton` is imported) the same
kernels run on CPU tensors, slowly: that is how they are tested on machines
without a GPU.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from mtcsnn.kernels.fused import Backend
from mtcsnn.kernels.tanh import P_COEFFS, Q_COEFFS, X_MAX

BLOCK = 128
"""``(batch, neuron)`` pairs per program."""

# Kernels may read only constexpr globals.
_X = tl.constexpr(X_MAX)
_P0, _P1, _P2, _P3, _P4 = (tl.constexpr(c) for c in P_COEFFS)
_Q0, _Q1, _Q2, _Q3, _Q4 = (tl.constexpr(c) for c in Q_COEFFS)


@triton.jit
def _tanh(x, F32: tl.constexpr):
    if F32:
        c = tl.where(x < -_X, -_X, tl.where(x > _X, _X, x))
        y = c * c
        p = (((_P4 * y + _P3) * y + _P2) * y + _P1) * y + _P0
        q = (((_Q4 * y + _Q3) * y + _Q2) * y + _Q1) * y + _Q0
        r = c * p / q
        t = tl.where(r < -1.0, -1.0, tl.where(r > 1.0, 1.0, r))
    else:
        a = tl.abs(x)
        e = tl.exp(-2.0 * a)
        big = (1.0 - e) / (1.0 + e)
        big = tl.where(x < 0, -big, big)
        x2 = x * x
        small = x - x * x2 / 3.0 + 2.0 * x * x2 * x2 / 15.0
        t = tl.where(a < 1e-4, small, big)
    return t


# ----------------------------------------------------------------------------
# MTC: state rows (u_m, u_s, u_us[, u_f]), coefficient rows as the CPU kernels
# ----------------------------------------------------------------------------


@triton.jit
def _mtc_coefficients(c_ptr, n, N, mask):
    """The 16 coefficient rows of the MTC kernels at the neurons ``n``."""
    return (
        tl.load(c_ptr + 0 * N + n, mask=mask, other=1.0),
        tl.load(c_ptr + 1 * N + n, mask=mask),
        tl.load(c_ptr + 2 * N + n, mask=mask),
        tl.load(c_ptr + 3 * N + n, mask=mask),
        tl.load(c_ptr + 4 * N + n, mask=mask),
        tl.load(c_ptr + 5 * N + n, mask=mask),
        tl.load(c_ptr + 6 * N + n, mask=mask),
        tl.load(c_ptr + 7 * N + n, mask=mask),
        tl.load(c_ptr + 8 * N + n, mask=mask),
        tl.load(c_ptr + 9 * N + n, mask=mask),
        tl.load(c_ptr + 10 * N + n, mask=mask),
        tl.load(c_ptr + 11 * N + n, mask=mask),
        tl.load(c_ptr + 12 * N + n, mask=mask),
        tl.load(c_ptr + 13 * N + n, mask=mask),
        tl.load(c_ptr + 14 * N + n, mask=mask),
        tl.load(c_ptr + 15 * N + n, mask=mask, other=1.0),
    )


@triton.jit
def _mtc_state(ptr, row, N, mask, INST: tl.constexpr):
    """``(u_m, u_s, u_us, u_f)`` stored from ``row``; ``u_f = u_m`` if INST."""
    u_m = tl.load(ptr + row, mask=mask)
    u_s = tl.load(ptr + row + N, mask=mask)
    u_us = tl.load(ptr + row + 2 * N, mask=mask)
    if INST:
        u_f = u_m
    else:
        u_f = tl.load(ptr + row + 3 * N, mask=mask)
    return u_m, u_s, u_us, u_f


@triton.jit
def _mtc_forward(
    i_ptr,
    s0_ptr,
    c_ptr,
    out_ptr,
    tr_ptr,
    fin_ptr,
    T,
    B,
    N,
    INST: tl.constexpr,
    S: tl.constexpr,
    RECORD: tl.constexpr,
    F32: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    b = offs // N
    n = offs % N
    km, r_m, u_rest, ks, kus, kf, af, df, asp, dsp, asn, dsn, aus, dus, uth, usat = (
        _mtc_coefficients(c_ptr, n, N, mask)
    )

    base = b * S * N + n
    u_m, u_s, u_us, u_f = _mtc_state(s0_ptr, base, N, mask, INST)
    for t in range(T):
        i_now = tl.load(i_ptr + t * B * N + offs, mask=mask)
        if INST:
            u_f = u_m
        fast = -af * _tanh(u_f - df, F32)
        slow = asp * _tanh(u_s - dsp, F32) - asn * _tanh(u_s - dsn, F32)
        ultraslow = aus * _tanh(u_us - dus, F32)
        i_sum = fast + slow + ultraslow

        s_next = u_s + ks * (u_m - u_s)
        us_next = u_us + kus * (u_m - u_us)
        m_next = u_m + km * (-(u_m - u_rest) + r_m * (i_now - i_sum))
        if not INST:
            u_f = u_f + kf * (u_m - u_f)
        u_m, u_s, u_us = m_next, s_next, us_next

        ratio = (u_m - uth) / (usat - uth)
        s = tl.where(ratio < 0.0, 0.0, tl.where(ratio > 1.0, 1.0, ratio))
        tl.store(out_ptr + t * B * N + offs, s, mask=mask)
        if RECORD:
            row = (t * B + b) * S * N + n
            tl.store(tr_ptr + row, u_m, mask=mask)
            tl.store(tr_ptr + row + N, u_s, mask=mask)
            tl.store(tr_ptr + row + 2 * N, u_us, mask=mask)
            if not INST:
                tl.store(tr_ptr + row + 3 * N, u_f, mask=mask)
    tl.store(fin_ptr + base, u_m, mask=mask)
    tl.store(fin_ptr + base + N, u_s, mask=mask)
    tl.store(fin_ptr + base + 2 * N, u_us, mask=mask)
    if not INST:
        tl.store(fin_ptr + base + 3 * N, u_f, mask=mask)


@triton.jit
def _mtc_backward(
    i_ptr,
    s0_ptr,
    c_ptr,
    tr_ptr,
    g_ptr,
    gtr_ptr,
    lam_ptr,
    din_ptr,
    d0_ptr,
    dc_ptr,
    T,
    B,
    N,
    INST: tl.constexpr,
    S: tl.constexpr,
    HAS_GTR: tl.constexpr,
    HAS_LAM: tl.constexpr,
    F32: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    b = offs // N
    n = offs % N
    km, r_m, u_rest, ks, kus, kf, af, df, asp, dsp, asn, dsn, aus, dus, uth, usat = (
        _mtc_coefficients(c_ptr, n, N, mask)
    )

    base = b * S * N + n
    zero = 0.0 * km
    if HAS_LAM:
        lam_m = tl.load(lam_ptr + base, mask=mask)
        lam_s = tl.load(lam_ptr + base + N, mask=mask)
        lam_us = tl.load(lam_ptr + base + 2 * N, mask=mask)
        if INST:
            lam_f = zero
        else:
            lam_f = tl.load(lam_ptr + base + 3 * N, mask=mask)
    else:
        lam_m = zero
        lam_s = zero
        lam_us = zero
        lam_f = zero
    a_km = zero
    a_r = zero
    a_rest = zero
    a_ks = zero
    a_kus = zero
    a_kf = zero
    a_af = zero
    a_df = zero
    a_asp = zero
    a_dsp = zero
    a_asn = zero
    a_dsn = zero
    a_aus = zero
    a_dus = zero
    a_uth = zero
    a_usat = zero
    # The membrane after the last step; each step's "before" is the next
    # (earlier) step's "after".
    m_after = tl.load(tr_ptr + ((T - 1) * B + b) * S * N + n, mask=mask)
    for i in range(T):
        t = T - 1 - i
        if t > 0:
            row = ((t - 1) * B + b) * S * N + n
            u_m, u_s, u_us, u_f = _mtc_state(tr_ptr, row, N, mask, INST)
        else:
            u_m, u_s, u_us, u_f = _mtc_state(s0_ptr, base, N, mask, INST)
        i_now = tl.load(i_ptr + t * B * N + offs, mask=mask)
        g_now = tl.load(g_ptr + t * B * N + offs, mask=mask)

        width = usat - uth
        ratio = (m_after - uth) / width
        g_ratio = tl.where((ratio >= 0.0) & (ratio <= 1.0), g_now, 0.0)
        a_uth += g_ratio * (ratio - 1.0) / width
        a_usat += -g_ratio * ratio / width

        a = lam_m + g_ratio / width
        bb = lam_s
        h = lam_us
        e = lam_f
        if HAS_GTR:
            row_t = (t * B + b) * S * N + n
            a += tl.load(gtr_ptr + row_t, mask=mask)
            bb += tl.load(gtr_ptr + row_t + N, mask=mask)
            h += tl.load(gtr_ptr + row_t + 2 * N, mask=mask)
            if not INST:
                e += tl.load(gtr_ptr + row_t + 3 * N, mask=mask)

        t_f = _tanh(u_f - df, F32)
        t_sp = _tanh(u_s - dsp, F32)
        t_sn = _tanh(u_s - dsn, F32)
        t_us = _tanh(u_us - dus, F32)
        i_sum = -af * t_f + (asp * t_sp - asn * t_sn) + aus * t_us
        drive = -(u_m - u_rest) + r_m * (i_now - i_sum)
        s_f = 1.0 - t_f * t_f
        s_sp = 1.0 - t_sp * t_sp
        s_sn = 1.0 - t_sn * t_sn
        s_us = 1.0 - t_us * t_us
        aw = -a * km * r_m

        a_km += a * drive
        a_r += a * km * (i_now - i_sum)
        a_rest += a * km
        a_ks += bb * (u_m - u_s)
        a_kus += h * (u_m - u_us)
        a_af += -aw * t_f
        a_df += aw * af * s_f
        a_asp += aw * t_sp
        a_dsp += -aw * asp * s_sp
        a_asn += -aw * t_sn
        a_dsn += aw * asn * s_sn
        a_aus += aw * t_us
        a_dus += -aw * aus * s_us
        tl.store(din_ptr + t * B * N + offs, a * km * r_m, mask=mask)

        lam_new = a * (1.0 - km) + bb * ks + h * kus
        if INST:
            lam_m = lam_new + aw * (-af * s_f)
        else:
            a_kf += e * (u_m - u_f)
            lam_m = lam_new + e * kf
            lam_f = aw * (-af * s_f) + e * (1.0 - kf)
        lam_s = aw * (asp * s_sp - asn * s_sn) + bb * (1.0 - ks)
        lam_us = aw * aus * s_us + h * (1.0 - kus)
        m_after = u_m

    tl.store(d0_ptr + base, lam_m, mask=mask)
    tl.store(d0_ptr + base + N, lam_s, mask=mask)
    tl.store(d0_ptr + base + 2 * N, lam_us, mask=mask)
    if not INST:
        tl.store(d0_ptr + base + 3 * N, lam_f, mask=mask)
    dc = b * 16 * N + n
    tl.store(dc_ptr + dc + 0 * N, a_km, mask=mask)
    tl.store(dc_ptr + dc + 1 * N, a_r, mask=mask)
    tl.store(dc_ptr + dc + 2 * N, a_rest, mask=mask)
    tl.store(dc_ptr + dc + 3 * N, a_ks, mask=mask)
    tl.store(dc_ptr + dc + 4 * N, a_kus, mask=mask)
    tl.store(dc_ptr + dc + 5 * N, a_kf, mask=mask)
    tl.store(dc_ptr + dc + 6 * N, a_af, mask=mask)
    tl.store(dc_ptr + dc + 7 * N, a_df, mask=mask)
    tl.store(dc_ptr + dc + 8 * N, a_asp, mask=mask)
    tl.store(dc_ptr + dc + 9 * N, a_dsp, mask=mask)
    tl.store(dc_ptr + dc + 10 * N, a_asn, mask=mask)
    tl.store(dc_ptr + dc + 11 * N, a_dsn, mask=mask)
    tl.store(dc_ptr + dc + 12 * N, a_aus, mask=mask)
    tl.store(dc_ptr + dc + 13 * N, a_dus, mask=mask)
    tl.store(dc_ptr + dc + 14 * N, a_uth, mask=mask)
    tl.store(dc_ptr + dc + 15 * N, a_usat, mask=mask)


# ----------------------------------------------------------------------------
# LIF: one state u; coefficients (clamp(beta, 0, 1), threshold); scalars
# (alpha / 2, pi / 2 alpha) of the ArcTan surrogate
# ----------------------------------------------------------------------------


@triton.jit
def _lif_forward(
    i_ptr,
    s0_ptr,
    c_ptr,
    out_ptr,
    tr_ptr,
    fin_ptr,
    T,
    B,
    N,
    RECORD: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    n = offs % N
    beta = tl.load(c_ptr + n, mask=mask)
    thr = tl.load(c_ptr + N + n, mask=mask)
    u = tl.load(s0_ptr + offs, mask=mask)
    for t in range(T):
        i_now = tl.load(i_ptr + t * B * N + offs, mask=mask)
        reset = tl.where(u > thr, 1.0, 0.0)
        u = beta * u + i_now - reset * thr
        tl.store(out_ptr + t * B * N + offs, tl.where(u > thr, 1.0, 0.0), mask=mask)
        if RECORD:
            tl.store(tr_ptr + t * B * N + offs, u, mask=mask)
    tl.store(fin_ptr + offs, u, mask=mask)


@triton.jit
def _lif_backward(
    s0_ptr,
    c_ptr,
    sc_ptr,
    tr_ptr,
    g_ptr,
    gtr_ptr,
    lam_ptr,
    din_ptr,
    d0_ptr,
    dc_ptr,
    T,
    B,
    N,
    HAS_GTR: tl.constexpr,
    HAS_LAM: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    b = offs // N
    n = offs % N
    beta = tl.load(c_ptr + n, mask=mask)
    thr = tl.load(c_ptr + N + n, mask=mask)
    half_alpha = tl.load(sc_ptr)
    half_pi_alpha = tl.load(sc_ptr + 1)
    if HAS_LAM:
        lam = tl.load(lam_ptr + offs, mask=mask)
    else:
        lam = 0.0 * beta
    a_beta = 0.0 * beta
    a_thr = 0.0 * beta
    u_now = tl.load(tr_ptr + (T - 1) * B * N + offs, mask=mask)
    for i in range(T):
        t = T - 1 - i
        if t > 0:
            u_prev = tl.load(tr_ptr + (t - 1) * B * N + offs, mask=mask)
        else:
            u_prev = tl.load(s0_ptr + offs, mask=mask)
        z = half_pi_alpha * (u_now - thr)
        sigma = half_alpha / (1.0 + z * z)
        g_spike = tl.load(g_ptr + t * B * N + offs, mask=mask) * sigma
        grad = lam + g_spike
        if HAS_GTR:
            grad += tl.load(gtr_ptr + t * B * N + offs, mask=mask)
        reset = tl.where(u_prev > thr, 1.0, 0.0)
        tl.store(din_ptr + t * B * N + offs, grad, mask=mask)
        a_beta += grad * u_prev
        a_thr += -grad * reset - g_spike
        lam = grad * beta
        u_now = u_prev
    tl.store(d0_ptr + offs, lam, mask=mask)
    tl.store(dc_ptr + b * 2 * N + n, a_beta, mask=mask)
    tl.store(dc_ptr + b * 2 * N + N + n, a_thr, mask=mask)


# ----------------------------------------------------------------------------
# SE-AdLIF: state (u, w); coefficients (a_u, a_w, a, b_w, threshold); scalars
# (q, alpha, c alpha / 2)
# ----------------------------------------------------------------------------


@triton.jit
def _adlif_forward(
    i_ptr,
    s0_ptr,
    c_ptr,
    sc_ptr,
    out_ptr,
    tr_ptr,
    fin_ptr,
    T,
    B,
    N,
    RECORD: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    b = offs // N
    n = offs % N
    a_u = tl.load(c_ptr + n, mask=mask)
    a_w = tl.load(c_ptr + N + n, mask=mask)
    a = tl.load(c_ptr + 2 * N + n, mask=mask)
    b_w = tl.load(c_ptr + 3 * N + n, mask=mask)
    thr = tl.load(c_ptr + 4 * N + n, mask=mask)
    q = tl.load(sc_ptr)
    base = b * 2 * N + n
    u = tl.load(s0_ptr + base, mask=mask)
    w = tl.load(s0_ptr + base + N, mask=mask)
    for t in range(T):
        i_now = tl.load(i_ptr + t * B * N + offs, mask=mask)
        u = a_u * u + (1.0 - a_u) * (i_now - w)
        z = tl.where(u - thr > 0.0, 1.0, 0.0)
        u = u * (1.0 - z)
        w = a_w * w + (1.0 - a_w) * (a * u + b_w * z) * q
        tl.store(out_ptr + t * B * N + offs, z, mask=mask)
        if RECORD:
            row = (t * B + b) * 2 * N + n
            tl.store(tr_ptr + row, u, mask=mask)
            tl.store(tr_ptr + row + N, w, mask=mask)
    tl.store(fin_ptr + base, u, mask=mask)
    tl.store(fin_ptr + base + N, w, mask=mask)


@triton.jit
def _adlif_backward(
    i_ptr,
    s0_ptr,
    c_ptr,
    sc_ptr,
    tr_ptr,
    g_ptr,
    gtr_ptr,
    lam_ptr,
    din_ptr,
    d0_ptr,
    dc_ptr,
    T,
    B,
    N,
    HAS_GTR: tl.constexpr,
    HAS_LAM: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < B * N
    b = offs // N
    n = offs % N
    a_u = tl.load(c_ptr + n, mask=mask)
    a_w = tl.load(c_ptr + N + n, mask=mask)
    a = tl.load(c_ptr + 2 * N + n, mask=mask)
    b_w = tl.load(c_ptr + 3 * N + n, mask=mask)
    thr = tl.load(c_ptr + 4 * N + n, mask=mask)
    q = tl.load(sc_ptr)
    alpha = tl.load(sc_ptr + 1)
    scale = tl.load(sc_ptr + 2)
    base = b * 2 * N + n
    if HAS_LAM:
        lam_u = tl.load(lam_ptr + base, mask=mask)
        lam_w = tl.load(lam_ptr + base + N, mask=mask)
    else:
        lam_u = 0.0 * a_u
        lam_w = 0.0 * a_u
    acc_au = 0.0 * a_u
    acc_aw = 0.0 * a_u
    acc_a = 0.0 * a_u
    acc_bw = 0.0 * a_u
    acc_thr = 0.0 * a_u
    u_now = tl.load(tr_ptr + ((T - 1) * B + b) * 2 * N + n, mask=mask)
    for i in range(T):
        t = T - 1 - i
        if t > 0:
            row = ((t - 1) * B + b) * 2 * N + n
            u_prev = tl.load(tr_ptr + row, mask=mask)
            w_prev = tl.load(tr_ptr + row + N, mask=mask)
        else:
            u_prev = tl.load(s0_ptr + base, mask=mask)
            w_prev = tl.load(s0_ptr + base + N, mask=mask)
        drive = tl.load(i_ptr + t * B * N + offs, mask=mask) - w_prev
        u_pre = a_u * u_prev + (1.0 - a_u) * drive
        x = u_pre - thr
        z = tl.where(x > 0.0, 1.0, 0.0)
        sigma = scale * tl.exp(-alpha * tl.abs(x))
        big_u = lam_u
        big_w = lam_w
        if HAS_GTR:
            row_t = (t * B + b) * 2 * N + n
            big_u += tl.load(gtr_ptr + row_t, mask=mask)
            big_w += tl.load(gtr_ptr + row_t + N, mask=mask)
        gain = (1.0 - a_w) * q
        g_u = big_u + big_w * gain * a
        g_z = tl.load(g_ptr + t * B * N + offs, mask=mask) + big_w * gain * b_w
        g_pre = g_u * (1.0 - z) + g_z * sigma
        tl.store(din_ptr + t * B * N + offs, g_pre * (1.0 - a_u), mask=mask)
        acc_au += g_pre * (u_prev - drive)
        acc_aw += big_w * (w_prev - (a * u_now + b_w * z) * q)
        acc_a += big_w * gain * u_now
        acc_bw += big_w * gain * z
        acc_thr += -g_z * sigma
        lam_u = g_pre * a_u
        lam_w = -g_pre * (1.0 - a_u) + big_w * a_w
        u_now = u_prev
    tl.store(d0_ptr + base, lam_u, mask=mask)
    tl.store(d0_ptr + base + N, lam_w, mask=mask)
    dc = b * 5 * N + n
    tl.store(dc_ptr + dc, acc_au, mask=mask)
    tl.store(dc_ptr + dc + N, acc_aw, mask=mask)
    tl.store(dc_ptr + dc + 2 * N, acc_a, mask=mask)
    tl.store(dc_ptr + dc + 3 * N, acc_bw, mask=mask)
    tl.store(dc_ptr + dc + 4 * N, acc_thr, mask=mask)


class TritonBackend(Backend):
    """Runs the Triton kernels (CUDA tensors, or CPU ones when interpreting)."""

    name = "triton"

    @staticmethod
    def _grid(batch: int, n: int) -> tuple[int]:
        return (triton.cdiv(batch * n, BLOCK),)

    def launch_forward(
        self, kind, i_in, state0, coeffs, scalars, out, traces, final
    ) -> None:
        n_steps, batch, n = i_in.shape
        record = traces is not None
        trace_arg = traces if record else out
        grid = self._grid(batch, n)
        if kind.name == "mtc":
            _mtc_forward[grid](
                i_in,
                state0,
                coeffs,
                out,
                trace_arg,
                final,
                n_steps,
                batch,
                n,
                INST=bool(scalars[0]),
                S=state0.shape[1],
                RECORD=record,
                F32=i_in.dtype == torch.float32,
                BLOCK=BLOCK,
            )
        elif kind.name == "lif":
            _lif_forward[grid](
                i_in,
                state0,
                coeffs,
                out,
                trace_arg,
                final,
                n_steps,
                batch,
                n,
                RECORD=record,
                BLOCK=BLOCK,
            )
        else:
            _adlif_forward[grid](
                i_in,
                state0,
                coeffs,
                i_in.new_tensor(scalars[:1]),
                out,
                trace_arg,
                final,
                n_steps,
                batch,
                n,
                RECORD=record,
                BLOCK=BLOCK,
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
        flags = {
            "HAS_GTR": g_traces is not None,
            "HAS_LAM": lam_end is not None,
            "BLOCK": BLOCK,
        }
        g_tr = g_out if g_traces is None else g_traces
        lam = state0 if lam_end is None else lam_end
        grid = self._grid(batch, n)
        if kind.name == "mtc":
            _mtc_backward[grid](
                i_in,
                state0,
                coeffs,
                traces,
                g_out,
                g_tr,
                lam,
                d_in,
                d_state0,
                d_c,
                n_steps,
                batch,
                n,
                INST=bool(scalars[0]),
                S=state0.shape[1],
                F32=i_in.dtype == torch.float32,
                **flags,
            )
        elif kind.name == "lif":
            _lif_backward[grid](
                state0,
                coeffs,
                i_in.new_tensor(scalars),
                traces,
                g_out,
                g_tr,
                lam,
                d_in,
                d_state0,
                d_c,
                n_steps,
                batch,
                n,
                **flags,
            )
        else:
            _adlif_backward[grid](
                i_in,
                state0,
                coeffs,
                i_in.new_tensor(scalars),
                traces,
                g_out,
                g_tr,
                lam,
                d_in,
                d_state0,
                d_c,
                n_steps,
                batch,
                n,
                **flags,
            )


__all__ = ["BLOCK", "TritonBackend"]
