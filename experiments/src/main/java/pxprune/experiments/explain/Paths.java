package pxprune.experiments.explain;

import java.util.ArrayList;
import java.util.List;

/**
 * PX by its definition, for a bias-free chain of linear layers with a ReLU after each but the
 * last: every input-output path listed, and z1, z2, w, R and the scores summed path by path
 * (docs/px-method.md#idea). This is {@code explain}'s check of what PxScorer computed; it
 * shares no code with it. A path is its units {@code s, u1, .., k} (one per layer boundary); it
 * is kept when every weight on it is kept.
 */
final class Paths {
    /** one path: its units, its value v_p = product of theta*m, and a_p(x) x_s^2 per sample */
    record Path(int[] units, double value, double[] activation) {}

    final double[][][] theta, mask; // [layer][out][in]
    final double[][] x;              // [sample][input]
    final List<Path> kept = new ArrayList<>();
    final int all;
    final double[][] z1;             // [sample][output]
    final double[] z2, w;
    final double r;
    final double[][][] scores;       // [layer][out][in]

    Paths(double[][][] theta, double[][][] mask, double[][] x) {
        this.theta = theta;
        this.mask = mask;
        this.x = x;
        int layers = theta.length, outputs = theta[layers - 1].length;
        double[][][] gates = new double[x.length][][];
        for (int n = 0; n < x.length; n++) gates[n] = gates(x[n]);
        int count = 0;
        // every sequence of units is a path of the fully connected chain
        int[] sizes = new int[layers + 1];
        sizes[0] = theta[0][0].length;
        for (int l = 0; l < layers; l++) sizes[l + 1] = theta[l].length;
        int[] u = new int[layers + 1];
        while (true) {
            count++;
            double v = 1, m = 1;
            for (int l = 0; l < layers; l++) {
                v *= theta[l][u[l + 1]][u[l]] * mask[l][u[l + 1]][u[l]];
                m *= mask[l][u[l + 1]][u[l]];
            }
            if (m != 0) {
                double[] a = new double[x.length];
                for (int n = 0; n < x.length; n++) {
                    double g = 1;
                    for (int l = 0; l < layers - 1; l++) g *= gates[n][l][u[l + 1]];
                    a[n] = g * x[n][u[0]] * x[n][u[0]];
                }
                kept.add(new Path(u.clone(), v, a));
            }
            int d = layers; // next sequence, the last unit fastest
            while (d >= 0 && ++u[d] == sizes[d]) u[d--] = 0;
            if (d < 0) break;
        }
        all = count;
        z1 = new double[x.length][outputs];
        z2 = new double[outputs];
        for (Path p : kept) {
            int k = p.units()[layers];
            for (int n = 0; n < x.length; n++) z1[n][k] += p.activation()[n];
            z2[k] += p.value() * p.value();
        }
        double[] sum = new double[outputs];
        for (double[] row : z1) for (int k = 0; k < outputs; k++) sum[k] += row[k];
        double max = 0;
        for (double s : sum) max = Math.max(max, s);
        w = new double[outputs];
        for (int k = 0; k < outputs; k++) w[k] = sum[k] / max;
        scores = new double[layers][][];
        for (int l = 0; l < layers; l++) scores[l] = new double[theta[l].length][theta[l][0].length];
        double rr = 0;
        for (Path p : kept) {
            double c = w[p.units()[layers]] * p.value() * p.value();
            rr += c;
            for (int l = 0; l < layers; l++) scores[l][p.units()[l + 1]][p.units()[l]] += c;
        }
        r = rr;
    }

    /** gates[l][unit] = 1[z > 0] after hidden layer l, from the network at theta*m on one sample */
    private double[][] gates(double[] in) {
        double[][] g = new double[theta.length - 1][];
        double[] h = in;
        for (int l = 0; l < theta.length - 1; l++) {
            double[] z = new double[theta[l].length];
            for (int o = 0; o < z.length; o++)
                for (int i = 0; i < h.length; i++) z[o] += theta[l][o][i] * mask[l][o][i] * h[i];
            g[l] = new double[z.length];
            for (int o = 0; o < z.length; o++) {
                g[l][o] = z[o] > 0 ? 1 : 0;
                z[o] = Math.max(0, z[o]);
            }
            h = z;
        }
        return g;
    }
}
