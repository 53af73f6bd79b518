package pxprune.experiments.ntk;

import java.util.Arrays;

/**
 * Eigenvalues of real symmetric matrices in float64: Householder reduction to tridiagonal form,
 * then the implicit QL algorithm with Wilkinson-type shifts (as EISPACK's tred/tql); and, for
 * small matrices, cyclic Jacobi rotations with eigenvectors (Lanczos' Ritz vectors).
 */
public final class SymmetricEigen {
    private SymmetricEigen() {}

    /** all eigenvalues of the symmetric matrix a (only its lower triangle is read), descending */
    public static double[] eigenvalues(double[][] a) {
        int n = a.length;
        for (double[] r : a) if (r.length != n) throw new IllegalArgumentException("eigenvalues: the matrix is not square");
        double[][] m = new double[n][];
        for (int i = 0; i < n; i++) {
            m[i] = new double[n];
            for (int j = 0; j <= i; j++) {
                if (!Double.isFinite(a[i][j])) throw new ArithmeticException("eigenvalues: entry (" + i + ", " + j + ") is " + a[i][j]);
                m[i][j] = a[i][j];
                m[j][i] = a[i][j];
            }
        }
        double scale = 0; // to a largest entry of 1: the Householder norms would underflow on a kernel of 1e-160
        for (double[] r : m) for (double v : r) scale = Math.max(scale, Math.abs(v));
        if (scale == 0) return new double[n];
        for (double[] r : m) for (int j = 0; j < n; j++) r[j] /= scale;
        double[] d = new double[n], e = new double[n];
        tridiagonalize(m, d, e);
        double[] ev = tridiagonalEigenvalues(d, e);
        for (int i = 0; i < n; i++) ev[i] *= scale;
        return ev;
    }

    /** Householder: m (overwritten) = Q T Q^T; d the diagonal of T, e[i] the (i, i+1) entry (e[n-1] = 0) */
    static void tridiagonalize(double[][] m, double[] d, double[] e) {
        int n = m.length;
        double[] v = new double[n], q = new double[n];
        for (int c = 0; c < n - 2; c++) {
            int s = c + 1;
            double norm = 0;
            for (int i = s; i < n; i++) norm = Math.hypot(norm, m[i][c]);
            if (norm == 0) { e[c] = 0; continue; }
            double alpha = m[s][c] > 0 ? -norm : norm;
            for (int i = s; i < n; i++) v[i] = m[i][c];
            v[s] -= alpha;
            double vn = 0;
            for (int i = s; i < n; i++) vn += v[i] * v[i];
            vn = Math.sqrt(vn);
            if (vn == 0) { e[c] = m[s][c]; continue; }
            for (int i = s; i < n; i++) v[i] /= vn;
            // p = B v (B the trailing block), q = p - (v.p) v; B := B - 2 v q^T - 2 q v^T
            double vp = 0;
            for (int i = s; i < n; i++) {
                double sum = 0;
                double[] mi = m[i];
                for (int j = s; j < n; j++) sum += mi[j] * v[j];
                q[i] = sum;
                vp += v[i] * sum;
            }
            for (int i = s; i < n; i++) q[i] -= vp * v[i];
            for (int i = s; i < n; i++) {
                double[] mi = m[i];
                double vi = v[i], qi = q[i];
                for (int j = s; j < n; j++) mi[j] -= 2 * (vi * q[j] + qi * v[j]);
            }
            e[c] = alpha;
        }
        for (int i = 0; i < n; i++) d[i] = m[i][i];
        if (n >= 2) e[n - 2] = m[n - 1][n - 2];
        if (n >= 1) e[n - 1] = 0;
    }

    /**
     * Eigenvalues of the symmetric tridiagonal matrix (diagonal d, off-diagonal e[i] = T[i][i+1]),
     * descending; d, e copied. T is first scaled to a largest entry of 1 (the kernels of heavily
     * pruned networks have entries of 1e-13 or less, whose squares in the rotations would
     * underflow), and an off-diagonal entry is negligible when it is below 2^-53 of its two
     * diagonal neighbours or below 2^-60 of the largest entry (deflation at the matrix's norm).
     */
    public static double[] tridiagonalEigenvalues(double[] diag, double[] off) {
        int n = diag.length;
        double[] d = diag.clone(), e = Arrays.copyOf(off, n);
        if (n > 0) e[n - 1] = 0;
        double scale = 0;
        for (int i = 0; i < n; i++) scale = Math.max(scale, Math.max(Math.abs(d[i]), Math.abs(e[i])));
        if (!Double.isFinite(scale)) throw new ArithmeticException("eigenvalues: the matrix has a non-finite entry");
        if (scale == 0) return d; // the zero matrix
        for (int i = 0; i < n; i++) { d[i] /= scale; e[i] /= scale; }
        for (int l = 0; l < n; l++) {
            int iter = 0, m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= 0x1p-53 * dd || Math.abs(e[m]) <= 0x1p-60) break;
                }
                if (m != l) {
                    if (iter++ == 100) throw new ArithmeticException("tridiagonal QL did not converge in 100 iterations");
                    double g = (d[l + 1] - d[l]) / (2 * e[l]);
                    double r = Math.hypot(g, 1);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1, c = 1, p = 0;
                    int i;
                    boolean underflow = false;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i], b = c * e[i];
                        r = Math.hypot(f, g);
                        e[i + 1] = r;
                        if (r == 0) {
                            d[i + 1] -= p;
                            e[m] = 0;
                            underflow = true;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                    }
                    if (underflow) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0;
                }
            } while (m != l);
        }
        for (int i = 0; i < n; i++) d[i] *= scale;
        return descending(d);
    }

    static double[] descending(double[] d) {
        double[] s = d.clone();
        Arrays.sort(s);
        for (int i = 0, j = s.length - 1; i < j; i++, j--) { double t = s[i]; s[i] = s[j]; s[j] = t; }
        return s;
    }

    /**
     * Cyclic Jacobi: eigenvalues (descending) and eigenvectors (columns of vectors[][], in the same
     * order) of a small symmetric matrix; a is not changed.
     */
    public record Decomposition(double[] values, double[][] vectors) {}

    public static Decomposition jacobi(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        for (int i = 0; i < n; i++) m[i] = a[i].clone();
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) v[i][i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, all = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    all += m[i][j] * m[i][j];
                    if (i != j) off += m[i][j] * m[i][j];
                }
            if (off <= 1e-32 * all || off == 0) break;
            for (int pi = 0; pi < n - 1; pi++)
                for (int qi = pi + 1; qi < n; qi++) {
                    double apq = m[pi][qi];
                    if (apq == 0) continue;
                    double theta = (m[qi][qi] - m[pi][pi]) / (2 * apq);
                    double t = Math.copySign(1, theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int r = 0; r < n; r++) {
                        double mrp = m[r][pi], mrq = m[r][qi];
                        m[r][pi] = c * mrp - s * mrq;
                        m[r][qi] = s * mrp + c * mrq;
                    }
                    for (int r = 0; r < n; r++) {
                        double mpr = m[pi][r], mqr = m[qi][r];
                        m[pi][r] = c * mpr - s * mqr;
                        m[qi][r] = s * mpr + c * mqr;
                    }
                    for (int r = 0; r < n; r++) {
                        double vrp = v[r][pi], vrq = v[r][qi];
                        v[r][pi] = c * vrp - s * vrq;
                        v[r][qi] = s * vrp + c * vrq;
                    }
                }
        }
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        Arrays.sort(idx, (x, y) -> Double.compare(m[y][y], m[x][x]));
        double[] vals = new double[n];
        double[][] vecs = new double[n][n];
        for (int c = 0; c < n; c++) {
            vals[c] = m[idx[c]][idx[c]];
            for (int r = 0; r < n; r++) vecs[r][c] = v[r][idx[c]];
        }
        return new Decomposition(vals, vecs);
    }
}
