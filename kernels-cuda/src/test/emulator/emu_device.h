// The emulated device shared by the stand-in libraries: libcuda.so.1 (emu_driver.cpp) owns it and
// exports these functions; libcudart.so.13 (emu_runtime.cpp) and libcublas.so.13 (emu_cublas.cpp)
// link against it, so that kernels, copies and gemms share one memory range and one set of streams.
//
// The adversarial model (what makes a missing synchronisation or a host/device mix-up show):
//  - Device memory lives in its own reserved address range and is PROT_NONE whenever no kernel,
//    memset or copy of the emulator runs: host code dereferencing a device pointer crashes at once.
//    Addresses are never reused, so a use after cudaFree crashes too (or is reported).
//  - A stream is a queue: launches, memsets, async copies, gemms and cudaFreeAsync are recorded
//    and run only when something needs them (stream or device synchronisation, an event on the
//    stream queried or synchronised, a stream waiting on such an event, a synchronous call).
//  - Copies check their direction against where src and dst live.
//  - The threads of a block run in a seeded random order between barriers, blocks in random order
//    (emu_driver.cpp; seed from PXEMU_SEED, printed once).
// PXEMU_TAME=order,memory,queues (any of them) turns these off, to see whether a failure is about
// them; PXEMU_MEMORY_LIMIT=bytes makes cudaMalloc fail beyond that much live memory; PXEMU_PERTURB=1
// perturbs float32 convolutions and gemms by about 1e-6 and reduces batch-norm statistics in float
// (emu_perturb.h), as a real library's rounding would.
#pragma once
#include <cstddef>
#include <functional>

namespace pxemu {
// where [p, p + n) lives: 0 outside the device range (host), 1 inside one live device allocation,
// -1 in the device range but not inside a live allocation (freed, or running past its end)
int classify(const void* p, size_t n);
// device memory from the reserved range, filled with 0xFF bytes (NaN); 2 (out of memory) past PXEMU_MEMORY_LIMIT
int dev_alloc(void** p, size_t n);
// 0, or 1 when p is not the start of a live allocation
int dev_free(void* p);
// queues op on stream (nullptr, 0x1 and 0x2: the default stream); ops run with device memory accessible
void enqueue(void* stream, std::function<void()> op);
// runs everything queued on the stream
void sync_stream(void* stream);
// runs everything queued on every stream
void sync_all();
// 0 for a stream created by cudaStreamCreate* (or a default stream), else 400 (invalid handle)
int check_stream(void* stream);
// stream lifetime and events (emu_driver.cpp keeps them, for cudaStreamWaitEvent across libraries)
void* stream_create();
int stream_destroy(void* stream);
void* event_create();
int event_destroy(void* event);
int event_record(void* event, void* stream);
int event_sync(void* event);
int stream_wait_event(void* stream, void* event);
// prints once why a call failed (the error code alone rarely says enough)
void report(const char* fmt, ...);
}  // namespace pxemu
