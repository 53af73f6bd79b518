// A CPU stand-in for libcuda.so.1 (the CUDA driver API), enough for pxprune's CUDA backend:
// cuModuleLoadData keeps the PTX text, cuModuleGetFunction checks that the PTX declares the
// kernel and finds the same kernel compiled for the host from native/src/main/cuda, and
// cuLaunchKernel runs it block by block with one fiber per thread. For testing the Java side and
// the kernels' logic on machines without a GPU; nothing here is fast.
#include "cuda_emu.h"

#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pxcuda.cu"
#include "pxfused.cu"

extern "C" {
uint3 pxemu_threadIdx, pxemu_blockIdx;
dim3 pxemu_blockDim, pxemu_gridDim;
}

namespace {
typedef void (*Invoke)(void** params);

template <typename... A, size_t... I>
void call(void (*f)(A...), void** p, std::index_sequence<I...>) {
  f(*static_cast<std::decay_t<A>*>(p[I])...);
}
template <typename... A>
constexpr size_t arity(void (*)(A...)) { return sizeof...(A); }
template <auto F>
void invoke(void** p) { call(F, p, std::make_index_sequence<arity(F)>{}); }

struct Kernel { const char* name; Invoke run; };
#define REG(name) {#name, &invoke<&name>},
const Kernel KERNELS[] = {
#include "registry.inc"
};

struct Module { std::string ptx; };

// ---------------------------------------------------------------- fibers
const int MAX_THREADS = 1024;
const size_t STACK = 256 * 1024;
struct Fiber { ucontext_t ctx; bool done; };
Fiber fibers[MAX_THREADS];
char* stacks = nullptr;
ucontext_t scheduler;
int current = -1;
Invoke running = nullptr;
void** running_params = nullptr;

void fiber_main() {
  running(running_params);
  fibers[current].done = true;
}  // returns to `scheduler` through uc_link

void run_block(int nthreads) {
  for (int t = 0; t < nthreads; t++) {
    Fiber& f = fibers[t];
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = stacks + t * STACK;
    f.ctx.uc_stack.ss_size = STACK;
    f.ctx.uc_link = &scheduler;
    makecontext(&f.ctx, fiber_main, 0);
    f.done = false;
  }
  int alive = nthreads;
  while (alive > 0) {  // each round runs every live thread to its next __syncthreads() or its end
    for (int t = 0; t < nthreads; t++) {
      if (fibers[t].done) continue;
      current = t;
      pxemu_threadIdx.x = t % pxemu_blockDim.x;
      pxemu_threadIdx.y = t / pxemu_blockDim.x % pxemu_blockDim.y;
      pxemu_threadIdx.z = t / (pxemu_blockDim.x * pxemu_blockDim.y);
      swapcontext(&scheduler, &fibers[t].ctx);
      if (fibers[t].done) alive--;
    }
  }
  current = -1;
}
}  // namespace

extern "C" void pxemu_syncthreads() { swapcontext(&fibers[current].ctx, &scheduler); }

// ---------------------------------------------------------------- driver API
extern "C" {
typedef int CUresult;

CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetAttribute(int* v, int attr, int) {
  *v = attr == 75 ? 9 : attr == 76 ? 0 : 0;  // compute capability 9.0
  return 0;
}
CUresult cuDeviceGetName(char* name, int len, int) { snprintf(name, len, "pxprune CUDA emulator (CPU)"); return 0; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = (void*)0x1; return 0; }
CUresult cuCtxSetCurrent(void*) { return 0; }
CUresult cuCtxSynchronize() { return 0; }

CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = r == 0 ? "CUDA_SUCCESS" : r == 1 ? "CUDA_ERROR_INVALID_VALUE" : r == 500 ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char** s) { *s = r == 0 ? "no error" : "emulator error"; return 0; }

CUresult cuModuleLoadData(void** mod, const void* image) {
  const char* text = static_cast<const char*>(image);
  if (strncmp(text, "//", 2) != 0 && strstr(text, ".version") == nullptr) return 218;  // not PTX
  *mod = new Module{std::string(text)};
  return 0;
}

CUresult cuModuleGetFunction(void** f, void* mod, const char* name) {
  const std::string& ptx = static_cast<Module*>(mod)->ptx;
  if (ptx.find(std::string(".entry ") + name + "(") == std::string::npos) return 500;
  for (const Kernel& k : KERNELS)
    if (strcmp(k.name, name) == 0) { *f = (void*)&k; return 0; }
  fprintf(stderr, "pxprune CUDA emulator: kernel %s is in the PTX but not in the emulator's registry\n", name);
  return 500;
}

CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
  (void)shared; (void)stream;
  if (extra != nullptr || f == nullptr || params == nullptr) return 1;
  unsigned nthreads = bx * by * bz;
  if (nthreads == 0 || nthreads > MAX_THREADS || gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535) return 1;
  if (!stacks) stacks = static_cast<char*>(malloc(MAX_THREADS * STACK));
  running = static_cast<const Kernel*>(f)->run;
  running_params = params;
  pxemu_blockDim = {bx, by, bz};
  pxemu_gridDim = {gx, gy, gz};
  for (unsigned z = 0; z < gz; z++)
    for (unsigned y = 0; y < gy; y++)
      for (unsigned x = 0; x < gx; x++) {
        pxemu_blockIdx = {x, y, z};
        run_block((int)nthreads);
      }
  return 0;
}
}
