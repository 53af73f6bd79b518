// Host-side stand-ins for the CUDA language features the pxprune kernels use, so that
// native/src/main/cuda/*.cu compile with g++ and run on a CPU (see emu_driver.cpp): each CUDA
// thread of a block is a fiber, __syncthreads() yields to the block's scheduler, blocks run one
// after another, __shared__ variables are function statics (one block at a time).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
extern "C" uint3 pxemu_threadIdx, pxemu_blockIdx;
extern "C" dim3 pxemu_blockDim, pxemu_gridDim;
#define threadIdx pxemu_threadIdx
#define blockIdx pxemu_blockIdx
#define blockDim pxemu_blockDim
#define gridDim pxemu_gridDim

extern "C" void pxemu_syncthreads();
#define __syncthreads() pxemu_syncthreads()

// one fiber runs at a time: plain read-modify-write is atomic
inline float atomicAdd(float* p, float v) { float o = *p; *p = o + v; return o; }
inline double atomicAdd(double* p, double v) { double o = *p; *p = o + v; return o; }
