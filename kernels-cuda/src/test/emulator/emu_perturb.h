// PXEMU_PERTURB=1: float32 results come out as a real GPU library's might, not as the exact reference loops'
// do: the outputs of the cuDNN convolutions (every direction) and of the cuBLAS gemms are multiplied by
// (1 + e) with |e| <= 1e-6, e fixed by a hash of the element's position and the operation's shape (the same
// call gives the same bits, as a deterministic algorithm does), and cuDNN's batch-norm statistics and
// gradient sums are accumulated in float (pairwise, as a GPU's tree reduction) instead of double. It finds
// the tests that hold only on exact arithmetic.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pxemu {
inline bool perturbing() {
  static const bool on = [] {
    const char* p = std::getenv("PXEMU_PERTURB");
    const bool set = p != nullptr && *p != 0 && std::strcmp(p, "0") != 0;
    if (set) std::fprintf(stderr, "pxprune CUDA emulator: PXEMU_PERTURB: float32 convolutions and gemms perturbed by up to 1e-6, "
                                  "batch-norm sums in float\n");
    return set;
  }();
  return on;
}
inline uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
// v * (1 + e), e in [-1e-6, 1e-6] drawn from (salt, i)
inline float perturb(float v, uint64_t salt, uint64_t i) {
  const double u = (double)(mix(mix(salt) ^ i) >> 11) * 0x1.0p-53;
  return (float)(v * (1.0 + (2 * u - 1) * 1e-6));
}
inline void perturbAll(float* p, long n, uint64_t salt) {
  if (perturbing()) for (long i = 0; i < n; i++) p[i] = perturb(p[i], salt, (uint64_t)i);
}
inline void perturbAll(double*, long, uint64_t) {}
// pairwise float sum of v[0..n)
inline float pairwise(const float* v, long n) {
  if (n <= 8) { float s = 0; for (long i = 0; i < n; i++) s += v[i]; return s; }
  return pairwise(v, n / 2) + pairwise(v + n / 2, n - n / 2);
}
inline float pairwise(const std::vector<float>& v) { return pairwise(v.data(), (long)v.size()); }
}  // namespace pxemu
