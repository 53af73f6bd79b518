package pxprune.experiments.ntk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The eigen-solvers against closed forms, at every scale a pruned network's kernel can have. */
class SymmetricEigenTest {
    /** the path graph's tridiagonal matrix c * tridiag(1, 0, 1): eigenvalues 2c cos(k pi / (n + 1)) */
    @Test void tridiagonalWithAZeroDiagonalAtAnyScale() {
        int n = 7;
        for (double c : new double[] {1e-250, 1e-13, 1, 1e200}) {
            double[] d = new double[n], e = new double[n];
            java.util.Arrays.fill(e, c);
            double[] ev = SymmetricEigen.tridiagonalEigenvalues(d, e);
            for (int k = 1; k <= n; k++)
                assertEquals(2 * c * Math.cos(k * Math.PI / (n + 1)), ev[k - 1], 1e-14 * c, "scale " + c + ", eigenvalue " + k);
        }
    }

    /** c u u^T: one eigenvalue c |u|^2, the rest 0, also when c is far below float64's normal range squared */
    @Test void rankOneKernelsOfAnyScale() {
        double[] u = {1, -2, 0.5, 3, 0, 1.5};
        double uu = 0;
        for (double v : u) uu += v * v;
        for (double c : new double[] {1e-280, 1e-13, 1e150}) {
            double[][] a = new double[u.length][u.length];
            for (int i = 0; i < u.length; i++) for (int j = 0; j < u.length; j++) a[i][j] = c * u[i] * u[j];
            double[] ev = SymmetricEigen.eigenvalues(a);
            assertEquals(c * uu, ev[0], 1e-13 * c * uu, "scale " + c);
            for (int k = 1; k < ev.length; k++) assertEquals(0, ev[k], 1e-13 * c * uu, "scale " + c + ", eigenvalue " + k);
        }
        double[] zero = SymmetricEigen.eigenvalues(new double[4][4]);
        for (double v : zero) assertEquals(0, v);
    }
}
