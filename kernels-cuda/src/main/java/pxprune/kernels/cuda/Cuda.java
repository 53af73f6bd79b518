package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cudart.*;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The process-wide CUDA state behind the backend: one device (the number {@link #get} is given first), its
 * primary context (made current on every thread that uses it), the PTX modules of the native
 * module's kernels (loaded with cuModuleLoadData, kernels looked up by name and launched with
 * cuLaunchKernel), the {@link CachingAllocator} of device memory, and per thread a <em>lane</em>:
 * a stream, a cuBLAS handle and a pinned staging buffer.
 *
 * <h2>Streams and the ordering rules</h2>
 * <ul>
 *   <li>Each thread has its own non-blocking stream ({@code cudaStreamNonBlocking}: it does not
 *       synchronise with the legacy default stream), created on the thread's first CUDA call. Every
 *       launch, memset, device-to-device copy and cuBLAS call of the thread goes on it (cuBLAS: the
 *       thread's own handle, {@code cublasSetStream}); cuDNN handles take it from {@link #stream()}.
 *       So the work of one thread runs in the order it was issued, and never waits on other threads'
 *       work.</li>
 *   <li>Uploads and downloads go through the thread's pinned buffer with cudaMemcpyAsync on the
 *       thread's stream, then wait for that stream only: when {@code upload} returns the data is on
 *       the device (and the staging buffer free again); when {@code download} returns the host has
 *       the result of every kernel this thread queued before it.</li>
 *   <li>Between threads nothing is ordered by itself. A thread handing a device buffer it wrote to
 *       another thread calls {@code Backend.synchronize()} first (an upload already has); a thread
 *       that uses a buffer another thread will free calls {@link #recordUse}.</li>
 *   <li>Frees are stream-ordered and never synchronise: see {@link CachingAllocator} (a block freed
 *       on its own stream is reusable at once by that stream; freed from another stream, after an
 *       event recorded there has completed).</li>
 *   <li>A thread that ends leaves its lane behind; the next thread that needs one adopts it (a
 *       stream whose owner is gone is as good as new, and its cached blocks are reused), so streams
 *       never outnumber the threads alive at once. The driver releases them at exit.</li>
 * </ul>
 * With {@code -Dpxprune.cuda.sync=true} every launch is followed by a synchronisation of the
 * thread's stream, so that a failing kernel is named in the exception.
 *
 * <p>cuDNN ({@link Cudnn}) is loaded on the first convolution or batch norm. System property
 * {@code pxprune.cuda.conv}: {@code cudnn} (cuDNN required: its absence is an error) or {@code gemm}
 * (im2col + gemm always); unset, cuDNN where it loads and im2col + gemm otherwise;
 * {@code pxprune.cuda.conv.search=find|heuristic} says how cuDNN's algorithms are chosen (see {@link Cudnn}). Likewise
 * {@code pxprune.cuda.bn}: {@code cudnn} or {@code own} (pxprune's batch-norm kernels). Which is in use,
 * and why cuDNN is not, shows in {@link #toString()}.
 */
final class Cuda {
    /** threads per block of every kernel (PXC_BLOCK in pxcuda.cuh) */
    static final int BLOCK = 256;
    static final String PTX_DIR = "/pxprune/cuda/";

    private static Cuda instance;
    /** why a device number could not be used, by number */
    private static final java.util.Map<Integer, RuntimeException> failures = new java.util.HashMap<>();

    /**
     * The shared instance, on CUDA device number device (0 = the first); throws, now and on every later
     * call for that number, with the reason it cannot be used. A process uses one device: once it has
     * started on one number, asking for another throws.
     */
    static synchronized Cuda get(int device) {
        if (instance != null) {
            if (instance.device == device) return instance;
            throw new IllegalStateException("CUDA device " + device + " was asked for, but this process uses CUDA device "
                    + instance.device + "; one process uses one CUDA device");
        }
        RuntimeException failure = failures.get(device);
        if (failure != null) throw failure;
        try {
            instance = new Cuda(device);
            return instance;
        } catch (RuntimeException e) {
            failure = e;
        } catch (LinkageError e) {
            failure = new IllegalStateException(libraryMessage(e), e);
        }
        failures.put(device, failure);
        throw failure;
    }

    final int device;
    final String deviceName;
    final int ccMajor, ccMinor, driverVersion;
    final String arch;
    /** the modules loaded as native code (cubin) rather than PTX the driver compiles */
    private final List<String> nativeModules = new java.util.concurrent.CopyOnWriteArrayList<>();
    final boolean syncEveryLaunch = Boolean.getBoolean("pxprune.cuda.sync");
    private final CUctx_st ctx = new CUctx_st();
    /** why cuBLAS is not used (matrix products then run on pxprune's own kernel), or null when it is */
    final String cublasMissing;
    /** pxprune.cuda.conv: "cudnn", "gemm" or null (cuDNN where it loads) */
    final String convChoice;
    /** pxprune.cuda.conv.search: "find", "heuristic" or null (find): how cuDNN's algorithms are chosen */
    final String convSearch;
    /** pxprune.cuda.bn: "cudnn", "own" or null (cuDNN where it loads) */
    final String bnChoice;
    private volatile boolean cudnnTried;
    private Cudnn cudnn;
    private String cudnnMissing;
    private final List<CUmod_st> modules = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** the resource folders whose modules are loaded ({@link #loadModules}) */
    private final java.util.Set<String> loadedDirs = new java.util.HashSet<>();
    private final ConcurrentHashMap<String, CUfunc_st> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
    private final ThreadLocal<Args> args = ThreadLocal.withInitial(Args::new);
    private final ThreadLocal<Lane> lane = new ThreadLocal<>();
    /** every lane made, for adoption by later threads (guarded by itself) */
    private final List<Lane> lanes = new ArrayList<>();
    /** device memory */
    final CachingAllocator allocator = new CachingAllocator(new RuntimeDriver());

    private Cuda(int device) {
        convChoice = choice("pxprune.cuda.conv", "cudnn", "gemm");
        bnChoice = choice("pxprune.cuda.bn", "cudnn", "own");
        convSearch = choice("pxprune.cuda.conv.search", "find", "heuristic");
        try {
            CudaLibraries.preload();
            Loader.load(cudart.class);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException(libraryMessage(e), e);
        }
        drv(cuInit(0), "cuInit");
        int[] v = new int[1];
        drv(cuDriverGetVersion(v), "cuDriverGetVersion");
        driverVersion = v[0];
        drv(cuDeviceGetCount(v), "cuDeviceGetCount");
        int count = v[0];
        if (count == 0) throw new IllegalStateException("the NVIDIA driver (CUDA " + version(driverVersion) + ") sees no device");
        this.device = device;
        if (device < 0 || device >= count)
            throw new IllegalStateException("CUDA device " + device + " was asked for (pxprune.cuda.device / PXPRUNE_CUDA_DEVICE)"
                    + " but there are " + count);
        drv(cuDeviceGet(v, device), "cuDeviceGet");
        int dev = v[0];
        drv(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
        ccMajor = v[0];
        drv(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
        ccMinor = v[0];
        byte[] name = new byte[256];
        drv(cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
        deviceName = cString(name);
        if (ccMajor < 8)
            throw new IllegalStateException(deviceName + " has compute capability " + ccMajor + "." + ccMinor
                    + "; pxprune's CUDA kernels are built for 8.0 (A100) and newer");

        drv(cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain");
        drv(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
        rt(cudaSetDevice(device), "cudaSetDevice");
        bound.set(true);

        arch = ccMajor >= 9 ? "sm_90" : "sm_80";
        loadModules(Cuda.class, PTX_DIR);

        Lane first = lane();  // this thread's stream
        String noBlas = null;
        if (Boolean.getBoolean("pxprune.cuda.nocublas")) noBlas = "disabled with -Dpxprune.cuda.nocublas=true";
        else {
            try {
                Loader.load(cublas.class);
                first.blas = newBlasHandle(first.stream);
            } catch (UnsatisfiedLinkError e) {
                noBlas = libraryMessage(e);
            } catch (LinkageError | IllegalStateException e) {
                noBlas = String.valueOf(e.getMessage());
            }
        }
        cublasMissing = noBlas;
    }

    /** the value of a system property that takes one of two values, or null when unset */
    static String choice(String property, String a, String b) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) return null;
        v = v.trim();
        if (!v.equals(a) && !v.equals(b))
            throw new IllegalStateException("-D" + property + "=" + v + " is not understood; use " + a + " or " + b
                    + " (or leave it unset)");
        return v;
    }

    // ------------------------------------------------------------------ cuDNN

    /** cuDNN, loaded on the first call; null when it cannot be used ({@link #cudnnMissing()} says why) */
    Cudnn cudnn() {
        if (cudnnTried) return cudnn;
        synchronized (this) {
            if (!cudnnTried) {
                try {
                    cudnn = new Cudnn(this);
                } catch (UnsatisfiedLinkError e) {
                    cudnnMissing = cudnnLibraryMessage(e);
                } catch (LinkageError | RuntimeException e) {
                    cudnnMissing = String.valueOf(e.getMessage());
                }
                cudnnTried = true;
            }
            return cudnn;
        }
    }

    /** why cuDNN cannot be used (after {@link #cudnn()} returned null), else null */
    String cudnnMissing() {
        cudnn();
        return cudnnMissing;
    }

    /** cuDNN for convolutions, or null for im2col + gemm (-Dpxprune.cuda.conv=gemm, or no cuDNN) */
    Cudnn convCudnn() { return routed(convChoice, "gemm", "pxprune.cuda.conv"); }

    /** cuDNN for batch norm, or null for pxprune's kernels (-Dpxprune.cuda.bn=own, or no cuDNN) */
    Cudnn bnCudnn() { return routed(bnChoice, "own", "pxprune.cuda.bn"); }

    private Cudnn routed(String choice, String other, String property) {
        if (other.equals(choice)) return null;
        Cudnn d = cudnn();
        if (d == null && choice != null)
            throw new IllegalStateException("-D" + property + "=cudnn asks for cuDNN, which cannot be used: " + cudnnMissing);
        return d;
    }

    /** the route of convolutions or batch norm, in words */
    private String route(String choice, String other, String property, String ours) {
        if (other.equals(choice)) return ours + " (-D" + property + "=" + other + ")";
        Cudnn d = cudnn();
        return d != null ? d.toString() : ours + ", no cuDNN: " + cudnnMissing;
    }

    static String cudnnLibraryMessage(Throwable e) {
        String detail = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
            if (t.getMessage() != null) detail = t.getMessage();
        return "cuDNN 9 (libcudnn_graph.so.9, libcudnn_ops.so.9, libcudnn_cnn.so.9, libcudnn_adv.so.9) could not be loaded ("
                + (detail == null ? e.toString() : detail) + "); " + LIBS_HINT.replace("nvidia/*/lib", "nvidia/cudnn/lib");
    }

    /**
     * Loads every module of a PTX build (native/src/main/cuda/build-ptx.sh's output) found as resources
     * under dir (e.g. {@code /pxprune/cuda/}, pxprune-native's) beside class owner, once per dir: the
     * native module's kernels at start-up, a kernel extension's when it is created ({@link CudaKernels}).
     * Kernels are then launched by name, whichever module holds them.
     */
    synchronized void loadModules(Class<?> owner, String dir) {
        if (!loadedDirs.add(dir)) return;
        try {
            bind();
            Properties build = ptxBuild(owner, dir);
            for (String m : build.getProperty("modules", "").split(","))
                if (!m.isBlank()) loadModule(owner, dir, m.trim(), build.getProperty("nvcc", "nvcc"), build);
        } catch (RuntimeException e) {
            loadedDirs.remove(dir);
            throw e;
        }
    }

    /** the artifact that holds the resources of owner, for messages */
    private static String artifact(Class<?> owner) {
        return owner == Cuda.class ? "pxprune-native" : "the module of " + owner.getName();
    }

    /** what native/src/main/cuda/build-ptx.sh recorded about the PTX build under resource folder dir */
    static Properties ptxBuild(Class<?> owner, String dir) {
        Properties p = new Properties();
        String from = artifact(owner);
        try (InputStream in = owner.getResourceAsStream(dir + "ptx-build.properties")) {
            if (in == null)
                throw new IllegalStateException("the CUDA kernels are not on the class path (no " + dir
                        + "ptx-build.properties in " + from + "); rebuild " + from);
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("reading " + dir + "ptx-build.properties: " + e, e);
        }
        if (!"built".equals(p.getProperty("status")))
            throw new IllegalStateException("the CUDA kernels were not compiled when " + from + " was built ("
                    + p.getProperty("reason", "no reason recorded") + "); rebuild it where nvcc is installed"
                    + (owner == Cuda.class ? ": mvn install -pl native (see bench/README.md)" : ""));
        return p;
    }

    /** a PTX file of the native module as text, or null if absent */
    static String ptxText(String arch, String module) { return ptxText(Cuda.class, PTX_DIR, arch, module); }

    static String ptxText(Class<?> owner, String dir, String arch, String module) {
        try (InputStream in = owner.getResourceAsStream(dir + arch + "/" + module + ".ptx")) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("reading the PTX of " + module + ": " + e, e);
        }
    }

    /** a cubin (native code) of the native module, or null if absent */
    static byte[] cubin(String arch, String module) { return cubin(Cuda.class, PTX_DIR, arch, module); }

    static byte[] cubin(Class<?> owner, String dir, String arch, String module) {
        try (InputStream in = owner.getResourceAsStream(dir + arch + "/" + module + ".cubin")) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("reading the native code of " + module + ": " + e, e);
        }
    }

    /**
     * loads a module of a PTX build: its native code where it was built for exactly this
     * device's compute capability (ptx-build.properties' cubin, e.g. sm_90 on an H100/H200) unless
     * -Dpxprune.cuda.cubin=false, else (or if the driver refuses it) its PTX, which the driver compiles
     */
    private void loadModule(Class<?> owner, String dir, String name, String nvcc, Properties build) {
        String own = "sm_" + ccMajor + ccMinor;
        if (own.equals(build.getProperty("cubin")) && !"false".equals(System.getProperty("pxprune.cuda.cubin"))) {
            byte[] bin = cubin(owner, dir, own, name);
            if (bin != null) {
                CUmod_st mod = new CUmod_st();
                int r;
                try (BytePointer image = new BytePointer(bin.length)) {
                    image.put(bin, 0, bin.length);
                    r = cuModuleLoadData(mod, image);
                }
                if (r == CUDA_SUCCESS) {
                    modules.add(mod);
                    nativeModules.add(name);
                    return;
                }
            }
        }
        loadModule(owner, dir, name, nvcc);
    }

    private void loadModule(Class<?> owner, String dir, String name, String nvcc) {
        String text = ptxText(owner, dir, arch, name);
        if (text == null)
            throw new IllegalStateException("PTX " + dir + arch + "/" + name + ".ptx is missing from " + artifact(owner) + "; rebuild it");
        CUmod_st mod = new CUmod_st();
        int r = loadPtx(mod, text);
        if (r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
            // PTX from a newer nvcc than the driver: our kernels use no recent PTX feature, so
            // declaring the ISA version the driver knows usually works.
            String isa = ptxIsa(driverVersion);
            if (isa != null) r = loadPtx(mod, withPtxIsa(text, isa));
            if (r != CUDA_SUCCESS)
                throw new IllegalStateException("the NVIDIA driver (CUDA " + version(driverVersion) + ") cannot load the PTX of "
                        + name + " built by " + nvcc + " (" + errorName(r) + "); update the driver, or rebuild " + artifact(owner)
                        + " with an nvcc no newer than the driver (-Dpxprune.nvcc=/path/to/nvcc)");
        }
        drv(r, "cuModuleLoadData(" + arch + "/" + name + ".ptx)");
        modules.add(mod);
    }

    private static int loadPtx(CUmod_st mod, String text) {
        try (BytePointer image = new BytePointer(text)) { // NUL-terminated
            return cuModuleLoadData(mod, image);
        }
    }

    /** the PTX text declaring ISA version isa (e.g. "8.5") instead of the one nvcc wrote */
    static String withPtxIsa(String ptx, String isa) {
        return ptx.replaceFirst("(?m)^\\.version \\d+\\.\\d+\\s*$", ".version " + isa);
    }

    /**
     * the newest PTX ISA a driver of this CUDA version accepts (null: unknown): CUDA 11.x 7.x, 12.x 8.x,
     * 13.0 9.0 and 13.1 9.1 (later 13.x drivers accept 9.1 too), as the PTX ISA document's release notes list them
     */
    static String ptxIsa(int driverVersion) {
        int major = driverVersion / 1000, minor = driverVersion % 1000 / 10;
        if (major == 13) return "9." + Math.min(minor, 1);
        if (major == 11) return "7." + Math.min(minor, 8);
        if (major == 12) return switch (minor) {
            case 0, 1, 2, 3, 4, 5 -> "8." + minor;
            case 6, 7 -> "8.5";
            case 8 -> "8.7";
            default -> "8.8";
        };
        return null;
    }

    static String version(int v) { return v / 1000 + "." + v % 1000 / 10; }

    // ------------------------------------------------------------------ threads, kernels

    /** makes the context current on this thread (once per thread) */
    void bind() {
        if (!bound.get()) {
            drv(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            rt(cudaSetDevice(device), "cudaSetDevice");
            bound.set(true);
        }
    }

    CUfunc_st function(String name) {
        CUfunc_st f = functions.get(name);
        if (f != null) return f;
        for (CUmod_st m : modules) {
            CUfunc_st g = new CUfunc_st();
            if (cuModuleGetFunction(g, m, name) == CUDA_SUCCESS) {
                functions.put(name, g);
                return g;
            }
        }
        throw new IllegalStateException("CUDA kernel " + name + " is not in the loaded PTX (" + arch
                + "); the modules that hold kernels and the Java that launches them are out of step: rebuild both");
    }

    /** this thread's argument list, emptied */
    Args args() { return args.get().reset(); }

    /** launches kernel with a grid of blocks x by x bz blocks of {@link #BLOCK} threads */
    void launch(String kernel, long blocks, int by, int bz, Args a) {
        if (blocks <= 0 || by <= 0 || bz <= 0) return;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("grid too large for " + kernel + ": " + blocks);
        bind();
        CUfunc_st f = function(kernel);
        CUstream_st s = stream();
        drv(cuLaunchKernel(f, (int) blocks, by, bz, BLOCK, 1, 1, 0, s, a.params, null), "launching " + kernel);
        if (syncEveryLaunch) rt(cudaStreamSynchronize(s), "kernel " + kernel);
    }

    /** a 1-D grid-stride launch over n elements */
    void launch1d(String kernel, long n, Args a) {
        launch(kernel, gridFor(n), 1, 1, a);
    }

    static long gridFor(long n) {
        return Math.min((n + BLOCK - 1) / BLOCK, 1L << 20);
    }

    /**
     * Kernel arguments in one native buffer, each at an 8-byte aligned slot, with the array of
     * slot addresses cuLaunchKernel reads. Reused per thread (the driver copies the values at launch).
     */
    static final class Args {
        private final BytePointer buf = new BytePointer(4096);
        private final LongPointer slots = new LongPointer(64);
        final PointerPointer<?> params = new PointerPointer<>(slots);
        private int n;
        private long off;

        Args reset() { n = 0; off = 0; return this; }

        private long slot(int bytes) {
            if (n == 64 || off + bytes > 4096) throw new IllegalStateException("too many kernel arguments");
            long o = off;
            slots.put(n++, buf.address() + o);
            off = (o + bytes + 7) & ~7L;
            return o;
        }

        Args ptr(Pointer p) { buf.putLong(slot(8), address(p)); return this; }
        Args i32(int v) { buf.putInt(slot(4), v); return this; }
        Args i64(long v) { buf.putLong(slot(8), v); return this; }
        Args f64(double v) { buf.putDouble(slot(8), v); return this; }

        /** a struct of ints passed by value */
        Args ints(int... v) {
            long o = slot(4 * v.length);
            for (int i = 0; i < v.length; i++) buf.putInt(o + 4L * i, v[i]);
            return this;
        }
    }

    /** the device address a (byte-positioned) pointer stands for; 0 for null */
    static long address(Pointer p) {
        return p == null || p.isNull() ? 0 : p.address() + p.position() * p.sizeof();
    }

    // ------------------------------------------------------------------ lanes: stream, cuBLAS, pinned buffer

    /** what one thread uses: its stream, its cuBLAS and cuDNN handles (lazily), its pinned staging buffer */
    static final class Lane {
        final CUstream_st stream;
        /** the stream's address: the allocator's name for it */
        final long id;
        cublasContext blas;
        /** the thread's cuDNN handle on this stream (a cudnnContext, made by {@link Cudnn}), or null */
        Object cudnn;
        Pointer pinned;
        long pinnedBytes;
        WeakReference<Thread> owner;

        Lane(CUstream_st stream) {
            this.stream = stream;
            this.id = stream.address();
        }
    }

    /** the pinned staging buffer grows up to this size; larger transfers go in pieces */
    static final long PINNED_MAX = 64L << 20;

    /** this thread's lane, made (or adopted from a thread that has ended) on first use */
    Lane lane() {
        Lane l = lane.get();
        if (l != null) return l;
        bind();
        synchronized (lanes) {
            for (Lane x : lanes) {
                Thread t = x.owner.get();
                if (t == null || !t.isAlive()) { l = x; break; }
            }
            if (l == null) {
                CUstream_st s = new CUstream_st();
                rt(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
                l = new Lane(s);
                lanes.add(l);
            }
            l.owner = new WeakReference<>(Thread.currentThread());
        }
        lane.set(l);
        return l;
    }

    /** the stream of this thread (created on first use): for cuDNN handles and other libraries */
    CUstream_st stream() { return lane().stream; }

    /** the allocator's id of this thread's stream, or 0 when this thread has queued nothing */
    long streamIdOrZero() {
        Lane l = lane.get();
        return l == null ? 0 : l.id;
    }

    /** this thread's cuBLAS handle, on its stream */
    cublasContext blas() {
        Lane l = lane();
        if (l.blas == null) l.blas = newBlasHandle(l.stream);
        return l.blas;
    }

    private cublasContext newBlasHandle(CUstream_st s) {
        cublasContext h = new cublasContext();
        blasCheck(cublasCreate_v2(h), "cublasCreate");
        blasCheck(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        blasCheck(cublasSetStream_v2(h, s), "cublasSetStream");
        return h;
    }

    /** waits for the work queued on this thread's stream */
    void synchronize() {
        Lane l = lane.get();
        if (l != null) rt(cudaStreamSynchronize(l.stream), "cudaStreamSynchronize");
    }

    /**
     * This thread's pinned host buffer of at least min(bytes, {@link #PINNED_MAX}) bytes (grown by
     * doubling); the caller moves at most {@link Pointer#capacity()} bytes through it at a time.
     */
    Pointer pinned(long bytes) {
        Lane l = lane();
        long want = Math.min(Math.max(bytes, 1), PINNED_MAX);
        if (l.pinnedBytes < want) {
            long size = Math.min(PINNED_MAX, Math.max(want, Math.max(64L << 10, 2 * l.pinnedBytes)));
            if (l.pinned != null) {
                rt(cudaFreeHost(l.pinned), "cudaFreeHost");
                l.pinned = null;
                l.pinnedBytes = 0;
            }
            Pointer p = new Pointer();
            int r = cudaMallocHost(p, size);
            if (r == cudaErrorMemoryAllocation)
                throw new OutOfMemoryError("pxprune: could not allocate " + size + " bytes of pinned host memory for transfers");
            rt(r, "cudaMallocHost(" + size + " bytes)");
            l.pinned = new DevicePointer(p.address(), size);
            l.pinnedBytes = size;
        }
        return l.pinned;
    }

    // ------------------------------------------------------------------ memory

    /** device memory for this thread's stream, from the caching allocator (contents undefined) */
    Pointer malloc(long bytes) {
        return new DevicePointer(allocator.allocate(bytes, lane().id), Math.max(bytes, 0));
    }

    /** back to the allocator, ordered after the work this thread queued (see {@link CachingAllocator}) */
    void free(Pointer p) { allocator.free(address(p), streamIdOrZero()); }

    /** notes that this thread's stream uses p, which another thread's stream allocated and will free */
    void recordUse(Pointer p) { allocator.recordStream(address(p), lane().id); }

    /** temporary device memory (workspace): from the allocator, like any buffer */
    Pointer scratch(long bytes) { return malloc(bytes); }

    void freeScratch(Pointer p) { free(p); }

    /** a Pointer standing for an address (device memory, pinned memory, a stream) */
    static final class DevicePointer extends Pointer {
        DevicePointer(long address, long bytes) {
            this.address = address;
            this.capacity = bytes;
            this.limit = bytes;
        }
    }

    /** the allocator's view of the CUDA runtime */
    private final class RuntimeDriver implements CachingAllocator.Driver {
        private final ArrayDeque<CUevent_st> events = new ArrayDeque<>();

        @Override public long malloc(long bytes) {
            bind();
            Pointer p = new Pointer();
            int r = cudaMalloc(p, bytes);
            if (r == cudaErrorMemoryAllocation) {
                cudaGetLastError(); // not sticky; clear it
                return 0;
            }
            rt(r, "cudaMalloc(" + bytes + " bytes)");
            return p.address();
        }

        @Override public void free(long address) {
            bind();
            rt(cudaFree(new DevicePointer(address, 0)), "cudaFree");
        }

        @Override public Object record(long stream) {
            CUevent_st e = events.poll();
            if (e == null) {
                e = new CUevent_st();
                rt(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
            }
            rt(cudaEventRecord(e, new CUstream_st(new DevicePointer(stream, 0))), "cudaEventRecord");
            return e;
        }

        @Override public boolean done(Object event) {
            int r = cudaEventQuery((CUevent_st) event);
            if (r == cudaErrorNotReady) {
                cudaGetLastError();
                return false;
            }
            rt(r, "cudaEventQuery");
            return true;
        }

        @Override public void release(Object event) { events.push((CUevent_st) event); }

        @Override public void synchronize() {
            bind();
            rt(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        }

        @Override public String name() { return deviceName; }
    }

    // ------------------------------------------------------------------ errors

    static void drv(int r, String what) {
        if (r != CUDA_SUCCESS) throw new IllegalStateException("CUDA " + what + " failed: " + errorName(r));
    }

    static String errorName(int r) {
        try (PointerPointer<?> name = new PointerPointer<>(1); PointerPointer<?> desc = new PointerPointer<>(1)) {
            String n = cuGetErrorName(r, name) == CUDA_SUCCESS ? name.getString(0) : "CUresult " + r;
            String d = cuGetErrorString(r, desc) == CUDA_SUCCESS ? desc.getString(0) : null;
            return d == null ? n : n + " (" + d + ")";
        }
    }

    static void rt(int r, String what) {
        if (r != 0) {
            BytePointer n = cudaGetErrorName(r), d = cudaGetErrorString(r);
            throw new IllegalStateException("CUDA " + what + " failed: " + (n == null ? "error " + r : n.getString())
                    + (d == null ? "" : " (" + d.getString() + ")"));
        }
    }

    static void blasCheck(int r, String what) {
        if (r != 0) {
            BytePointer s = cublasGetStatusString(r);
            throw new IllegalStateException("cuBLAS " + what + " failed: " + (s == null ? "status " + r : s.getString()));
        }
    }

    /** why the CUDA libraries could not be loaded, in words */
    static String libraryMessage(Throwable e) {
        String detail = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
            if (t.getMessage() != null) detail = t.getMessage();
        if (detail == null) detail = e.toString();
        if (detail.contains("libcuda.so"))
            return "the NVIDIA driver library libcuda.so.1 was not found (" + detail + "); install the NVIDIA driver"
                    + " (CUDA 13 or newer)";
        if (detail.contains("libcudart"))
            return "the CUDA 13 runtime library libcudart.so.13 was not found (" + detail + "); " + LIBS_HINT;
        if (detail.contains("libcublas"))
            return "cuBLAS 13 (libcublas.so.13, libcublasLt.so.13) was not found (" + detail + "); " + LIBS_HINT;
        return "the CUDA libraries (libcudart.so.13, cuBLAS 13: libcublas.so.13 and libcublasLt.so.13, optionally cuDNN 9)"
                + " could not be loaded (" + detail + "); " + LIBS_HINT;
    }

    /** where to put the CUDA libraries, for the messages that say one is missing */
    static final String LIBS_HINT = "point PXPRUNE_CUDA_LIBS or -Dpxprune.cuda.libs (':'-separated) at the folders holding"
            + " them, for instance PyTorch's site-packages/nvidia/*/lib (pip install nvidia-cuda-runtime nvidia-cublas"
            + " nvidia-cudnn-cu13), or put them on LD_LIBRARY_PATH";

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @Override public String toString() {
        return deviceName + " (device " + device + ", compute capability " + ccMajor + "." + ccMinor + ", driver CUDA "
                + version(driverVersion) + ", " + (nativeModules.isEmpty() ? "PTX " + arch
                        : "native " + arch + " code for " + String.join("+", nativeModules)) + ", gemm: "
                + (cublasMissing == null ? "cuBLAS" : "pxprune's kernel, no cuBLAS: " + cublasMissing)
                + ", conv: " + route(convChoice, "gemm", "pxprune.cuda.conv", "im2col+gemm")
                + ", batch norm: " + route(bnChoice, "own", "pxprune.cuda.bn", "pxprune's kernels") + ")";
    }
}
