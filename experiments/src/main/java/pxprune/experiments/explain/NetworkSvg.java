package pxprune.experiments.explain;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The tiny network of docs/walkthrough.md as an SVG, drawn from what {@link Explain#tiny} recorded:
 * units in four columns, every weight an edge labelled with theta (dashed grey where m = 0) and
 * as wide as its PX score; hidden units show z and the gate g for x1 | x2, outputs z1 (x1 | x2),
 * w and z2. Written by {@code pxprune explain --svg FILE}.
 */
public final class NetworkSvg {
    static final int W = 980, H = 560, TOP = 120, BOTTOM = 60;
    static final int[] COLS = {90, 370, 650, 900};

    private NetworkSvg() {}

    /** runs the tiny example (printing nothing) and writes its drawing */
    public static void write(Path svg) throws IOException {
        Explain.Result r = Explain.tiny(new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
        Files.writeString(svg, svg(r), StandardCharsets.UTF_8);
    }

    static double y(int unit, int units) { return TOP + (H - TOP - BOTTOM) * (unit + 0.5) / units; }

    static String svg(Explain.Result r) {
        Recorder rec = r.record();
        int[] sizes = {TinyNet.THETA[0][0].length, TinyNet.THETA[0].length, TinyNet.THETA[1].length, TinyNet.THETA[2].length};
        double maxScore = 0;
        for (double[] s : r.scores().values()) for (double v : s) maxScore = Math.max(maxScore, v);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", W, H, W, H));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
        b.append("<text x=\"20\" y=\"28\" font-size=\"16\" font-weight=\"bold\">PX on the tiny network 3-4-4-2 "
                + "(pxprune explain --svg; docs/walkthrough.md)</text>\n");
        b.append("<text x=\"20\" y=\"50\">edge label: theta; edge width: its PX score (p dR/dp); dashed grey: pruned (m = 0)</text>\n");
        b.append(String.format(Locale.ROOT, "<text x=\"20\" y=\"70\">per unit, for the samples x1 | x2: z (gate pass) and g = 1[z &gt; 0];"
                + " outputs: z1 from A, w, and z2 from P; R = %s</text>%n", Explain.num(r.r())));
        // edges first, under the units
        List<String> names = List.copyOf(r.scores().keySet());
        for (int l = 0; l < 3; l++) {
            double[][] t = TinyNet.THETA[l];
            double[] score = r.scores().get(names.get(l));
            for (int o = 0; o < t.length; o++)
                for (int i = 0; i < t[0].length; i++) {
                    boolean pruned = false;
                    for (int[] p : TinyNet.PRUNED) pruned |= p[0] == l && p[1] == o && p[2] == i;
                    double x1 = COLS[l], y1 = y(i, sizes[l]), x2 = COLS[l + 1], y2 = y(o, sizes[l + 1]);
                    double width = pruned ? 1 : 0.6 + 7 * score[o * t[0].length + i] / maxScore;
                    b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                                    + "stroke-width=\"%.2f\"%s/>%n", x1, y1, x2, y2, pruned ? "#999999" : "#1f4e9c", width,
                            pruned ? " stroke-dasharray=\"6 4\"" : " stroke-opacity=\"0.75\""));
                    double f = 0.22 + 0.56 * (o + 0.5) / t.length, lx = x1 + f * (x2 - x1), ly = y1 + f * (y2 - y1);
                    b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" "
                                    + "stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\" fill=\"%s\">%s</text>%n", lx, ly + 3,
                            pruned ? "#777777" : "#000000", Explain.num(t[o][i])));
                }
        }
        Recorder.Pass gates = rec.pass("gates");
        Recorder.Values x = gates.get("x");
        List<Recorder.Values> g = gates.group("gate");
        List<Recorder.Values> z = gates.layers().stream().filter(v -> !v.name().startsWith("relu")).toList();
        Recorder.Values z1 = rec.pass("A").get("z1"), w = rec.pass("w").get("w"), z2 = rec.pass("P forward").get("z2");
        for (int c = 0; c < 4; c++)
            for (int u = 0; u < sizes[c]; u++) {
                double cx = COLS[c], cy = y(u, sizes[c]);
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"15\" fill=\"%s\" stroke=\"black\"/>%n", cx, cy,
                        c == 0 ? "#fff4d6" : c == 3 ? "#e3f1e3" : "#eeeeee"));
                String id = c == 0 ? "s" + u : c == 3 ? "k" + u : "u" + u;
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n", cx, cy + 4, id));
                String[] lines;
                if (c == 0) lines = new String[] {"x: " + pair(x, u)};
                else if (c < 3) lines = new String[] {"z: " + pair(z.get(c - 1), u), "g: " + pair(g.get(c - 1), u)};
                else lines = new String[] {"z1: " + pair(z1, u), "w = " + Explain.num(w.v()[u]), "z2 = " + Explain.num(z2.v()[u])};
                double ty = cy - 18 - 14 * (lines.length - 1);
                if (c == 0 || c == 3) ty = cy - 7 * (lines.length - 1) + 4;
                double tx = c == 0 ? cx - 22 : c == 3 ? cx + 22 : cx;
                String anchor = c == 0 ? "end" : c == 3 ? "start" : "middle";
                for (String line : lines) {
                    b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\" stroke=\"white\" "
                            + "stroke-width=\"3\" paint-order=\"stroke\">%s</text>%n", tx, ty, anchor, line));
                    ty += 14;
                }
            }
        String[] heads = {"input", "after fc0 + ReLU", "after fc1 + ReLU", "output (fc2)"};
        for (int c = 0; c < 4; c++)
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>%n", COLS[c],
                    H - 20, heads[c]));
        return b.append("</svg>\n").toString();
    }

    /** the values of unit u for x1 | x2 */
    private static String pair(Recorder.Values v, int u) {
        int per = v.v().length / v.shape()[0];
        return Explain.num(v.v()[u]) + " | " + Explain.num(v.v()[per + u]);
    }
}
