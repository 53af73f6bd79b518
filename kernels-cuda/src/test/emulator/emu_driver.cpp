// A CPU stand-in for libcuda.so.1 (the CUDA driver API), enough for pxprune's CUDA backend, and the
// owner of the emulated device (emu_device.h): its memory range, its streams and events.
// cuModuleLoadData keeps the PTX text, cuModuleGetFunction checks that the PTX declares the kernel
// and finds the same kernel compiled for the host from every module's src/main/cuda, and cuLaunchKernel
// queues it on its stream; when the stream runs, the kernel runs block by block with one fiber per
// thread, threads in a random order between barriers and blocks in a random order. For testing the
// Java side and the kernels' logic on machines without a GPU; nothing here is fast.
#include "cuda_emu.h"
#include "emu_device.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels.inc"  // every module's src/main/cuda/*.cu, native's first (build.sh)
#include "emu_testkernels.cu"

extern "C" {
uint3 pxemu_threadIdx, pxemu_blockIdx;
dim3 pxemu_blockDim, pxemu_gridDim;
}

namespace {
// Everything below is guarded by one recursive lock, held while queued work runs (a kernel may
// only run on one host thread at a time: the fibers, blockIdx and __shared__ variables are global).
std::recursive_mutex lock;
typedef std::lock_guard<std::recursive_mutex> Guard;

// ---------------------------------------------------------------- memory
// One reservation far from the heap and the usual mmap area; allocations are carved from it
// upwards and never reused. Each ends at a page boundary followed by an inaccessible page.
const uintptr_t RANGE_HINT = 0x200000000000ull;  // 32 TiB
const size_t RANGE = 1ull << 40;                  // 1 TiB of address space, no memory until used
char* range = nullptr;
size_t used = 0;       // bytes of the range handed out (pages)
size_t live_bytes = 0;  // bytes of live allocations (as asked for, rounded)
size_t limit = 0;       // PXEMU_MEMORY_LIMIT, 0 = none
size_t page = 4096;
struct Alloc { char* pages; size_t mapped; size_t size; };  // pages: first page; size: usable bytes from the key
std::map<uintptr_t, Alloc> live;
int open_depth = 0;  // > 0 while queued work runs: live memory is accessible

// PXEMU_TAME=order,memory,queues turns adversarial properties off (to check that a test needs them,
// or whether a failure is about them): threads and blocks in index order; device memory always
// accessible; work run when queued
bool tame(const char* what) {
  const char* t = getenv("PXEMU_TAME");
  return t && strstr(t, what);
}
const bool TAME_ORDER = tame("order"), TAME_MEMORY = tame("memory"), TAME_QUEUES = tame("queues");

void init_range() {
  if (range) return;
  page = (size_t)sysconf(_SC_PAGESIZE);
  void* r = mmap((void*)RANGE_HINT, RANGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) {
    fprintf(stderr, "pxprune CUDA emulator: cannot reserve the device address range\n");
    abort();
  }
  range = static_cast<char*>(r);
  const char* l = getenv("PXEMU_MEMORY_LIMIT");
  if (l && *l) limit = strtoull(l, nullptr, 10);
}

void protect_all(int prot) {
  if (TAME_MEMORY) return;
  for (auto& e : live) mprotect(e.second.pages, e.second.mapped - page, prot);
}

// RAII: device memory accessible while at least one is alive
struct Open {
  Open() { if (open_depth++ == 0) protect_all(PROT_READ | PROT_WRITE); }
  ~Open() { if (--open_depth == 0) protect_all(PROT_NONE); }
};

// ---------------------------------------------------------------- streams and events
struct Stream {
  std::deque<std::function<void()>> ops;
  unsigned long long queued = 0, done = 0;  // ops ever queued / run
};
Stream default_stream;
std::set<Stream*> streams;  // created ones
struct Event { Stream* stream = nullptr; unsigned long long at = 0; };
std::set<Event*> events;

Stream* stream_of(void* s) {
  if (s == nullptr || s == (void*)0x1 || s == (void*)0x2) return &default_stream;
  return static_cast<Stream*>(s);
}

// runs the stream's ops until `upto` of them have run
void run_until(Stream* s, unsigned long long upto) {
  if (s->done >= upto) return;
  Open open;
  while (s->done < upto && !s->ops.empty()) {
    std::function<void()> op = std::move(s->ops.front());
    s->ops.pop_front();
    s->done++;  // before running: an op waiting on an event of its own stream must not recurse
    op();
  }
}

void run_all(Stream* s) { run_until(s, s->queued); }

// ---------------------------------------------------------------- fibers
const int MAX_THREADS = 1024;
const size_t STACK = 256 * 1024;
struct Fiber { ucontext_t ctx; bool done; };
Fiber fibers[MAX_THREADS];
char* stacks = nullptr;
ucontext_t scheduler;
int current = -1;
const std::function<void()>* running = nullptr;

std::mt19937_64& rng() {
  static std::mt19937_64 r = [] {
    const char* s = getenv("PXEMU_SEED");
    unsigned long long seed = s && *s ? strtoull(s, nullptr, 10) : std::random_device{}();
    fprintf(stderr, "pxprune CUDA emulator: threads and blocks in random order, PXEMU_SEED=%llu%s\n", seed,
            TAME_ORDER || TAME_MEMORY || TAME_QUEUES ? " (PXEMU_TAME set: some adversarial properties off)" : "");
    return std::mt19937_64(seed);
  }();
  return r;
}

void fiber_main() {
  (*running)();
  fibers[current].done = true;
}  // returns to `scheduler` through uc_link

void run_block(int nthreads) {
  for (int t = 0; t < nthreads; t++) {
    Fiber& f = fibers[t];
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = stacks + t * STACK;
    f.ctx.uc_stack.ss_size = STACK;
    f.ctx.uc_link = &scheduler;
    makecontext(&f.ctx, fiber_main, 0);
    f.done = false;
  }
  std::vector<int> order(nthreads);
  for (int t = 0; t < nthreads; t++) order[t] = t;
  while (!order.empty()) {  // each round runs every live thread, in a fresh random order, to its next barrier or its end
    if (!TAME_ORDER) std::shuffle(order.begin(), order.end(), rng());
    std::vector<int> alive;
    for (int t : order) {
      current = t;
      pxemu_threadIdx.x = t % pxemu_blockDim.x;
      pxemu_threadIdx.y = t / pxemu_blockDim.x % pxemu_blockDim.y;
      pxemu_threadIdx.z = t / (pxemu_blockDim.x * pxemu_blockDim.y);
      swapcontext(&scheduler, &fibers[t].ctx);
      if (!fibers[t].done) alive.push_back(t);
    }
    order.swap(alive);
  }
  current = -1;
}

void run_grid(const std::function<void()>& body, dim3 grid, dim3 block) {
  if (!stacks) stacks = static_cast<char*>(malloc(MAX_THREADS * STACK));
  running = &body;
  pxemu_blockDim = block;
  pxemu_gridDim = grid;
  unsigned long long nblocks = (unsigned long long)grid.x * grid.y * grid.z;
  std::vector<unsigned long long> order(nblocks);
  for (unsigned long long b = 0; b < nblocks; b++) order[b] = b;
  if (!TAME_ORDER) std::shuffle(order.begin(), order.end(), rng());
  for (unsigned long long b : order) {
    pxemu_blockIdx = {(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y))};
    run_block((int)(block.x * block.y * block.z));
  }
  running = nullptr;
}

// ---------------------------------------------------------------- kernels
// A kernel's arguments are copied at launch (as the driver does) into a closure that runs it later.
template <typename T>
bool pointer_ok(const T& v) {
  if constexpr (std::is_pointer_v<T>) {
    if (v == nullptr) return true;
    // one past the end is fine (an empty view at a buffer's end)
    return pxemu::classify(v, 0) == 1 || pxemu::classify(reinterpret_cast<const char*>(v) - 1, 1) == 1;
  }
  return true;
}

template <typename... A, size_t... I>
std::function<void()> bind_args(void (*f)(A...), void** p, std::index_sequence<I...>, int* bad) {
  auto args = std::make_tuple(*static_cast<std::decay_t<A>*>(p[I])...);
  *bad = -1;
  ((*bad < 0 && !pointer_ok(std::get<I>(args)) ? (void)(*bad = (int)I) : (void)0), ...);
  return [f, args]() { std::apply(f, args); };
}
template <typename... A>
constexpr size_t arity(void (*)(A...)) { return sizeof...(A); }
typedef std::function<void()> (*Binder)(void** params, int* bad);
template <auto F>
std::function<void()> binder(void** p, int* bad) { return bind_args(F, p, std::make_index_sequence<arity(F)>{}, bad); }

struct Kernel { const char* name; Binder bind; };
#define REG(name) {#name, &binder<&name>},
const Kernel KERNELS[] = {
#include "registry.inc"
};

struct Module { std::string ptx; bool native; };  // PTX text, or a cubin's bytes
}  // namespace

extern "C" void pxemu_syncthreads() { swapcontext(&fibers[current].ctx, &scheduler); }

// ---------------------------------------------------------------- the shared device (emu_device.h)
namespace pxemu {
void report(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "pxprune CUDA emulator: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

int classify(const void* p, size_t n) {
  Guard g(lock);
  init_range();
  uintptr_t a = (uintptr_t)p;
  if (a < (uintptr_t)range || a >= (uintptr_t)range + RANGE) return 0;
  auto it = live.upper_bound(a);
  if (it == live.begin()) return -1;
  --it;
  return a + n <= it->first + it->second.size ? 1 : -1;
}

int dev_alloc(void** p, size_t size) {
  Guard g(lock);
  init_range();
  size_t rounded = (std::max<size_t>(size, 1) + 255) & ~(size_t)255;
  if (limit && live_bytes + rounded > limit) return 2;  // cudaErrorMemoryAllocation
  size_t data = (rounded + page - 1) / page * page, mapped = data + page;
  if (used + mapped > RANGE) return 2;
  char* pages = range + used;
  used += mapped;
  mprotect(pages, data, PROT_READ | PROT_WRITE);
  char* user = pages + data - rounded;
  memset(user, 0xFF, rounded);
  if (open_depth == 0 && !TAME_MEMORY) mprotect(pages, data, PROT_NONE);
  live[(uintptr_t)user] = Alloc{pages, mapped, rounded};
  live_bytes += rounded;
  *p = user;
  return 0;
}

int dev_free(void* p) {
  Guard g(lock);
  auto it = live.find((uintptr_t)p);
  if (it == live.end()) return 1;  // cudaErrorInvalidValue: not an allocation's start
  mprotect(it->second.pages, it->second.mapped, PROT_NONE);
  madvise(it->second.pages, it->second.mapped, MADV_DONTNEED);
  live_bytes -= it->second.size;
  live.erase(it);
  return 0;
}

int check_stream(void* s) {
  Guard g(lock);
  Stream* st = stream_of(s);
  return st == &default_stream || streams.count(st) ? 0 : 400;
}

void enqueue(void* s, std::function<void()> op) {
  Guard g(lock);
  Stream* st = stream_of(s);
  st->ops.push_back(std::move(op));
  st->queued++;
  if (TAME_QUEUES) run_all(st);
}

void sync_stream(void* s) {
  Guard g(lock);
  run_all(stream_of(s));
}

void sync_all() {
  Guard g(lock);
  bool more = true;
  while (more) {  // an op may wait on another stream's event, which queues nothing, but loop to be sure
    run_all(&default_stream);
    for (Stream* s : streams) run_all(s);
    more = !default_stream.ops.empty();
    for (Stream* s : streams) more = more || !s->ops.empty();
  }
}

void* stream_create() {
  Guard g(lock);
  Stream* s = new Stream();
  streams.insert(s);
  return s;
}

int stream_destroy(void* s) {
  Guard g(lock);
  Stream* st = static_cast<Stream*>(s);
  if (!streams.count(st)) return 400;
  run_all(st);  // cudaStreamDestroy returns at once but the queued work still completes
  for (Event* e : events)
    if (e->stream == st) e->stream = nullptr;  // complete
  streams.erase(st);
  delete st;
  return 0;
}

void* event_create() {
  Guard g(lock);
  Event* e = new Event();
  events.insert(e);
  return e;
}

int event_destroy(void* e) {
  Guard g(lock);
  Event* ev = static_cast<Event*>(e);
  if (!events.count(ev)) return 400;
  events.erase(ev);
  delete ev;
  return 0;
}

int event_record(void* e, void* s) {
  Guard g(lock);
  Event* ev = static_cast<Event*>(e);
  if (!events.count(ev) || check_stream(s)) return 400;
  ev->stream = stream_of(s);
  ev->at = ev->stream->queued;
  return 0;
}

int event_sync(void* e) {  // queried or synchronised: the work before the event runs now
  Guard g(lock);
  Event* ev = static_cast<Event*>(e);
  if (!events.count(ev)) return 400;
  if (ev->stream) run_until(ev->stream, ev->at);
  return 0;
}

int stream_wait_event(void* s, void* e) {
  Guard g(lock);
  Event* ev = static_cast<Event*>(e);
  if (!events.count(ev) || check_stream(s)) return 400;
  Stream* other = ev->stream;
  unsigned long long at = ev->at;  // the record in effect now
  if (other == nullptr) return 0;
  enqueue(s, [other, at] {
    if (streams.count(other) || other == &default_stream) run_until(other, at);
  });
  return 0;
}
}  // namespace pxemu

// ---------------------------------------------------------------- driver API
extern "C" {
typedef int CUresult;

CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetAttribute(int* v, int attr, int) {
  *v = attr == 75 ? 9 : attr == 76 ? 0 : 0;  // compute capability 9.0
  return 0;
}
CUresult cuDeviceGetName(char* name, int len, int) { snprintf(name, len, "pxprune CUDA emulator (CPU)"); return 0; }
CUresult cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = size_t(16) << 30; return 0; }  // 16 GiB, as reported by CudaDevices
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = (void*)0x1; return 0; }
CUresult cuCtxSetCurrent(void*) { return 0; }
CUresult cuCtxSynchronize() { pxemu::sync_all(); return 0; }

CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = r == 0 ? "CUDA_SUCCESS" : r == 1 ? "CUDA_ERROR_INVALID_VALUE" : r == 400 ? "CUDA_ERROR_INVALID_HANDLE"
     : r == 500 ? "CUDA_ERROR_NOT_FOUND" : r == 700 ? "CUDA_ERROR_ILLEGAL_ADDRESS" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char** s) { *s = r == 0 ? "no error" : "emulator error"; return 0; }

// A 64-bit little-endian ELF image (a cubin): its size from the section header table, which
// nvcc puts at the end; 0 if the header is not one.
static size_t elf_size(const unsigned char* p) {
  if (memcmp(p, "\x7f" "ELF", 4) != 0 || p[4] != 2 || p[5] != 1) return 0;
  uint64_t shoff; uint16_t shentsize, shnum;
  memcpy(&shoff, p + 0x28, 8); memcpy(&shentsize, p + 0x3A, 2); memcpy(&shnum, p + 0x3C, 2);
  return (size_t)(shoff + (uint64_t)shentsize * shnum);
}

CUresult cuModuleLoadData(void** mod, const void* image) {
  const char* text = static_cast<const char*>(image);
  size_t elf = elf_size(static_cast<const unsigned char*>(image));
  if (elf > 0) {  // native code: kept whole; its string table names the kernels
    *mod = new Module{std::string(text, elf), true};
    return 0;
  }
  if (strncmp(text, "//", 2) != 0 && strstr(text, ".version") == nullptr) return 218;  // not PTX
  *mod = new Module{std::string(text), false};
  return 0;
}

CUresult cuModuleGetFunction(void** f, void* mod, const char* name) {
  const Module* m = static_cast<Module*>(mod);
  const std::string& ptx = m->ptx;
  std::string declared = m->native ? std::string(1, '\0') + name + std::string(1, '\0') : std::string(".entry ") + name + "(";
  if (ptx.find(declared) == std::string::npos) return 500;
  for (const Kernel& k : KERNELS)
    if (strcmp(k.name, name) == 0) { *f = (void*)&k; return 0; }
  fprintf(stderr, "pxprune CUDA emulator: kernel %s is in the PTX but not in the emulator's registry\n", name);
  return 500;
}

CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
  (void)shared;
  if (extra != nullptr || f == nullptr || params == nullptr) return 1;
  unsigned nthreads = bx * by * bz;
  if (nthreads == 0 || nthreads > MAX_THREADS || gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535) return 1;
  if (pxemu::check_stream(stream)) return 400;
  const Kernel* k = static_cast<const Kernel*>(f);
  int bad;
  std::function<void()> body = k->bind(params, &bad);
  if (bad >= 0) {
    pxemu::report("%s: argument %d is a pointer outside device memory (a host pointer, or freed)", k->name, bad);
    return 700;  // CUDA_ERROR_ILLEGAL_ADDRESS, as the kernel would fault
  }
  dim3 grid{gx, gy, gz}, block{bx, by, bz};
  pxemu::enqueue(stream, [body, grid, block] { run_grid(body, grid, block); });
  return 0;
}
}
