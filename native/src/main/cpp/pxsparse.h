// pxprune sparse convolution (float32): forward, input gradient and weight gradient of a
// convolution whose weight is pruned, computed at the kept weights only, so that the work follows
// the density. The micro-kernels are in pxsparse_impl.h (compiled for AVX2+FMA and AVX-512F next
// to the dense ones); the input layout, the shape arithmetic and the per-thread scratch are the
// dense direct kernels' (pxconv.h). Threading is the caller's, as there.
//
// The kept-weight layout. The dense weight tensor w [K][C][kh][kw] (PyTorch's layout) stays the
// only copy of the values: checkpoints and weight files hold it, SGD updates it, and pruned
// entries are zero in it. What the mask adds, once, is the list of kept positions, as flat
// indices f = k*R + c*taps + t into w (R = C*taps, t = ki*kw + kj), in two orders:
//   rows[K+1], fidx[nnz]   by output channel (CSR): the kept (c, t) of channel k are
//                          fidx[rows[k] .. rows[k+1]), ascending; the forward and the weight
//                          gradient walk this order.
//   cols[R+1], tfidx[nnz]  by (input channel, tap) (the transpose, CSC): the kept k of column
//                          r = c*taps + t are tfidx[cols[r] .. cols[r+1]), ascending; the input
//                          gradient walks this order.
// Each call turns its part of the list into (offset, value) pairs for its geometry (offsets into
// the phase layout, values read from w at f): O(nnz) work against O(nnz * positions) of products,
// and it means the values are always those of w, whatever changed them since the last call.
//
// Why vectorise along positions (not along the batch): the stride-phase layout makes the input a
// kept weight multiplies one contiguous run of floats for every stride and dilation, so no batch
// transpose is needed, any batch size works the same way (nothing is rounded to a multiple of 8),
// and an image's input is laid out once and read by every output channel from L2.
//
// Determinism: every output element is one chain of FMAs over a list in a fixed order, and the
// weight gradient's partial sums per task are added by the caller in task order (see
// pxk_sp_reduce_scatter): the same inputs and thread count give the same bits.
#pragma once
#include <vector>
#include "pxconv.h"

namespace pxsparse {
using pxconv::PAD;
using pxconv::Shape;
using pxconv::round_up;

typedef void (*gather_fn)(const float*, const long*, const float*, int, long, float*);
typedef void (*bww_fn)(const float*, long, const float*, long, const long*, int, int, long, float*);

enum { SP_INPUT, SP_WIDE, SP_OFF, SP_VAL, SP_N };
inline float* scratch(int which, size_t floats) {
  static thread_local pxconv::Scratch s[SP_N];
  return s[which].get(floats);
}
inline long* scratch_long(int which, size_t n) { return reinterpret_cast<long*>(scratch(which, 2 * n + 2)); }

inline void require(const char* kernel, int isa, const Shape& s, int n0, int nn, int k0, int k1, int channels) {
  PXK_REQUIRE(pxconv::supported(isa), kernel, "instruction set " + PXK_S(isa) + " (1 = AVX2+FMA, 2 = AVX-512F) is not supported "
              "by this CPU (best: " + PXK_S(pxconv::best_isa()) + "); use the dense path");
  PXK_REQUIRE(s.G == 1, kernel, "groups " + PXK_S(s.G) + ": the sparse kernels take ungrouped convolutions; use the dense path");
  PXK_REQUIRE(n0 >= 0 && nn >= 1 && n0 + nn <= s.N && k0 >= 0 && k0 < k1 && k1 <= channels, kernel,
              "images [" + PXK_S(n0) + ", " + PXK_S(n0 + nn) + ") and channels [" + PXK_S(k0) + ", " + PXK_S(k1) +
                  ") are not inside a batch of " + PXK_S(s.N) + " with " + PXK_S(channels) + " channels");
}

// the kept weights of output channels [k0, k1) as (offset into one image's phase layout, value),
// in list order (values only when w is given); marks the input channels they read. Checks the
// list (a bad index would read outside the buffers).
inline void row_entries(const char* kernel, const Shape& s, const float* w, const int* rows, const int* fidx, int k0, int k1,
                        long* off, float* val, std::vector<char>& cused) {
  const long R = (long)s.C * s.taps;
  const int e0 = rows[k0];
  for (int k = k0; k < k1; k++) {
    PXK_REQUIRE(rows[k] <= rows[k + 1], kernel, "kept-weight rows are not ascending at output channel " + PXK_S(k));
    for (int e = rows[k]; e < rows[k + 1]; e++) {
      const long r = (long)fidx[e] - k * R;
      PXK_REQUIRE(r >= 0 && r < R, kernel, "kept weight " + PXK_S(e) + " (flat index " + PXK_S(fidx[e]) +
                  ") is not in output channel " + PXK_S(k) + "'s row of " + PXK_S(R));
      const int c = (int)(r / s.taps), t = (int)(r % s.taps);
      off[e - e0] = (long)c * s.cstride + s.toff[t];
      if (w) val[e - e0] = w[fidx[e]];
      cused[c] = 1;
    }
  }
}

// one image's used input channels in phase layout (the others are never read)
inline void build_used(const float* xn, const Shape& s, const std::vector<char>& cused, float* xs) {
  for (int c = 0; c < s.C; c++)
    if (cused[c]) pxconv::build_phases(xn, s, c, c + 1, xs);
}

// y[n][k] for images [n0, n0+nn), output channels [k0, k1): per image the used input channels in
// phase layout, then per output channel one gather over its kept weights on the wide grid, whose
// valid columns (plus bias) go to y. A channel with no kept weight is its bias (or zero).
inline void forward(int isa, const int* geom, const float* x, const float* w, const int* rows, const int* fidx,
                    const float* bias, float* y, int n0, int nn, int k0, int k1) {
  Shape s(geom);
  require("conv_fwd_sparse", isa, s, n0, nn, k0, k1, s.K);
  const int e0 = rows[k0], ne = rows[k1] - e0;
  long* off = scratch_long(SP_OFF, ne);
  float* val = scratch(SP_VAL, ne + 1);
  std::vector<char> cused(s.C, 0);
  row_entries("conv_fwd_sparse", s, w, rows, fidx, k0, k1, off, val, cused);
  gather_fn fn = isa == pxconv::ISA_AVX512 ? pxconv::avx512::sp_gather : pxconv::avx2::sp_gather;
  const long vw = isa == pxconv::ISA_AVX512 ? 16 : 8;
  float* xs = scratch(SP_INPUT, (size_t)s.C * s.cstride + PAD);
  float* ws = scratch(SP_WIDE, (size_t)s.Pv);
  const long ohw = (long)s.OH * s.OW;
  for (int n = n0; n < n0 + nn; n++) {
    if (ne > 0) build_used(x + (long)n * s.C * s.H * s.W, s, cused, xs);
    for (int k = k0; k < k1; k++) {
      const float b = bias ? bias[k] : 0.f;
      float* yk = y + ((long)n * s.K + k) * ohw;
      const int a = rows[k] - e0, z = rows[k + 1] - e0;
      if (a == z) {
        for (long i = 0; i < ohw; i++) yk[i] = b;
        continue;
      }
      fn(xs, off + a, val + a, z - a, s.Pv / vw, ws);
      for (int oh = 0; oh < s.OH; oh++) {
        const float* src = ws + (long)oh * s.Wph;
        float* dst = yk + (long)oh * s.OW;
        if (bias) for (int ow = 0; ow < s.OW; ow++) dst[ow] = src[ow] + b;
        else std::memcpy(dst, src, s.OW * sizeof(float));
      }
    }
  }
}

// gx[n][c] for images [n0, n0+nn), input channels [c0, c1) (overwritten): the adjoint of the
// forward. The forward adds w[k][c][t] * X'[c][toff[t] + p] into y's wide position p; so the
// gradient of X'[c] at position q of stride-phase plane(t) collects w[k][c][t] * gy'[k][q - o(t)],
// o(t) being the tap's offset inside its plane, over the kept (k, t) whose tap lies in that plane.
// gy' is gy on the wide grid with zeros at the dropped columns and a zero margin of M floats in
// front (and behind), so that q - o(t) may leave the grid. Per input channel and plane that is one
// gather (the same micro-kernel as the forward) over the plane's positions; the input positions of
// the plane are then read back out of it (every input position lies in exactly one plane).
inline void backward_data(int isa, const int* geom, const float* gy, const float* w, const int* cols, const int* tfidx, float* gx,
                          int n0, int nn, int c0, int c1) {
  Shape s(geom);
  require("conv_bwdd_sparse", isa, s, n0, nn, c0, c1, s.C);
  const int taps = s.taps, nph = s.sh * s.sw;
  const long R = (long)s.C * taps;
  long inoff[64], M = 0;
  int pl[64];
  for (int t = 0; t < taps; t++) {
    pl[t] = (int)(s.toff[t] / s.plane);
    inoff[t] = s.toff[t] - (long)pl[t] * s.plane;
    M = std::max(M, inoff[t]);
  }
  M = round_up(M, PAD);
  const long Qv = round_up((long)s.Hph * s.Wph, PAD);  // positions of a plane that hold input
  const long L = round_up(M + std::max(Qv, s.Pv), PAD);  // floats per output channel of the margined gy'
  // the lists, per (input channel, plane) segment: seg[(c - c0) * nph + plane] .. the next
  const int e0 = cols[c0 * taps], ne = cols[c1 * taps] - e0;
  long* off = scratch_long(SP_OFF, ne);
  float* val = scratch(SP_VAL, ne + 1);
  std::vector<int> seg((size_t)(c1 - c0) * nph + 1);
  std::vector<char> kused(s.K, 0);
  int m = 0;
  for (int c = c0; c < c1; c++)
    for (int q = 0; q < nph; q++) {
      seg[(size_t)(c - c0) * nph + q] = m;
      for (int t = 0; t < taps; t++) {
        if (pl[t] != q) continue;
        const long r = (long)c * taps + t;
        PXK_REQUIRE(cols[r] <= cols[r + 1], "conv_bwdd_sparse", "kept-weight columns are not ascending at " + PXK_S(r));
        for (int e = cols[r]; e < cols[r + 1]; e++) {
          const long k = tfidx[e] >= 0 ? tfidx[e] / R : -1;
          PXK_REQUIRE(k >= 0 && k < s.K && tfidx[e] - k * R == r, "conv_bwdd_sparse", "kept weight " + PXK_S(e) +
                      " (flat index " + PXK_S(tfidx[e]) + ") is not in column " + PXK_S(r));
          off[m] = k * L - inoff[t];
          val[m] = w[tfidx[e]];
          kused[k] = 1;
          m++;
        }
      }
    }
  seg[(size_t)(c1 - c0) * nph] = m;
  PXK_REQUIRE(m == ne, "conv_bwdd_sparse", "kept-weight columns hold " + PXK_S(ne) + " entries but their taps " + PXK_S(m));
  gather_fn fn = isa == pxconv::ISA_AVX512 ? pxconv::avx512::sp_gather : pxconv::avx2::sp_gather;
  const long vw = isa == pxconv::ISA_AVX512 ? 16 : 8;
  float* gyw = scratch(SP_INPUT, (size_t)s.K * L + PAD);
  float* gX = scratch(SP_WIDE, (size_t)Qv);
  const long ohw = (long)s.OH * s.OW, hw = (long)s.H * s.W;
  for (int n = n0; n < n0 + nn; n++) {
    if (ne > 0)
      for (int k = 0; k < s.K; k++) {
        if (!kused[k]) continue;
        float* dst = gyw + (long)k * L;
        std::memset(dst, 0, L * sizeof(float));
        const float* src = gy + ((long)n * s.K + k) * ohw;
        for (int oh = 0; oh < s.OH; oh++) std::memcpy(dst + M + (long)oh * s.Wph, src + (long)oh * s.OW, s.OW * sizeof(float));
      }
    for (int c = c0; c < c1; c++) {
      float* gc = gx + ((long)n * s.C + c) * hw;
      const int* sc = seg.data() + (size_t)(c - c0) * nph;
      bool full = true;  // every plane has a kept weight: every position is written below
      for (int q = 0; q < nph; q++) full = full && sc[q + 1] > sc[q];
      if (!full) std::memset(gc, 0, hw * sizeof(float));
      for (int q = 0; q < nph; q++) {
        if (sc[q + 1] == sc[q]) continue;
        fn(gyw + M, off + sc[q], val + sc[q], sc[q + 1] - sc[q], Qv / vw, gX);
        const int rh = q / s.sw, rw = q % s.sw;
        // input rows ih with (ih + ph) mod sh == rh are row i = (ih + ph) / sh of the plane; columns alike
        for (int ih = ((rh - s.ph) % s.sh + s.sh) % s.sh; ih < s.H; ih += s.sh) {
          const float* src = gX + (long)((ih + s.ph) / s.sh) * s.Wph;
          float* drow = gc + (long)ih * s.W;
          for (int iw = ((rw - s.pw) % s.sw + s.sw) % s.sw; iw < s.W; iw += s.sw) drow[iw] = src[(iw + s.pw) / s.sw];
        }
      }
    }
  }
}

// gv[e] for the kept weights e of output channels [k0, k1) (entries rows[k0] .. rows[k1] of a
// compact nnz-long buffer, overwritten): the sum over images [n0, n0+nn) of gy[k] . X'[c][toff[t] + .]
// on the wide grid. As the dense weight gradient, images go in groups that fit L2 (their input in
// phase layout and gy' on the wide grid, zeros at dropped columns), and each output channel's kept
// weights in blocks of the micro-kernel walk the group.
#ifndef PXSPARSE_GROUP_BYTES
#define PXSPARSE_GROUP_BYTES (192 * 1024)
#endif
inline void backward_weight(int isa, const int* geom, const float* x, const float* gy, const int* rows, const int* fidx, float* gv,
                            int n0, int nn, int k0, int k1) {
  Shape s(geom);
  require("conv_bwdw_sparse", isa, s, n0, nn, k0, k1, s.K);
  const int e0 = rows[k0], ne = rows[k1] - e0;
  long* off = scratch_long(SP_OFF, ne);
  std::vector<char> cused(s.C, 0);
  row_entries("conv_bwdw_sparse", s, nullptr, rows, fidx, k0, k1, off, nullptr, cused);
  std::memset(gv + e0, 0, (size_t)ne * sizeof(float));
  if (ne == 0) return;
  bww_fn fn = isa == pxconv::ISA_AVX512 ? pxconv::avx512::sp_bww : pxconv::avx2::sp_bww;
  const long ohw = (long)s.OH * s.OW, ximg = (long)s.C * s.cstride, gimg = (long)(k1 - k0) * s.Pv;
  const int nb = (int)std::max(1L, std::min((long)nn, (long)PXSPARSE_GROUP_BYTES / (long)((ximg + gimg) * sizeof(float))));
  float* xs = scratch(SP_INPUT, (size_t)nb * ximg + PAD);
  float* gyw = scratch(SP_WIDE, (size_t)nb * gimg);
  for (int n1 = n0; n1 < n0 + nn; n1 += nb) {
    const int m = std::min(nb, n0 + nn - n1);
    for (int b = 0; b < m; b++) {
      const int n = n1 + b;
      build_used(x + (long)n * s.C * s.H * s.W, s, cused, xs + b * ximg);
      for (int k = k0; k < k1; k++) {
        if (rows[k] == rows[k + 1]) continue;
        float* dst = gyw + b * gimg + (long)(k - k0) * s.Pv;
        std::memset(dst, 0, s.Pv * sizeof(float));
        const float* src = gy + ((long)n * s.K + k) * ohw;
        for (int oh = 0; oh < s.OH; oh++) std::memcpy(dst + (long)oh * s.Wph, src + (long)oh * s.OW, s.OW * sizeof(float));
      }
    }
    for (int k = k0; k < k1; k++) {
      const int a = rows[k] - e0, z = rows[k + 1] - e0;
      if (a < z) fn(gyw + (long)(k - k0) * s.Pv, gimg, xs, ximg, off + a, z - a, m, s.Pv, gv + rows[k]);
    }
  }
}

}  // namespace pxsparse

// ---------------------------------------------------------------- C entry points (JNI via JavaCPP)
// float32 sparse forward of images [n0, n0+nn), output channels [k0, k1); rows/fidx: the kept-weight
// rows (pxsparse.h); bias may be null
inline void pxk_sp_conv_fwd(int isa, int* geom, void* x, void* w, void* rows, void* fidx, void* bias, void* y, int n0, int nn,
                            int k0, int k1) {
  pxsparse::forward(isa, geom, static_cast<const float*>(x), static_cast<const float*>(w), static_cast<const int*>(rows),
                    static_cast<const int*>(fidx), static_cast<const float*>(bias), static_cast<float*>(y), n0, nn, k0, k1);
}
// float32 sparse input gradient of images [n0, n0+nn), input channels [c0, c1) (overwritten); cols/tfidx: the kept-weight columns
inline void pxk_sp_conv_bwdd(int isa, int* geom, void* gy, void* w, void* cols, void* tfidx, void* gx, int n0, int nn, int c0, int c1) {
  pxsparse::backward_data(isa, geom, static_cast<const float*>(gy), static_cast<const float*>(w), static_cast<const int*>(cols),
                          static_cast<const int*>(tfidx), static_cast<float*>(gx), n0, nn, c0, c1);
}
// float32 sparse weight gradient of images [n0, n0+nn) at the kept weights of output channels [k0, k1): gv[rows[k0] .. rows[k1]) (overwritten)
inline void pxk_sp_conv_bwdw(int isa, int* geom, void* x, void* gy, void* rows, void* fidx, void* gv, int n0, int nn, int k0, int k1) {
  pxsparse::backward_weight(isa, geom, static_cast<const float*>(x), static_cast<const float*>(gy), static_cast<const int*>(rows),
                            static_cast<const int*>(fidx), static_cast<float*>(gv), n0, nn, k0, k1);
}
// gw (wElems floats, overwritten) = zero except at the kept weights: gw[fidx[e]] = sum over parts p
// (in order) of part[p * nnz + e] (the per-task sums of pxk_sp_conv_bwdw, added in task order)
inline void pxk_sp_reduce_scatter(int parts, int nnz, void* part, void* fidx, long wElems, void* gw) {
  const float* pp = static_cast<const float*>(part);
  const int* f = static_cast<const int*>(fidx);
  float* g = static_cast<float*>(gw);
  PXK_REQUIRE(parts >= 1 && nnz >= 0 && wElems >= 0, "sp_reduce_scatter", "parts " + PXK_S(parts) + ", kept " + PXK_S(nnz) +
              ", weights " + PXK_S(wElems) + ": need parts >= 1 and counts >= 0");
  for (int e = 0; e < nnz; e++)
    PXK_REQUIRE(f[e] >= 0 && f[e] < wElems, "sp_reduce_scatter", "kept index " + PXK_S(f[e]) + " is outside " + PXK_S(wElems) + " weights");
  std::memset(g, 0, (size_t)wElems * sizeof(float));
  for (int e = 0; e < nnz; e++) {
    float acc = pp[e];
    for (int p = 1; p < parts; p++) acc += pp[(long)p * nnz + e];
    g[f[e]] = acc;
  }
}
