// pxprune CUDA kernels: shared helpers.
//
// Every kernel is `extern "C"` (so the Java side finds it by name with cuModuleGetFunction) and
// works on contiguous device buffers. Element counts and offsets are 64-bit. Kernels use only
// threadIdx/blockIdx/blockDim/gridDim, static __shared__ arrays, __syncthreads() reached by every
// thread of a block, and atomicAdd: no warp intrinsics. That keeps them readable and lets the
// host-side emulator (kernels-cuda/src/test/emulator) run the very same source on a CPU.
#pragma once

typedef long long i64;

// Threads per block of every kernel; the block reductions below assume exactly this many.
#define PXC_BLOCK 256

#define PXC_CAT_(a, b) a##_##b
#define PXC_CAT(a, b) PXC_CAT_(a, b)

// grid-stride loop over [0, n)
#define PXC_FOR(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (i64)(n); i += (i64)blockDim.x * gridDim.x)

// Sum of v over the block (blockDim.x == PXC_BLOCK); every thread gets the result.
// sh: a __shared__ double[PXC_BLOCK] of the calling kernel.
__device__ inline double pxc_block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = PXC_BLOCK / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

// Shapes of one convolution, passed by value (same fields as pxprune.kernels.ConvGeometry plus
// the output size). Input [N, C, H, W], weight [K, C/groups, kh, kw], output [N, K, OH, OW].
struct PxcConv {
  int N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, groups;
};

// Up to 8 dims of a broadcasting binary op: element strides of a and b per output dim.
struct PxcBin {
  int nd;
  int shape[8];
  int as[8];
  int bs[8];
};

// Up to 8 dims of a sum reduction over a contiguous input: os = the (contiguous) output's
// strides for the input's dims, 0 on reduced dims.
struct PxcRed {
  int nd;
  int shape[8];
  int os[8];
};
