package pxprune.experiments.ntk;

import java.io.PrintStream;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.methods.px.PxBound;
import pxprune.px.ScoringData;

/**
 * The empirical neural tangent kernel of a model on a sample (docs/ntk.md): its exact trace, its
 * top-k eigenvalues by Lanczos on Theta v = J (J^T v), the full spectrum and the true condition
 * number when the kernel is small enough to form, and PX's upper bound on the trace.
 *
 * <pre>
 * try (MemoryScope s = MemoryScope.open()) {
 *     NtkResult r = Ntk.compute(model, masksOrNull, x, Ntk.Options.defaults());
 * }
 * </pre>
 * The model is evaluated in eval mode on copies of its tensors and left as it was; every native
 * buffer is freed before compute returns.
 */
public final class Ntk {
    private Ntk() {}

    /**
     * @param top            k, the eigenvalues wanted (Lanczos)
     * @param precision      F64 (default) or F32: the type of the copies f is evaluated with
     * @param allParameters  false (default): theta = the prunable weights at theta*m; true: also biases and batch-norm affine
     * @param seed           Lanczos' starting vector
     * @param maxIterations  Lanczos' operator applications at most (each one forward and two backward passes)
     * @param tolerance      Lanczos stops when the top-k residual bounds are at most tolerance * lambda_1
     * @param explicitRows   the kernel is formed (full spectrum, true condition number) when N*K is at most this ...
     * @param explicitBytes  ... and the Jacobian N*K x P fits this many bytes
     * @param pxBound        whether to compute PX's bound
     * @param chunk          samples per batch pass (memory only)
     * @param progress       progress lines (stderr), or null
     * @param label          the network's name in progress lines
     */
    public record Options(int top, DType precision, boolean allParameters, long seed, int maxIterations, double tolerance,
                          int explicitRows, long explicitBytes, boolean pxBound, int chunk, PrintStream progress, String label) {
        public Options {
            if (top < 1) throw new IllegalArgumentException("NTK: top must be >= 1, got " + top);
            if (precision != DType.F64 && precision != DType.F32)
                throw new IllegalArgumentException("NTK: precision must be F32 or F64, got " + precision);
            if (maxIterations < 1) throw new IllegalArgumentException("NTK: maxIterations must be >= 1, got " + maxIterations);
            if (!(tolerance > 0)) throw new IllegalArgumentException("NTK: tolerance must be > 0, got " + tolerance);
            if (chunk < 1) throw new IllegalArgumentException("NTK: chunk must be >= 1, got " + chunk);
            if (label == null) label = "";
        }

        public static Options defaults() {
            return new Options(10, DType.F64, false, 1, 300, 1e-12, 2000, 1L << 30, true, 32, null, "");
        }

        public Options withTop(int k) { return new Options(k, precision, allParameters, seed, maxIterations, tolerance, explicitRows, explicitBytes, pxBound, chunk, progress, label); }
        public Options withPrecision(DType d) { return new Options(top, d, allParameters, seed, maxIterations, tolerance, explicitRows, explicitBytes, pxBound, chunk, progress, label); }
        public Options withAllParameters(boolean a) { return new Options(top, precision, a, seed, maxIterations, tolerance, explicitRows, explicitBytes, pxBound, chunk, progress, label); }
        public Options withSeed(long s) { return new Options(top, precision, allParameters, s, maxIterations, tolerance, explicitRows, explicitBytes, pxBound, chunk, progress, label); }
        public Options withMaxIterations(int m) { return new Options(top, precision, allParameters, seed, m, tolerance, explicitRows, explicitBytes, pxBound, chunk, progress, label); }
        public Options withExplicit(int rows, long bytes) { return new Options(top, precision, allParameters, seed, maxIterations, tolerance, rows, bytes, pxBound, chunk, progress, label); }
        public Options withPxBound(boolean b) { return new Options(top, precision, allParameters, seed, maxIterations, tolerance, explicitRows, explicitBytes, b, chunk, progress, label); }
        public Options withProgress(PrintStream p, String l) { return new Options(top, precision, allParameters, seed, maxIterations, tolerance, explicitRows, explicitBytes, pxBound, chunk, p, l); }
    }

    /** the NTK of model (at theta*m when masks is not null) on the samples x [N, ...] (F32 or F64) */
    public static NtkResult compute(Module model, Masks masks, Tensor x, Options o) {
        long t0 = System.nanoTime();
        double density = masks == null ? 1 : masks.density();
        try (MemoryScope s = MemoryScope.open(); NtkOperator op = new NtkOperator(model, masks, x, o.precision(), o.allParameters(), o.chunk())) {
            int rows = op.rows();
            boolean explicit = rows <= o.explicitRows() && (double) rows * op.parameters() * o.precision().size <= o.explicitBytes();
            double trace;
            double[] spectrum = null;
            if (explicit) {
                double[][] th = op.kernel(o.progress(), o.label());
                trace = 0;
                for (int i = 0; i < rows; i++) trace += th[i][i];
                spectrum = SymmetricEigen.eigenvalues(th);
            } else {
                trace = op.trace(o.progress(), o.label());
            }
            long t1 = System.nanoTime();
            PrintStream pr = o.progress();
            Lanczos.Result lz = Lanczos.topK(op::apply, rows, o.top(), o.maxIterations(), o.tolerance(), o.seed(),
                    it -> { if (pr != null && it % 10 == 0) pr.printf("[ntk %s] Lanczos: %d iterations%n", o.label(), it); });
            double[] top = lz.values();
            double condition;
            boolean full;
            if (spectrum != null) {
                double max = spectrum[0], min = spectrum[spectrum.length - 1];
                // an eigenvalue at rounding level of lambda_max (or below zero by rounding) is a zero: singular
                double floor = 16 * max * rows * (o.precision() == DType.F32 ? 0x1p-23 : 0x1p-52);
                condition = min > floor ? max / min : Double.POSITIVE_INFINITY;
                full = true;
            } else {
                double last = top[top.length - 1];
                condition = last > 0 ? top[0] / last : Double.POSITIVE_INFINITY;
                full = false;
            }
            double bound = Double.NaN;
            if (o.pxBound()) {
                try (MemoryScope b = MemoryScope.open()) {
                    Tensor x32;
                    try (GradMode g = GradMode.noGrad()) { x32 = x.dtype() == DType.F32 ? x : Ops.to(x, DType.F32); }
                    Masks m = masks != null ? masks : Masks.ones(model);
                    bound = PxBound.of(model, m, new ScoringData(x32, new int[x.size(0)], 1, 0, Math.min(o.chunk(), x.size(0))));
                }
            }
            long t2 = System.nanoTime();
            if (pr != null)
                pr.printf(java.util.Locale.ROOT, "[ntk %s] trace %.6g, lambda_1 %.6g (%d Lanczos iterations), %.1fs%n", o.label(), trace,
                        top[0], lz.iterations(), (t2 - t0) / 1e9);
            return new NtkResult(op.samples(), op.outputs(), op.parameters(), op.keptParameters(), density, o.precision(),
                    o.allParameters(), trace, top, lz.residuals(), lz.iterations(), lz.converged(), spectrum, condition, full, bound,
                    op.pathTheorem(), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }
    }
}
