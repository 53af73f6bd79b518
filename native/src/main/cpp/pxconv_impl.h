// pxprune direct convolution: the SIMD micro-kernels, written once and compiled twice.
// This file is included by pxconv.h two times, inside namespaces pxconv::avx2 and pxconv::avx512,
// with the macros below naming the vector type, its width and the intrinsics; every function
// carries PXC_TARGET (__attribute__((target("avx2,fma"))) or target("avx512f")), so the library's
// baseline flags stay what native/pom.xml says and each copy runs only where CPUID has its
// instructions (pxconv.h checks __builtin_cpu_supports before calling in).
//
//   PXC_V        vector type (__m256 / __m512)          PXC_VW  floats per vector (8 / 16)
//   PXC_LOAD/STORE/FMA/BCAST/ZERO/HSUM                  the intrinsics
//   PXC_KB       output channels per register block     PXC_NV  vectors of positions per block
//   PXC_TB       (input channel, tap) columns per block of the weight gradient
//
// The data layout both kernels read (built by pxconv.h's build_phases): for one image, every input
// channel is copied into a zero-padded buffer and split by stride phase, X'[c][rh][rw][i][j] =
// xpad[c][i*sh + rh][j*sw + rw] (each phase plane Wph = ceil((W+2pw)/sw) wide). In that layout the
// input that tap (ki, kj) multiplies at output (oh, ow) is X'[c][plane(t)][oh*Wph + ow + off(t)]:
// consecutive outputs of a row read consecutive floats, for any stride and dilation, so a vector
// of outputs is one unaligned load per tap. We compute on the "wide" output grid OH x Wph (the
// positions ow >= OW are computed and dropped: Wph - OW is only the padding, 2 of 34 columns at
// 32x32, 2 of 10 at 8x8), which makes the positions of one image one flat run p = oh*Wph + ow, so
// a register block of PXC_NV vectors never has to stop at a row end (8x8 maps would otherwise
// fill one AVX2 vector and a quarter of an AVX-512 one).

// ------------------------------------------------------------------------------------------------
// Forward micro-kernel: out[k][p0 + v*VW ..] = sum over c < Cg, t < taps of w[k][c][t] * X'[c][toff[t] + p0 + ..]
// for PXC_KB output channels k and PXC_NV vectors of positions.
// Blocking: the KB x NV accumulators stay in registers for the whole reduction over (c, t); each
// step loads NV input vectors once and reuses each against KB broadcast weights, so one step is
// NV + KB loads for KB*NV FMAs. AVX2 (16 ymm): KB=4, NV=3 -> 12 accumulators + 3 inputs + 1
// broadcast = 16 registers, 7 loads per 12 FMAs (two FMA ports, two load ports: FMA-bound).
// AVX-512 (32 zmm): KB=8, NV=3 -> 24 + 3 + 1 = 28 registers, 11 loads per 24 FMAs. Twelve or more
// independent accumulators also cover the FMA latency (4-5 cycles x 2 ports). Weights are read
// straight from the [K][Cg][kh][kw] tensor (KB rows, each walked in order: L1-resident for ResNet
// shapes), so nothing is repacked per call. The reduction order (c outer, t inner, one FMA chain
// per output) is fixed, so results are bit-identical from run to run and for any thread count.
template <int KB, int NV>
PXC_TARGET static inline void fwd_block(const float* xs, long cstride, const float* w, long wstride, int Cg,
                                        const long* toff, int taps, long p0, float* out, long ostride) {
  PXC_V acc[KB][NV];
#pragma GCC unroll 16
  for (int k = 0; k < KB; k++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[k][v] = PXC_ZERO();
  for (int c = 0; c < Cg; c++) {
    const float* xc = xs + c * cstride + p0;
    const float* wc = w + (long)c * taps;
    for (int t = 0; t < taps; t++) {
      const float* xt = xc + toff[t];
      PXC_V xv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) xv[v] = PXC_LOAD(xt + v * PXC_VW);
#pragma GCC unroll 16
      for (int k = 0; k < KB; k++) {
        PXC_V b = PXC_BCAST(wc + k * wstride + t);
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) acc[k][v] = PXC_FMA(b, xv[v], acc[k][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int k = 0; k < KB; k++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) PXC_STORE(out + k * ostride + p0 + v * PXC_VW, acc[k][v]);
}

// KB is known only at run time for the last block of a group (Kg not a multiple of PXC_KB): one
// instantiation per value. Along the positions, blocks of 3 vectors, and the last 4 as 2 + 2 (not
// 3 + 1: a 1-vector block has KB independent FMA chains only, too few to hide the FMA latency);
// an 8x8 map (wide run 80 = 10 AVX2 vectors) runs as 3 + 3 + 2 + 2.
template <int KB>
PXC_TARGET static inline void fwd_row(const float* xs, long cstride, const float* w, long wstride, int Cg,
                                      const long* toff, int taps, long Pv, float* out, long ostride) {
  static_assert(PXC_NV == 3, "the split below assumes blocks of 3 vectors");
  const long nvec = Pv / PXC_VW;  // Pv is a multiple of PXC_VW
  long v = 0;
  for (; nvec - v > 4 || nvec - v == 3; v += 3) fwd_block<KB, 3>(xs, cstride, w, wstride, Cg, toff, taps, v * PXC_VW, out, ostride);
  if (nvec - v == 4) {
    fwd_block<KB, 2>(xs, cstride, w, wstride, Cg, toff, taps, v * PXC_VW, out, ostride);
    v += 2;
  }
  if (nvec - v == 2) fwd_block<KB, 2>(xs, cstride, w, wstride, Cg, toff, taps, v * PXC_VW, out, ostride);
  else if (nvec - v == 1) fwd_block<KB, 1>(xs, cstride, w, wstride, Cg, toff, taps, v * PXC_VW, out, ostride);
}

PXC_TARGET static void fwd_channels(int kb, const float* xs, long cstride, const float* w, long wstride, int Cg,
                                    const long* toff, int taps, long Pv, float* out, long ostride) {
  switch (kb) {
#define PXC_CASE(n) case n: fwd_row<n>(xs, cstride, w, wstride, Cg, toff, taps, Pv, out, ostride); break;
    PXC_CASE(1) PXC_CASE(2) PXC_CASE(3) PXC_CASE(4)
#if PXC_KB > 4
    PXC_CASE(5) PXC_CASE(6) PXC_CASE(7) PXC_CASE(8)
#endif
#undef PXC_CASE
    default: break;
  }
}

// ------------------------------------------------------------------------------------------------
// Weight-gradient micro-kernel: gw[k][ct] += sum over images b < nimg and positions p < Pv of
// gy'[b][k][p] * X'[b][ct][p], for PXC_KB output channels and PXC_TB columns ct = (input channel,
// tap), where X'[b][ct] = X'[b][c] + toff[t] and gy' is gy on the wide grid with zeros at ow >= OW
// (so the dropped positions add exact zeros).
// Blocking: this is a product whose reduction runs along the positions, i.e. along the vectors, so
// each accumulator holds VW partial sums of one gw element, reduced horizontally once per group of
// images (pxconv.h picks a group that fits L2: for an 8x8 map one image is only 10 AVX2 steps, too
// few to pay for 12 horizontal sums). One step loads TB input vectors and, per output channel, one
// gy vector: TB + KB loads for KB*TB FMAs. AVX2: KB=4, TB=3 -> 12 accumulators + 3 inputs + 1 gy =
// 16 registers; AVX-512: KB=8, TB=3 -> 24 + 4 = 28. The sums are added to gw in a fixed order
// (groups of images ascending in a task, tasks summed by the caller in index order): deterministic.
template <int KB, int TB>
PXC_TARGET static inline void bww_block(const float* gyw, long gstride, long gimg, const float* const* xp, long ximg, int nimg,
                                        long Pv, float* gw, long wstride) {
  PXC_V acc[KB][TB];
#pragma GCC unroll 16
  for (int k = 0; k < KB; k++)
#pragma GCC unroll 8
    for (int j = 0; j < TB; j++) acc[k][j] = PXC_ZERO();
  for (int b = 0; b < nimg; b++) {
    const float* gb = gyw + b * gimg;
    const long xo = b * ximg;
    for (long p = 0; p < Pv; p += PXC_VW) {
      PXC_V xv[TB];
#pragma GCC unroll 8
      for (int j = 0; j < TB; j++) xv[j] = PXC_LOAD(xp[j] + xo + p);
#pragma GCC unroll 16
      for (int k = 0; k < KB; k++) {
        PXC_V g = PXC_LOAD(gb + k * gstride + p);
#pragma GCC unroll 8
        for (int j = 0; j < TB; j++) acc[k][j] = PXC_FMA(g, xv[j], acc[k][j]);
      }
    }
  }
#pragma GCC unroll 16
  for (int k = 0; k < KB; k++)
#pragma GCC unroll 8
    for (int j = 0; j < TB; j++) gw[k * wstride + j] += PXC_HSUM(acc[k][j]);
}

template <int KB>
PXC_TARGET static inline void bww_row(const float* gyw, long gstride, long gimg, const float* xs, long cstride, long ximg,
                                      int nimg, int Cg, const long* toff, int taps, long Pv, float* gw, long wstride) {
  const int cts = Cg * taps;
  const float* xp[PXC_TB];
  int ct = 0;
  for (; ct + PXC_TB <= cts; ct += PXC_TB) {
    for (int j = 0; j < PXC_TB; j++) xp[j] = xs + ((ct + j) / taps) * cstride + toff[(ct + j) % taps];
    bww_block<KB, PXC_TB>(gyw, gstride, gimg, xp, ximg, nimg, Pv, gw + ct, wstride);
  }
  int rest = cts - ct;
  for (int j = 0; j < rest; j++) xp[j] = xs + ((ct + j) / taps) * cstride + toff[(ct + j) % taps];
  if (rest == 1) bww_block<KB, 1>(gyw, gstride, gimg, xp, ximg, nimg, Pv, gw + ct, wstride);
  else if (rest == 2) bww_block<KB, 2>(gyw, gstride, gimg, xp, ximg, nimg, Pv, gw + ct, wstride);
}

PXC_TARGET static void bww_channels(int kb, const float* gyw, long gstride, long gimg, const float* xs, long cstride, long ximg,
                                    int nimg, int Cg, const long* toff, int taps, long Pv, float* gw, long wstride) {
  switch (kb) {
#define PXC_CASE(n) case n: bww_row<n>(gyw, gstride, gimg, xs, cstride, ximg, nimg, Cg, toff, taps, Pv, gw, wstride); break;
    PXC_CASE(1) PXC_CASE(2) PXC_CASE(3) PXC_CASE(4)
#if PXC_KB > 4
    PXC_CASE(5) PXC_CASE(6) PXC_CASE(7) PXC_CASE(8)
#endif
#undef PXC_CASE
    default: break;
  }
}
