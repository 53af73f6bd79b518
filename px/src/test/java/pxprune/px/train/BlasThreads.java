package pxprune.px.train;

import org.bytedeco.openblas.global.openblas;

/**
 * The small training tests run OpenBLAS on one thread (restored afterwards): their matrices are
 * tiny, and on a loaded two-core machine OpenBLAS's thread pool competing with OpenMP's makes them
 * an order of magnitude slower. Results do not depend on it.
 */
final class BlasThreads {
    private static int saved = -1;

    private BlasThreads() {}

    static synchronized void one() {
        if (saved < 0) saved = openblas.blas_get_num_threads();
        openblas.blas_set_num_threads(1);
    }

    static synchronized void restore() {
        if (saved > 0) openblas.blas_set_num_threads(saved);
        saved = -1;
    }
}
