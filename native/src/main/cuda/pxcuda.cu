// pxprune CUDA kernels for everything in pxprune.kernels.Backend that is not a matrix product
// (those go to cuBLAS). Each kernel mirrors the C++ CPU kernel of the same name in
// native/src/main/cpp/pxkernels.h (same arguments, same semantics: outputs that the CPU kernel
// accumulates into are accumulated here too); the element-wise ops' bodies are those of
// native/src/main/cpp/pxops.h, shared with the C++ kernels. The typed kernels are in pxcuda_typed.inc,
// instantiated below for float (suffix _f32) and double (_f64).
//
// Compiled by nvcc to PTX (build-ptx.sh) and loaded by kernels-cuda with cuModuleLoadData.
#include "pxcuda.cuh"
// the element-wise op table and the bodies shared with the C++ kernels (native/src/main/cpp)
#define PX_HD __device__
#include "pxops.h"

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
