// A CPU stand-in for libcudart.so.13: "device" memory is host memory. Every allocation ends at
// a page boundary followed by an inaccessible page, so a kernel reading or writing past the end
// of a buffer crashes at once; fresh memory is filled with NaN bytes (0xFF) so that a missing
// initialisation shows.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>

namespace {
struct Block { void* base; size_t mapped; size_t size; };
std::map<uintptr_t, Block> blocks;
std::mutex lock;

int allocate(void** p, size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded = (size + 7) & ~(size_t)7;
  size_t data = (rounded + page - 1) / page * page;
  size_t mapped = data + page;
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return 2;  // cudaErrorMemoryAllocation
  mprotect(static_cast<char*>(base) + data, page, PROT_NONE);
  char* user = static_cast<char*>(base) + data - rounded;
  memset(user, 0xFF, rounded);
  std::lock_guard<std::mutex> g(lock);
  blocks[(uintptr_t)user] = Block{base, mapped, size};
  *p = user;
  return 0;
}

int release(void* p) {
  if (p == nullptr) return 0;
  std::lock_guard<std::mutex> g(lock);
  auto it = blocks.find((uintptr_t)p);
  if (it == blocks.end()) return 1;  // cudaErrorInvalidValue: not an allocation's start
  munmap(it->second.base, it->second.mapped);
  blocks.erase(it);
  return 0;
}
}  // namespace

extern "C" {
int cudaMalloc(void** p, size_t size) { return allocate(p, size); }
int cudaFree(void* p) { return release(p); }
int cudaMallocAsync(void** p, size_t size, void*) { return allocate(p, size); }
int cudaFreeAsync(void* p, void*) { return release(p); }
int cudaMemset(void* p, int v, size_t n) { memset(p, v, n); return 0; }
int cudaMemcpy(void* dst, const void* src, size_t n, int) { memmove(dst, src, n); return 0; }
int cudaSetDevice(int d) { return d == 0 ? 0 : 101; }
int cudaDeviceGetAttribute(int* v, int attr, int) { *v = attr == 115 ? 1 : 0; return 0; }  // memory pools supported
int cudaDeviceSynchronize() { return 0; }
int cudaGetLastError() { return 0; }
const char* cudaGetErrorName(int e) {
  return e == 0 ? "cudaSuccess" : e == 1 ? "cudaErrorInvalidValue" : e == 2 ? "cudaErrorMemoryAllocation" : "cudaErrorUnknown";
}
const char* cudaGetErrorString(int e) { return e == 0 ? "no error" : "emulator error"; }
}
