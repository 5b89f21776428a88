// Fused CPU kernels of mtcsnn: forward and adjoint scans of the MTC, LIF and
// SE-AdLIF neurons over whole sequences.
//
// Built at first use by mtcsnn/kernels/cpu.py (g++ or clang++, -O3
// -march=native) and called through ctypes. Each kernel spreads the batch
// rows over threads; within a row the loop over the N neurons is vectorised
// (`#pragma omp simd`, restrict-qualified rows). The arithmetic mirrors the
// plain step functions of mtcsnn.neurons operation for operation. No
// -ffast-math: NaN and inf propagate as they do in PyTorch.
//
// Array conventions (C order, one floating type per call):
//   sequences      [T, B, N]     input current, output, their gradients
//   states         [B, S, N]     S state variables per neuron
//   state traces   [T, B, S, N]  the state after each step
//   coefficients   [K, N]        per-neuron constants
//   coeff. grads   [B, K, N]     per batch row (the caller sums over B)
// A null pointer stands for "not recorded" / "no gradient".

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

using i64 = std::int64_t;

namespace {

// ---------------------------------------------------------------------------
// tanh: a rational approximation in float, the exact one in double (see
// mtcsnn/kernels/tanh.py for the coefficients and the error bound).
// ---------------------------------------------------------------------------

inline float clamp_nan(float x, float lo, float hi) {
  // Comparisons with NaN are false, so NaN passes through unchanged.
  return x < lo ? lo : (x > hi ? hi : x);
}

inline float fast_tanh(float x) {
  const float c = clamp_nan(x, -MTCSNN_X_MAX, MTCSNN_X_MAX);
  const float y = c * c;
  const float p =
      (((MTCSNN_P4 * y + MTCSNN_P3) * y + MTCSNN_P2) * y + MTCSNN_P1) * y +
      MTCSNN_P0;
  const float q =
      (((MTCSNN_Q4 * y + MTCSNN_Q3) * y + MTCSNN_Q2) * y + MTCSNN_Q1) * y +
      MTCSNN_Q0;
  return clamp_nan(c * p / q, -1.0f, 1.0f);
}

inline double fast_tanh(double x) { return std::tanh(x); }

template <typename F>
inline void copy(F* __restrict dst, const F* __restrict src, i64 n) {
  std::memcpy(dst, src, sizeof(F) * n);
}

// Run fn(b0, b1) over [0, B) split into contiguous ranges, one per thread.
// Workers inherit the caller's floating-point control word, so that
// torch.set_flush_denormal applies to them as it does to PyTorch's own ops.
template <typename Fn>
void parallel_rows(i64 batch, int threads, Fn fn) {
  threads = static_cast<int>(std::max<i64>(1, std::min<i64>(threads, batch)));
  if (threads == 1) {
    fn(0, batch);
    return;
  }
#if defined(__SSE__)
  const unsigned int csr = _mm_getcsr();
#endif
  std::vector<std::thread> pool;
  const i64 chunk = (batch + threads - 1) / threads;
  for (int k = 0; k < threads; ++k) {
    const i64 b0 = k * chunk;
    const i64 b1 = std::min(batch, b0 + chunk);
    if (b0 >= b1) break;
    pool.emplace_back([=] {
#if defined(__SSE__)
      _mm_setcsr(csr);
#endif
      fn(b0, b1);
    });
  }
  for (auto& worker : pool) worker.join();
}

// ---------------------------------------------------------------------------
// MTC
// ---------------------------------------------------------------------------

// Rows of the coefficient matrix [16, N].
enum {
  KM, R, U_REST, KS, KUS, KF,
  AF, DF, ASP, DSP, ASN, DSN, AUS, DUS,
  UTH, USAT, MTC_K
};

// The state rows are (u_m, u_s, u_us, u_f): with an instantaneous fast filter
// u_f is u_m and only the first three are kept, S = 3; otherwise S = 4.
template <bool INST>
constexpr i64 mtc_states() {
  return INST ? 3 : 4;
}

// One Euler step of a row of N neurons: x [S, N] updated in place, s_row the
// output of the new membrane voltage.
template <typename F, bool INST>
void mtc_row(const F* __restrict i_row, F* __restrict x, const F* __restrict c,
             i64 n, F* __restrict s_row) {
  F* __restrict xm = x;
  F* __restrict xs = x + n;
  F* __restrict xus = x + 2 * n;
  F* __restrict xf = x + 3 * n;  // one past the end, unused, when INST
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F u_m = xm[k];
    const F u_f = INST ? u_m : xf[k];
    const F u_s = xs[k];
    const F u_us = xus[k];

    const F fast = -c[AF * n + k] * fast_tanh(u_f - c[DF * n + k]);
    const F slow = c[ASP * n + k] * fast_tanh(u_s - c[DSP * n + k]) -
                   c[ASN * n + k] * fast_tanh(u_s - c[DSN * n + k]);
    const F ultraslow = c[AUS * n + k] * fast_tanh(u_us - c[DUS * n + k]);
    const F i_sum = fast + slow + ultraslow;

    xs[k] = u_s + c[KS * n + k] * (u_m - u_s);
    xus[k] = u_us + c[KUS * n + k] * (u_m - u_us);
    const F m_next =
        u_m + c[KM * n + k] *
                  (-(u_m - c[U_REST * n + k]) + c[R * n + k] * (i_row[k] - i_sum));
    xm[k] = m_next;
    if (!INST) xf[k] = u_f + c[KF * n + k] * (u_m - u_f);

    const F ratio = (m_next - c[UTH * n + k]) / (c[USAT * n + k] - c[UTH * n + k]);
    s_row[k] = ratio < zero ? zero : (ratio > one ? one : ratio);
  }
}

// The time loop is outside the loop over a thread's rows, so that every step
// reads and writes one contiguous block of each sequence. `final` receives
// the state after the last step.
template <typename F, bool INST>
void mtc_forward(const F* i_in, const F* state0, const F* c, i64 T, i64 B,
                 i64 n, F* out, F* traces, F* final, int threads) {
  constexpr i64 S = mtc_states<INST>();
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 block = (b1 - b0) * S * n;
    std::vector<F> x(state0 + b0 * S * n, state0 + b1 * S * n);
    for (i64 t = 0; t < T; ++t) {
      for (i64 b = b0; b < b1; ++b)
        mtc_row<F, INST>(i_in + (t * B + b) * n, x.data() + (b - b0) * S * n, c,
                         n, out + (t * B + b) * n);
      if (traces) copy(traces + (t * B + b0) * S * n, x.data(), block);
    }
    copy(final + b0 * S * n, x.data(), block);
  });
}

// One adjoint step of a row (see mtc_backward in mtcsnn/kernels/cpu.py for
// the recurrence). x [4, N]: state before the step; m_next [N]: membrane after
// it; lam [S, N]: gradient with respect to the state after the step, replaced
// by the one before it; g_tr [S, N]: direct gradients of the trace (zeros if
// none); acc [K, N]: coefficient gradients, added to; d_in [N]: input grad.
template <typename F, bool INST>
void mtc_adjoint_row(const F* __restrict i_row, const F* __restrict x,
                     const F* __restrict m_next, const F* __restrict c,
                     const F* __restrict g_out, const F* __restrict g_tr,
                     F* __restrict lam, F* __restrict acc, F* __restrict d_in,
                     i64 n) {
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F u_m = x[k];
    const F u_s = x[n + k];
    const F u_us = x[2 * n + k];
    const F u_f = INST ? u_m : x[3 * n + k];
    const F km = c[KM * n + k];
    const F r_m = c[R * n + k];
    const F af = c[AF * n + k], asp = c[ASP * n + k];
    const F asn = c[ASN * n + k], aus = c[AUS * n + k];
    const F ks = c[KS * n + k], kus = c[KUS * n + k], kf = c[KF * n + k];

    // Output s = clamp(ratio, 0, 1), ratio = (u_m' - u_th) / (u_sat - u_th).
    const F width = c[USAT * n + k] - c[UTH * n + k];
    const F ratio = (m_next[k] - c[UTH * n + k]) / width;
    const F g_ratio = (ratio >= zero && ratio <= one) ? g_out[k] : zero;
    acc[UTH * n + k] += g_ratio * (ratio - one) / width;
    acc[USAT * n + k] += -g_ratio * ratio / width;

    const F a = lam[k] + g_ratio / width + g_tr[k];
    const F b = lam[n + k] + g_tr[n + k];
    const F h = lam[2 * n + k] + g_tr[2 * n + k];
    const F e = INST ? zero : lam[3 * n + k] + g_tr[3 * n + k];

    const F t_f = fast_tanh(u_f - c[DF * n + k]);
    const F t_sp = fast_tanh(u_s - c[DSP * n + k]);
    const F t_sn = fast_tanh(u_s - c[DSN * n + k]);
    const F t_us = fast_tanh(u_us - c[DUS * n + k]);
    const F i_sum = -af * t_f + (asp * t_sp - asn * t_sn) + aus * t_us;
    const F i_now = i_row[k];
    const F drive = -(u_m - c[U_REST * n + k]) + r_m * (i_now - i_sum);

    const F s_f = one - t_f * t_f;
    const F s_sp = one - t_sp * t_sp;
    const F s_sn = one - t_sn * t_sn;
    const F s_us = one - t_us * t_us;
    const F aw = -a * km * r_m;

    acc[KM * n + k] += a * drive;
    acc[R * n + k] += a * km * (i_now - i_sum);
    acc[U_REST * n + k] += a * km;
    acc[KS * n + k] += b * (u_m - u_s);
    acc[KUS * n + k] += h * (u_m - u_us);
    acc[AF * n + k] += -aw * t_f;
    acc[DF * n + k] += aw * af * s_f;
    acc[ASP * n + k] += aw * t_sp;
    acc[DSP * n + k] += -aw * asp * s_sp;
    acc[ASN * n + k] += -aw * t_sn;
    acc[DSN * n + k] += aw * asn * s_sn;
    acc[AUS * n + k] += aw * t_us;
    acc[DUS * n + k] += -aw * aus * s_us;
    d_in[k] = a * km * r_m;

    const F lam_m = a * (one - km) + b * ks + h * kus;
    if (INST) {
      lam[k] = lam_m + aw * (-af * s_f);
    } else {
      acc[KF * n + k] += e * (u_m - u_f);
      lam[k] = lam_m + e * kf;
      lam[3 * n + k] = aw * (-af * s_f) + e * (one - kf);
    }
    lam[n + k] = aw * (asp * s_sp - asn * s_sn) + b * (one - ks);
    lam[2 * n + k] = aw * aus * s_us + h * (one - kus);
  }
}

// The adjoint scan, from lam_end (the gradient with respect to the state
// after the last step; null for zero) back to d_state0.
template <typename F, bool INST>
void mtc_backward(const F* i_in, const F* state0, const F* c, i64 T, i64 B,
                  i64 n, const F* traces, const F* g_out, const F* g_traces,
                  const F* lam_end, F* d_in, F* d_state0, F* d_c, int threads) {
  constexpr i64 S = mtc_states<INST>();
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 rows = b1 - b0, block = rows * S * n;
    std::vector<F> lam(block, F(0)), acc(rows * MTC_K * n, F(0));
    std::vector<F> zeros(S * n, F(0));
    if (lam_end) copy(lam.data(), lam_end + b0 * S * n, block);
    for (i64 t = T - 1; t >= 0; --t) {
      const F* before =
          t == 0 ? state0 + b0 * S * n : traces + ((t - 1) * B + b0) * S * n;
      const F* after = traces + (t * B + b0) * S * n;
      for (i64 b = b0; b < b1; ++b) {
        const i64 r = b - b0;
        const F* g_tr = g_traces ? g_traces + (t * B + b) * S * n : zeros.data();
        mtc_adjoint_row<F, INST>(i_in + (t * B + b) * n, before + r * S * n,
                                 after + r * S * n, c, g_out + (t * B + b) * n,
                                 g_tr, lam.data() + r * S * n,
                                 acc.data() + r * MTC_K * n,
                                 d_in + (t * B + b) * n, n);
      }
    }
    copy(d_state0 + b0 * S * n, lam.data(), block);
    copy(d_c + b0 * MTC_K * n, acc.data(), rows * MTC_K * n);
  });
}

// ---------------------------------------------------------------------------
// LIF (snnTorch Leaky, subtract reset detached, ArcTan surrogate)
// ---------------------------------------------------------------------------

enum { BETA, THR, LIF_K };

template <typename F>
void lif_row(const F* __restrict i_row, F* __restrict u, const F* __restrict c,
             i64 n, F* __restrict s_row) {
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F thr = c[THR * n + k];
    const F reset = u[k] > thr ? one : zero;
    const F u_next = c[BETA * n + k] * u[k] + i_row[k] - reset * thr;
    u[k] = u_next;
    s_row[k] = u_next > thr ? one : zero;
  }
}

template <typename F>
void lif_forward(const F* i_in, const F* state0, const F* c, i64 T, i64 B,
                 i64 n, F* out, F* traces, F* final, int threads) {
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 block = (b1 - b0) * n;
    std::vector<F> u(state0 + b0 * n, state0 + b1 * n);
    for (i64 t = 0; t < T; ++t) {
      for (i64 b = b0; b < b1; ++b)
        lif_row<F>(i_in + (t * B + b) * n, u.data() + (b - b0) * n, c, n,
                   out + (t * B + b) * n);
      if (traces) copy(traces + (t * B + b0) * n, u.data(), block);
    }
    copy(final + b0 * n, u.data(), block);
  });
}

template <typename F>
void lif_adjoint_row(const F* __restrict u_prev, const F* __restrict u_now,
                     const F* __restrict c, F half_alpha, F half_pi_alpha,
                     const F* __restrict g_out, const F* __restrict g_tr,
                     F* __restrict lam, F* __restrict acc, F* __restrict d_in,
                     i64 n) {
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F thr = c[THR * n + k];
    const F x = u_now[k] - thr;
    const F z = half_pi_alpha * x;
    const F sigma = half_alpha / (one + z * z);
    const F g_spike = g_out[k] * sigma;
    const F grad = lam[k] + g_spike + g_tr[k];
    const F reset = u_prev[k] > thr ? one : zero;
    d_in[k] = grad;
    acc[BETA * n + k] += grad * u_prev[k];
    acc[THR * n + k] += -grad * reset - g_spike;
    lam[k] = grad * c[BETA * n + k];
  }
}

template <typename F>
void lif_backward(const F* i_in, const F* state0, const F* c, F half_alpha,
                  F half_pi_alpha, i64 T, i64 B, i64 n, const F* traces,
                  const F* g_out, const F* g_traces, const F* lam_end, F* d_in,
                  F* d_state0, F* d_c, int threads) {
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 rows = b1 - b0, block = rows * n;
    std::vector<F> lam(block, F(0)), acc(rows * LIF_K * n, F(0));
    std::vector<F> zeros(n, F(0));
    if (lam_end) copy(lam.data(), lam_end + b0 * n, block);
    for (i64 t = T - 1; t >= 0; --t) {
      const F* before = t == 0 ? state0 + b0 * n : traces + ((t - 1) * B + b0) * n;
      const F* after = traces + (t * B + b0) * n;
      for (i64 b = b0; b < b1; ++b) {
        const i64 r = b - b0;
        const F* g_tr = g_traces ? g_traces + (t * B + b) * n : zeros.data();
        lif_adjoint_row<F>(before + r * n, after + r * n, c, half_alpha,
                           half_pi_alpha, g_out + (t * B + b) * n, g_tr,
                           lam.data() + r * n, acc.data() + r * LIF_K * n,
                           d_in + (t * B + b) * n, n);
      }
    }
    copy(d_state0 + b0 * n, lam.data(), block);
    copy(d_c + b0 * LIF_K * n, acc.data(), rows * LIF_K * n);
  });
}

// ---------------------------------------------------------------------------
// SE-AdLIF (symplectic Euler, reset to 0, SLAYER surrogate)
// ---------------------------------------------------------------------------

enum { A_U, A_W, A, B_W, THETA, ADLIF_K };

template <typename F>
void adlif_row(const F* __restrict i_row, F* __restrict x, const F* __restrict c,
               F q, i64 n, F* __restrict z_row) {
  F* __restrict u = x;
  F* __restrict w = x + n;
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F a_u = c[A_U * n + k];
    const F a_w = c[A_W * n + k];
    F u_new = a_u * u[k] + (one - a_u) * (i_row[k] - w[k]);
    const F z = u_new - c[THETA * n + k] > zero ? one : zero;
    u_new = u_new * (one - z);
    w[k] = a_w * w[k] + (one - a_w) * (c[A * n + k] * u_new + c[B_W * n + k] * z) * q;
    u[k] = u_new;
    z_row[k] = z;
  }
}

template <typename F>
void adlif_forward(const F* i_in, const F* state0, const F* c, F q, i64 T,
                   i64 B, i64 n, F* out, F* traces, F* final, int threads) {
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 block = (b1 - b0) * 2 * n;
    std::vector<F> x(state0 + b0 * 2 * n, state0 + b1 * 2 * n);
    for (i64 t = 0; t < T; ++t) {
      for (i64 b = b0; b < b1; ++b)
        adlif_row<F>(i_in + (t * B + b) * n, x.data() + (b - b0) * 2 * n, c, q,
                     n, out + (t * B + b) * n);
      if (traces) copy(traces + (t * B + b0) * 2 * n, x.data(), block);
    }
    copy(final + b0 * 2 * n, x.data(), block);
  });
}

template <typename F>
void adlif_adjoint_row(const F* __restrict i_row, const F* __restrict before,
                       const F* __restrict u_now, const F* __restrict c, F q,
                       F alpha, F scale, const F* __restrict g_out,
                       const F* __restrict g_tr, F* __restrict lam,
                       F* __restrict acc, F* __restrict d_in, i64 n) {
  const F zero = 0, one = 1;
#pragma omp simd
  for (i64 k = 0; k < n; ++k) {
    const F a_u = c[A_U * n + k];
    const F a_w = c[A_W * n + k];
    const F a = c[A * n + k];
    const F b_w = c[B_W * n + k];
    const F u_prev = before[k];
    const F w_prev = before[n + k];
    const F drive = i_row[k] - w_prev;
    const F u_pre = a_u * u_prev + (one - a_u) * drive;
    const F x = u_pre - c[THETA * n + k];
    const F z = x > zero ? one : zero;
    const F sigma = scale * std::exp(-alpha * std::fabs(x));
    const F big_u = lam[k] + g_tr[k];
    const F big_w = lam[n + k] + g_tr[n + k];
    const F gain = (one - a_w) * q;
    const F g_u = big_u + big_w * gain * a;
    const F g_z = g_out[k] + big_w * gain * b_w;
    const F g_pre = g_u * (one - z) + g_z * sigma;
    d_in[k] = g_pre * (one - a_u);
    acc[A_U * n + k] += g_pre * (u_prev - drive);
    acc[A_W * n + k] += big_w * (w_prev - (a * u_now[k] + b_w * z) * q);
    acc[A * n + k] += big_w * gain * u_now[k];
    acc[B_W * n + k] += big_w * gain * z;
    acc[THETA * n + k] += -g_z * sigma;
    lam[k] = g_pre * a_u;
    lam[n + k] = -g_pre * (one - a_u) + big_w * a_w;
  }
}

template <typename F>
void adlif_backward(const F* i_in, const F* state0, const F* c, F q, F alpha,
                    F scale, i64 T, i64 B, i64 n, const F* traces,
                    const F* g_out, const F* g_traces, const F* lam_end,
                    F* d_in, F* d_state0, F* d_c, int threads) {
  parallel_rows(B, threads, [=](i64 b0, i64 b1) {
    const i64 rows = b1 - b0, block = rows * 2 * n;
    std::vector<F> lam(block, F(0)), acc(rows * ADLIF_K * n, F(0));
    std::vector<F> zeros(2 * n, F(0));
    if (lam_end) copy(lam.data(), lam_end + b0 * 2 * n, block);
    for (i64 t = T - 1; t >= 0; --t) {
      const F* before =
          t == 0 ? state0 + b0 * 2 * n : traces + ((t - 1) * B + b0) * 2 * n;
      const F* after = traces + (t * B + b0) * 2 * n;
      for (i64 b = b0; b < b1; ++b) {
        const i64 r = b - b0;
        const F* g_tr = g_traces ? g_traces + (t * B + b) * 2 * n : zeros.data();
        adlif_adjoint_row<F>(i_in + (t * B + b) * n, before + r * 2 * n,
                             after + r * 2 * n, c, q, alpha, scale,
                             g_out + (t * B + b) * n, g_tr, lam.data() + r * 2 * n,
                             acc.data() + r * ADLIF_K * n, d_in + (t * B + b) * n,
                             n);
      }
    }
    copy(d_state0 + b0 * 2 * n, lam.data(), block);
    copy(d_c + b0 * ADLIF_K * n, acc.data(), rows * ADLIF_K * n);
  });
}

}  // namespace

// ---------------------------------------------------------------------------
// C entry points, one per kernel and floating type (suffix f32 / f64).
// ---------------------------------------------------------------------------

#define MTCSNN_ENTRY_POINTS(F, SUFFIX)                                        \
  extern "C" void mtcsnn_mtc_forward_##SUFFIX(                                \
      const F* i_in, const F* state0, const F* c, int instantaneous, i64 T,   \
      i64 B, i64 n, F* out, F* traces, F* final, int threads) {               \
    if (instantaneous)                                                        \
      mtc_forward<F, true>(i_in, state0, c, T, B, n, out, traces, final,      \
                           threads);                                          \
    else                                                                      \
      mtc_forward<F, false>(i_in, state0, c, T, B, n, out, traces, final,     \
                            threads);                                         \
  }                                                                           \
  extern "C" void mtcsnn_mtc_backward_##SUFFIX(                               \
      const F* i_in, const F* state0, const F* c, int instantaneous, i64 T,   \
      i64 B, i64 n, const F* traces, const F* g_out, const F* g_traces,       \
      const F* lam_end, F* d_in, F* d_state0, F* d_c, int threads) {          \
    if (instantaneous)                                                        \
      mtc_backward<F, true>(i_in, state0, c, T, B, n, traces, g_out,          \
                            g_traces, lam_end, d_in, d_state0, d_c, threads); \
    else                                                                      \
      mtc_backward<F, false>(i_in, state0, c, T, B, n, traces, g_out,         \
                             g_traces, lam_end, d_in, d_state0, d_c,          \
                             threads);                                        \
  }                                                                           \
  extern "C" void mtcsnn_lif_forward_##SUFFIX(                                \
      const F* i_in, const F* state0, const F* c, i64 T, i64 B, i64 n,        \
      F* out, F* traces, F* final, int threads) {                             \
    lif_forward<F>(i_in, state0, c, T, B, n, out, traces, final, threads);    \
  }                                                                           \
  extern "C" void mtcsnn_lif_backward_##SUFFIX(                               \
      const F* i_in, const F* state0, const F* c, F half_alpha,               \
      F half_pi_alpha, i64 T, i64 B, i64 n, const F* traces, const F* g_out,  \
      const F* g_traces, const F* lam_end, F* d_in, F* d_state0, F* d_c,      \
      int threads) {                                                          \
    lif_backward<F>(i_in, state0, c, half_alpha, half_pi_alpha, T, B, n,      \
                    traces, g_out, g_traces, lam_end, d_in, d_state0, d_c,    \
                    threads);                                                 \
  }                                                                           \
  extern "C" void mtcsnn_adlif_forward_##SUFFIX(                              \
      const F* i_in, const F* state0, const F* c, F q, i64 T, i64 B, i64 n,   \
      F* out, F* traces, F* final, int threads) {                             \
    adlif_forward<F>(i_in, state0, c, q, T, B, n, out, traces, final,         \
                     threads);                                                \
  }                                                                           \
  extern "C" void mtcsnn_adlif_backward_##SUFFIX(                             \
      const F* i_in, const F* state0, const F* c, F q, F alpha, F scale,      \
      i64 T, i64 B, i64 n, const F* traces, const F* g_out,                   \
      const F* g_traces, const F* lam_end, F* d_in, F* d_state0, F* d_c,      \
      int threads) {                                                          \
    adlif_backward<F>(i_in, state0, c, q, alpha, scale, T, B, n, traces,      \
                      g_out, g_traces, lam_end, d_in, d_state0, d_c,          \
                      threads);                                               \
  }

MTCSNN_ENTRY_POINTS(float, f32)
MTCSNN_ENTRY_POINTS(double, f64)
