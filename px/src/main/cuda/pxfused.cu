// Fused kernels for PX's auxiliary networks (docs/px-method.md#score), one launch per conv/linear layer
// (a linear layer is a 1x1 convolution on [N, in, 1, 1]); the Java side is
// pxprune.px.methods.px.fused.PxKernels, whose CPU implementation composes the ordinary CPU ops and is the
// reference these kernels are tested against.
//
//  - pxf_act_conv_*        A's layer: y = conv(x, mask) * gate, float64, mask in float32 or
//                          float64, gate (nullable) in float32 or float64; implicit GEMM, no im2col.
//  - pxf_path_conv_fwd_*   P's layer: y = conv(x, (theta*mask)^2), the weight transformed on load.
//  - pxf_path_conv_bwd_data_*  gx = conv^T(gy, (theta*mask)^2).
//  - pxf_path_conv_score_* score = p * dR/dp, p = (theta*mask)^2 (weight gradient with the
//                          score epilogue): a block per weight, or (_thread_) a thread per weight
//                          when there are few output positions, as for P's single sample.
//  - pxf_act_conv_*_gu8     A's layer with the gate stored as bytes (0/1), as PxScorer's device path
//                          records it.
//  - pxf_relu_gate_*       the gate pass's ReLU: y = max(z, 0) and gate = 1[z > 0] as a byte, one pass.
//  - pxf_gate_mul_u8       A's ReLU where no convolution epilogue took it: y = z * gate (float64).
//  - pxf_path_conv_*_f64_w32  the path kernels with float64 signals and float32 theta and mask (a
//                          float32 model's weights read where they are, converted on load).
// mask is nullable in the path kernels (all ones).
#include "pxcuda.cuh"

// weight as used by the layer: MODE 0: w as it is (A: the mask); MODE 1: (w * m)^2 (P)
template <typename T, typename W, int MODE>
__device__ inline T pxf_weight(const W* w, const W* m, i64 i) {
  if (MODE == 0) return (T)w[i];
  T v = (T)w[i];
  if (m) v *= (T)m[i];
  return v * v;
}

// Implicit-GEMM convolution with an optional gate epilogue. Per group (blockIdx.z), the output
// is the product of the weight [kg, R] (R = C/groups*kh*kw) and the virtual im2col matrix
// [R, N*OH*OW], gathered from x while the tile is loaded. Tiles: 64 output channels x 64
// output pixels, 16 deep; 256 threads, each computing 4x4 outputs.
#define PXF_BM 64
#define PXF_BN 64
#define PXF_BK 16
template <typename T, typename W, typename G, int MODE>
__device__ void pxf_conv_fwd(const T* __restrict__ x, const W* __restrict__ w, const W* __restrict__ m,
                             const G* __restrict__ gate, T* __restrict__ y, const PxcConv& g) {
  __shared__ T Ws[PXF_BK][PXF_BM];
  __shared__ T Xs[PXF_BK][PXF_BN];
  const int Cg = g.C / g.groups, kg = g.K / g.groups, khw = g.kh * g.kw, R = Cg * khw;
  const i64 cols = (i64)g.N * g.OH * g.OW;
  const int gi = blockIdx.z, k0 = blockIdx.y * PXF_BM;
  const i64 c0 = (i64)blockIdx.x * PXF_BN;
  const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;

  // the column this thread loads (fixed for the whole loop)
  const int lc = tid & (PXF_BN - 1);
  const i64 col = c0 + lc;
  const bool colok = col < cols;
  int ln = 0, loh = 0, low = 0;
  if (colok) {
    low = (int)(col % g.OW);
    const i64 t = col / g.OW;
    loh = (int)(t % g.OH);
    ln = (int)(t / g.OH);
  }
  const T* xb = x + ((i64)ln * g.C + (i64)gi * Cg) * g.H * g.W;

  T acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = 0;

  for (int r0 = 0; r0 < R; r0 += PXF_BK) {
    for (int i = 0; i < 4; i++) {  // weight tile: 64 x 16, consecutive threads read consecutive r
      const int e = tid + PXC_BLOCK * i, mm = e >> 4, kk = e & 15, k = k0 + mm, r = r0 + kk;
      Ws[kk][mm] = (k < kg && r < R) ? pxf_weight<T, W, MODE>(w, m, (i64)(gi * kg + k) * R + r) : (T)0;
    }
    for (int i = 0; i < 4; i++) {  // input tile: 16 x 64, consecutive threads read consecutive pixels
      const int kk = (tid >> 6) + 4 * i, r = r0 + kk;
      T v = 0;
      if (colok && r < R) {
        const int c = r / khw, rr = r % khw, ki = rr / g.kw, kj = rr % g.kw;
        const int ih = loh * g.sh - g.ph + ki * g.dh, iw = low * g.sw - g.pw + kj * g.dw;
        if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) v = xb[((i64)c * g.H + ih) * g.W + iw];
      }
      Xs[kk][lc] = v;
    }
    __syncthreads();
    for (int kk = 0; kk < PXF_BK; kk++) {
      T a[4], b[4];
      for (int i = 0; i < 4; i++) a[i] = Ws[kk][ty * 4 + i];
      for (int j = 0; j < 4; j++) b[j] = Xs[kk][tx + 16 * j];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }

  for (int i = 0; i < 4; i++) {
    const int k = k0 + ty * 4 + i;
    if (k >= kg) continue;
    for (int j = 0; j < 4; j++) {
      const i64 cc = c0 + tx + 16 * j;
      if (cc >= cols) continue;
      const int ow = (int)(cc % g.OW);
      const i64 t = cc / g.OW;
      const int oh = (int)(t % g.OH), n = (int)(t / g.OH);
      const i64 o = (((i64)n * g.K + (i64)gi * kg + k) * g.OH + oh) * g.OW + ow;
      T v = acc[i][j];
      if (gate) v *= (T)gate[o];
      y[o] = v;
    }
  }
}

// A: x, y float64; mask float32 (w32) or float64 (w64); gate float32 (g32) or float64 (g64), nullable
#define PXF_ACT(WS, WT, GS, GT)                                                                         \
  extern "C" __global__ void pxf_act_conv_##WS##_##GS(const double* x, const WT* mask, const GT* gate, \
                                                        double* y, PxcConv g) {                         \
    pxf_conv_fwd<double, WT, GT, 0>(x, mask, (const WT*)0, gate, y, g);                                 \
  }
PXF_ACT(w32, float, g32, float)
PXF_ACT(w32, float, g64, double)
PXF_ACT(w64, double, g32, float)
PXF_ACT(w64, double, g64, double)

// P, forward: y = conv(x, (theta*mask)^2), everything in one type
#define PXF_PATH_FWD(S, T)                                                                                    \
  extern "C" __global__ void pxf_path_conv_fwd_##S(const T* x, const T* theta, const T* mask, T* y, PxcConv g) { \
    pxf_conv_fwd<T, T, T, 1>(x, theta, mask, (const T*)0, y, g);                                              \
  }
PXF_PATH_FWD(f32, float)
PXF_PATH_FWD(f64, double)

// P, backward to the input (overwrites gx): one thread per input element, gathering the output
// positions and taps that read it.
template <typename T, typename W>
__device__ void pxf_path_bwd_data(const T* __restrict__ gy, const W* __restrict__ theta, const W* __restrict__ mask,
                                  T* __restrict__ gx, const PxcConv& g) {
  const int Cg = g.C / g.groups, kg = g.K / g.groups, khw = g.kh * g.kw;
  const i64 total = (i64)g.N * g.C * g.H * g.W;
  PXC_FOR(e, total) {
    const int iw = (int)(e % g.W);
    i64 t = e / g.W;
    const int ih = (int)(t % g.H);
    t /= g.H;
    const int c = (int)(t % g.C), n = (int)(t / g.C);
    const int gi = c / Cg, cl = c % Cg;
    T acc = 0;
    for (int ki = 0; ki < g.kh; ki++) {
      const int a = ih + g.ph - ki * g.dh;
      if (a < 0 || a % g.sh != 0) continue;
      const int oh = a / g.sh;
      if (oh >= g.OH) continue;
      for (int kj = 0; kj < g.kw; kj++) {
        const int b = iw + g.pw - kj * g.dw;
        if (b < 0 || b % g.sw != 0) continue;
        const int ow = b / g.sw;
        if (ow >= g.OW) continue;
        for (int k = 0; k < kg; k++) {
          const int ko = gi * kg + k;
          const T p = pxf_weight<T, W, 1>(theta, mask, ((i64)ko * Cg + cl) * khw + ki * g.kw + kj);
          acc += p * gy[(((i64)n * g.K + ko) * g.OH + oh) * g.OW + ow];
        }
      }
    }
    gx[e] = acc;
  }
}

// P, scores (overwrites score): one block per weight, summing gy * x over the output positions.
template <typename T, typename W>
__device__ void pxf_path_score(const T* __restrict__ x, const T* __restrict__ gy, const W* __restrict__ theta,
                               const W* __restrict__ mask, T* __restrict__ score, const PxcConv& g) {
  __shared__ double sh[PXC_BLOCK];
  const int Cg = g.C / g.groups, kg = g.K / g.groups, khw = g.kh * g.kw;
  const i64 nw = (i64)g.K * Cg * khw, cols = (i64)g.N * g.OH * g.OW;
  for (i64 wi = blockIdx.x; wi < nw; wi += gridDim.x) {
    const int ko = (int)(wi / ((i64)Cg * khw)), rr = (int)(wi % ((i64)Cg * khw));
    const int cl = rr / khw, ki = (rr % khw) / g.kw, kj = rr % g.kw;
    const int c = (ko / kg) * Cg + cl;
    double acc = 0;
    for (i64 q = threadIdx.x; q < cols; q += blockDim.x) {
      const int ow = (int)(q % g.OW);
      const i64 t = q / g.OW;
      const int oh = (int)(t % g.OH), n = (int)(t / g.OH);
      const int ih = oh * g.sh - g.ph + ki * g.dh, iw = ow * g.sw - g.pw + kj * g.dw;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      acc += (double)gy[(((i64)n * g.K + ko) * g.OH + oh) * g.OW + ow] *
             x[(((i64)n * g.C + c) * g.H + ih) * g.W + iw];
    }
    acc = pxc_block_sum(acc, sh);
    if (threadIdx.x == 0) score[wi] = (T)acc * pxf_weight<T, W, 1>(theta, mask, wi);
  }
}

// P, scores, for few output positions (P runs on one sample): one thread per weight.
template <typename T, typename W>
__device__ void pxf_path_score_thread(const T* __restrict__ x, const T* __restrict__ gy, const W* __restrict__ theta,
                                      const W* __restrict__ mask, T* __restrict__ score, const PxcConv& g) {
  const int Cg = g.C / g.groups, kg = g.K / g.groups, khw = g.kh * g.kw;
  const i64 nw = (i64)g.K * Cg * khw;
  PXC_FOR(wi, nw) {
    const int ko = (int)(wi / ((i64)Cg * khw)), rr = (int)(wi % ((i64)Cg * khw));
    const int cl = rr / khw, ki = (rr % khw) / g.kw, kj = rr % g.kw;
    const int c = (ko / kg) * Cg + cl;
    double acc = 0;
    for (int n = 0; n < g.N; n++)
      for (int oh = 0; oh < g.OH; oh++) {
        const int ih = oh * g.sh - g.ph + ki * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        const T* gyr = gy + (((i64)n * g.K + ko) * g.OH + oh) * g.OW;
        const T* xr = x + (((i64)n * g.C + c) * g.H + ih) * g.W;
        for (int ow = 0; ow < g.OW; ow++) {
          const int iw = ow * g.sw - g.pw + kj * g.dw;
          if (iw >= 0 && iw < g.W) acc += (double)gyr[ow] * xr[iw];
        }
      }
    score[wi] = (T)acc * pxf_weight<T, W, 1>(theta, mask, wi);
  }
}

#define PXF_PATH_BWD(S, T, W)                                                                                 \
  extern "C" __global__ void pxf_path_conv_bwd_data_##S(const T* gy, const W* theta, const W* mask, T* gx,   \
                                                         PxcConv g) {                                         \
    pxf_path_bwd_data<T, W>(gy, theta, mask, gx, g);                                                          \
  }                                                                                                           \
  extern "C" __global__ void pxf_path_conv_score_##S(const T* x, const T* gy, const W* theta, const W* mask,  \
                                                      T* score, PxcConv g) {                                  \
    pxf_path_score<T, W>(x, gy, theta, mask, score, g);                                                       \
  }                                                                                                           \
  extern "C" __global__ void pxf_path_conv_score_thread_##S(const T* x, const T* gy, const W* theta,          \
                                                             const W* mask, T* score, PxcConv g) {            \
    pxf_path_score_thread<T, W>(x, gy, theta, mask, score, g);                                                \
  }
PXF_PATH_BWD(f32, float, float)
PXF_PATH_BWD(f64, double, double)
PXF_PATH_BWD(f64_w32, double, float)

// P, forward with float64 signals and a float32 model's theta and mask
extern "C" __global__ void pxf_path_conv_fwd_f64_w32(const double* x, const float* theta, const float* mask, double* y,
                                                     PxcConv g) {
  pxf_conv_fwd<double, float, float, 1>(x, theta, mask, (const float*)0, y, g);
}

// A with the gate as bytes (0 or 1); the gate is never null here (the _g64 kernels take a null gate)
typedef unsigned char u8;
extern "C" __global__ void pxf_act_conv_w32_gu8(const double* x, const float* mask, const u8* gate, double* y,
                                                PxcConv g) {
  pxf_conv_fwd<double, float, u8, 0>(x, mask, (const float*)0, gate, y, g);
}
extern "C" __global__ void pxf_act_conv_w64_gu8(const double* x, const double* mask, const u8* gate, double* y,
                                                PxcConv g) {
  pxf_conv_fwd<double, double, u8, 0>(x, mask, (const double*)0, gate, y, g);
}

// the gate pass's ReLU: y = max(z, 0) and the byte gate 1[z > 0] in one pass (y may be z)
#define PXF_RELU_GATE(S, T)                                                                                   \
  extern "C" __global__ void pxf_relu_gate_##S(const T* z, T* y, u8* gate, i64 n) {                          \
    PXC_FOR(i, n) {                                                                                           \
      const T v = z[i];                                                                                       \
      const bool on = v > 0;                                                                                  \
      y[i] = on ? v : (T)0;                                                                                   \
      gate[i] = on ? 1 : 0;                                                                                   \
    }                                                                                                         \
  }
PXF_RELU_GATE(f32, float)
PXF_RELU_GATE(f64, double)

// A's ReLU where no convolution epilogue applied the gate: y = z * gate (y may be z)
extern "C" __global__ void pxf_gate_mul_u8(const double* z, const u8* gate, double* y, i64 n) {
  PXC_FOR(i, n) y[i] = gate[i] ? z[i] : 0.0;
}
