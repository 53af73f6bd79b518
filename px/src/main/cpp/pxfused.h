// PX's byte gates on the CPU (docs/px-method.md#score): the gate pass's ReLU records its gate as one
// byte per element, the activation network A applies it. The JNI entry points of FusedNative (JavaCPP
// builds them with px); the element types and argument checks are native's (pxkernels.h).
#pragma once
#include <cstdint>
#include "pxkernels.h"

namespace pxf {

// The gate pass's ReLU in one pass: y = max(z, 0) and gate = 1[z > 0], one byte per element
// (docs/px-method.md#score: the activation network A multiplies by the recorded gate). The
// value written is z itself where the gate is open, so it is bit for bit the ReLU of unary_t's
// U_RELU (NaN and -0 give 0, gate 0). y may be z.
template <typename T>
void relu_gate_t(const T* z, long n, T* y, uint8_t* gate) {
#pragma omp parallel for simd schedule(static) if (pxk::big(n))
  for (long i = 0; i < n; i++) { T v = z[i]; bool on = v > 0; gate[i] = on ? 1 : 0; y[i] = on ? v : (T)0; }
}
// A's ReLU: y = z where gate != 0, else +0 (never z * 0, which is NaN for an infinite z and -0
// for a negative one; A's values are >= 0, where the two agree bit for bit). y may be z.
template <typename T>
void gate_mul_t(const T* z, const uint8_t* gate, long n, T* y) {
#pragma omp parallel for simd schedule(static) if (pxk::big(n))
  for (long i = 0; i < n; i++) y[i] = gate[i] ? z[i] : (T)0;
}

}  // namespace pxf

// the gate pass's ReLU with its byte gate, and A's multiplication by it (see relu_gate_t)
inline void pxf_relu_gate(int dt, void* z, long n, void* y, void* gate) {
  PXK_DISPATCH(dt, pxf::relu_gate_t(PXK_CT(z), n, PXK_T(y), static_cast<uint8_t*>(gate)));
}
inline void pxf_gate_mul(int dt, void* z, void* gate, long n, void* y) {
  PXK_DISPATCH(dt, pxf::gate_mul_t(PXK_CT(z), static_cast<const uint8_t*>(gate), n, PXK_T(y)));
}
