// pxprune's element-wise op table and the loop bodies shared by the C++ kernels (pxkernels.h) and the
// CUDA kernels (../cuda/pxcuda.cu, which nvcc and the CUDA emulator compile with -I pointing here).
// Each body is written once, here, and both builds expand it: docs/adding-an-op.md says how to add one.
//
// PX_HD marks the functions for both sides: the CUDA build defines it as __device__ before including
// this header; the C++ build leaves it empty. The math helpers name the C library's functions (expf,
// exp, ...), which nvcc has as device functions and g++ as the same builtins as std::exp and friends.
#pragma once
#include <cmath>

#ifndef PX_HD
#define PX_HD
#endif

namespace pxops {

// ---------------------------------------------------------------- math in the element type
PX_HD inline float px_exp(float x) { return expf(x); }
PX_HD inline double px_exp(double x) { return exp(x); }
PX_HD inline float px_log(float x) { return logf(x); }
PX_HD inline double px_log(double x) { return log(x); }
PX_HD inline float px_sqrt(float x) { return sqrtf(x); }
PX_HD inline double px_sqrt(double x) { return sqrt(x); }
PX_HD inline float px_abs(float x) { return fabsf(x); }
PX_HD inline double px_abs(double x) { return fabs(x); }

// ---------------------------------------------------------------- the op table
// X(NAME, expression): an op's code is its position in its list (pxprune.jni.PxNative's U_NAME and
// B_NAME, checked against this table by kernels' OpTableTest). New ops go at the end of a list.
// Unary ops: out = f(x) for an element x of type T; alpha and beta are the call's two scalars
// (of type T; only AFFINE reads them).
#define PX_UNARY_OPS(X)             \
  X(NEG, -x)                        \
  X(SQUARE, x * x)                  \
  X(ABS, px_abs(x))                 \
  X(SQRT, px_sqrt(x))               \
  X(EXP, px_exp(x))                 \
  X(LOG, px_log(x))                 \
  X(RELU, x > 0 ? x : (T)0)         \
  X(SIGN, (T)((x > 0) - (x < 0)))   \
  X(STEP, x > 0 ? (T)1 : (T)0)      \
  X(RSQRT, (T)1 / px_sqrt(x))       \
  X(RECIP, (T)1 / x)                \
  X(AFFINE, x * alpha + beta)

// Binary ops: out = f(a, b) for elements a and b of type T (broadcast by the kernels).
#define PX_BINARY_OPS(X)            \
  X(ADD, a + b)                     \
  X(SUB, a - b)                     \
  X(MUL, a * b)                     \
  X(DIV, a / b)                     \
  X(MAX, a > b ? a : b)             \
  X(GTMASK, b > 0 ? a : (T)0) /* a where b > 0 (ReLU's backward) */

#define PX_ENUM_U(NAME, EXPR) U_##NAME,
#define PX_ENUM_B(NAME, EXPR) B_##NAME,
enum { PX_UNARY_OPS(PX_ENUM_U) U_COUNT };
enum { PX_BINARY_OPS(PX_ENUM_B) B_COUNT };
#undef PX_ENUM_U
#undef PX_ENUM_B

// one function per op: u_NAME(x, alpha, beta) and b_NAME(a, b)
#define PX_DEF_U(NAME, EXPR) \
  template <typename T> PX_HD inline T u_##NAME(T x, T alpha, T beta) { (void)alpha; (void)beta; return EXPR; }
#define PX_DEF_B(NAME, EXPR) \
  template <typename T> PX_HD inline T b_##NAME(T a, T b) { return EXPR; }
PX_UNARY_OPS(PX_DEF_U)
PX_BINARY_OPS(PX_DEF_B)
#undef PX_DEF_U
#undef PX_DEF_B

// the op by its code, for loops that do not specialise per op (callers check 0 <= op < COUNT)
template <typename T> PX_HD inline T unary(int op, T x, T alpha, T beta) {
  switch (op) {
#define PX_CASE(NAME, EXPR) case U_##NAME: return u_##NAME(x, alpha, beta);
    PX_UNARY_OPS(PX_CASE)
#undef PX_CASE
    default: return x;
  }
}
template <typename T> PX_HD inline T binary(int op, T a, T b) {
  switch (op) {
#define PX_CASE(NAME, EXPR) case B_##NAME: return b_##NAME(a, b);
    PX_BINARY_OPS(PX_CASE)
#undef PX_CASE
    default: return a;
  }
}

// ---------------------------------------------------------------- pooling
// The geometry of one 2-D pooling over [N, C, H, W] -> [N, C, OH, OW], passed by value to the CUDA
// kernels and built from the same int array on the C++ side: the fields and order of
// pxprune.kernels.PoolGeometry#toArray().
struct PxPool {
  int N, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW;
};
enum { PX_POOL_FIELDS = 12 };

// The maximum of output (oh, ow)'s window in the [H, W] plane s, and its flat index in that plane:
// the first maximum in row-major order, a NaN wins (PyTorch's rule); -1 where the window holds no
// input (the kernels refuse such geometries before they run).
template <typename T>
PX_HD inline int maxpool_window(const T* s, const PxPool& g, int oh, int ow, T& window_max) {
  T best = (T)(-INFINITY);
  int bi = -1;
  for (int i = 0; i < g.kh; i++) {
    const int ih = oh * g.sh - g.ph + i;
    if (ih < 0 || ih >= g.H) continue;
    for (int j = 0; j < g.kw; j++) {
      const int iw = ow * g.sw - g.pw + j;
      if (iw < 0 || iw >= g.W) continue;
      const T v = s[ih * g.W + iw];
      if (v > best || bi < 0 || v != v) { best = v; bi = ih * g.W + iw; }
    }
  }
  window_max = best;
  return bi;
}

}  // namespace pxops
