// pxprune direct convolution (float32): forward and weight gradient without im2col, with SIMD
// micro-kernels for AVX2+FMA and AVX-512F chosen at run time from CPUID. The input gradient of a
// stride-1 convolution is a forward convolution of gy with the flipped kernel (CpuBackend maps it),
// so it runs on the same kernel; the input gradient of a strided convolution (dilation 1, no
// groups) is split by output phase into stride-1 correlations on the same micro-kernel
// (backward_data below); dilated or grouped strided input gradients stay on im2col/col2im.
//
// What the kernels compute is described in pxconv_impl.h (the micro-kernels and their register
// blocking). This file holds what is common to both instruction sets: the shape arithmetic, the
// stride-phase layout of one image's input, per-thread scratch, the loops over images and output
// channel blocks, and the C entry points. Threading is the caller's (CpuBackend's pool hands each
// task a range of images and of output channels); nothing here starts threads.
#pragma once
#include <immintrin.h>
#include <cstdlib>
#include <cstring>
#include <new>
#include "pxkernels.h"

namespace pxconv {

// geometry as CpuBackend passes it: {N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, groups, OH, OW}
enum { G_N, G_C, G_H, G_W, G_K, G_KH, G_KW, G_SH, G_SW, G_PH, G_PW, G_DH, G_DW, G_GROUPS, G_OH, G_OW, G_LEN };

// Positions are padded to a multiple of 16 floats (one AVX-512 vector, two AVX2 vectors), so one
// layout serves both instruction sets.
constexpr long PAD = 16;
inline long round_up(long v, long m) { return (v + m - 1) / m * m; }

struct Shape {
  int N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, G, OH, OW;
  int Cg, Kg, taps, Hph, Wph;
  long P, Pv;      // wide output positions OH*Wph, and that rounded up to PAD
  long plane;      // floats per stride-phase plane (data plus the over-read of the last vectors)
  long cstride;    // floats per input channel: sh*sw planes
  long toff[64];   // per tap t = ki*kw + kj: plane index * plane + in-plane offset (taps <= 64 here)
  bool used[64];   // per stride-phase plane rh*sw + rw: whether a tap reads it (a 1x1 stride-2 kernel reads 1 of 4)
  explicit Shape(const int* g) {
    N = g[G_N]; C = g[G_C]; H = g[G_H]; W = g[G_W]; K = g[G_K]; kh = g[G_KH]; kw = g[G_KW]; sh = g[G_SH];
    sw = g[G_SW]; ph = g[G_PH]; pw = g[G_PW]; dh = g[G_DH]; dw = g[G_DW]; G = g[G_GROUPS]; OH = g[G_OH]; OW = g[G_OW];
    PXK_REQUIRE(N >= 1 && C >= 1 && K >= 1 && G >= 1 && C % G == 0 && K % G == 0, "conv_direct",
                "batch " + PXK_S(N) + ", channels " + PXK_S(C) + " -> " + PXK_S(K) + ", groups " + PXK_S(G) +
                    ": need positive sizes and groups dividing both channel counts");
    pxk::require_window("conv_direct", "height", H, kh, sh, ph, dh, OH);
    pxk::require_window("conv_direct", "width", W, kw, sw, pw, dw, OW);
    taps = kh * kw;
    PXK_REQUIRE(taps <= 64 && sh * sw <= 64, "conv_direct", "kernel " + PXK_S(kh) + "x" + PXK_S(kw) + ", stride " + PXK_S(sh) +
                "x" + PXK_S(sw) + ": more than 64 taps or stride phases; use the im2col path");
    Cg = C / G; Kg = K / G;
    Hph = (H + 2 * ph + sh - 1) / sh;
    Wph = (W + 2 * pw + sw - 1) / sw;
    P = (long)OH * Wph;
    Pv = round_up(P, PAD);
    long maxoff = 0;
    for (int ki = 0; ki < kh; ki++)
      for (int kj = 0; kj < kw; kj++) {
        long in = (long)(ki * dh / sh) * Wph + kj * dw / sw;
        maxoff = in > maxoff ? in : maxoff;
      }
    plane = round_up(std::max((long)Hph * Wph, maxoff + Pv), PAD);
    cstride = (long)sh * sw * plane;
    for (int i = 0; i < sh * sw; i++) used[i] = false;
    for (int ki = 0; ki < kh; ki++)
      for (int kj = 0; kj < kw; kj++) {
        int ph_ = (ki * dh) % sh * sw + (kj * dw) % sw;
        used[ph_] = true;
        toff[ki * kw + kj] = (long)ph_ * plane + (long)(ki * dh / sh) * Wph + kj * dw / sw;
      }
  }
};

// One growing buffer per thread and purpose, kept for the thread's life: after the first call of
// the largest layer, no call allocates (CpuBackend's pool threads live as long as the backend).
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p); }
  float* get(size_t m) {
    if (m > n) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, round_up((long)m * 4, 64)));
      n = p ? m : 0;
      if (!p) throw std::bad_alloc();
    }
    return p;
  }
};
enum { S_INPUT, S_WIDE };
inline float* scratch(int which, size_t floats) {
  static thread_local Scratch s[2];
  return s[which].get(floats);
}

// X'[c][rh][rw][i][j] = x[c][i*sh + rh - ph][j*sw + rw - pw] (0 outside the input): see pxconv_impl.h.
// Only the planes some tap reads are written (every read of a tap stays inside its own plane, so
// the others are never touched): a 1x1 stride-2 kernel copies a quarter of its input.
inline void build_phases(const float* x, const Shape& s, int c0, int c1, float* xs) {
  for (int c = c0; c < c1; c++) {
    const float* src = x + (long)c * s.H * s.W;
    float* dst = xs + (long)c * s.cstride;
    for (int q = 0; q < s.sh * s.sw; q++)
      if (s.used[q]) std::memset(dst + (long)q * s.plane, 0, s.plane * sizeof(float));
    for (int ih = 0; ih < s.H; ih++) {
      int r = ih + s.ph, rh = r % s.sh, i = r / s.sh;
      const float* srow = src + (long)ih * s.W;
      if (s.sw == 1) {
        if (s.used[rh]) std::memcpy(dst + (long)rh * s.plane + (long)i * s.Wph + s.pw, srow, s.W * sizeof(float));
      } else {  // one phase at a time: a strided read, a contiguous write (vectorised by the compiler)
        for (int rw = 0; rw < s.sw; rw++) {
          if (!s.used[rh * s.sw + rw]) continue;
          float* drow = dst + (long)(rh * s.sw + rw) * s.plane + (long)i * s.Wph;
          // padded columns j*sw + rw, input column iw = j*sw + rw - pw in [0, W)
          int ja = s.pw > rw ? (s.pw - rw + s.sw - 1) / s.sw : 0, jz = (s.W + s.pw - rw + s.sw - 1) / s.sw;
          const float* sp = srow + rw - s.pw;
          for (int j = ja; j < jz; j++) drow[j] = sp[(long)j * s.sw];
        }
      }
    }
  }
}

// ---------------------------------------------------------------- the two instruction sets
namespace avx2 {
#define PXC_TARGET __attribute__((target("avx2,fma")))
#define PXC_V __m256
#define PXC_VW 8
#define PXC_LOAD _mm256_loadu_ps
#define PXC_STORE _mm256_storeu_ps
#define PXC_FMA _mm256_fmadd_ps
#define PXC_BCAST _mm256_broadcast_ss
#define PXC_ZERO _mm256_setzero_ps
#define PXC_HSUM hsum
#define PXC_KB 4
#define PXC_NV 3
#define PXC_TB 3
// horizontal sum of 8 lanes, always in the same order: (lo128 + hi128), then pairs
PXC_TARGET static inline float hsum(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}
#include "pxconv_impl.h"
#include "pxsparse_impl.h"
constexpr int KB = PXC_KB;
#undef PXC_TARGET
#undef PXC_V
#undef PXC_VW
#undef PXC_LOAD
#undef PXC_STORE
#undef PXC_FMA
#undef PXC_BCAST
#undef PXC_ZERO
#undef PXC_HSUM
#undef PXC_KB
#undef PXC_NV
#undef PXC_TB
}  // namespace avx2

namespace avx512 {
#define PXC_TARGET __attribute__((target("avx512f")))
#define PXC_V __m512
#define PXC_VW 16
#define PXC_LOAD _mm512_loadu_ps
#define PXC_STORE _mm512_storeu_ps
#define PXC_FMA _mm512_fmadd_ps
#define PXC_BCAST _mm512_set1_ps_p
#define PXC_ZERO _mm512_setzero_ps
#define PXC_HSUM hsum
#define PXC_KB 8
#define PXC_NV 3
#define PXC_TB 3
PXC_TARGET static inline __m512 _mm512_set1_ps_p(const float* p) { return _mm512_set1_ps(*p); }
// horizontal sum of 16 lanes in a fixed order: halves, quarters, then the last four lanes in pairs
// (the masked shuffle with an explicit source: the unmasked intrinsics, _mm512_reduce_add_ps and the
// 512->128 casts make GCC 12 warn about the undefined vectors they start from)
PXC_TARGET static inline float hsum(__m512 v) {
  __m512 a = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, 0xFFFF, v, v, 0x4E));  // lanes 0-7 += 8-15
  a = _mm512_add_ps(a, _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, a, 0xB1));          // lanes 0-3 += 4-7
  alignas(64) float t[16];
  _mm512_store_ps(t, a);
  return (t[0] + t[2]) + (t[1] + t[3]);
}
#include "pxconv_impl.h"
#include "pxsparse_impl.h"
constexpr int KB = PXC_KB;
#undef PXC_TARGET
#undef PXC_V
#undef PXC_VW
#undef PXC_LOAD
#undef PXC_STORE
#undef PXC_FMA
#undef PXC_BCAST
#undef PXC_ZERO
#undef PXC_HSUM
#undef PXC_KB
#undef PXC_NV
#undef PXC_TB
}  // namespace avx512

// ---------------------------------------------------------------- run-time choice
enum { ISA_NONE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };
// the widest set this CPU (and its OS) supports; __builtin_cpu_supports also checks that the OS saves the registers
inline int best_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
  return ISA_NONE;
}
inline bool supported(int isa) { return isa == ISA_AVX2 ? best_isa() >= ISA_AVX2 : isa == ISA_AVX512 ? best_isa() == ISA_AVX512 : false; }

typedef void (*fwd_fn)(int, const float*, long, const float*, long, int, const long*, int, long, float*, long);
typedef void (*bww_fn)(int, const float*, long, long, const float*, long, long, int, int, const long*, int, long, float*, long);

inline void require_task(const char* kernel, int isa, const Shape& s, int n0, int nn, int k0, int k1) {
  PXK_REQUIRE(supported(isa), kernel, "instruction set " + PXK_S(isa) + " (1 = AVX2+FMA, 2 = AVX-512F) is not supported by this CPU "
              "(best: " + PXK_S(best_isa()) + "); use the im2col path");
  PXK_REQUIRE(n0 >= 0 && nn >= 1 && n0 + nn <= s.N && k0 >= 0 && k0 < k1 && k1 <= s.K, kernel,
              "images [" + PXK_S(n0) + ", " + PXK_S(n0 + nn) + ") and output channels [" + PXK_S(k0) + ", " + PXK_S(k1) +
                  ") are not inside a batch of " + PXK_S(s.N) + " with " + PXK_S(s.K) + " output channels");
}

// y[n][k] for images [n0, n0+nn) and output channels [k0, k1): per image, the input in phase layout
// once, then per group and block of KB output channels one pass of the micro-kernel over all
// positions into the wide buffer, then the valid columns (plus bias) into y.
inline void forward(int isa, const int* geom, const float* x, const float* w, const float* bias, float* y, int n0, int nn,
                    int k0, int k1) {
  Shape s(geom);
  require_task("conv_fwd_direct", isa, s, n0, nn, k0, k1);
  const int KB = isa == ISA_AVX512 ? avx512::KB : avx2::KB;
  fwd_fn fn = isa == ISA_AVX512 ? avx512::fwd_channels : avx2::fwd_channels;
  const int g0 = k0 / s.Kg, g1 = (k1 - 1) / s.Kg + 1;  // groups that own output channels [k0, k1)
  float* xs = scratch(S_INPUT, (size_t)s.C * s.cstride + PAD);
  float* ws = scratch(S_WIDE, (size_t)KB * s.Pv);
  const long taps = s.taps, ohw = (long)s.OH * s.OW;
  for (int n = n0; n < n0 + nn; n++) {
    build_phases(x + (long)n * s.C * s.H * s.W, s, g0 * s.Cg, g1 * s.Cg, xs);
    for (int g = g0; g < g1; g++) {
      int ka = std::max(k0, g * s.Kg), kz = std::min(k1, (g + 1) * s.Kg);
      for (int kb0 = ka; kb0 < kz; kb0 += KB) {
        int kb = std::min(KB, kz - kb0);
        fn(kb, xs + (long)g * s.Cg * s.cstride, s.cstride, w + (long)kb0 * s.Cg * taps, s.Cg * taps, s.Cg, s.toff,
           (int)taps, s.Pv, ws, s.Pv);
        for (int k = 0; k < kb; k++) {
          float b = bias ? bias[kb0 + k] : 0.f;
          float* yk = y + ((long)n * s.K + kb0 + k) * ohw;
          const float* wk = ws + (long)k * s.Pv;
          for (int oh = 0; oh < s.OH; oh++) {
            const float* src = wk + (long)oh * s.Wph;
            float* dst = yk + (long)oh * s.OW;
            if (bias) for (int ow = 0; ow < s.OW; ow++) dst[ow] = src[ow] + b;
            else std::memcpy(dst, src, s.OW * sizeof(float));
          }
        }
      }
    }
  }
}

// gw[k] (rows [k0, k1) of a [K][Cg*taps] buffer, zeroed here first) = sum over images [n0, n0+nn)
// of the weight gradient: per group of images (as many as fit in GROUP_BYTES, so that the group's
// data stays in L2 while every block of the micro-kernel walks it) the input in phase layout and gy
// on the wide grid (zeros past OW), then the micro-kernel per group of channels, block of KB output
// channels and block of (c, tap) columns.
#ifndef PXCONV_GROUP_BYTES
#define PXCONV_GROUP_BYTES (192 * 1024)
#endif
constexpr long GROUP_BYTES = PXCONV_GROUP_BYTES;
inline void backward_weight(int isa, const int* geom, const float* x, const float* gy, float* gw, int n0, int nn, int k0, int k1) {
  Shape s(geom);
  require_task("conv_bwdw_direct", isa, s, n0, nn, k0, k1);
  const int KB = isa == ISA_AVX512 ? avx512::KB : avx2::KB;
  bww_fn fn = isa == ISA_AVX512 ? avx512::bww_channels : avx2::bww_channels;
  const int g0 = k0 / s.Kg, g1 = (k1 - 1) / s.Kg + 1;
  const long taps = s.taps, ohw = (long)s.OH * s.OW, wrow = (long)s.Cg * taps;
  const long ximg = (long)s.C * s.cstride, gimg = (long)(k1 - k0) * s.Pv;  // floats per image in each scratch
  const int nb = (int)std::max(1L, std::min((long)nn, GROUP_BYTES / (long)((ximg + gimg) * sizeof(float))));
  float* xs = scratch(S_INPUT, (size_t)nb * ximg + PAD);
  float* gyw = scratch(S_WIDE, (size_t)nb * gimg);
  std::memset(gw + (long)k0 * wrow, 0, (size_t)(k1 - k0) * wrow * sizeof(float));
  for (int n1 = n0; n1 < n0 + nn; n1 += nb) {
    const int m = std::min(nb, n0 + nn - n1);
    for (int b = 0; b < m; b++) {
      const int n = n1 + b;
      build_phases(x + (long)n * s.C * s.H * s.W, s, g0 * s.Cg, g1 * s.Cg, xs + b * ximg);
      float* gb = gyw + b * gimg;
      std::memset(gb, 0, (size_t)gimg * sizeof(float));
      for (int k = k0; k < k1; k++) {
        const float* src = gy + ((long)n * s.K + k) * ohw;
        float* dst = gb + (long)(k - k0) * s.Pv;
        for (int oh = 0; oh < s.OH; oh++) std::memcpy(dst + (long)oh * s.Wph, src + (long)oh * s.OW, s.OW * sizeof(float));
      }
    }
    for (int g = g0; g < g1; g++) {
      int ka = std::max(k0, g * s.Kg), kz = std::min(k1, (g + 1) * s.Kg);
      for (int kb0 = ka; kb0 < kz; kb0 += KB) {
        int kb = std::min(KB, kz - kb0);
        fn(kb, gyw + (long)(kb0 - k0) * s.Pv, s.Pv, gimg, xs + (long)g * s.Cg * s.cstride, s.cstride, ximg, m, s.Cg, s.toff,
           (int)taps, s.Pv, gw + (long)kb0 * wrow, wrow);
      }
    }
  }
}

// ---------------------------------------------------------------- strided input gradient
// The input gradient of a stride-s convolution (dilation 1, no groups), decomposed by output phase:
// input row ih belongs to phase rh = (ih + ph) mod sh, and only the taps ki = rh + sh*a reach it,
// from gy row oh = q - a where ih = q*sh + rh - ph. So per phase (rh, rw), gx[phase] is a stride-1
// correlation of gy with the Ah x Aw taps of the flipped kernel that land on that phase,
//   gx[c][q*sh + rh - ph][..] = sum over k, a'h, a'w of gy[k][q - (Ah-1) + a'h][..] * w[k][c][rh + sh*(Ah-1-a'h)][..],
// which is exactly what the forward micro-kernel computes (output channels = c, input channels = k,
// taps = the phase's Ah*Aw, no stride): a 3x3 stride-2 kernel splits into phases of 2x2, 2x1, 1x2
// and 1x1 taps (9 in all: the same multiply-adds as the convolution, none wasted on the zeros that
// col2im's dilated view of gy would multiply). Phases no tap reaches (a 1x1 stride-2 kernel reaches
// only (0, 0)) are zero. All phases read one zero-padded copy of gy per image, G[k][i][j] =
// gy[k][i - T][j - L], each with its own tap offsets; each phase's output is a wide grid Qh x Wb
// (columns past Qw dropped, as in the forward), scattered to every sh-th row and sw-th column of gx.
struct BwdPhase {
  int rh, rw, Ah, Aw, qah, qaw, Qh, Qw;  // the phase, its taps per dimension, first q and count per dimension
  long woff;                             // offset of its packed weights [C][K][Ah*Aw] in the packed buffer
  long Pv;                               // wide outputs Qh*Wb rounded up to PAD
  long toff[64];
};
inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
struct BwdShape {
  Shape s;
  int T, L, Hb, Wb, nph;
  long plane;  // floats per channel of G (data plus the over-read of the last vectors)
  BwdPhase phs[64];
  explicit BwdShape(const int* g) : s(g) {
    PXK_REQUIRE(s.dh == 1 && s.dw == 1 && s.G == 1, "conv_bwdd_direct", "dilation " + PXK_S(s.dh) + "x" + PXK_S(s.dw) +
                ", groups " + PXK_S(s.G) + ": the phase-decomposed input gradient needs dilation 1 and no groups; use the im2col path");
    nph = s.sh * s.sw;
    T = L = -(1 << 30);
    for (int rh = 0; rh < s.sh; rh++)
      for (int rw = 0; rw < s.sw; rw++) {
        BwdPhase& f = phs[rh * s.sw + rw];
        f.rh = rh; f.rw = rw;
        f.Ah = s.kh > rh ? (s.kh - rh + s.sh - 1) / s.sh : 0;
        f.Aw = s.kw > rw ? (s.kw - rw + s.sw - 1) / s.sw : 0;
        f.qah = (s.ph - rh + s.sh - 1) / s.sh;  // ceil((ph - rh) / sh), the numerator is >= 0
        f.qaw = (s.pw - rw + s.sw - 1) / s.sw;
        f.Qh = std::max(0, floor_div(s.H - 1 + s.ph - rh, s.sh) + 1 - f.qah);
        f.Qw = std::max(0, floor_div(s.W - 1 + s.pw - rw, s.sw) + 1 - f.qaw);
        if (live(f)) { T = std::max(T, f.Ah - 1 - f.qah); L = std::max(L, f.Aw - 1 - f.qaw); }
      }
    if (T < -(1 << 29)) T = L = 0;  // no phase has taps and outputs: gx is zero
    Hb = s.OH + T; Wb = s.OW + L;
    for (int i = 0; i < nph; i++) {
      const BwdPhase& f = phs[i];
      if (!live(f)) continue;
      Hb = std::max(Hb, f.Qh + f.Ah - 1 + T - (f.Ah - 1 - f.qah));
      Wb = std::max(Wb, f.Qw + f.Aw - 1 + L - (f.Aw - 1 - f.qaw));
    }
    Hb = std::max(Hb, 1); Wb = std::max(Wb, 1);
    long need = (long)Hb * Wb, woff = 0;
    for (int i = 0; i < nph; i++) {
      BwdPhase& f = phs[i];
      f.woff = woff;
      woff += (long)s.C * s.K * f.Ah * f.Aw;
      f.Pv = round_up((long)f.Qh * Wb, PAD);
      if (!live(f)) continue;
      long maxoff = 0;
      for (int a = 0; a < f.Ah; a++)
        for (int b = 0; b < f.Aw; b++) {
          long o = (long)(a + T - (f.Ah - 1 - f.qah)) * Wb + (b + L - (f.Aw - 1 - f.qaw));
          f.toff[a * f.Aw + b] = o;
          maxoff = std::max(maxoff, o);
        }
      need = std::max(need, maxoff + f.Pv);
    }
    plane = round_up(need, PAD);
  }
  static bool live(const BwdPhase& f) { return f.Ah > 0 && f.Aw > 0 && f.Qh > 0 && f.Qw > 0; }
  long maxPv() const {
    long m = PAD;
    for (int i = 0; i < nph; i++) m = std::max(m, phs[i].Pv);
    return m;
  }
};

// the packed weights of every phase, one after another: wp[phase][c][k][a'h][a'w] = w[k][c][rh + sh*(Ah-1-a'h)][rw + sw*(Aw-1-a'w)]
// (C*K*kh*kw floats in all, the same count as w)
inline void pack_backward_data(const int* geom, const float* w, float* wp) {
  BwdShape b(geom);
  const Shape& s = b.s;
  for (int i = 0; i < b.nph; i++) {
    const BwdPhase& f = b.phs[i];
    const int taps = f.Ah * f.Aw;
    for (int c = 0; c < s.C; c++)
      for (int k = 0; k < s.K; k++)
        for (int a = 0; a < f.Ah; a++)
          for (int bb = 0; bb < f.Aw; bb++) {
            int ki = f.rh + s.sh * (f.Ah - 1 - a), kj = f.rw + s.sw * (f.Aw - 1 - bb);
            wp[f.woff + ((long)c * s.K + k) * taps + a * f.Aw + bb] = w[(((long)k * s.C + c) * s.kh + ki) * s.kw + kj];
          }
  }
}

// gx[n][c] for images [n0, n0+nn) and input channels [c0, c1) (all of their elements written) from
// gy and the packed weights: per image, G once, then per phase and block of KB channels one pass of
// the forward micro-kernel over the phase's wide grid, scattered into gx.
inline void backward_data(int isa, const int* geom, const float* gy, const float* wp, float* gx, int n0, int nn, int c0, int c1) {
  BwdShape b(geom);
  const Shape& s = b.s;
  PXK_REQUIRE(supported(isa), "conv_bwdd_direct", "instruction set " + PXK_S(isa) + " is not supported by this CPU (best: " +
              PXK_S(best_isa()) + "); use the im2col path");
  PXK_REQUIRE(n0 >= 0 && nn >= 1 && n0 + nn <= s.N && c0 >= 0 && c0 < c1 && c1 <= s.C, "conv_bwdd_direct",
              "images [" + PXK_S(n0) + ", " + PXK_S(n0 + nn) + ") and input channels [" + PXK_S(c0) + ", " + PXK_S(c1) +
                  ") are not inside a batch of " + PXK_S(s.N) + " with " + PXK_S(s.C) + " input channels");
  const int KB = isa == ISA_AVX512 ? avx512::KB : avx2::KB;
  fwd_fn fn = isa == ISA_AVX512 ? avx512::fwd_channels : avx2::fwd_channels;
  float* G = scratch(S_INPUT, (size_t)s.K * b.plane + PAD);
  float* ws = scratch(S_WIDE, (size_t)KB * b.maxPv());
  const long ohw = (long)s.OH * s.OW, hw = (long)s.H * s.W;
  for (int n = n0; n < n0 + nn; n++) {
    const float* gyn = gy + (long)n * s.K * ohw;
    for (int k = 0; k < s.K; k++) {
      float* dst = G + (long)k * b.plane;
      std::memset(dst, 0, b.plane * sizeof(float));
      const int ja = std::max(0, -b.L), jz = std::min(s.OW, b.Wb - b.L);
      if (ja >= jz) continue;
      for (int oh = std::max(0, -b.T); oh < s.OH && oh + b.T < b.Hb; oh++)
        std::memcpy(dst + (long)(oh + b.T) * b.Wb + ja + b.L, gyn + (long)k * ohw + (long)oh * s.OW + ja, (jz - ja) * sizeof(float));
    }
    float* gxn = gx + (long)n * s.C * hw;
    for (int i = 0; i < b.nph; i++) {
      const BwdPhase& f = b.phs[i];
      if (f.Qh == 0 || f.Qw == 0) continue;  // no input position in this phase
      const int taps = f.Ah * f.Aw;
      for (int cb0 = c0; cb0 < c1; cb0 += KB) {
        const int kb = std::min(KB, c1 - cb0);
        if (taps > 0)
          fn(kb, G, b.plane, wp + f.woff + (long)cb0 * s.K * taps, (long)s.K * taps, s.K, f.toff, taps, f.Pv, ws, f.Pv);
        for (int c = 0; c < kb; c++) {
          float* gc = gxn + (long)(cb0 + c) * hw;
          const float* src = ws + (long)c * f.Pv;
          for (int o = 0; o < f.Qh; o++) {
            float* drow = gc + (long)((f.qah + o) * s.sh + f.rh - s.ph) * s.W + (f.qaw * s.sw + f.rw - s.pw);
            const float* srow = src + (long)o * b.Wb;
            if (taps == 0) for (int ow = 0; ow < f.Qw; ow++) drow[(long)ow * s.sw] = 0.f;
            else if (s.sw == 1) std::memcpy(drow, srow, f.Qw * sizeof(float));
            else for (int ow = 0; ow < f.Qw; ow++) drow[(long)ow * s.sw] = srow[ow];
          }
        }
      }
    }
  }
}

}  // namespace pxconv

// ---------------------------------------------------------------- C entry points (JNI via JavaCPP)
// the instruction set the direct kernels would use here: 2 = AVX-512F, 1 = AVX2+FMA, 0 = none (use im2col)
inline int pxk_conv_isa() { return pxconv::best_isa(); }
// float32 forward convolution of images [n0, n0+nn), output channels [k0, k1); geom: see pxconv::G_*; bias may be null
inline void pxk_conv_fwd_direct(int isa, int* geom, void* x, void* w, void* bias, void* y, int n0, int nn, int k0, int k1) {
  pxconv::forward(isa, geom, static_cast<const float*>(x), static_cast<const float*>(w), static_cast<const float*>(bias),
                  static_cast<float*>(y), n0, nn, k0, k1);
}
// float32 weight gradient of images [n0, n0+nn) into rows [k0, k1) of gw [K, C/groups, kh, kw] (overwritten)
// the packed weights of the phase-decomposed input gradient: wp (K*C*kh*kw floats) from w [K, C, kh, kw]
inline void pxk_conv_pack_bwdd(int* geom, void* w, void* wp) {
  pxconv::pack_backward_data(geom, static_cast<const float*>(w), static_cast<float*>(wp));
}
// float32 input gradient of images [n0, n0+nn), input channels [c0, c1) (overwritten) of a convolution of any stride
// (dilation 1, no groups), from gy and the weights packed by pxk_conv_pack_bwdd
inline void pxk_conv_bwdd_direct(int isa, int* geom, void* gy, void* wp, void* gx, int n0, int nn, int c0, int c1) {
  pxconv::backward_data(isa, geom, static_cast<const float*>(gy), static_cast<const float*>(wp), static_cast<float*>(gx), n0, nn,
                        c0, c1);
}
inline void pxk_conv_bwdw_direct(int isa, int* geom, void* x, void* gy, void* gw, int n0, int nn, int k0, int k1) {
  pxconv::backward_weight(isa, geom, static_cast<const float*>(x), static_cast<const float*>(gy), static_cast<float*>(gw), n0, nn,
                          k0, k1);
}
