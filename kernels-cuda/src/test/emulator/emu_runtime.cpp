// A CPU stand-in for libcudart.so.13 over the emulated device of emu_driver.cpp (emu_device.h):
// device memory in its own address range (inaccessible to host code), pinned host memory as
// ordinary host memory, streams as queues, events, and copies that check their direction.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "emu_device.h"

namespace {
enum Kind { H2H = 0, H2D = 1, D2H = 2, D2D = 3, DEFAULT = 4 };
const char* KIND[] = {"host to host", "host to device", "device to host", "device to device", "default"};

// 0, or why the copy cannot be done: 1 (invalid value: a device range not inside a live allocation)
// or 21 (invalid direction: kind does not match where src and dst live)
int check_copy(void* dst, const void* src, size_t n, int kind, const char* what) {
  if (kind < 0 || kind > 4) return 21;
  if (n == 0) return 0;
  int d = pxemu::classify(dst, n), s = pxemu::classify(src, n);
  if (d < 0 || s < 0) {
    pxemu::report("%s: %s %p is in device memory but not inside a live allocation of %zu bytes", what,
                  d < 0 ? "dst" : "src", d < 0 ? dst : src, n);
    return 1;
  }
  bool ok = kind == DEFAULT || (kind == H2H && !s && !d) || (kind == H2D && !s && d) || (kind == D2H && s && !d)
         || (kind == D2D && s && d);
  if (!ok) {
    pxemu::report("%s(%s): src is %s memory, dst is %s memory", what, KIND[kind], s ? "device" : "host",
                  d ? "device" : "host");
    return 21;
  }
  return 0;
}

thread_local int last_error = 0;
int note(int e) { if (e) last_error = e; return e; }
}  // namespace

extern "C" {
int cudaMalloc(void** p, size_t size) { return note(pxemu::dev_alloc(p, size)); }
int cudaFree(void* p) {
  if (p == nullptr) return 0;
  pxemu::sync_all();  // cudaFree synchronises the device
  return note(pxemu::dev_free(p));
}
int cudaMallocAsync(void** p, size_t size, void* stream) {
  if (pxemu::check_stream(stream)) return note(400);
  return note(pxemu::dev_alloc(p, size));
}
int cudaFreeAsync(void* p, void* stream) {
  if (pxemu::check_stream(stream)) return note(400);
  if (p != nullptr && pxemu::classify(p, 0) != 1) return note(1);
  pxemu::enqueue(stream, [p] { pxemu::dev_free(p); });  // freed when the stream reaches it
  return 0;
}
int cudaMallocHost(void** p, size_t size) {  // pinned memory is ordinary host memory here
  void* m = nullptr;
  if (posix_memalign(&m, 4096, size ? size : 1)) return note(2);
  *p = m;
  return 0;
}
int cudaHostAlloc(void** p, size_t size, unsigned) { return cudaMallocHost(p, size); }
int cudaFreeHost(void* p) {
  pxemu::sync_all();  // as cudaFree
  free(p);
  return 0;
}

int cudaMemset(void* p, int v, size_t n) {
  if (n && pxemu::classify(p, n) != 1) { pxemu::report("cudaMemset: %p is not device memory of %zu bytes", p, n); return note(1); }
  pxemu::sync_stream(nullptr);  // on the default stream: after the work queued there
  pxemu::enqueue(nullptr, [p, v, n] { memset(p, v, n); });
  pxemu::sync_stream(nullptr);
  return 0;
}
int cudaMemsetAsync(void* p, int v, size_t n, void* stream) {
  if (pxemu::check_stream(stream)) return note(400);
  if (n && pxemu::classify(p, n) != 1) { pxemu::report("cudaMemsetAsync: %p is not device memory of %zu bytes", p, n); return note(1); }
  pxemu::enqueue(stream, [p, v, n] { memset(p, v, n); });
  return 0;
}
int cudaMemcpy(void* dst, const void* src, size_t n, int kind) {
  if (int e = check_copy(dst, src, n, kind, "cudaMemcpy")) return note(e);
  pxemu::enqueue(nullptr, [dst, src, n] { memmove(dst, src, n); });
  pxemu::sync_stream(nullptr);  // synchronous: the copy (and what was queued before it on the default stream) is done
  return 0;
}
int cudaMemcpyAsync(void* dst, const void* src, size_t n, int kind, void* stream) {
  if (pxemu::check_stream(stream)) return note(400);
  if (int e = check_copy(dst, src, n, kind, "cudaMemcpyAsync")) return note(e);
  pxemu::enqueue(stream, [dst, src, n] { memmove(dst, src, n); });  // host memory is read/written when the stream runs
  return 0;
}

int cudaStreamCreate(void** s) { *s = pxemu::stream_create(); return 0; }
int cudaStreamCreateWithFlags(void** s, unsigned) { *s = pxemu::stream_create(); return 0; }
int cudaStreamDestroy(void* s) { return note(pxemu::stream_destroy(s)); }
int cudaStreamSynchronize(void* s) {
  if (pxemu::check_stream(s)) return note(400);
  pxemu::sync_stream(s);
  return 0;
}
int cudaStreamQuery(void* s) { return cudaStreamSynchronize(s); }
int cudaStreamWaitEvent(void* s, void* e, unsigned) { return note(pxemu::stream_wait_event(s, e)); }

int cudaEventCreate(void** e) { *e = pxemu::event_create(); return 0; }
int cudaEventCreateWithFlags(void** e, unsigned) { *e = pxemu::event_create(); return 0; }
int cudaEventDestroy(void* e) { return note(pxemu::event_destroy(e)); }
int cudaEventRecord(void* e, void* s) { return note(pxemu::event_record(e, s)); }
int cudaEventRecordWithFlags(void* e, void* s, unsigned) { return cudaEventRecord(e, s); }
int cudaEventQuery(void* e) { return note(pxemu::event_sync(e)); }
int cudaEventSynchronize(void* e) { return note(pxemu::event_sync(e)); }
int cudaEventElapsedTime(float* ms, void* a, void* b) {
  if (pxemu::event_sync(a) || pxemu::event_sync(b)) return note(400);
  *ms = 0;
  return 0;
}

int cudaMemGetInfo(size_t* free, size_t* total) {
  const char* l = getenv("PXEMU_MEMORY_LIMIT");
  *total = l && *l ? strtoull(l, nullptr, 10) : (size_t)16 << 30;
  *free = *total;
  return 0;
}
int cudaSetDevice(int d) { return d == 0 ? 0 : note(101); }
int cudaGetDevice(int* d) { *d = 0; return 0; }
int cudaDeviceGetAttribute(int* v, int attr, int) { *v = attr == 115 ? 1 : 0; return 0; }  // memory pools supported
int cudaDeviceSynchronize() { pxemu::sync_all(); return 0; }
int cudaGetLastError() { int e = last_error; last_error = 0; return e; }
int cudaPeekAtLastError() { return last_error; }
const char* cudaGetErrorName(int e) {
  switch (e) {
    case 0: return "cudaSuccess";
    case 1: return "cudaErrorInvalidValue";
    case 2: return "cudaErrorMemoryAllocation";
    case 21: return "cudaErrorInvalidMemcpyDirection";
    case 101: return "cudaErrorInvalidDevice";
    case 400: return "cudaErrorInvalidResourceHandle";
    case 600: return "cudaErrorNotReady";
    default: return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(int e) { return e == 0 ? "no error" : "emulator error"; }
}
