// pxprune sparse convolution: the SIMD micro-kernels, written once and compiled twice.
// Included by pxconv.h next to pxconv_impl.h, inside namespaces pxconv::avx2 and pxconv::avx512,
// with the same macros (PXC_V, PXC_VW, PXC_LOAD, PXC_STORE, PXC_FMA, PXC_ZERO, PXC_HSUM, PXC_TARGET).
// pxsparse.h holds the layout, the drivers and the entry points; this file only the inner loops.
//
// A pruned layer keeps few weights, scattered over (output channel, input channel, tap) with no
// structure a register block could exploit across output channels (each channel keeps a different
// set). So the blocking of the dense kernels (KB output channels x NV position vectors, one
// broadcast weight reused KB times) does not apply. What stays is the spatial structure: in the
// stride-phase layout of pxconv_impl.h every kept weight multiplies one contiguous run of input
// floats (X'[c][toff[t] + p] for consecutive wide positions p), so a kept weight is one AXPY of a
// vector of positions, and a list of kept weights is a sum of shifted rows. Both kernels below
// vectorise along the positions of one image and keep the outputs of a block of positions in
// registers while they walk the list of kept weights (output-stationary): one broadcast and NV
// loads per NV FMAs, i.e. one load per FMA, which two load ports sustain at the FMA rate. The list
// is short (density x C x taps entries per channel) and read from L1.

// ------------------------------------------------------------------------------------------------
// Gather micro-kernel: out[p0 + v*VW + i] = sum over e < ne of val[e] * base[off[e] + p0 + v*VW + i]
// for NV vectors of positions (i < VW). The forward uses it with base = the input in phase layout
// and off[e] = c*cstride + toff[t] for the kept (c, t) of one output channel; the input gradient
// with base = gy on a zero-margined wide grid and off[e] = k*stride - inplane_off(t) for the kept
// (k, t) of one input channel and stride phase. The sum runs over e in list order, one FMA chain
// per output: the result does not depend on how the caller splits positions, images or channels.
template <int NV>
PXC_TARGET static inline void sp_gather_block(const float* base, const long* off, const float* val, int ne, long p0, float* out) {
  PXC_V acc[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) acc[v] = PXC_ZERO();
  for (int e = 0; e < ne; e++) {
    const PXC_V b = PXC_BCAST(val + e);
    const float* xp = base + off[e] + p0;
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[v] = PXC_FMA(b, PXC_LOAD(xp + v * PXC_VW), acc[v]);
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) PXC_STORE(out + p0 + v * PXC_VW, acc[v]);
}

// All nv vectors of one output row: blocks of 8 vectors (8 independent FMA chains cover the FMA
// latency of 4 cycles on 2 ports), then the rest as 4, 2, 1 (the rest of a 32x32 map is at most 7
// vectors; an 8x8 map's wide run of 80 floats is 5 AVX-512 vectors: 4 + 1).
PXC_TARGET static void sp_gather(const float* base, const long* off, const float* val, int ne, long nv, float* out) {
  long v = 0;
  for (; v + 8 <= nv; v += 8) sp_gather_block<8>(base, off, val, ne, v * PXC_VW, out);
  if (v + 4 <= nv) { sp_gather_block<4>(base, off, val, ne, v * PXC_VW, out); v += 4; }
  if (v + 2 <= nv) { sp_gather_block<2>(base, off, val, ne, v * PXC_VW, out); v += 2; }
  if (v < nv) sp_gather_block<1>(base, off, val, ne, v * PXC_VW, out);
}

// ------------------------------------------------------------------------------------------------
// Weight-gradient micro-kernel at kept positions: gv[j] += sum over images b < nimg and positions
// p < Pv of gy[b][p] * X'[b][off[j] + p] for EB kept weights j of one output channel. The
// reduction runs along the positions, so each accumulator holds VW partial sums of one kept
// weight's gradient, reduced horizontally once per group of images. One step loads the gy vector
// once and EB input vectors: 1 + EB loads for EB FMAs. EB = 8 gives 8 independent chains and 9
// registers (fits AVX2's 16). The order (images ascending, positions ascending, the fixed
// horizontal sum) is fixed: deterministic.
template <int EB>
PXC_TARGET static inline void sp_bww_block(const float* gy, long gimg, const float* xs, long ximg, const long* off, int nimg,
                                           long Pv, float* gv) {
  PXC_V acc[EB];
#pragma GCC unroll 8
  for (int j = 0; j < EB; j++) acc[j] = PXC_ZERO();
  for (int b = 0; b < nimg; b++) {
    const float* g = gy + b * gimg;
    const float* x = xs + b * ximg;
    for (long p = 0; p < Pv; p += PXC_VW) {
      const PXC_V gv_ = PXC_LOAD(g + p);
#pragma GCC unroll 8
      for (int j = 0; j < EB; j++) acc[j] = PXC_FMA(gv_, PXC_LOAD(x + off[j] + p), acc[j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < EB; j++) gv[j] += PXC_HSUM(acc[j]);
}

PXC_TARGET static void sp_bww(const float* gy, long gimg, const float* xs, long ximg, const long* off, int ne, int nimg, long Pv,
                              float* gv) {
  int j = 0;
  for (; j + 8 <= ne; j += 8) sp_bww_block<8>(gy, gimg, xs, ximg, off + j, nimg, Pv, gv + j);
  if (j + 4 <= ne) { sp_bww_block<4>(gy, gimg, xs, ximg, off + j, nimg, Pv, gv + j); j += 4; }
  if (j + 2 <= ne) { sp_bww_block<2>(gy, gimg, xs, ximg, off + j, nimg, Pv, gv + j); j += 2; }
  if (j < ne) sp_bww_block<1>(gy, gimg, xs, ximg, off + j, nimg, Pv, gv + j);
}
