package pxprune.experiments.ntk;

import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.kernels.DType;

/**
 * The NTK of one network on one sample (docs/ntk.md).
 *
 * @param samples          N
 * @param outputs          K, outputs per sample (the kernel is N*K x N*K)
 * @param parameters       P, parameter entries (pruned ones included)
 * @param keptParameters   entries that are parameters (not pruned)
 * @param density          the masks' fraction of prunable weights kept (1 when dense)
 * @param trace            tr Theta, exact: the sum of squared per-sample gradients
 * @param top              the top-k eigenvalues from Lanczos, descending
 * @param residuals        their Lanczos residual bounds
 * @param lanczosIterations operator applications
 * @param lanczosConverged whether every residual bound met the tolerance
 * @param spectrum         all eigenvalues of the explicit kernel, descending, or null when it was too large to form
 * @param condition        lambda_max / lambda_min of the full spectrum when conditionFull, else lambda_1 / lambda_k of
 *                         the top k; +Infinity when that smallest eigenvalue is zero (to rounding)
 * @param pxBound          PX's upper bound on the trace (NaN when not computed)
 * @param pxBoundTheorem   whether the network is one the bound is a theorem for (bias-free ReLU, no batch norm, no max pooling)
 */
public record NtkResult(int samples, int outputs, long parameters, long keptParameters, double density, DType precision,
                        boolean allParameters, double trace, double[] top, double[] residuals, int lanczosIterations,
                        boolean lanczosConverged, double[] spectrum, double condition, boolean conditionFull, double pxBound,
                        boolean pxBoundTheorem, double kernelSeconds, double spectrumSeconds) {

    /** trace / pxBound (NaN without a bound) */
    public double boundRatio() { return pxBound > 0 ? trace / pxBound : Double.NaN; }

    /** a JSON-ready map (numbers, booleans, lists); non-finite numbers as strings "inf", "nan" */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", samples);
        m.put("outputs", outputs);
        m.put("parameters", parameters);
        m.put("kept_parameters", keptParameters);
        m.put("density", density);
        m.put("precision", precision == DType.F64 ? "float64" : "float32");
        m.put("all_parameters", allParameters);
        m.put("trace", num(trace));
        m.put("top_eigenvalues", list(top));
        m.put("lanczos_residuals", list(residuals));
        m.put("lanczos_iterations", lanczosIterations);
        m.put("lanczos_converged", lanczosConverged);
        m.put("condition", num(condition));
        m.put("condition_kind", conditionFull ? "full spectrum" : "top-k (lambda_1 / lambda_k)");
        m.put("px_bound", num(pxBound));
        m.put("px_bound_theorem", pxBoundTheorem);
        m.put("trace_over_px_bound", num(boundRatio()));
        m.put("spectrum", spectrum == null ? null : list(spectrum));
        m.put("kernel_seconds", kernelSeconds);
        m.put("spectrum_seconds", spectrumSeconds);
        return m;
    }

    static Object num(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return v;
    }

    static java.util.List<Object> list(double[] v) {
        java.util.List<Object> l = new java.util.ArrayList<>();
        for (double d : v) l.add(num(d));
        return l;
    }
}
