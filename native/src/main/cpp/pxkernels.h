// pxprune native kernels: hand-written loops for everything that is not a matrix product.
// Every kernel works on contiguous buffers; `dt` selects the element type (0 = float32,
// 1 = float64). Matrix products are not here: they go to OpenBLAS from the kernels module.
// Loops over channels or images are parallelised with OpenMP where the work is large.
#pragma once
#include <atomic>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <omp.h>
#include "pxops.h"

namespace pxk {

// ---------------------------------------------------------------- argument checks
// The Java callers (core's Ops and its Checks) validate every argument before a kernel runs; these
// checks are the second line, so that a caller's mistake fails with an exception instead of
// corrupting the heap. Two levels, chosen so that the release loops stay exactly as they were:
//  * PXK_REQUIRE: always on, a few compares once per call before any loop (geometry that is
//    consistent: strides >= 1, output sizes that fit the input, no pooling window wholly in the
//    padding, labels inside the classes). It throws std::invalid_argument, which JavaCPP's
//    generated JNI wrapper turns into a java.lang.RuntimeException with this message. It is never
//    used inside an OpenMP region (an exception may not leave one).
//  * PXK_DEBUG: per-element checks that cost a pass over an index array (pooling argmax indices
//    before a scatter or gather). They run as a pre-pass, not inside the loops, when the run-time
//    flag debug_bounds() is on: CpuBackend sets it from -Dpxprune.debugBounds=true, which the test
//    build (surefire, in the parent pom) passes. A compile-time -DPXPRUNE_DEBUG_BOUNDS build would
//    need a second JavaCPP build of this library (the builder compiles one library per class,
//    doubling the native compile), so the switch is a run-time flag; compiling with
//    -DPXPRUNE_DEBUG_BOUNDS only makes it start on. Off, it costs one predictable branch per call.
// Reads that depend on padding (im2col, col2im, max pooling) are already guarded element by
// element by the loops themselves; what the checks add is that every write lands in the output.
#ifdef PXPRUNE_DEBUG_BOUNDS
#define PXK_DEBUG_DEFAULT true
#else
#define PXK_DEBUG_DEFAULT false
#endif
inline std::atomic<bool>& debug_bounds() { static std::atomic<bool> on(PXK_DEBUG_DEFAULT); return on; }
inline bool debugging() { return debug_bounds().load(std::memory_order_relaxed); }

[[noreturn]] inline void fail(const char* kernel, const std::string& what) {
  throw std::invalid_argument(std::string("pxkernels ") + kernel + ": " + what);
}
#define PXK_REQUIRE(cond, kernel, what) do { if (!(cond)) ::pxk::fail(kernel, what); } while (0)
#define PXK_S(v) std::to_string(v)

// idx[i] in [0, n) for every i < count (a pre-pass; returns the first bad position or -1)
inline long first_outside(const int32_t* idx, long count, long n) {
  for (long i = 0; i < count; i++) if (idx[i] < 0 || idx[i] >= n) return i;
  return -1;
}

// PyTorch's output size floor((in + 2p - d(k-1) - 1)/s) + 1 along one dim (s >= 1)
inline long out_size(long in, long k, long s, long p, long d) {
  long span = in + 2 * p - d * (k - 1) - 1;
  return (span >= 0 ? span / s : -((-span + s - 1) / s)) + 1;
}

// a pooling or convolution window geometry along one dim: every output position exists in the input's frame
inline void require_window(const char* kernel, const char* dim, long in, long k, long s, long p, long d, long out) {
  PXK_REQUIRE(in >= 1 && k >= 1 && s >= 1 && p >= 0 && d >= 1, kernel,
              std::string(dim) + ": need size >= 1, kernel >= 1, stride >= 1, padding >= 0, dilation >= 1; got size " +
              PXK_S(in) + ", kernel " + PXK_S(k) + ", stride " + PXK_S(s) + ", padding " + PXK_S(p) + ", dilation " + PXK_S(d));
  PXK_REQUIRE(out >= 1 && out <= out_size(in, k, s, p, d), kernel,
              std::string(dim) + ": output size " + PXK_S(out) + " is not in 1.." + PXK_S(out_size(in, k, s, p, d)) +
              " for size " + PXK_S(in) + ", kernel " + PXK_S(k) + ", stride " + PXK_S(s) + ", padding " + PXK_S(p));
}

#define PXK_DISPATCH(dt, CALL) \
  do { \
    PXK_REQUIRE((dt) == 0 || (dt) == 1, __func__, "element type code " + PXK_S(dt) + " is not 0 (float) or 1 (double)"); \
    if ((dt) == 0) { typedef float T; CALL; } else { typedef double T; CALL; } \
  } while (0)

static inline bool big(long n) { return n >= 32768; }

// ---------------------------------------------------------------- im2col / col2im
// x: one NCHW batch. col: [C*kh*kw, N*OH*OW] (column index = n*OH*OW + oh*OW + ow).
template <typename T>
void im2col_t(const T* x, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
              int ph, int pw, int dh, int dw, int OH, int OW, T* col) {
  require_window("im2col", "height", H, kh, sh, ph, dh, OH);
  require_window("im2col", "width", W, kw, sw, pw, dw, OW);
  const long cols = (long)N * OH * OW;
  const int rows = C * kh * kw;
#pragma omp parallel for schedule(static) if (big((long)rows * cols))
  for (int r = 0; r < rows; r++) {
    int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
    T* dst = col + (long)r * cols;
    for (int n = 0; n < N; n++) {
      const T* src = x + ((long)n * C + c) * H * W;
      for (int oh = 0; oh < OH; oh++) {
        int ih = oh * sh - ph + ki * dh;
        T* d = dst + ((long)n * OH + oh) * OW;
        if (ih < 0 || ih >= H) { for (int ow = 0; ow < OW; ow++) d[ow] = 0; continue; }
        const T* s = src + (long)ih * W;
        if (sw == 1) {
          int off = kj * dw - pw;
          for (int ow = 0; ow < OW; ow++) { int iw = ow + off; d[ow] = (iw >= 0 && iw < W) ? s[iw] : (T)0; }
        } else {
          for (int ow = 0; ow < OW; ow++) { int iw = ow * sw - pw + kj * dw; d[ow] = (iw >= 0 && iw < W) ? s[iw] : (T)0; }
        }
      }
    }
  }
}

// Accumulates col back into x (x must be zeroed by the caller when a fresh gradient is wanted).
template <typename T>
void col2im_t(const T* col, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
              int ph, int pw, int dh, int dw, int OH, int OW, T* x) {
  require_window("col2im", "height", H, kh, sh, ph, dh, OH);
  require_window("col2im", "width", W, kw, sw, pw, dw, OW);
  const long cols = (long)N * OH * OW;
#pragma omp parallel for schedule(static) if (big((long)C * kh * kw * cols))
  for (int c = 0; c < C; c++) {
    for (int ki = 0; ki < kh; ki++) for (int kj = 0; kj < kw; kj++) {
      const T* src = col + ((long)(c * kh + ki) * kw + kj) * cols;
      for (int n = 0; n < N; n++) {
        T* dst = x + ((long)n * C + c) * H * W;
        for (int oh = 0; oh < OH; oh++) {
          int ih = oh * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) continue;
          const T* s = src + ((long)n * OH + oh) * OW;
          T* d = dst + (long)ih * W;
          for (int ow = 0; ow < OW; ow++) { int iw = ow * sw - pw + kj * dw; if (iw >= 0 && iw < W) d[iw] += s[ow]; }
        }
      }
    }
  }
}

// [A, B, X] -> [B, A, X] (e.g. NCHW <-> C,N,HW). If gate != null, multiplies by gate[b,a,x] on the way
// (out = permute(in) * gate), and if bias != null adds bias[a] first (the fused conv epilogue).
template <typename T>
void permute_t(const T* in, int A, int B, long X, const T* bias, const T* gate, T* out) {
#pragma omp parallel for schedule(static) if (big((long)A * B * X))
  for (int b = 0; b < B; b++) {
    for (int a = 0; a < A; a++) {
      T bv = bias ? bias[a] : (T)0;
      const T* s = in + ((long)a * B + b) * X;
      T* d = out + ((long)b * A + a) * X;
      const T* g = gate ? gate + ((long)b * A + a) * X : nullptr;
      if (g) { for (long i = 0; i < X; i++) d[i] = (s[i] + bv) * g[i]; }
      else { for (long i = 0; i < X; i++) d[i] = s[i] + bv; }
    }
  }
}

// ---------------------------------------------------------------- batch norm (x: [N, C, S])
// Training: batch statistics (biased variance for normalising), running stats updated with the
// unbiased variance. Writes y, the batch mean and 1/sqrt(var+eps) per channel.
template <typename T>
void bn_train_fwd_t(const T* x, int N, int C, long S, const T* gamma, const T* beta, double eps,
                    double momentum, T* run_mean, T* run_var, T* y, T* mean_out, T* invstd_out) {
#pragma omp parallel for schedule(static) if (big((long)N * C * S))
  for (int c = 0; c < C; c++) {
    double s = 0;
    for (int n = 0; n < N; n++) { const T* p = x + ((long)n * C + c) * S; for (long i = 0; i < S; i++) s += p[i]; }
    double cnt = (double)N * S, m = s / cnt, v = 0;
    for (int n = 0; n < N; n++) { const T* p = x + ((long)n * C + c) * S; for (long i = 0; i < S; i++) { double d = p[i] - m; v += d * d; } }
    double var = v / cnt, is = 1.0 / std::sqrt(var + eps);
    T g = gamma ? gamma[c] : (T)1, b = beta ? beta[c] : (T)0;
    T a = (T)(g * is), o = (T)(b - m * g * is);
    for (int n = 0; n < N; n++) {
      const T* p = x + ((long)n * C + c) * S; T* q = y + ((long)n * C + c) * S;
      for (long i = 0; i < S; i++) q[i] = p[i] * a + o;
    }
    mean_out[c] = (T)m; invstd_out[c] = (T)is;
    if (run_mean) run_mean[c] = (T)((1 - momentum) * run_mean[c] + momentum * m);
    if (run_var) run_var[c] = (T)((1 - momentum) * run_var[c] + momentum * (cnt > 1 ? v / (cnt - 1) : var));
  }
}

// y = x * scale[c] + shift[c] (eval-mode batch norm and any per-channel affine map).
template <typename T>
void channel_affine_t(const T* x, int N, int C, long S, const T* scale, const T* shift, T* y) {
#pragma omp parallel for schedule(static) if (big((long)N * C * S))
  for (int c = 0; c < C; c++) {
    T a = scale ? scale[c] : (T)1, b = shift ? shift[c] : (T)0;
    for (int n = 0; n < N; n++) {
      const T* p = x + ((long)n * C + c) * S; T* q = y + ((long)n * C + c) * S;
      for (long i = 0; i < S; i++) q[i] = p[i] * a + b;
    }
  }
}

// Training-mode backward: gx = gamma*invstd/M * (M*gy - sum(gy) - xhat*sum(gy*xhat)),
// dgamma = sum(gy*xhat), dbeta = sum(gy). Any output may be null.
template <typename T>
void bn_train_bwd_t(const T* x, const T* gy, int N, int C, long S, const T* mean, const T* invstd,
                    const T* gamma, T* gx, T* dgamma, T* dbeta) {
#pragma omp parallel for schedule(static) if (big((long)N * C * S))
  for (int c = 0; c < C; c++) {
    double sg = 0, sgx = 0; T m = mean[c], is = invstd[c];
    for (int n = 0; n < N; n++) {
      const T* p = x + ((long)n * C + c) * S; const T* g = gy + ((long)n * C + c) * S;
      for (long i = 0; i < S; i++) { sg += g[i]; sgx += (double)g[i] * ((p[i] - m) * is); }
    }
    if (dgamma) dgamma[c] = (T)sgx;
    if (dbeta) dbeta[c] = (T)sg;
    if (gx) {
      double M = (double)N * S; T gm = gamma ? gamma[c] : (T)1;
      T k = (T)(gm * is), a = (T)(sg / M), b = (T)(sgx / M);
      for (int n = 0; n < N; n++) {
        const T* p = x + ((long)n * C + c) * S; const T* g = gy + ((long)n * C + c) * S; T* q = gx + ((long)n * C + c) * S;
        for (long i = 0; i < S; i++) q[i] = k * (g[i] - a - ((p[i] - m) * is) * b);
      }
    }
  }
}

// sums over n and s of a[n,c,s] (and of a*b if b != null) per channel: the reductions of the
// eval-mode batch-norm backward and of a bias gradient.
template <typename T>
void channel_sums_t(const T* a, const T* b, int N, int C, long S, T* out) {
#pragma omp parallel for schedule(static) if (big((long)N * C * S))
  for (int c = 0; c < C; c++) {
    double s = 0;
    for (int n = 0; n < N; n++) {
      const T* p = a + ((long)n * C + c) * S;
      if (b) { const T* q = b + ((long)n * C + c) * S; for (long i = 0; i < S; i++) s += (double)p[i] * q[i]; }
      else for (long i = 0; i < S; i++) s += p[i];
    }
    out[c] = (T)s;
  }
}

// ---------------------------------------------------------------- pooling (x: [N*C, H, W])
// The geometry is pxops.h's PxPool (pxprune.kernels.PoolGeometry#toArray()); the window loop of
// max pooling is pxops.h's maxpool_window, shared with the CUDA kernel.
using pxops::PxPool;
inline PxPool pool_geometry(const int* g) {
  return PxPool{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]};
}
template <typename T>
void maxpool_fwd_t(const T* x, const PxPool& g, T* y, int32_t* idx) {
  const int H = g.H, W = g.W, kh = g.kh, kw = g.kw, sh = g.sh, sw = g.sw, ph = g.ph, pw = g.pw, OH = g.OH, OW = g.OW;
  const long NC = (long)g.N * g.C;
  PXK_REQUIRE(g.N >= 0 && g.C >= 0, "maxpool_fwd", "batch " + PXK_S(g.N) + " and channels " + PXK_S(g.C) + " must be >= 0");
  require_window("maxpool_fwd", "height", H, kh, sh, ph, 1, OH);
  require_window("maxpool_fwd", "width", W, kw, sw, pw, 1, OW);
  // every window must overlap the input, else its argmax would be -1 and the backward's scatter
  // would write before gx (the first window ends at kh-1-ph, the last starts at (OH-1)sh-ph)
  PXK_REQUIRE(kh - 1 - ph >= 0 && (long)(OH - 1) * sh - ph < H && kw - 1 - pw >= 0 && (long)(OW - 1) * sw - pw < W,
              "maxpool_fwd", "a window lies wholly in the padding (kernel " + PXK_S(kh) + "x" + PXK_S(kw) + ", padding " +
              PXK_S(ph) + "x" + PXK_S(pw) + "); padding must be at most half the kernel");
#pragma omp parallel for schedule(static) if (big(NC * OH * OW))
  for (long p = 0; p < NC; p++) {
    const T* s = x + p * H * W;
    for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
      long o = (p * OH + oh) * OW + ow;
      idx[o] = pxops::maxpool_window(s, g, oh, ow, y[o]);
    }
  }
}

// scatter (gx[idx] += gy; gx zeroed by caller) or gather (out = g[idx]) through pooling indices.
// Debug pre-pass: every index is a position in its [H*W] plane (never -1).
inline void check_pool_indices(const char* kernel, const int32_t* idx, long NC, long HW, long OHW) {
  if (!debugging()) return;
  long bad = first_outside(idx, NC * OHW, HW);
  PXK_REQUIRE(bad < 0, kernel, "pooling index " + PXK_S(bad < 0 ? 0 : idx[bad]) + " at " + PXK_S(bad) +
              " is outside the input plane of " + PXK_S(HW) + " elements");
}
template <typename T>
void pool_scatter_t(const T* gy, const int32_t* idx, long NC, long HW, long OHW, T* gx) {
  check_pool_indices("pool_scatter", idx, NC, HW, OHW);
#pragma omp parallel for schedule(static) if (big(NC * OHW))
  for (long p = 0; p < NC; p++) for (long o = 0; o < OHW; o++) {
    const int32_t i = idx[p * OHW + o];  // -1 (no input in the window, refused by maxpool_fwd): nothing to add
    if (i >= 0) gx[p * HW + i] += gy[p * OHW + o];
  }
}
template <typename T>
void pool_gather_t(const T* g, const int32_t* idx, long NC, long HW, long OHW, T* out) {
  check_pool_indices("pool_gather", idx, NC, HW, OHW);
#pragma omp parallel for schedule(static) if (big(NC * OHW))
  for (long p = 0; p < NC; p++) for (long o = 0; o < OHW; o++) {
    const int32_t i = idx[p * OHW + o];
    out[p * OHW + o] = i >= 0 ? g[p * HW + i] : T(0);
  }
}

// average pooling, no padding; backward spreads gy/(kh*kw) (gx zeroed by caller).
inline void require_unpadded(const char* kernel, const PxPool& g) {
  PXK_REQUIRE(g.N >= 0 && g.C >= 0, kernel, "batch " + PXK_S(g.N) + " and channels " + PXK_S(g.C) + " must be >= 0");
  PXK_REQUIRE(g.ph == 0 && g.pw == 0, kernel, "average pooling takes no padding, got " + PXK_S(g.ph) + "x" + PXK_S(g.pw));
  require_window(kernel, "height", g.H, g.kh, g.sh, 0, 1, g.OH);  // no padding: every read is in the input
  require_window(kernel, "width", g.W, g.kw, g.sw, 0, 1, g.OW);
}
template <typename T>
void avgpool_fwd_t(const T* x, const PxPool& g, T* y) {
  require_unpadded("avgpool_fwd", g);
  const int H = g.H, W = g.W, kh = g.kh, kw = g.kw, sh = g.sh, sw = g.sw, OH = g.OH, OW = g.OW;
  const long NC = (long)g.N * g.C;
  const T inv = (T)1 / (T)(kh * kw);
#pragma omp parallel for schedule(static) if (big(NC * H * W))
  for (long p = 0; p < NC; p++) {
    const T* s = x + p * H * W;
    for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
      T acc = 0;
      for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) acc += s[(oh * sh + i) * W + ow * sw + j];
      y[(p * OH + oh) * OW + ow] = acc * inv;
    }
  }
}
template <typename T>
void avgpool_bwd_t(const T* gy, const PxPool& geom, T* gx) {
  require_unpadded("avgpool_bwd", geom);
  const int H = geom.H, W = geom.W, kh = geom.kh, kw = geom.kw, sh = geom.sh, sw = geom.sw, OH = geom.OH, OW = geom.OW;
  const long NC = (long)geom.N * geom.C;
  const T inv = (T)1 / (T)(kh * kw);
#pragma omp parallel for schedule(static) if (big(NC * H * W))
  for (long p = 0; p < NC; p++) {
    T* d = gx + p * H * W;
    for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
      T g = gy[(p * OH + oh) * OW + ow] * inv;
      for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) d[(oh * sh + i) * W + ow * sw + j] += g;
    }
  }
}

// ---------------------------------------------------------------- elementwise
// The ops and their bodies are pxops.h's table, shared with the CUDA kernels.
using pxops::U_COUNT;
using pxops::B_COUNT;
inline void check_op(const char* kernel, int op, int count) {
  PXK_REQUIRE(op >= 0 && op < count, kernel, "op code " + PXK_S(op) + " is not in 0.." + PXK_S(count - 1));
}
#define PXK_LOOP(OPEXPR) _Pragma("omp parallel for simd schedule(static) if (big(n))") for (long i = 0; i < n; i++) out[i] = OPEXPR;

// Broadcasting binary op: shape has nd dims (nd <= 8); as/bs are element strides of a and b for
// the output's dims (0 where broadcast). out is contiguous in `shape`.
template <typename T>
void binary_t(int op, const T* a, const int* as, const T* b, const int* bs, const int* shape, int nd, T* out) {
  check_op("binary", op, B_COUNT);
  long n = 1; for (int d = 0; d < nd; d++) n *= shape[d];
  bool ca = true, cb = true; long st = 1;
  for (int d = nd - 1; d >= 0; d--) { if (shape[d] != 1) { if (as[d] != st) ca = false; if (bs[d] != st) cb = false; } st *= shape[d]; }
  if (ca && cb) {
    switch (op) {
#define PXK_CASE(NAME, EXPR) case pxops::B_##NAME: PXK_LOOP(pxops::b_##NAME(a[i], b[i])) return;
      PX_BINARY_OPS(PXK_CASE)
#undef PXK_CASE
    }
  }
  // general path: iterate over the last dim with an odometer on the others
  long inner = nd ? shape[nd - 1] : 1, outer = n / (inner ? inner : 1);
  int ia = nd ? as[nd - 1] : 0, ib = nd ? bs[nd - 1] : 0;
#pragma omp parallel for schedule(static) if (big(n))
  for (long o = 0; o < outer; o++) {
    long rem = o, oa = 0, ob = 0;
    for (int d = nd - 2; d >= 0; d--) { long i = rem % shape[d]; rem /= shape[d]; oa += i * as[d]; ob += i * bs[d]; }
    T* q = out + o * inner;
    for (long i = 0; i < inner; i++) q[i] = pxops::binary(op, a[oa + i * ia], b[ob + i * ib]);
  }
}

// out = f(x) for one of pxops.h's unary ops; alpha and beta are AFFINE's scale and shift.
template <typename T>
void unary_t(int op, const T* x, long n, double alpha, double beta, T* out) {
  check_op("unary", op, U_COUNT);
  const T al = (T)alpha, be = (T)beta;
  switch (op) {
#define PXK_CASE(NAME, EXPR) case pxops::U_##NAME: PXK_LOOP(pxops::u_##NAME(x[i], al, be)) return;
    PX_UNARY_OPS(PXK_CASE)
#undef PXK_CASE
  }
}
#undef PXK_LOOP

// out[j] += in[i] where out has the in's shape with some dims reduced to 1: os are out's strides
// for in's dims (0 on reduced dims). out zeroed by the caller. Accumulates in double.
template <typename T>
void reduce_sum_t(const T* in, const int* shape, const int* os, int nd, long outN, T* out) {
  long n = 1; for (int d = 0; d < nd; d++) n *= shape[d];
  if (outN == 1) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (big(n))
    for (long i = 0; i < n; i++) s += in[i];
    out[0] += (T)s; return;
  }
  long inner = nd ? shape[nd - 1] : 1, outer = n / inner; int io = nd ? os[nd - 1] : 0;
  if (io == 0) {  // last dim reduced: row sums
    for (long o = 0; o < outer; o++) {
      long rem = o, oo = 0;
      for (int d = nd - 2; d >= 0; d--) { long i = rem % shape[d]; rem /= shape[d]; oo += i * os[d]; }
      double s = 0; const T* p = in + o * inner; for (long i = 0; i < inner; i++) s += p[i];
      out[oo] += (T)s;
    }
    return;
  }
  for (long o = 0; o < outer; o++) {
    long rem = o, oo = 0;
    for (int d = nd - 2; d >= 0; d--) { long i = rem % shape[d]; rem /= shape[d]; oo += i * os[d]; }
    const T* p = in + o * inner; T* q = out + oo;
    for (long i = 0; i < inner; i++) q[i * io] += p[i];
  }
}

// ---------------------------------------------------------------- rows: softmax family
// x: [R, K]. log-softmax per row, as (x - max) - log(sum exp(x - max)): x - max is exact for the
// classes that matter and log(sum) is small, so nothing rounds at the logits' magnitude (the
// order max + log(sum) first would round to the float ulp of the logits, 1e-3 at 1e4).
template <typename T>
void log_softmax_t(const T* x, long R, int K, T* y) {
  PXK_REQUIRE(K >= 1, "log_softmax", "rows have " + PXK_S(K) + " classes; need at least 1");
  for (long r = 0; r < R; r++) {
    const T* p = x + r * K; T* q = y + r * K; T m = p[0];
    for (int k = 1; k < K; k++) m = p[k] > m ? p[k] : m;
    double s = 0; for (int k = 0; k < K; k++) s += std::exp((double)(p[k] - m));
    T l = (T)std::log(s);
    for (int k = 0; k < K; k++) q[k] = (p[k] - m) - l;
  }
}
// out[r] = x[r, idx[r]] (pick) / gx[r, idx[r]] += g[r] (place; gx zeroed by caller).
// Labels are checked always (R compares beside R reads: nothing measurable).
inline void check_labels(const char* kernel, const int32_t* idx, long R, int K) {
  long bad = first_outside(idx, R, K);
  PXK_REQUIRE(bad < 0, kernel, "label " + PXK_S(bad < 0 ? 0 : idx[bad]) + " in row " + PXK_S(bad) + " is outside 0.." +
              PXK_S(K - 1));
}
template <typename T>
void pick_t(const T* x, const int32_t* idx, long R, int K, T* out) {
  check_labels("pick", idx, R, K);
  for (long r = 0; r < R; r++) out[r] = x[r * K + idx[r]];
}
template <typename T>
void place_t(const T* g, const int32_t* idx, long R, int K, T* gx) {
  check_labels("place", idx, R, K);
  for (long r = 0; r < R; r++) gx[r * K + idx[r]] += g[r];
}

// ---------------------------------------------------------------- optimizer
// PyTorch SGD: g = grad + wd*p; buf = momentum*buf + (1-dampening)*g (buf = g on the first step);
// step = nesterov ? g + momentum*buf : buf; p -= lr*step. mask (optional): where it is 0, p and buf
// are set to exactly +0 (never -0 or NaN), so pruned weights stay exactly zero.
template <typename T>
void sgd_t(T* p, const T* g, T* buf, const T* mask, long n, double lr, double momentum, double dampening,
           double wd, int nesterov, int first) {
#pragma omp parallel for schedule(static) if (big(n))
  for (long i = 0; i < n; i++) {
    T gi = g[i] + (T)wd * p[i];
    T step = gi;
    if (momentum != 0) {
      T b = first ? gi : (T)momentum * buf[i] + (T)(1 - dampening) * gi;
      if (mask && mask[i] == 0) b = 0;
      buf[i] = b;
      step = nesterov ? gi + (T)momentum * b : b;
    }
    T v = p[i] - (T)lr * step;
    p[i] = (mask && mask[i] == 0) ? (T)0 : v;
  }
}

}  // namespace pxk

// ---------------------------------------------------------------- C entry points (JNI via JavaCPP)
#define PXK_T(p) static_cast<T*>(p)
#define PXK_CT(p) static_cast<const T*>(p)

inline void pxk_im2col(int dt, void* x, int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                       int dh, int dw, int OH, int OW, void* col) {
  PXK_DISPATCH(dt, pxk::im2col_t(PXK_CT(x), N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, PXK_T(col)));
}
inline void pxk_col2im(int dt, void* col, int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                       int dh, int dw, int OH, int OW, void* x) {
  PXK_DISPATCH(dt, pxk::col2im_t(PXK_CT(col), N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, PXK_T(x)));
}
inline void pxk_permute(int dt, void* in, int A, int B, long X, void* bias, void* gate, void* out) {
  PXK_DISPATCH(dt, pxk::permute_t(PXK_CT(in), A, B, X, PXK_CT(bias), PXK_CT(gate), PXK_T(out)));
}
inline void pxk_bn_train_fwd(int dt, void* x, int N, int C, long S, void* gamma, void* beta, double eps, double momentum,
                             void* rm, void* rv, void* y, void* mean, void* invstd) {
  PXK_DISPATCH(dt, pxk::bn_train_fwd_t(PXK_CT(x), N, C, S, PXK_CT(gamma), PXK_CT(beta), eps, momentum, PXK_T(rm), PXK_T(rv),
                                       PXK_T(y), PXK_T(mean), PXK_T(invstd)));
}
inline void pxk_channel_affine(int dt, void* x, int N, int C, long S, void* scale, void* shift, void* y) {
  PXK_DISPATCH(dt, pxk::channel_affine_t(PXK_CT(x), N, C, S, PXK_CT(scale), PXK_CT(shift), PXK_T(y)));
}
inline void pxk_bn_train_bwd(int dt, void* x, void* gy, int N, int C, long S, void* mean, void* invstd, void* gamma,
                             void* gx, void* dgamma, void* dbeta) {
  PXK_DISPATCH(dt, pxk::bn_train_bwd_t(PXK_CT(x), PXK_CT(gy), N, C, S, PXK_CT(mean), PXK_CT(invstd), PXK_CT(gamma),
                                       PXK_T(gx), PXK_T(dgamma), PXK_T(dbeta)));
}
inline void pxk_channel_sums(int dt, void* a, void* b, int N, int C, long S, void* out) {
  PXK_DISPATCH(dt, pxk::channel_sums_t(PXK_CT(a), PXK_CT(b), N, C, S, PXK_T(out)));
}
// geom: the PxPool fields (pxops.h), as pxprune.kernels.PoolGeometry#toArray() lists them
inline void pxk_maxpool_fwd(int dt, void* x, int* geom, void* y, void* idx) {
  PXK_DISPATCH(dt, pxk::maxpool_fwd_t(PXK_CT(x), pxk::pool_geometry(geom), PXK_T(y), static_cast<int32_t*>(idx)));
}
inline void pxk_pool_scatter(int dt, void* gy, void* idx, long NC, long HW, long OHW, void* gx) {
  PXK_DISPATCH(dt, pxk::pool_scatter_t(PXK_CT(gy), static_cast<const int32_t*>(idx), NC, HW, OHW, PXK_T(gx)));
}
inline void pxk_pool_gather(int dt, void* g, void* idx, long NC, long HW, long OHW, void* out) {
  PXK_DISPATCH(dt, pxk::pool_gather_t(PXK_CT(g), static_cast<const int32_t*>(idx), NC, HW, OHW, PXK_T(out)));
}
inline void pxk_avgpool_fwd(int dt, void* x, int* geom, void* y) {
  PXK_DISPATCH(dt, pxk::avgpool_fwd_t(PXK_CT(x), pxk::pool_geometry(geom), PXK_T(y)));
}
inline void pxk_avgpool_bwd(int dt, void* gy, int* geom, void* gx) {
  PXK_DISPATCH(dt, pxk::avgpool_bwd_t(PXK_CT(gy), pxk::pool_geometry(geom), PXK_T(gx)));
}
inline void pxk_binary(int dt, int op, void* a, int* as, void* b, int* bs, int* shape, int nd, void* out) {
  PXK_DISPATCH(dt, pxk::binary_t(op, PXK_CT(a), as, PXK_CT(b), bs, shape, nd, PXK_T(out)));
}
inline void pxk_unary(int dt, int op, void* x, long n, double alpha, double beta, void* out) {
  PXK_DISPATCH(dt, pxk::unary_t(op, PXK_CT(x), n, alpha, beta, PXK_T(out)));
}
// pxops.h's op table as the Java side sees it: the number of ops and each one's name (null past the end)
inline int pxk_unary_ops() { return pxops::U_COUNT; }
inline int pxk_binary_ops() { return pxops::B_COUNT; }
inline const char* pxk_unary_op_name(int op) {
#define PXK_NAME(NAME, EXPR) #NAME,
  static const char* names[] = {PX_UNARY_OPS(PXK_NAME)};
#undef PXK_NAME
  return op >= 0 && op < pxops::U_COUNT ? names[op] : nullptr;
}
inline const char* pxk_binary_op_name(int op) {
#define PXK_NAME(NAME, EXPR) #NAME,
  static const char* names[] = {PX_BINARY_OPS(PXK_NAME)};
#undef PXK_NAME
  return op >= 0 && op < pxops::B_COUNT ? names[op] : nullptr;
}
inline void pxk_reduce_sum(int dt, void* in, int* shape, int* os, int nd, long outN, void* out) {
  PXK_DISPATCH(dt, pxk::reduce_sum_t(PXK_CT(in), shape, os, nd, outN, PXK_T(out)));
}
inline void pxk_log_softmax(int dt, void* x, long R, int K, void* y) {
  PXK_DISPATCH(dt, pxk::log_softmax_t(PXK_CT(x), R, K, PXK_T(y)));
}
inline void pxk_pick(int dt, void* x, void* idx, long R, int K, void* out) {
  PXK_DISPATCH(dt, pxk::pick_t(PXK_CT(x), static_cast<const int32_t*>(idx), R, K, PXK_T(out)));
}
inline void pxk_place(int dt, void* g, void* idx, long R, int K, void* gx) {
  PXK_DISPATCH(dt, pxk::place_t(PXK_CT(g), static_cast<const int32_t*>(idx), R, K, PXK_T(gx)));
}
inline void pxk_sgd(int dt, void* p, void* g, void* buf, void* mask, long n, double lr, double momentum, double dampening,
                    double wd, int nesterov, int first) {
  PXK_DISPATCH(dt, pxk::sgd_t(PXK_T(p), PXK_CT(g), PXK_T(buf), PXK_CT(mask), n, lr, momentum, dampening, wd, nesterov, first));
}
// w [K, C, kh, kw] -> out [C, K, kh, kw] flipped in space (the kernel of a stride-1 conv's input gradient)
inline void pxk_flip_kernel(int dt, void* w, int K, int C, int kh, int kw, void* out) {
  PXK_DISPATCH(dt, {
    const T* s = static_cast<const T*>(w); T* d = static_cast<T*>(out);
    for (int k = 0; k < K; k++) for (int c = 0; c < C; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++)
      d[(((long)c * K + k) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = s[(((long)k * C + c) * kh + i) * kw + j];
  });
}
// the per-element debug checks (see "argument checks" at the top), for every thread
inline void pxk_set_debug_bounds(int on) { pxk::debug_bounds().store(on != 0, std::memory_order_relaxed); }
inline int pxk_debug_bounds() { return pxk::debugging() ? 1 : 0; }
// OpenMP threads for parallel regions started by the calling thread (its own setting only)
inline void pxk_set_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); }
inline int pxk_max_threads() { return omp_get_max_threads(); }
// element type conversion
inline void pxk_convert(int dtIn, void* in, int dtOut, void* out, long n) {
  if (dtIn == 0 && dtOut == 1) { const float* s = (const float*)in; double* d = (double*)out;
#pragma omp parallel for simd if (pxk::big(n))
    for (long i = 0; i < n; i++) d[i] = s[i]; }
  else if (dtIn == 1 && dtOut == 0) { const double* s = (const double*)in; float* d = (float*)out;
#pragma omp parallel for simd if (pxk::big(n))
    for (long i = 0; i < n; i++) d[i] = (float)s[i]; }
  else std::memcpy(out, in, n * (dtIn == 0 ? 4 : 8));
}
