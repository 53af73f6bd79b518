package pxprune.kernels.cuda;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the CUDA libraries come from. The JavaCPP presets carry only their JNI glue; the CUDA 13
 * runtime (libcudart.so.13), cuBLAS 13 (libcublas.so.13, libcublasLt.so.13) and cuDNN 9
 * (libcudnn*.so.9) are the system's. By default the presets find them on their own search path
 * (/usr/local/cuda/lib64 first, then the library path). Folders named by the system property
 * {@code pxprune.cuda.libs} or the environment variable {@code PXPRUNE_CUDA_LIBS}
 * (separated by ':') are loaded from first, in dependency order, so that a copy there wins: for
 * instance the lib folders of PyTorch's pip packages nvidia-cuda-runtime, nvidia-cublas and
 * nvidia-cudnn, or the CPU emulation of the driver the emulator tests use. cuDNN is optional: when one
 * of its libraries fails to load, the rest of cuDNN is skipped and {@link #cudnnFailure()} says why
 * (the backend then convolves with im2col + gemm).
 */
final class CudaLibraries {
    private CudaLibraries() {}

    /** in dependency order: each may need the ones before it */
    static final String[] LIBRARIES = {
            "libcuda.so.1", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13",
            "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
            "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9", "libcudnn.so.9"};

    private static boolean done;
    /** why a cuDNN library of the folders asked for did not load (cuDNN is optional: the backend then runs without it) */
    private static String cudnnFailure;

    /** the folders asked for, as given */
    static List<String> folders() {
        String s = System.getProperty("pxprune.cuda.libs", System.getenv("PXPRUNE_CUDA_LIBS"));
        List<String> out = new ArrayList<>();
        if (s != null) for (String f : s.split(":")) if (!f.isBlank()) out.add(f.trim());
        return out;
    }

    /** why a cuDNN library in the folders asked for failed to load (the later ones were then skipped), or null */
    static synchronized String cudnnFailure() { return cudnnFailure; }

    /** loads every CUDA library found in the folders asked for (once); a folder that does not exist is an error */
    static synchronized void preload() {
        if (done) return;
        done = true;
        List<String> folders = folders();
        for (String f : folders)
            if (!new File(f).isDirectory())
                throw new IllegalStateException("pxprune.cuda.libs / PXPRUNE_CUDA_LIBS names '" + f
                        + "', which is not a folder; give the folders holding libcudart.so.13 (and cuBLAS, cuDNN)");
        for (String lib : LIBRARIES)
            for (String f : folders) {
                File file = new File(f, lib);
                if (file.isFile()) {
                    if (!lib.startsWith("libcudnn")) System.load(file.getAbsolutePath());
                    else if (cudnnFailure == null) {
                        try {
                            System.load(file.getAbsolutePath());
                        } catch (UnsatisfiedLinkError e) {
                            cudnnFailure = file + ": " + e.getMessage();
                        }
                    }
                    break;
                }
            }
    }
}
