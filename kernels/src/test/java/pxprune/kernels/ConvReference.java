package pxprune.kernels;

/** Convolutions as direct loops over their sums (float64): the reference the convolution kernels are tested against. */
public final class ConvReference {
    private ConvReference() {}

    /** y[n,k,oh,ow] = sum of w[k,cl,ki,kj] x[n, group*cg+cl, ih, iw] */
    public static double[] conv(ConvGeometry g, double[] x, double[] w) {
        int cg = g.c() / g.groups(), kg = g.k() / g.groups();
        double[] y = new double[g.n() * g.k() * g.oh() * g.ow()];
        for (int n = 0; n < g.n(); n++) for (int k = 0; k < g.k(); k++) for (int oh = 0; oh < g.oh(); oh++)
            for (int ow = 0; ow < g.ow(); ow++) {
                double s = 0;
                for (int cl = 0; cl < cg; cl++) for (int ki = 0; ki < g.kh(); ki++) for (int kj = 0; kj < g.kw(); kj++) {
                    int ih = oh * g.sh() - g.ph() + ki * g.dh(), iw = ow * g.sw() - g.pw() + kj * g.dw();
                    if (ih < 0 || ih >= g.h() || iw < 0 || iw >= g.w()) continue;
                    int c = k / kg * cg + cl;
                    s += w[((k * cg + cl) * g.kh() + ki) * g.kw() + kj] * x[((n * g.c() + c) * g.h() + ih) * g.w() + iw];
                }
                y[((n * g.k() + k) * g.oh() + oh) * g.ow() + ow] = s;
            }
        return y;
    }

    /** gx (transpose of conv) and the weight gradient gw for upstream gy */
    public static double[][] convBackward(ConvGeometry g, double[] x, double[] w, double[] gy) {
        int cg = g.c() / g.groups(), kg = g.k() / g.groups();
        double[] gx = new double[x.length], gw = new double[w.length];
        for (int n = 0; n < g.n(); n++) for (int k = 0; k < g.k(); k++) for (int oh = 0; oh < g.oh(); oh++)
            for (int ow = 0; ow < g.ow(); ow++) {
                double u = gy[((n * g.k() + k) * g.oh() + oh) * g.ow() + ow];
                for (int cl = 0; cl < cg; cl++) for (int ki = 0; ki < g.kh(); ki++) for (int kj = 0; kj < g.kw(); kj++) {
                    int ih = oh * g.sh() - g.ph() + ki * g.dh(), iw = ow * g.sw() - g.pw() + kj * g.dw();
                    if (ih < 0 || ih >= g.h() || iw < 0 || iw >= g.w()) continue;
                    int xi = ((n * g.c() + k / kg * cg + cl) * g.h() + ih) * g.w() + iw;
                    int wi = ((k * cg + cl) * g.kh() + ki) * g.kw() + kj;
                    gx[xi] += w[wi] * u;
                    gw[wi] += x[xi] * u;
                }
            }
        return new double[][] {gx, gw};
    }
}
