package pxprune.kernels.cuda;

import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;

/**
 * The CUDA side of a {@link pxprune.kernels.KernelExtension}: the kernels of a module above the engine,
 * compiled by native/src/main/cuda/build-ptx.sh into that module's resources (its PTX, sm_90 cubins
 * and ptx-build.properties under one folder), loaded into the CUDA backend's context and launched by
 * name on the calling thread's stream, as the backend launches its own. Every kernel takes
 * {@link #BLOCK} threads per block.
 */
public final class CudaKernels {
    /** threads per block of every launch (PXC_BLOCK in pxcuda.cuh) */
    public static final int BLOCK = Cuda.BLOCK;

    private final Cuda cuda;

    private CudaKernels(Cuda cuda) { this.cuda = cuda; }

    /**
     * The kernels built into resource folder dir (e.g. {@code /pxprune/cuda/}) beside class owner,
     * loaded once per process into the context of backend (a CUDA backend's device); throws
     * IllegalStateException with the reason when CUDA or the kernels cannot be used (not compiled:
     * the module was built without nvcc).
     */
    public static CudaKernels load(Backend backend, Class<?> owner, String dir) {
        if (!(backend instanceof CudaBackend b))
            throw new IllegalArgumentException("CUDA kernels need a CUDA backend, got " + backend.device());
        Cuda c = b.cuda;
        c.loadModules(owner, dir);
        return new CudaKernels(c);
    }

    /** a kernel's arguments, in order (the calling thread's buffer: fill it and launch at once) */
    public Args args() { return new Args(cuda.args()); }

    /** launches kernel on a grid of blocks x by x bz blocks */
    public void launch(String kernel, long blocks, int by, int bz, Args a) { cuda.launch(kernel, blocks, by, bz, a.args); }

    /** a 1-D grid-stride launch over n elements */
    public void launch1d(String kernel, long n, Args a) { cuda.launch1d(kernel, n, a.args); }

    /** Kernel arguments, each passed by value: device pointers, integers, doubles, structs of ints. */
    public static final class Args {
        private final Cuda.Args args;

        private Args(Cuda.Args args) { this.args = args; }

        /** a device pointer (null: 0) */
        public Args ptr(Pointer p) { args.ptr(p); return this; }

        public Args i32(int v) { args.i32(v); return this; }

        public Args i64(long v) { args.i64(v); return this; }

        public Args f64(double v) { args.f64(v); return this; }

        /** a struct of ints passed by value */
        public Args ints(int... v) { args.ints(v); return this; }
    }
}
