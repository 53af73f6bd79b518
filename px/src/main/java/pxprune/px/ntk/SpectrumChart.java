package pxprune.px.ntk;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A PNG of NTK eigenvalue spectra (log scale) against their rank, one line per network (AWT, headless). */
public final class SpectrumChart {
    private SpectrumChart() {}

    static final int W = 900, H = 560, LEFT = 80, RIGHT = 260, TOP = 40, BOTTOM = 50;

    /** one named spectrum per network, each descending; non-positive values are left out (log scale) */
    public record Series(String name, double[] values) {}

    public static void write(Path png, String title, List<Series> series) throws IOException {
        double lo = Double.MAX_VALUE, hi = 0;
        int maxLen = 1;
        for (Series s : series) {
            for (double v : s.values()) if (v > 0 && Double.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
            maxLen = Math.max(maxLen, s.values().length);
        }
        if (hi == 0) { lo = 0.1; hi = 1; }
        double eLo = Math.floor(Math.log10(lo)), eHi = Math.ceil(Math.log10(hi));
        if (eHi <= eLo) eHi = eLo + 1;
        int step = (int) Math.max(1, Math.ceil((eHi - eLo) / 12));
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (double e = eLo; e <= eHi; e += step) {
                int y = TOP + (int) Math.round(ph * (eHi - e) / (eHi - eLo));
                g.setColor(new Color(225, 225, 225));
                g.drawLine(LEFT, y, LEFT + pw, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString("1e" + (int) e, LEFT - 50, y + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);
            g.drawString("eigenvalue rank", LEFT + pw / 2 - 45, H - 15);
            g.drawString("1", LEFT, TOP + ph + 16);
            g.drawString(Integer.toString(maxLen), LEFT + pw - 20, TOP + ph + 16);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT, TOP - 15);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                Color c = i == 0 ? Color.BLACK : Color.getHSBColor((float) (i - 1) / Math.max(1, series.size() - 1), 0.8f, 0.8f);
                g.setColor(c);
                g.setStroke(new BasicStroke(i == 0 ? 2.5f : 1.5f));
                int px = -1, py = -1;
                double[] v = s.values();
                for (int r = 0; r < v.length; r++) {
                    if (!(v[r] > 0) || !Double.isFinite(v[r])) { px = -1; continue; }
                    int x = LEFT + (int) Math.round(pw * (maxLen == 1 ? 0.5 : (double) r / (maxLen - 1)));
                    int y = TOP + (int) Math.round(ph * (eHi - Math.log10(v[r])) / (eHi - eLo));
                    if (px >= 0) g.drawLine(px, py, x, y);
                    else g.fillOval(x - 2, y - 2, 4, 4);
                    px = x;
                    py = y;
                }
                int ly = TOP + 12 + 14 * i;
                if (ly < H - 10) {
                    g.fillRect(W - RIGHT + 12, ly - 8, 10, 10);
                    g.setColor(Color.BLACK);
                    String top = v.length > 0 ? String.format(Locale.ROOT, " (max %.3g)", v[0]) : "";
                    g.drawString(s.name() + top, W - RIGHT + 26, ly + 1);
                }
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", png.toFile());
    }
}
