// pxprune CUDA kernels for everything in pxprune.kernels.Backend that is not a matrix product
// (those go to cuBLAS). Each kernel mirrors the C++ CPU kernel of the same name in
// native/src/main/cpp/pxkernels.h (same arguments, same semantics: outputs that the CPU kernel
// accumulates into are accumulated here too). The typed kernels are in pxcuda_typed.inc,
// instantiated below for float (suffix _f32) and double (_f64).
//
// Compiled by nvcc to PTX (build-ptx.sh) and loaded by kernels-cuda with cuModuleLoadData.
#include "pxcuda.cuh"

enum { B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_MAX = 4, B_GTMASK = 5 };
enum { U_NEG = 0, U_SQUARE = 1, U_ABS = 2, U_SQRT = 3, U_EXP = 4, U_LOG = 5, U_RELU = 6, U_SIGN = 7,
       U_STEP = 8, U_RSQRT = 9, U_RECIP = 10, U_AFFINE = 11 };

template <typename T>
__device__ inline T pxc_bop(int op, T a, T b) {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_MAX: return a > b ? a : b;
    default: return b > 0 ? a : (T)0;  // B_GTMASK: a where b > 0 (ReLU backward)
  }
}

template <typename T>
__device__ inline T pxc_uop(int op, T v, T al, T be) {
  switch (op) {
    case U_NEG: return -v;
    case U_SQUARE: return v * v;
    case U_ABS: return pxc_abs(v);
    case U_SQRT: return pxc_sqrt(v);
    case U_EXP: return pxc_exp(v);
    case U_LOG: return pxc_log(v);
    case U_RELU: return v > 0 ? v : (T)0;
    case U_SIGN: return (T)((v > 0) - (v < 0));
    case U_STEP: return v > 0 ? (T)1 : (T)0;
    case U_RSQRT: return (T)1 / pxc_sqrt(v);
    case U_RECIP: return (T)1 / v;
    default: return v * al + be;  // U_AFFINE
  }
}

// offset into a contiguous input of output element j (kept dims) and reduced index r
__device__ inline i64 pxc_red_offset(const PxcRed& s, i64 j, i64 r) {
  i64 off = 0, st = 1;
  for (int d = s.nd - 1; d >= 0; d--) {
    i64 i;
    if (s.os[d] != 0) i = (j / s.os[d]) % s.shape[d];
    else { i = r % s.shape[d]; r /= s.shape[d]; }
    off += i * st;
    st *= s.shape[d];
  }
  return off;
}

#define T float
#define PXC_SUFFIX f32
#include "pxcuda_typed.inc"
#undef T
#undef PXC_SUFFIX

#define T double
#define PXC_SUFFIX f64
#include "pxcuda_typed.inc"
#undef T
#undef PXC_SUFFIX

// ---------------------------------------------------------------- element type conversion
extern "C" __global__ void pxc_convert_f32_f64(const float* __restrict__ in, double* __restrict__ out, i64 n) {
  PXC_FOR(i, n) out[i] = (double)in[i];
}
extern "C" __global__ void pxc_convert_f64_f32(const double* __restrict__ in, float* __restrict__ out, i64 n) {
  PXC_FOR(i, n) out[i] = (float)in[i];
}
