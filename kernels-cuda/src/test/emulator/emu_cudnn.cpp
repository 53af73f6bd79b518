// A CPU stand-in for cuDNN 9, enough for pxprune's CUDA backend (pxprune.kernels.cuda.Cudnn): handles,
// tensor / filter / convolution descriptors, the algorithm queries (workspace sizes, Find*Ex, Get*_v7),
// convolution forward / backward data / backward filter, cudnnAddTensor, and training-mode batch
// normalization forward and backward. Everything is a straightforward reference loop over the emulated
// device memory (emu_device.h, owned by libcuda.so.1, which this library links against), NCHW, honouring
// alpha and beta (beta == 0: the output is not read, as cuDNN documents), groups, dilation, padding,
// strides and both convolution modes.
//
// Like the other stand-ins it is adversarial (emu_device.h): a call checks its arguments at once and
// queues the work on the stream the handle was given by cudnnSetStream (the legacy default stream
// before), where it runs, with device memory accessible, only when something waits for that stream; so a
// handle left on the wrong stream, or a missing synchronisation, gives wrong results. Every data pointer
// (tensors, filters, workspace, batch-norm parameters and statistics) must lie inside one live device
// allocation for its whole extent, else CUDNN_STATUS_EXECUTION_FAILED (a host pointer or an overrun would
// fault on a GPU). alpha and beta are read at the call (host scalars). Find*Ex is blocking, as cuDNN's is.
//
// It rejects, like cuDNN, what is cheap to check, so argument bugs show: unset, destroyed or mismatched
// descriptors, output shapes that disagree with the convolution, unsupported data / compute types, null
// pointers, and a workspace smaller than the algorithm needs (CUDNN_STATUS_BAD_PARAM). Two algorithms
// per direction exist here: algorithm 0 needs no workspace; the other (GEMM forward, ALGO_1 backward)
// builds one image's im2col matrix in the workspace, so a too-small or wrong workspace crashes on the
// guard page behind it (the pointer check catches a workspace running past its allocation). Find*Ex overwrites the output with NaN after "timing", as a real search leaves
// it undefined, so a caller that skips the real call after the search is caught. Float data accumulates
// in float (cuDNN without tensor cores), batch-norm statistics in double.
//
// Built by build.sh as libcudnn_graph.so.9 with a version script giving each symbol the version node
// libjnicudnn.so asks for (libcudnn_graph/ops/cnn.so.9); libcudnn_ops/cnn/adv.so.9 are empty libraries
// that define their own node and need libcudnn_graph.so.9, as the real ones do.
#include <algorithm>
#include <cstdarg>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "emu_device.h"
#include "emu_perturb.h"

extern "C" {
typedef int cudnnStatus_t;
struct cudnnConvolutionFwdAlgoPerf_t { int algo; cudnnStatus_t status; float time; size_t memory; int determinism; int mathType; int reserved[3]; };
struct cudnnConvolutionBwdDataAlgoPerf_t { int algo; cudnnStatus_t status; float time; size_t memory; int determinism; int mathType; int reserved[3]; };
struct cudnnConvolutionBwdFilterAlgoPerf_t { int algo; cudnnStatus_t status; float time; size_t memory; int determinism; int mathType; int reserved[3]; };
}

namespace {
// the reason of the last rejection on this thread, for cudnnGetLastErrorString
thread_local char lastError[512];

int fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int fail(int status, const char* fmt, ...) {
  va_list a;
  va_start(a, fmt);
  vsnprintf(lastError, sizeof lastError, fmt, a);
  va_end(a);
  return status;
}
#define REJECT(cond, status) \
  do { if (cond) return fail(status, "pxprune cuDNN stand-in, %s: rejected because %s", __func__, #cond); } while (0)

enum : int {
  SUCCESS = 0, NOT_INITIALIZED = 1001, BAD_PARAM = 2000, BAD_PARAM_NULL_POINTER = 2002, NOT_SUPPORTED = 3000,
  INTERNAL_ERROR = 4000, ALLOC_FAILED = 4003, EXECUTION_FAILED = 5000
};
enum : int { DATA_FLOAT = 0, DATA_DOUBLE = 1 };
enum : int { NCHW = 0 };
enum : int { CONVOLUTION = 0, CROSS_CORRELATION = 1 };
enum : int { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, TENSOR_OP_ALLOW_CONVERSION = 2, FMA_MATH = 3 };
enum : int { BN_PER_ACTIVATION = 0, BN_SPATIAL = 1, BN_SPATIAL_PERSISTENT = 2 };
enum : int { FWD_ALGO_COUNT = 8, BWD_DATA_ALGO_COUNT = 6, BWD_FILTER_ALGO_COUNT = 7 };
enum : int { FWD_IMPLICIT_GEMM = 0, FWD_GEMM = 2, BWD_ALGO_0 = 0, BWD_ALGO_1 = 1 };
const double BN_MIN_EPSILON = 0.0;

// live objects carry a tag; destroyed ones keep their memory with DEAD, so a use after destroy is caught
enum : uint32_t { HANDLE = 0x4a4e444c, TENSOR = 0x54454e53, FILTER = 0x46494c54, CONV = 0x434f4e56, DEAD = 0xdeadbeef };
struct Handle { uint32_t tag; void* stream; };
struct Tensor { uint32_t tag; bool set; int dtype, n, c, h, w; };
struct Filter { uint32_t tag; bool set; int dtype, k, c, h, w; };
struct Conv { uint32_t tag; bool set; int ph, pw, sh, sw, dh, dw, mode, compute, groups, math; };

bool live(const Handle* h) { return h && h->tag == HANDLE; }
bool live(const Tensor* t) { return t && t->tag == TENSOR && t->set; }
bool live(const Filter* f) { return f && f->tag == FILTER && f->set; }
bool live(const Conv* c) { return c && c->tag == CONV && c->set; }

bool dtypeOk(int t) { return t == DATA_FLOAT || t == DATA_DOUBLE; }
size_t dsize(int t) { return t == DATA_DOUBLE ? 8 : 4; }
bool dimsOk(long a, long b, long c, long d) { return a > 0 && b > 0 && c > 0 && d > 0 && a * b * c * d <= INT32_MAX; }

// ---------------------------------------------------------------- convolution geometry
struct Geo {
  int n, c, h, w, k, cg, kh, kw, oh, ow, ph, pw, sh, sw, dh, dw, groups, mode, dtype;
  int kg() const { return k / groups; }
  long colRows() const { return (long)cg * kh * kw; }        // per group
  long colBytes() const { return (long)c * kh * kw * oh * ow * (long)dsize(dtype); }  // one image, every group
};

// checks the descriptors of a convolution x * w -> y the way cuDNN does; fills g
cudnnStatus_t geometry(const Handle* hd, const Tensor* x, const Filter* w, const Conv* cv, const Tensor* y, Geo& g) {
  REJECT(!live(hd), BAD_PARAM);
  REJECT(!live(x) || !live(w) || !live(cv) || !live(y), BAD_PARAM);
  REJECT(x->dtype != w->dtype || x->dtype != y->dtype, BAD_PARAM);
  int want = x->dtype == DATA_DOUBLE ? DATA_DOUBLE : DATA_FLOAT;
  REJECT(cv->compute != want, NOT_SUPPORTED);
  REJECT(x->c != w->c * cv->groups || w->k % cv->groups != 0, BAD_PARAM);
  long eh = (long)(w->h - 1) * cv->dh + 1, ew = (long)(w->w - 1) * cv->dw + 1;
  long oh = ((long)x->h + 2L * cv->ph - eh) / cv->sh + 1, ow = ((long)x->w + 2L * cv->pw - ew) / cv->sw + 1;
  REJECT((long)x->h + 2L * cv->ph < eh || (long)x->w + 2L * cv->pw < ew || oh <= 0 || ow <= 0, BAD_PARAM);
  if (y->n != x->n || y->c != w->k || y->h != oh || y->w != ow)
    return fail(BAD_PARAM, "the output descriptor is %dx%dx%dx%d, the convolution of %dx%dx%dx%d by %dx%dx%dx%d gives %dx%dx%ldx%ld",
                y->n, y->c, y->h, y->w, x->n, x->c, x->h, x->w, w->k, w->c, w->h, w->w, x->n, w->k, oh, ow);
  g = Geo{x->n, x->c, x->h, x->w, w->k, w->c, w->h, w->w, (int)oh, (int)ow, cv->ph, cv->pw, cv->sh, cv->sw, cv->dh, cv->dw,
          cv->groups, cv->mode, x->dtype};
  return SUCCESS;
}

// the filter tap read for output position (i, j) of the window: flipped for CUDNN_CONVOLUTION
inline long tap(const Geo& g, int i, int j) {
  return g.mode == CONVOLUTION ? (long)(g.kh - 1 - i) * g.kw + (g.kw - 1 - j) : (long)i * g.kw + j;
}

template <typename T>
inline T scale(const void* p) { return *static_cast<const T*>(p); }

template <typename T>
inline void blend(T* out, long i, T alpha, T beta, T v) { out[i] = beta == 0 ? alpha * v : alpha * v + beta * out[i]; }

// one image's im2col matrix: col[(c*kh + i)*kw + j][oy*ow + ox] (channels of every group, in order)
template <typename T>
void im2col(const Geo& g, const T* x, T* col) {
  const long ohw = (long)g.oh * g.ow;
  for (int c = 0; c < g.c; c++)
    for (int i = 0; i < g.kh; i++)
      for (int j = 0; j < g.kw; j++) {
        T* row = col + ((long)(c * g.kh + i) * g.kw + j) * ohw;
        for (int oy = 0; oy < g.oh; oy++)
          for (int ox = 0; ox < g.ow; ox++) {
            int iy = oy * g.sh - g.ph + i * g.dh, ix = ox * g.sw - g.pw + j * g.dw;
            row[(long)oy * g.ow + ox] = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? x[((long)c * g.h + iy) * g.w + ix] : (T)0;
          }
      }
}

// the col row of (channel in group cc, tap t): taps are in the filter's memory order
inline long colRow(const Geo& g, int grp, int cc, int i, int j) { return ((long)(grp * g.cg + cc) * g.kh + i) * g.kw + j; }

template <typename T>
cudnnStatus_t forward(const Geo& g, int algo, T alpha, const T* x, const T* w, void* ws, size_t wsSize, T beta, T* y) {
  const long ohw = (long)g.oh * g.ow, img = (long)g.c * g.h * g.w;
  if (algo == FWD_GEMM) {
    if ((long)wsSize < g.colBytes() || ws == nullptr)
      return fail(BAD_PARAM, "algorithm %d needs a workspace of %ld bytes, got %zu at %p", algo, g.colBytes(), wsSize, ws);
    T* col = static_cast<T*>(ws);
    for (int n = 0; n < g.n; n++) {
      im2col(g, x + n * img, col);
      for (int k = 0; k < g.k; k++) {
        int grp = k / g.kg();
        const T* wk = w + (long)k * g.colRows();
        for (long p = 0; p < ohw; p++) {
          T s = 0;
          for (int cc = 0; cc < g.cg; cc++)
            for (int i = 0; i < g.kh; i++)
              for (int j = 0; j < g.kw; j++) s += wk[cc * (long)g.kh * g.kw + tap(g, i, j)] * col[colRow(g, grp, cc, i, j) * ohw + p];
          blend(y, ((long)n * g.k + k) * ohw + p, alpha, beta, s);
        }
      }
    }
    return SUCCESS;
  }
  REJECT(algo != FWD_IMPLICIT_GEMM, NOT_SUPPORTED);
  for (int n = 0; n < g.n; n++)
    for (int k = 0; k < g.k; k++) {
      int grp = k / g.kg();
      const T* wk = w + (long)k * g.colRows();
      for (int oy = 0; oy < g.oh; oy++)
        for (int ox = 0; ox < g.ow; ox++) {
          T s = 0;
          for (int cc = 0; cc < g.cg; cc++) {
            const T* xc = x + n * img + (long)(grp * g.cg + cc) * g.h * g.w;
            for (int i = 0; i < g.kh; i++) {
              int iy = oy * g.sh - g.ph + i * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (int j = 0; j < g.kw; j++) {
                int ix = ox * g.sw - g.pw + j * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                s += wk[cc * (long)g.kh * g.kw + tap(g, i, j)] * xc[(long)iy * g.w + ix];
              }
            }
          }
          blend(y, ((long)n * g.k + k) * ohw + (long)oy * g.ow + ox, alpha, beta, s);
        }
    }
  return SUCCESS;
}

template <typename T>
cudnnStatus_t backwardData(const Geo& g, int algo, T alpha, const T* w, const T* dy, void* ws, size_t wsSize, T beta, T* dx) {
  const long ohw = (long)g.oh * g.ow, img = (long)g.c * g.h * g.w;
  REJECT(algo != BWD_ALGO_0 && algo != BWD_ALGO_1, NOT_SUPPORTED);
  if (algo == BWD_ALGO_1 && ((long)wsSize < g.colBytes() || ws == nullptr))
    return fail(BAD_PARAM, "algorithm %d needs a workspace of %ld bytes, got %zu at %p", algo, g.colBytes(), wsSize, ws);
  std::vector<T> acc((size_t)img);
  for (int n = 0; n < g.n; n++) {
    std::fill(acc.begin(), acc.end(), (T)0);
    const T* dyn = dy + (long)n * g.k * ohw;
    if (algo == BWD_ALGO_1) {  // col = W^T dy in the workspace, then col2im
      T* col = static_cast<T*>(ws);
      for (int grp = 0; grp < g.groups; grp++)
        for (int cc = 0; cc < g.cg; cc++)
          for (int i = 0; i < g.kh; i++)
            for (int j = 0; j < g.kw; j++)
              for (long p = 0; p < ohw; p++) {
                T s = 0;
                for (int kk = 0; kk < g.kg(); kk++) {
                  int k = grp * g.kg() + kk;
                  s += w[(long)k * g.colRows() + cc * (long)g.kh * g.kw + tap(g, i, j)] * dyn[(long)k * ohw + p];
                }
                col[colRow(g, grp, cc, i, j) * ohw + p] = s;
              }
      for (int c = 0; c < g.c; c++)
        for (int i = 0; i < g.kh; i++)
          for (int j = 0; j < g.kw; j++)
            for (int oy = 0; oy < g.oh; oy++)
              for (int ox = 0; ox < g.ow; ox++) {
                int iy = oy * g.sh - g.ph + i * g.dh, ix = ox * g.sw - g.pw + j * g.dw;
                if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                  acc[((size_t)c * g.h + iy) * g.w + ix] += col[(((long)c * g.kh + i) * g.kw + j) * ohw + (long)oy * g.ow + ox];
              }
    } else {  // scatter each output gradient through the window
      for (int k = 0; k < g.k; k++) {
        int grp = k / g.kg();
        for (int oy = 0; oy < g.oh; oy++)
          for (int ox = 0; ox < g.ow; ox++) {
            T v = dyn[(long)k * ohw + (long)oy * g.ow + ox];
            for (int cc = 0; cc < g.cg; cc++)
              for (int i = 0; i < g.kh; i++) {
                int iy = oy * g.sh - g.ph + i * g.dh;
                if (iy < 0 || iy >= g.h) continue;
                for (int j = 0; j < g.kw; j++) {
                  int ix = ox * g.sw - g.pw + j * g.dw;
                  if (ix < 0 || ix >= g.w) continue;
                  acc[((size_t)(grp * g.cg + cc) * g.h + iy) * g.w + ix] +=
                      w[(long)k * g.colRows() + cc * (long)g.kh * g.kw + tap(g, i, j)] * v;
                }
              }
          }
      }
    }
    for (long e = 0; e < img; e++) blend(dx, n * img + e, alpha, beta, acc[(size_t)e]);
  }
  return SUCCESS;
}

template <typename T>
cudnnStatus_t backwardFilter(const Geo& g, int algo, T alpha, const T* x, const T* dy, void* ws, size_t wsSize, T beta, T* dw) {
  const long ohw = (long)g.oh * g.ow, img = (long)g.c * g.h * g.w, nw = (long)g.k * g.colRows();
  REJECT(algo != BWD_ALGO_0 && algo != BWD_ALGO_1, NOT_SUPPORTED);
  if (algo == BWD_ALGO_1 && ((long)wsSize < g.colBytes() || ws == nullptr))
    return fail(BAD_PARAM, "algorithm %d needs a workspace of %ld bytes, got %zu at %p", algo, g.colBytes(), wsSize, ws);
  std::vector<T> acc((size_t)nw, (T)0);
  for (int n = 0; n < g.n; n++) {
    const T* xn = x + n * img;
    const T* dyn = dy + (long)n * g.k * ohw;
    T* col = algo == BWD_ALGO_1 ? static_cast<T*>(ws) : nullptr;
    if (col) im2col(g, xn, col);
    for (int k = 0; k < g.k; k++) {
      int grp = k / g.kg();
      for (int cc = 0; cc < g.cg; cc++)
        for (int i = 0; i < g.kh; i++)
          for (int j = 0; j < g.kw; j++) {
            T s = 0;
            if (col) {
              const T* row = col + colRow(g, grp, cc, i, j) * ohw;
              for (long p = 0; p < ohw; p++) s += dyn[(long)k * ohw + p] * row[p];
            } else {
              const T* xc = xn + (long)(grp * g.cg + cc) * g.h * g.w;
              for (int oy = 0; oy < g.oh; oy++) {
                int iy = oy * g.sh - g.ph + i * g.dh;
                if (iy < 0 || iy >= g.h) continue;
                for (int ox = 0; ox < g.ow; ox++) {
                  int ix = ox * g.sw - g.pw + j * g.dw;
                  if (ix < 0 || ix >= g.w) continue;
                  s += dyn[(long)k * ohw + (long)oy * g.ow + ox] * xc[(long)iy * g.w + ix];
                }
              }
            }
            acc[(size_t)((long)k * g.colRows() + cc * (long)g.kh * g.kw + tap(g, i, j))] += s;
          }
    }
  }
  for (long e = 0; e < nw; e++) blend(dw, e, alpha, beta, acc[(size_t)e]);
  return SUCCESS;
}

// workspace bytes of an algorithm; NOT_SUPPORTED for the ones this stand-in lacks
cudnnStatus_t fwdWorkspace(const Geo& g, int algo, size_t* size) {
  REJECT(algo < 0 || algo >= FWD_ALGO_COUNT, BAD_PARAM);
  if (algo == FWD_IMPLICIT_GEMM) { *size = 0; return SUCCESS; }
  if (algo == FWD_GEMM) { *size = (size_t)g.colBytes(); return SUCCESS; }
  return NOT_SUPPORTED;
}

cudnnStatus_t bwdWorkspace(const Geo& g, int algo, int count, size_t* size) {
  REJECT(algo < 0 || algo >= count, BAD_PARAM);
  if (algo == BWD_ALGO_0) { *size = 0; return SUCCESS; }
  if (algo == BWD_ALGO_1) { *size = (size_t)g.colBytes(); return SUCCESS; }
  return NOT_SUPPORTED;
}

// perf results. Find (limit >= 0: the workspace offered) "times" the workspace algorithm faster where it
// fits and the window is larger than 1x1, else algorithm 0, so that tests of both kinds of shape run
// both; one that does not fit the limit fails with ALLOC_FAILED. The heuristic (limit < 0) puts
// algorithm 0 first. Then the algorithms this stand-in lacks, NOT_SUPPORTED.
template <typename Perf>
cudnnStatus_t results(const Geo& g, int count, int wsAlgo, long limit, int math, int requested, int* returned, Perf* perf) {
  REJECT(requested < 1 || returned == nullptr || perf == nullptr, BAD_PARAM);
  std::vector<Perf> all;
  const long need = g.colBytes();
  const bool fits = limit < 0 || need <= limit, wsFaster = limit >= 0 && fits && g.kh * g.kw > 1;
  auto add = [&](int algo, cudnnStatus_t st, float time, size_t mem) {
    Perf p{};
    p.algo = algo; p.status = st; p.time = time; p.memory = mem; p.determinism = 1; p.mathType = math;
    all.push_back(p);
  };
  if (wsFaster) add(wsAlgo, SUCCESS, 0.5f, (size_t)need);
  add(0, SUCCESS, 1.0f, 0);
  if (!wsFaster) add(wsAlgo, fits ? SUCCESS : ALLOC_FAILED, fits ? 2.0f : -1.0f, (size_t)need);
  for (int a = 1; a < count; a++)
    if (a != wsAlgo) add(a, NOT_SUPPORTED, -1.0f, 0);
  int n = (int)std::min<size_t>(all.size(), (size_t)requested);
  for (int i = 0; i < n; i++) perf[i] = all[(size_t)i];
  *returned = n;
  return SUCCESS;
}

template <typename T>
void fillNaN(void* p, long count) {
  T* t = static_cast<T*>(p);
  for (long i = 0; i < count; i++) t[i] = (T)NAN;
}

cudnnStatus_t searchArgs(const void* a, const void* b, const void* out, const void* ws, size_t wsSize) {
  REJECT(a == nullptr || b == nullptr || out == nullptr, BAD_PARAM);
  REJECT(wsSize > 0 && ws == nullptr, BAD_PARAM);
  return SUCCESS;
}

// ---------------------------------------------------------------- device memory, queues
// [p, p + bytes) must lie inside one live device allocation (a null p with 0 bytes is allowed)
cudnnStatus_t device(const char* call, const char* what, const void* p, long bytes) {
  if (p == nullptr && bytes == 0) return SUCCESS;
  int c = pxemu::classify(p, (size_t)std::max<long>(bytes, 1));
  if (c == 1) return SUCCESS;
  pxemu::report("cudnn %s: %s at %p (%ld bytes) is %s", call, what, p, bytes,
                c == 0 ? "host memory, not device memory" : "not inside one live device allocation");
  return fail(EXECUTION_FAILED, "pxprune cuDNN stand-in, %s: %s at %p (%ld bytes) is %s", call, what, p, bytes,
              c == 0 ? "host memory, not device memory (a GPU would fault)" : "not inside one live device allocation (freed, or too small)");
}
#define DEVICE(p, bytes) \
  do { cudnnStatus_t st_ = device(__func__, #p, p, bytes); if (st_ != SUCCESS) return st_; } while (0)

long tensorBytes(const Tensor* t) { return (long)t->n * t->c * t->h * t->w * (long)dsize(t->dtype); }
long filterBytes(const Filter* f) { return (long)f->k * f->c * f->h * f->w * (long)dsize(f->dtype); }
long inBytes(const Geo& g) { return (long)g.n * g.c * g.h * g.w * (long)dsize(g.dtype); }
long outBytes(const Geo& g) { return (long)g.n * g.k * g.oh * g.ow * (long)dsize(g.dtype); }
long wBytes(const Geo& g) { return (long)g.k * g.colRows() * (long)dsize(g.dtype); }
// the perturbation's salt for a direction of a convolution shape (PXEMU_PERTURB, emu_perturb.h)
uint64_t salt(const Geo& g, int direction) {
  return ((((((uint64_t)g.n * 4099 + g.c) * 4099 + g.h) * 4099 + g.w) * 4099 + g.k) * 4099 + g.oh) * 8 + direction;
}

// the workspace an algorithm of a direction needs, checked before the work is queued
cudnnStatus_t workspaceOk(const Geo& g, int algo, int wsAlgo, const void* ws, size_t wsSize) {
  if (algo == wsAlgo && ((long)wsSize < g.colBytes() || ws == nullptr))
    return fail(BAD_PARAM, "algorithm %d needs a workspace of %ld bytes, got %zu at %p", algo, g.colBytes(), wsSize, ws);
  if (wsSize > 0 && ws != nullptr) return device("workspace", "ws", ws, (long)wsSize);
  return SUCCESS;
}

// ---------------------------------------------------------------- batch norm
cudnnStatus_t bnShapes(int mode, const Tensor* x, const Tensor* y, const Tensor* bn) {
  REJECT(mode == BN_PER_ACTIVATION, NOT_SUPPORTED);  // not in this stand-in
  REJECT(mode != BN_SPATIAL && mode != BN_SPATIAL_PERSISTENT, BAD_PARAM);
  REJECT(!live(x) || !live(y) || !live(bn), BAD_PARAM);
  REJECT(x->dtype != y->dtype || x->n != y->n || x->c != y->c || x->h != y->h || x->w != y->w, BAD_PARAM);
  REJECT(bn->dtype != x->dtype || bn->n != 1 || bn->c != x->c || bn->h != 1 || bn->w != 1, BAD_PARAM);
  return SUCCESS;
}

// x viewed as [N, C, S]: statistics per channel over N and S (S = H * W), in double
template <typename T>
void bnForward(const Tensor* d, T alpha, T beta, const T* x, T* y, const T* scale, const T* bias, double factor, T* rm,
               T* rv, double eps, T* saveMean, T* saveInv) {
  const int N = d->n, C = d->c;
  const long S = (long)d->h * d->w, M = (long)N * S;
  const bool inFloat = sizeof(T) == 4 && pxemu::perturbing();  // the statistics as a GPU reduces them (emu_perturb.h)
  std::vector<float> tmp(inFloat ? (size_t)M : 0);
  for (int c = 0; c < C; c++) {
    double s = 0, v = 0;
    if (inFloat) {
      for (int n = 0; n < N; n++) for (long i = 0; i < S; i++) tmp[(size_t)(n * S + i)] = (float)x[((long)n * C + c) * S + i];
      s = pxemu::pairwise(tmp);
      const float mf = (float)(s / M);
      for (auto& e : tmp) e = (e - mf) * (e - mf);
      v = pxemu::pairwise(tmp);
    } else {
      for (int n = 0; n < N; n++)
        for (long i = 0; i < S; i++) s += x[((long)n * C + c) * S + i];
      const double m0 = s / M;
      for (int n = 0; n < N; n++)
        for (long i = 0; i < S; i++) { double e = x[((long)n * C + c) * S + i] - m0; v += e * e; }
    }
    const double m = inFloat ? (double)(float)(s / M) : s / M;
    const double var = inFloat ? (double)(float)(v / M) : v / M, is = inFloat ? (double)(1.0f / std::sqrt((float)var + (float)eps)) : 1.0 / std::sqrt(var + eps);
    for (int n = 0; n < N; n++)
      for (long i = 0; i < S; i++) {
        long e = ((long)n * C + c) * S + i;
        blend(y, e, alpha, beta, (T)((x[e] - m) * is * scale[c] + bias[c]));
      }
    if (rm) {
      rm[c] = (T)((1 - factor) * rm[c] + factor * m);
      rv[c] = (T)((1 - factor) * rv[c] + factor * (M > 1 ? v / (M - 1) : var));
    }
    if (saveMean) { saveMean[c] = (T)m; saveInv[c] = (T)is; }
  }
}

template <typename T>
void bnBackward(const Tensor* d, T alphaD, T betaD, T alphaP, T betaP, const T* x, const T* dy, T* dx, const T* scale,
                T* dScale, T* dBias, double eps, const T* savedMean, const T* savedInv) {
  const int N = d->n, C = d->c;
  const long S = (long)d->h * d->w, M = (long)N * S;
  for (int c = 0; c < C; c++) {
    double m, is;
    if (savedMean) { m = savedMean[c]; is = savedInv[c]; }
    else {
      double s = 0, v = 0;
      for (int n = 0; n < N; n++) for (long i = 0; i < S; i++) s += x[((long)n * C + c) * S + i];
      m = s / M;
      for (int n = 0; n < N; n++) for (long i = 0; i < S; i++) { double e = x[((long)n * C + c) * S + i] - m; v += e * e; }
      is = 1.0 / std::sqrt(v / M + eps);
    }
    double sg = 0, sgx = 0;
    if (sizeof(T) == 4 && pxemu::perturbing()) {  // the gradient sums in float, pairwise (emu_perturb.h)
      std::vector<float> g((size_t)M), gx((size_t)M);
      for (int n = 0; n < N; n++)
        for (long i = 0; i < S; i++) {
          long e = ((long)n * C + c) * S + i;
          g[(size_t)(n * S + i)] = (float)dy[e];
          gx[(size_t)(n * S + i)] = (float)dy[e] * (float)((x[e] - m) * is);
        }
      sg = pxemu::pairwise(g);
      sgx = pxemu::pairwise(gx);
    } else {
      for (int n = 0; n < N; n++)
        for (long i = 0; i < S; i++) {
          long e = ((long)n * C + c) * S + i;
          sg += dy[e];
          sgx += (double)dy[e] * ((x[e] - m) * is);
        }
    }
    for (int n = 0; n < N; n++)
      for (long i = 0; i < S; i++) {
        long e = ((long)n * C + c) * S + i;
        double xhat = (x[e] - m) * is;
        blend(dx, e, alphaD, betaD, (T)(scale[c] * is * (dy[e] - sg / M - xhat * sgx / M)));
      }
    blend(dScale, c, alphaP, betaP, (T)sgx);
    blend(dBias, c, alphaP, betaP, (T)sg);
  }
}

template <typename T>
T* tp(void* p) { return static_cast<T*>(p); }
template <typename T>
const T* tp(const void* p) { return static_cast<const T*>(p); }
void addTensor(const int* as, const int* cs, int dtype, double alpha, const void* A, double beta, void* C);
}  // namespace

// ---------------------------------------------------------------- the API
extern "C" {
size_t cudnnGetVersion() { return 91900; }

const char* cudnnGetErrorString(cudnnStatus_t s) {
  switch (s) {
    case SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case ALLOC_FAILED: return "CUDNN_STATUS_ALLOC_FAILED";
    case EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_STATUS_UNKNOWN (emulator)";
  }
}

void cudnnGetLastErrorString(char* message, size_t max) {
  if (message == nullptr || max == 0) return;
  snprintf(message, max, "%s", lastError);
  lastError[0] = 0;
}

cudnnStatus_t cudnnCreate(Handle** h) {
  REJECT(h == nullptr, BAD_PARAM);
  *h = new Handle{HANDLE, nullptr};
  return SUCCESS;
}
cudnnStatus_t cudnnDestroy(Handle* h) {
  REJECT(!live(h), BAD_PARAM);
  pxemu::sync_stream(h->stream);  // the queued work still completes
  h->tag = DEAD;
  return SUCCESS;
}
cudnnStatus_t cudnnSetStream(Handle* h, void* stream) {
  REJECT(!live(h), BAD_PARAM);
  REJECT(pxemu::check_stream(stream) != 0, BAD_PARAM);
  h->stream = stream;
  return SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(Tensor** t) {
  REJECT(t == nullptr, BAD_PARAM);
  *t = new Tensor{TENSOR, false, 0, 0, 0, 0, 0};
  return SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(Tensor* t, int format, int dtype, int n, int c, int h, int w) {
  REJECT(t == nullptr || t->tag != TENSOR, BAD_PARAM);
  REJECT(format != NCHW || !dtypeOk(dtype), NOT_SUPPORTED);
  REJECT(!dimsOk(n, c, h, w), BAD_PARAM);
  *t = Tensor{TENSOR, true, dtype, n, c, h, w};
  return SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(Tensor* t) {
  if (t == nullptr) return SUCCESS;
  REJECT(t->tag != TENSOR, BAD_PARAM);
  t->tag = DEAD;
  return SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(Filter** f) {
  REJECT(f == nullptr, BAD_PARAM);
  *f = new Filter{FILTER, false, 0, 0, 0, 0, 0};
  return SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(Filter* f, int dtype, int format, int k, int c, int h, int w) {
  REJECT(f == nullptr || f->tag != FILTER, BAD_PARAM);
  REJECT(format != NCHW || !dtypeOk(dtype), NOT_SUPPORTED);
  REJECT(!dimsOk(k, c, h, w), BAD_PARAM);
  *f = Filter{FILTER, true, dtype, k, c, h, w};
  return SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(Filter* f) {
  if (f == nullptr) return SUCCESS;
  REJECT(f->tag != FILTER, BAD_PARAM);
  f->tag = DEAD;
  return SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(Conv** c) {
  REJECT(c == nullptr, BAD_PARAM);
  *c = new Conv{CONV, false, 0, 0, 1, 1, 1, 1, CROSS_CORRELATION, DATA_FLOAT, 1, DEFAULT_MATH};
  return SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(Conv* c, int ph, int pw, int sh, int sw, int dh, int dw, int mode, int compute) {
  REJECT(c == nullptr || c->tag != CONV, BAD_PARAM);
  REJECT(ph < 0 || pw < 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0, BAD_PARAM);
  REJECT(mode != CONVOLUTION && mode != CROSS_CORRELATION, BAD_PARAM);
  REJECT(!dtypeOk(compute), NOT_SUPPORTED);
  c->set = true;
  c->ph = ph; c->pw = pw; c->sh = sh; c->sw = sw; c->dh = dh; c->dw = dw; c->mode = mode; c->compute = compute;
  return SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(Conv* c, int groups) {
  REJECT(c == nullptr || c->tag != CONV || groups < 1, BAD_PARAM);
  c->groups = groups;
  return SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(Conv* c, int math) {
  REJECT(c == nullptr || c->tag != CONV || math < DEFAULT_MATH || math > FMA_MATH, BAD_PARAM);
  c->math = math;
  return SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(Conv* c) {
  if (c == nullptr) return SUCCESS;
  REJECT(c->tag != CONV, BAD_PARAM);
  c->tag = DEAD;
  return SUCCESS;
}

// ---- workspace sizes
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(Handle* h, Tensor* x, Filter* w, Conv* cv, Tensor* y, int algo, size_t* size) {
  Geo g;
  cudnnStatus_t r = geometry(h, x, w, cv, y, g);
  if (r != SUCCESS) return r;
  REJECT(size == nullptr, BAD_PARAM);
  return fwdWorkspace(g, algo, size);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(Handle* h, Filter* w, Tensor* dy, Conv* cv, Tensor* dx, int algo,
                                                           size_t* size) {
  Geo g;
  cudnnStatus_t r = geometry(h, dx, w, cv, dy, g);
  if (r != SUCCESS) return r;
  REJECT(size == nullptr, BAD_PARAM);
  return bwdWorkspace(g, algo, BWD_DATA_ALGO_COUNT, size);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(Handle* h, Tensor* x, Tensor* dy, Conv* cv, Filter* dw, int algo,
                                                             size_t* size) {
  Geo g;
  cudnnStatus_t r = geometry(h, x, dw, cv, dy, g);
  if (r != SUCCESS) return r;
  REJECT(size == nullptr, BAD_PARAM);
  return bwdWorkspace(g, algo, BWD_FILTER_ALGO_COUNT, size);
}

// after a search: the output undefined (NaN), on the handle's stream, which the search waits for (Find is blocking)
void searched(Handle* h, const Geo& g, void* out, long count) {
  const int dtype = g.dtype;
  pxemu::enqueue(h->stream, [=] { if (dtype == DATA_DOUBLE) fillNaN<double>(out, count); else fillNaN<float>(out, count); });
  pxemu::sync_stream(h->stream);
}

// ---- algorithm search: Find*Ex "times" on the real buffers (and leaves the output NaN), Get*_v7 is the heuristic
cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(Handle* h, Tensor* xd, const void* x, Filter* wd, const void* w, Conv* cv,
                                                     Tensor* yd, void* y, int requested, int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* perf, void* ws, size_t wsSize) {
  Geo g;
  cudnnStatus_t r = geometry(h, xd, wd, cv, yd, g);
  if (r == SUCCESS) r = searchArgs(x, w, y, ws, wsSize);
  if (r != SUCCESS) return r;
  DEVICE(x, inBytes(g)); DEVICE(w, wBytes(g)); DEVICE(y, outBytes(g)); DEVICE(ws, ws ? (long)wsSize : 0);
  r = results(g, FWD_ALGO_COUNT, FWD_GEMM, (long)wsSize, cv->math, requested, returned, perf);
  if (r != SUCCESS) return r;
  searched(h, g, y, (long)g.n * g.k * g.oh * g.ow);
  return SUCCESS;
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(Handle* h, Filter* wd, const void* w, Tensor* dyd, const void* dy,
                                                          Conv* cv, Tensor* dxd, void* dx, int requested, int* returned,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perf, void* ws, size_t wsSize) {
  Geo g;
  cudnnStatus_t r = geometry(h, dxd, wd, cv, dyd, g);
  if (r == SUCCESS) r = searchArgs(w, dy, dx, ws, wsSize);
  if (r != SUCCESS) return r;
  DEVICE(w, wBytes(g)); DEVICE(dy, outBytes(g)); DEVICE(dx, inBytes(g)); DEVICE(ws, ws ? (long)wsSize : 0);
  r = results(g, BWD_DATA_ALGO_COUNT, BWD_ALGO_1, (long)wsSize, cv->math, requested, returned, perf);
  if (r != SUCCESS) return r;
  searched(h, g, dx, (long)g.n * g.c * g.h * g.w);
  return SUCCESS;
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(Handle* h, Tensor* xd, const void* x, Tensor* dyd, const void* dy,
                                                            Conv* cv, Filter* dwd, void* dw, int requested, int* returned,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perf, void* ws, size_t wsSize) {
  Geo g;
  cudnnStatus_t r = geometry(h, xd, dwd, cv, dyd, g);
  if (r == SUCCESS) r = searchArgs(x, dy, dw, ws, wsSize);
  if (r != SUCCESS) return r;
  DEVICE(x, inBytes(g)); DEVICE(dy, outBytes(g)); DEVICE(dw, wBytes(g)); DEVICE(ws, ws ? (long)wsSize : 0);
  r = results(g, BWD_FILTER_ALGO_COUNT, BWD_ALGO_1, (long)wsSize, cv->math, requested, returned, perf);
  if (r != SUCCESS) return r;
  searched(h, g, dw, (long)g.k * g.colRows());
  return SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(Handle* h, Tensor* x, Filter* w, Conv* cv, Tensor* y, int requested,
                                                     int* returned, cudnnConvolutionFwdAlgoPerf_t* perf) {
  Geo g;
  cudnnStatus_t r = geometry(h, x, w, cv, y, g);
  return r != SUCCESS ? r : results(g, FWD_ALGO_COUNT, FWD_GEMM, -1, cv->math, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(Handle* h, Filter* w, Tensor* dy, Conv* cv, Tensor* dx, int requested,
                                                          int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
  Geo g;
  cudnnStatus_t r = geometry(h, dx, w, cv, dy, g);
  return r != SUCCESS ? r : results(g, BWD_DATA_ALGO_COUNT, BWD_ALGO_1, -1, cv->math, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(Handle* h, Tensor* x, Tensor* dy, Conv* cv, Filter* dw, int requested,
                                                            int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
  Geo g;
  cudnnStatus_t r = geometry(h, x, dw, cv, dy, g);
  return r != SUCCESS ? r : results(g, BWD_FILTER_ALGO_COUNT, BWD_ALGO_1, -1, cv->math, requested, returned, perf);
}

// ---- convolutions
cudnnStatus_t cudnnConvolutionForward(Handle* h, const void* alpha, Tensor* xd, const void* x, Filter* wd, const void* w, Conv* cv,
                                      int algo, void* ws, size_t wsSize, const void* beta, Tensor* yd, void* y) {
  Geo g;
  cudnnStatus_t r = geometry(h, xd, wd, cv, yd, g);
  if (r != SUCCESS) return r;
  REJECT(alpha == nullptr || beta == nullptr || x == nullptr || w == nullptr || y == nullptr, BAD_PARAM);
  REJECT(algo < 0 || algo >= FWD_ALGO_COUNT, BAD_PARAM);
  REJECT(algo != FWD_IMPLICIT_GEMM && algo != FWD_GEMM, NOT_SUPPORTED);
  if ((r = workspaceOk(g, algo, FWD_GEMM, ws, wsSize)) != SUCCESS) return r;
  DEVICE(x, inBytes(g)); DEVICE(w, wBytes(g)); DEVICE(y, outBytes(g));
  if (g.dtype == DATA_DOUBLE) {
    const double a = scale<double>(alpha), b = scale<double>(beta);
    pxemu::enqueue(h->stream, [=] { forward<double>(g, algo, a, tp<double>(x), tp<double>(w), ws, wsSize, b, tp<double>(y)); });
  } else {
    const float a = scale<float>(alpha), b = scale<float>(beta);
    pxemu::enqueue(h->stream, [=] { forward<float>(g, algo, a, tp<float>(x), tp<float>(w), ws, wsSize, b, tp<float>(y));
      pxemu::perturbAll(tp<float>(y), outBytes(g) / 4, salt(g, 0)); });
  }
  return SUCCESS;
}
cudnnStatus_t cudnnConvolutionBackwardData(Handle* h, const void* alpha, Filter* wd, const void* w, Tensor* dyd, const void* dy,
                                           Conv* cv, int algo, void* ws, size_t wsSize, const void* beta, Tensor* dxd, void* dx) {
  Geo g;
  cudnnStatus_t r = geometry(h, dxd, wd, cv, dyd, g);
  if (r != SUCCESS) return r;
  REJECT(alpha == nullptr || beta == nullptr || w == nullptr || dy == nullptr || dx == nullptr, BAD_PARAM);
  REJECT(algo < 0 || algo >= BWD_DATA_ALGO_COUNT, BAD_PARAM);
  REJECT(algo != BWD_ALGO_0 && algo != BWD_ALGO_1, NOT_SUPPORTED);
  if ((r = workspaceOk(g, algo, BWD_ALGO_1, ws, wsSize)) != SUCCESS) return r;
  DEVICE(w, wBytes(g)); DEVICE(dy, outBytes(g)); DEVICE(dx, inBytes(g));
  if (g.dtype == DATA_DOUBLE) {
    const double a = scale<double>(alpha), b = scale<double>(beta);
    pxemu::enqueue(h->stream, [=] { backwardData<double>(g, algo, a, tp<double>(w), tp<double>(dy), ws, wsSize, b, tp<double>(dx)); });
  } else {
    const float a = scale<float>(alpha), b = scale<float>(beta);
    pxemu::enqueue(h->stream, [=] { backwardData<float>(g, algo, a, tp<float>(w), tp<float>(dy), ws, wsSize, b, tp<float>(dx));
      pxemu::perturbAll(tp<float>(dx), inBytes(g) / 4, salt(g, 1)); });
  }
  return SUCCESS;
}
cudnnStatus_t cudnnConvolutionBackwardFilter(Handle* h, const void* alpha, Tensor* xd, const void* x, Tensor* dyd, const void* dy,
                                             Conv* cv, int algo, void* ws, size_t wsSize, const void* beta, Filter* dwd, void* dw) {
  Geo g;
  cudnnStatus_t r = geometry(h, xd, dwd, cv, dyd, g);
  if (r != SUCCESS) return r;
  REJECT(alpha == nullptr || beta == nullptr || x == nullptr || dy == nullptr || dw == nullptr, BAD_PARAM);
  REJECT(algo < 0 || algo >= BWD_FILTER_ALGO_COUNT, BAD_PARAM);
  REJECT(algo != BWD_ALGO_0 && algo != BWD_ALGO_1, NOT_SUPPORTED);
  if ((r = workspaceOk(g, algo, BWD_ALGO_1, ws, wsSize)) != SUCCESS) return r;
  DEVICE(x, inBytes(g)); DEVICE(dy, outBytes(g)); DEVICE(dw, wBytes(g));
  if (g.dtype == DATA_DOUBLE) {
    const double a = scale<double>(alpha), b = scale<double>(beta);
    pxemu::enqueue(h->stream, [=] { backwardFilter<double>(g, algo, a, tp<double>(x), tp<double>(dy), ws, wsSize, b, tp<double>(dw)); });
  } else {
    const float a = scale<float>(alpha), b = scale<float>(beta);
    pxemu::enqueue(h->stream, [=] { backwardFilter<float>(g, algo, a, tp<float>(x), tp<float>(dy), ws, wsSize, b, tp<float>(dw));
      pxemu::perturbAll(tp<float>(dw), wBytes(g) / 4, salt(g, 2)); });
  }
  return SUCCESS;
}

// C = alpha A + beta C, A broadcast along its size-1 dims
cudnnStatus_t cudnnAddTensor(Handle* h, const void* alpha, Tensor* ad, const void* A, const void* beta, Tensor* cd, void* C) {
  REJECT(!live(h) || !live(ad) || !live(cd), BAD_PARAM);
  REJECT(alpha == nullptr || beta == nullptr || A == nullptr || C == nullptr, BAD_PARAM);
  REJECT(ad->dtype != cd->dtype, BAD_PARAM);
  const int as[4] = {ad->n, ad->c, ad->h, ad->w}, cs[4] = {cd->n, cd->c, cd->h, cd->w};
  for (int d = 0; d < 4; d++)
    REJECT(as[d] != cs[d] && as[d] != 1, BAD_PARAM);
  DEVICE(A, tensorBytes(ad)); DEVICE(C, tensorBytes(cd));
  const int dtype = cd->dtype;
  const double al = dtype == DATA_DOUBLE ? scale<double>(alpha) : scale<float>(alpha);
  const double be = dtype == DATA_DOUBLE ? scale<double>(beta) : scale<float>(beta);
  std::vector<int> dims(as, as + 4);
  dims.insert(dims.end(), cs, cs + 4);
  pxemu::enqueue(h->stream, [=] { addTensor(dims.data(), dims.data() + 4, dtype, al, A, be, C); });
  return SUCCESS;
}
}  // extern "C"

namespace {
void addTensor(const int* as, const int* cs, int dtype, double alpha, const void* A, double beta, void* C) {
  for (long n = 0; n < cs[0]; n++)
    for (long c = 0; c < cs[1]; c++)
      for (long y = 0; y < cs[2]; y++)
        for (long x = 0; x < cs[3]; x++) {
          long ci = ((n * cs[1] + c) * cs[2] + y) * cs[3] + x;
          long ai = (((as[0] == 1 ? 0 : n) * as[1] + (as[1] == 1 ? 0 : c)) * as[2] + (as[2] == 1 ? 0 : y)) * as[3] + (as[3] == 1 ? 0 : x);
          if (dtype == DATA_DOUBLE) blend(tp<double>(C), ci, alpha, beta, tp<double>(A)[ai]);
          else blend(tp<float>(C), ci, (float)alpha, (float)beta, tp<float>(A)[ai]);
        }
}
}  // namespace

extern "C" {

// ---- batch norm (training)
cudnnStatus_t cudnnBatchNormalizationForwardTraining(Handle* h, int mode, const void* alpha, const void* beta, Tensor* xd,
                                                     const void* x, Tensor* yd, void* y, Tensor* bnd, const void* scaleP,
                                                     const void* biasP, double factor, void* runMean, void* runVar, double eps,
                                                     void* saveMean, void* saveInv) {
  REJECT(!live(h), BAD_PARAM);
  cudnnStatus_t r = bnShapes(mode, xd, yd, bnd);
  if (r != SUCCESS) return r;
  REJECT(alpha == nullptr || beta == nullptr || x == nullptr || y == nullptr || scaleP == nullptr || biasP == nullptr, BAD_PARAM);
  REJECT((runMean == nullptr) != (runVar == nullptr) || (saveMean == nullptr) != (saveInv == nullptr), BAD_PARAM);
  REJECT(eps < BN_MIN_EPSILON, BAD_PARAM);
  const long data = tensorBytes(xd), par = tensorBytes(bnd);
  DEVICE(x, data); DEVICE(y, data); DEVICE(scaleP, par); DEVICE(biasP, par);
  DEVICE(runMean, runMean ? par : 0); DEVICE(runVar, runVar ? par : 0);
  DEVICE(saveMean, saveMean ? par : 0); DEVICE(saveInv, saveInv ? par : 0);
  const Tensor d = *xd;  // the descriptor may change before the work runs
  if (xd->dtype == DATA_DOUBLE) {
    const double a = scale<double>(alpha), b = scale<double>(beta);
    pxemu::enqueue(h->stream, [=] {
      bnForward<double>(&d, a, b, tp<double>(x), tp<double>(y), tp<double>(scaleP), tp<double>(biasP), factor, tp<double>(runMean),
                        tp<double>(runVar), eps, tp<double>(saveMean), tp<double>(saveInv));
    });
  } else {
    const float a = scale<float>(alpha), b = scale<float>(beta);
    pxemu::enqueue(h->stream, [=] {
      bnForward<float>(&d, a, b, tp<float>(x), tp<float>(y), tp<float>(scaleP), tp<float>(biasP), factor, tp<float>(runMean),
                       tp<float>(runVar), eps, tp<float>(saveMean), tp<float>(saveInv));
    });
  }
  return SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationBackward(Handle* h, int mode, const void* alphaD, const void* betaD, const void* alphaP,
                                              const void* betaP, Tensor* xd, const void* x, Tensor* dyd, const void* dy,
                                              Tensor* dxd, void* dx, Tensor* bnd, const void* scaleP, void* dScale, void* dBias,
                                              double eps, const void* savedMean, const void* savedInv) {
  REJECT(!live(h), BAD_PARAM);
  cudnnStatus_t r = bnShapes(mode, xd, dyd, bnd);
  if (r == SUCCESS) r = bnShapes(mode, xd, dxd, bnd);
  if (r != SUCCESS) return r;
  REJECT(alphaD == nullptr || betaD == nullptr || alphaP == nullptr || betaP == nullptr, BAD_PARAM);
  REJECT(x == nullptr || dy == nullptr || dx == nullptr || scaleP == nullptr || dScale == nullptr || dBias == nullptr, BAD_PARAM);
  REJECT((savedMean == nullptr) != (savedInv == nullptr), BAD_PARAM);
  REJECT(eps < BN_MIN_EPSILON, BAD_PARAM);
  const long data = tensorBytes(xd), par = tensorBytes(bnd);
  DEVICE(x, data); DEVICE(dy, data); DEVICE(dx, data); DEVICE(scaleP, par); DEVICE(dScale, par); DEVICE(dBias, par);
  DEVICE(savedMean, savedMean ? par : 0); DEVICE(savedInv, savedInv ? par : 0);
  const Tensor d = *xd;
  if (xd->dtype == DATA_DOUBLE) {
    const double aD = scale<double>(alphaD), bD = scale<double>(betaD), aP = scale<double>(alphaP), bP = scale<double>(betaP);
    pxemu::enqueue(h->stream, [=] {
      bnBackward<double>(&d, aD, bD, aP, bP, tp<double>(x), tp<double>(dy), tp<double>(dx), tp<double>(scaleP), tp<double>(dScale),
                         tp<double>(dBias), eps, tp<double>(savedMean), tp<double>(savedInv));
    });
  } else {
    const float aD = scale<float>(alphaD), bD = scale<float>(betaD), aP = scale<float>(alphaP), bP = scale<float>(betaP);
    pxemu::enqueue(h->stream, [=] {
      bnBackward<float>(&d, aD, bD, aP, bP, tp<float>(x), tp<float>(dy), tp<float>(dx), tp<float>(scaleP), tp<float>(dScale),
                        tp<float>(dBias), eps, tp<float>(savedMean), tp<float>(savedInv));
    });
  }
  return SUCCESS;
}
}
