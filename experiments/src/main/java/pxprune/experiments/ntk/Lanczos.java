package pxprune.experiments.ntk;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The largest eigenvalues of a symmetric positive semi-definite operator A on R^n given only as
 * v -&gt; A v (docs/ntk.md#spectrum): Lanczos with full reorthogonalisation (each new vector
 * orthogonalised twice against every earlier one). After each step the Ritz values of the
 * tridiagonal T_m come with residual bounds ||A y - theta y|| = beta_m |s_m| (s_m the last
 * entry of the Ritz vector in T's basis); it stops when the top k bounds are at most
 * {@code tolerance * theta_1}, at maxIterations, or when the Krylov space is all of R^n. On a
 * breakdown (beta ~ 0: an invariant subspace) it restarts with a random vector orthogonal to
 * every earlier one, so eigenvalues missing from the first Krylov space are still found.
 */
public final class Lanczos {
    private Lanczos() {}

    /**
     * @param values     the top k Ritz values, descending (fewer if n &lt; k)
     * @param residuals  their residual bounds
     * @param iterations operator applications
     * @param converged  whether every bound met the tolerance (always true when the space was exhausted)
     */
    public record Result(double[] values, double[] residuals, int iterations, boolean converged) {}

    public static Result topK(UnaryOperator<double[]> a, int n, int k, int maxIterations, double tolerance, long seed,
                              java.util.function.IntConsumer onStep) {
        if (n < 1 || k < 1) throw new IllegalArgumentException("Lanczos: need n >= 1 and k >= 1, got n = " + n + ", k = " + k);
        if (maxIterations < 1) throw new IllegalArgumentException("Lanczos: maxIterations must be >= 1, got " + maxIterations);
        int kk = Math.min(k, n), maxIt = Math.min(maxIterations, n);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<double[]> q = new ArrayList<>();
        List<Double> alpha = new ArrayList<>(), beta = new ArrayList<>();
        double[] v = randomUnit(rnd, n, q);
        double[] values = new double[0], res = new double[0];
        boolean converged = false;
        double scale = 0;
        int it = 0;
        while (it < maxIt) {
            q.add(v);
            double[] w = a.apply(v);
            it++;
            if (onStep != null) onStep.accept(it);
            double al = dot(v, w);
            alpha.add(al);
            reorthogonalise(w, q);
            reorthogonalise(w, q);
            double b = Math.sqrt(dot(w, w));
            scale = Math.max(scale, Math.abs(al) + b);
            // Ritz values and residual bounds of T (m x m)
            int m = alpha.size();
            double[][] t = new double[m][m];
            for (int i = 0; i < m; i++) {
                t[i][i] = alpha.get(i);
                if (i + 1 < m) t[i][i + 1] = t[i + 1][i] = beta.get(i);
            }
            SymmetricEigen.Decomposition dec = SymmetricEigen.jacobi(t);
            int top = Math.min(kk, m);
            values = Arrays.copyOf(dec.values(), top);
            res = new double[top];
            boolean ok = m >= kk;
            for (int i = 0; i < top; i++) {
                res[i] = b * Math.abs(dec.vectors()[m - 1][i]);
                if (res[i] > tolerance * Math.abs(values[0])) ok = false;
            }
            if (q.size() == n) { converged = true; break; }
            boolean breakdown = b <= 1e-13 * scale;
            if (ok && !breakdown) { converged = true; break; }
            if (breakdown) {
                beta.add(0.0);
                v = randomUnit(rnd, n, q);
                if (v == null) { converged = true; break; } // numerically the whole space
            } else {
                beta.add(b);
                for (int i = 0; i < n; i++) w[i] /= b;
                v = w;
            }
        }
        return new Result(values, res, it, converged);
    }

    private static double[] randomUnit(SplittableRandom rnd, int n, List<double[]> q) {
        for (int attempt = 0; attempt < 5; attempt++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = rnd.nextDouble() - 0.5;
            reorthogonalise(v, q);
            reorthogonalise(v, q);
            double nv = Math.sqrt(dot(v, v));
            if (nv > 1e-8) {
                for (int i = 0; i < n; i++) v[i] /= nv;
                return v;
            }
        }
        return null;
    }

    private static void reorthogonalise(double[] w, List<double[]> q) {
        for (double[] qi : q) {
            double c = dot(qi, w);
            for (int i = 0; i < w.length; i++) w[i] -= c * qi[i];
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
