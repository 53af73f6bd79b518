package pxprune.experiments.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * An XY chart written as a PNG (AWT, headless): several named series, each a line with optional
 * markers and error bars, linear or log-10 axes, a legend on the right. The one chart type
 * behind every plot pxprune writes (density per round, accuracy against density, NTK spectra).
 *
 * <pre>{@code
 * new Chart("px on digits", "density", "test accuracy").logX()
 *     .series("px", xs, ys).errors(spread)
 *     .write(dir.resolve("accuracy.png"));
 * }</pre>
 */
public final class Chart {
    static final int W = 900, H = 560, LEFT = 80, RIGHT = 240, TOP = 40, BOTTOM = 55;

    /** one line of the chart */
    public final class Series {
        final String name;
        final double[] x, y;
        double[] err;
        Color color;
        float width = 1.5f;
        boolean markers;
        String note = "";

        Series(String name, double[] x, double[] y) {
            if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
            this.name = name;
            this.x = x.clone();
            this.y = y.clone();
        }

        /** symmetric error bars (e.g. the spread over seeds), one per point */
        public Series errors(double[] e) {
            if (e.length != y.length) throw new IllegalArgumentException("series " + name + ": " + e.length + " errors for " + y.length + " points");
            err = e.clone();
            return this;
        }

        public Series color(Color c) { color = c; return this; }

        public Series thick() { width = 3f; return this; }

        public Series markers() { markers = true; return this; }

        /** text after the name in the legend (e.g. the last value) */
        public Series note(String s) { note = s; return this; }

        /** back to the chart, to add the next series or write it */
        public Chart chart() { return Chart.this; }

        public Series series(String n, double[] xs, double[] ys) { return Chart.this.series(n, xs, ys); }

        public void write(Path png) throws IOException { Chart.this.write(png); }
    }

    private final String title, xLabel, yLabel;
    private boolean logX, logY;
    private final List<Series> series = new ArrayList<>();

    public Chart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public Chart logX() { logX = true; return this; }

    public Chart logY() { logY = true; return this; }

    public Series series(String name, double[] x, double[] y) {
        Series s = new Series(name, x, y);
        series.add(s);
        return s;
    }

    /** one axis: its range in plot units (log10 of the value on a log axis) */
    private record Axis(boolean log, double lo, double hi) {
        static Axis of(boolean log, List<double[]> values) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (double[] vs : values)
                for (double v : vs) {
                    if (!Double.isFinite(v) || (log && v <= 0)) continue;
                    double u = log ? Math.log10(v) : v;
                    lo = Math.min(lo, u);
                    hi = Math.max(hi, u);
                }
            if (lo > hi) { lo = 0; hi = 1; }
            if (log) { lo = Math.floor(lo); hi = Math.ceil(hi); }
            if (hi - lo < 1e-12) { lo -= log ? 1 : Math.max(0.5, Math.abs(lo) * 0.1); hi += log ? 1 : Math.max(0.5, Math.abs(hi) * 0.1); }
            else if (!log) { double pad = 0.05 * (hi - lo); lo -= pad; hi += pad; }
            return new Axis(log, lo, hi);
        }

        /** the value's position in [0, 1] along the axis, or NaN where it cannot be drawn */
        double frac(double v) {
            if (!Double.isFinite(v) || (log && v <= 0)) return Double.NaN;
            return ((log ? Math.log10(v) : v) - lo) / (hi - lo);
        }

        /** tick positions in value units */
        List<Double> ticks() {
            List<Double> t = new ArrayList<>();
            if (log) { // one tick per decade, or per few decades when they are many
                double step = Math.max(1, Math.ceil((hi - lo) / 12));
                for (double e = lo; e <= hi + 1e-9; e += step) t.add(Math.pow(10, e));
                return t;
            }
            double step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 5)));
            if ((hi - lo) / step > 10) step *= 2;
            if ((hi - lo) / step > 10) step *= 2.5;
            for (double v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
            return t;
        }

        String label(double v) {
            if (log) {
                long e = Math.round(Math.log10(v));
                return e == 0 ? "1" : e == 1 ? "10" : "1e" + e;
            }
            if (Math.abs(v) >= 1e4 || (v != 0 && Math.abs(v) < 1e-3)) return String.format(Locale.ROOT, "%.1e", v);
            String t = String.format(Locale.ROOT, "%.4g", v);
            return t.contains(".") ? t.replaceAll("0+$", "").replaceAll("\\.$", "") : t;
        }
    }

    public void write(Path png) throws IOException {
        List<double[]> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (Series s : series) {
            xs.add(s.x);
            ys.add(s.y);
            if (s.err != null) {
                double[] lo = new double[s.y.length], hi = new double[s.y.length];
                for (int i = 0; i < lo.length; i++) { lo[i] = s.y[i] - s.err[i]; hi[i] = s.y[i] + s.err[i]; }
                ys.add(lo);
                ys.add(hi);
            }
        }
        Axis ax = Axis.of(logX, xs), ay = Axis.of(logY, ys);
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (double t : ay.ticks()) {
                int y = TOP + (int) Math.round(ph * (1 - ay.frac(t)));
                g.setColor(new Color(225, 225, 225));
                g.drawLine(LEFT, y, LEFT + pw, y);
                g.setColor(Color.DARK_GRAY);
                String l = ay.label(t);
                Text.draw(g, l, LEFT - 8 - Text.width(g, l), y + 4);
            }
            for (double t : ax.ticks()) {
                int x = LEFT + (int) Math.round(pw * ax.frac(t));
                g.setColor(new Color(235, 235, 235));
                g.drawLine(x, TOP, x, TOP + ph);
                g.setColor(Color.DARK_GRAY);
                String l = ax.label(t);
                Text.draw(g, l, x - Text.width(g, l) / 2, TOP + ph + 16);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);
            String xl = xLabel + (logX ? " (log scale)" : "");
            Text.draw(g, xl, LEFT + pw / 2 - Text.width(g, xl) / 2, H - 15);
            Graphics2D gy = (Graphics2D) g.create();
            gy.rotate(-Math.PI / 2);
            String yl = yLabel + (logY ? " (log scale)" : "");
            Text.draw(gy, yl, -(TOP + ph / 2) - Text.width(gy, yl) / 2, 18);
            gy.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            Text.draw(g, title, LEFT, TOP - 15);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.setClip(LEFT, TOP, pw + 1, ph + 1);
            for (int k = 0; k < series.size(); k++) {
                Series s = series.get(k);
                g.setColor(s.color != null ? s.color : palette(k, series.size()));
                g.setStroke(new BasicStroke(s.width));
                int px = Integer.MIN_VALUE, py = 0;
                for (int i = 0; i < s.x.length; i++) {
                    double fx = ax.frac(s.x[i]), fy = ay.frac(s.y[i]);
                    if (Double.isNaN(fx) || Double.isNaN(fy)) { px = Integer.MIN_VALUE; continue; }
                    int x = LEFT + (int) Math.round(pw * fx), y = TOP + (int) Math.round(ph * (1 - fy));
                    if (px != Integer.MIN_VALUE) g.drawLine(px, py, x, y);
                    if (s.markers) g.fillOval(x - 3, y - 3, 7, 7);
                    if (s.err != null) {
                        double flo = ay.frac(s.y[i] - s.err[i]), fhi = ay.frac(s.y[i] + s.err[i]);
                        int ylo = Double.isNaN(flo) ? TOP + ph : TOP + (int) Math.round(ph * (1 - flo));
                        int yhi = Double.isNaN(fhi) ? TOP : TOP + (int) Math.round(ph * (1 - fhi));
                        g.setStroke(new BasicStroke(1f));
                        g.drawLine(x, ylo, x, yhi);
                        g.drawLine(x - 4, ylo, x + 4, ylo);
                        g.drawLine(x - 4, yhi, x + 4, yhi);
                        g.setStroke(new BasicStroke(s.width));
                    }
                    px = x;
                    py = y;
                }
            }
            g.setClip(null);
            for (int k = 0; k < series.size(); k++) {
                Series s = series.get(k);
                int ly = TOP + 12 + 14 * k;
                if (ly >= H - 10) break;
                g.setColor(s.color != null ? s.color : palette(k, series.size()));
                g.fillRect(W - RIGHT + 12, ly - 8, 10, 10);
                g.setColor(Color.BLACK);
                Text.draw(g, s.name + s.note, W - RIGHT + 26, ly + 1);
            }
        } finally {
            g.dispose();
        }
        write(img, png);
    }

    /** a distinct colour for series k of n */
    public static Color palette(int k, int n) {
        return Color.getHSBColor((float) k / Math.max(1, n), 0.75f, 0.8f);
    }

    /** writes the image as PNG, creating the folder */
    static void write(BufferedImage img, Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        ImageIO.write(img, "png", png.toFile());
    }
}
