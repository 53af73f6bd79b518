// A CPU stand-in for libcublas.so.13: column-major reference gemm with cuBLAS's argument checks
// (float32 accumulates in float32, like cuBLAS without tensor cores). Each handle has a stream
// (cublasSetStream); a gemm is queued there and runs when the stream does (emu_device.h), its
// alpha and beta read at the call (host pointer mode).
#include <cstdio>

#include "emu_device.h"
#include "emu_perturb.h"

namespace {
struct Handle { void* stream = nullptr; };

template <typename T, typename Acc>
void gemm(int ta, int tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb, T beta, T* C, int ldc) {
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      Acc s = 0;
      for (int l = 0; l < k; l++) {
        T a = ta ? A[l + (long)i * lda] : A[i + (long)l * lda];
        T b = tb ? B[j + (long)l * ldb] : B[l + (long)j * ldb];
        s += (Acc)a * b;
      }
      T& c = C[i + (long)j * ldc];
      c = beta == 0 ? (T)(alpha * s) : (T)(alpha * s + beta * c);
      if (sizeof(T) == 4 && pxemu::perturbing())  // as a GPU's float32 gemm might round (emu_perturb.h)
        c = (T)pxemu::perturb((float)c, ((uint64_t)m * 65537 + n) * 65537 + k, (uint64_t)(i + (long)j * ldc));
    }
}

template <typename T, typename Acc>
int queue_gemm(void* h, int ta, int tb, int m, int n, int k, const T* alpha, const T* A, int lda, const T* B, int ldb,
               const T* beta, T* C, int ldc) {
  auto mx = [](int a) { return a > 1 ? a : 1; };
  if (h == nullptr) return 1;  // CUBLAS_STATUS_NOT_INITIALIZED
  if (ta < 0 || ta > 1 || tb < 0 || tb > 1 || m < 0 || n < 0 || k < 0) return 7;  // CUBLAS_STATUS_INVALID_VALUE
  if (lda < mx(ta ? k : m) || ldb < mx(tb ? n : k) || ldc < mx(m)) return 7;
  if (m == 0 || n == 0) return 0;
  if (pxemu::classify(C, sizeof(T)) != 1 || (k > 0 && (pxemu::classify(A, sizeof(T)) != 1 || pxemu::classify(B, sizeof(T)) != 1))) {
    pxemu::report("cublas gemm: an operand is not in device memory (A %p, B %p, C %p)", (const void*)A, (const void*)B, (void*)C);
    return 13;  // CUBLAS_STATUS_EXECUTION_FAILED, as the kernel would fault
  }
  T al = *alpha, be = *beta;
  pxemu::enqueue(static_cast<Handle*>(h)->stream,
                 [=] { gemm<T, Acc>(ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc); });
  return 0;
}
}  // namespace

extern "C" {
int cublasCreate_v2(void** h) { *h = new Handle(); return 0; }
int cublasDestroy_v2(void* h) {
  if (h == nullptr) return 1;
  pxemu::sync_stream(static_cast<Handle*>(h)->stream);
  delete static_cast<Handle*>(h);
  return 0;
}
int cublasSetMathMode(void*, int) { return 0; }
int cublasSetStream_v2(void* h, void* s) {
  if (h == nullptr) return 1;
  if (pxemu::check_stream(s)) return 7;
  static_cast<Handle*>(h)->stream = s;
  return 0;
}
int cublasGetStream_v2(void* h, void** s) {
  if (h == nullptr) return 1;
  *s = static_cast<Handle*>(h)->stream;
  return 0;
}
const char* cublasGetStatusString(int s) {
  return s == 0 ? "CUBLAS_STATUS_SUCCESS" : s == 1 ? "CUBLAS_STATUS_NOT_INITIALIZED" : s == 7 ? "CUBLAS_STATUS_INVALID_VALUE"
       : s == 13 ? "CUBLAS_STATUS_EXECUTION_FAILED" : "CUBLAS_STATUS_UNKNOWN";
}
int cublasSgemm_v2(void* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* A, int lda, const float* B,
                   int ldb, const float* beta, float* C, int ldc) {
  return queue_gemm<float, float>(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
int cublasDgemm_v2(void* h, int ta, int tb, int m, int n, int k, const double* alpha, const double* A, int lda,
                   const double* B, int ldb, const double* beta, double* C, int ldc) {
  return queue_gemm<double, double>(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
}
