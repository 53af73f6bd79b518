// A CPU stand-in for libcublas.so.13: column-major reference gemm with cuBLAS's argument checks
// (float32 accumulates in float32, like cuBLAS without tensor cores).
#include <cstdio>

namespace {
template <typename T, typename Acc>
int gemm(int ta, int tb, int m, int n, int k, const T* alpha, const T* A, int lda, const T* B, int ldb, const T* beta,
         T* C, int ldc) {
  auto mx = [](int a) { return a > 1 ? a : 1; };
  if (ta < 0 || ta > 1 || tb < 0 || tb > 1 || m < 0 || n < 0 || k < 0) return 7;  // CUBLAS_STATUS_INVALID_VALUE
  if (lda < mx(ta ? k : m) || ldb < mx(tb ? n : k) || ldc < mx(m)) return 7;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      Acc s = 0;
      for (int l = 0; l < k; l++) {
        T a = ta ? A[l + (long)i * lda] : A[i + (long)l * lda];
        T b = tb ? B[j + (long)l * ldb] : B[l + (long)j * ldb];
        s += (Acc)a * b;
      }
      T& c = C[i + (long)j * ldc];
      c = *beta == 0 ? (T)(*alpha * s) : (T)(*alpha * s + *beta * c);
    }
  return 0;
}
}  // namespace

extern "C" {
int cublasCreate_v2(void** h) { *h = (void*)0x2; return 0; }
int cublasDestroy_v2(void*) { return 0; }
int cublasSetMathMode(void*, int) { return 0; }
int cublasSetStream_v2(void*, void*) { return 0; }
const char* cublasGetStatusString(int s) { return s == 0 ? "CUBLAS_STATUS_SUCCESS" : s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_UNKNOWN"; }
int cublasSgemm_v2(void*, int ta, int tb, int m, int n, int k, const float* alpha, const float* A, int lda, const float* B,
                   int ldb, const float* beta, float* C, int ldc) {
  return gemm<float, float>(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
int cublasDgemm_v2(void*, int ta, int tb, int m, int n, int k, const double* alpha, const double* A, int lda,
                   const double* B, int ldb, const double* beta, double* C, int ldc) {
  return gemm<double, double>(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
}
