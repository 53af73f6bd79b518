package pxprune.px;

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

/** Line charts as PNG files (AWT images; the launcher runs with -Djava.awt.headless=true): the pruning loop's density per layer over the rounds. */
public final class Plots {
    private Plots() {}

    static final int W = 900, H = 560, LEFT = 70, RIGHT = 230, TOP = 40, BOTTOM = 50;

    /**
     * Writes a chart of each layer's density (log scale) and the overall density against the
     * round: how PX or SynFlow spread the pruning over the layers, and whether one collapses.
     */
    public static void densityPerRound(Path png, String title, List<Pruner.Round> rounds, List<String> layers) throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            double lo = 1;
            for (Pruner.Round r : rounds) for (double d : r.layerDensity().values()) if (d > 0) lo = Math.min(lo, d);
            double logLo = Math.floor(Math.log10(Math.min(lo, 0.1))), span = -logLo;
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM, n = Math.max(1, rounds.size());
            // axes, decade grid lines and labels
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int e = 0; e >= logLo; e--) {
                int y = TOP + (int) Math.round(ph * (-e) / span);
                g.setColor(new Color(225, 225, 225));
                g.drawLine(LEFT, y, LEFT + pw, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString(e == 0 ? "1" : "1e" + e, LEFT - 40, y + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);
            g.drawString("round", LEFT + pw / 2 - 15, H - 15);
            g.drawString("1", LEFT, TOP + ph + 16);
            g.drawString(Integer.toString(n), LEFT + pw - 10, TOP + ph + 16);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title + ": density per layer (log scale)", LEFT, TOP - 15);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            // one line per layer, the overall density thick and black
            for (int l = 0; l <= layers.size(); l++) {
                boolean overall = l == layers.size();
                Color c = overall ? Color.BLACK : Color.getHSBColor((float) l / Math.max(1, layers.size()), 0.75f, 0.8f);
                g.setColor(c);
                g.setStroke(new BasicStroke(overall ? 3f : 1.5f));
                int px = -1, py = -1;
                for (int i = 0; i < rounds.size(); i++) {
                    Pruner.Round r = rounds.get(i);
                    double d = overall ? r.density() : r.layerDensity().get(layers.get(l));
                    int x = LEFT + (int) Math.round(pw * (n == 1 ? 0.5 : (double) i / (n - 1)));
                    int y = TOP + (int) Math.round(ph * Math.min(1, -Math.log10(Math.max(d, Math.pow(10, logLo))) / span));
                    if (px >= 0) g.drawLine(px, py, x, y);
                    px = x;
                    py = y;
                }
                int ly = TOP + 12 + 14 * l;
                if (ly < H - 10) {
                    g.fillRect(W - RIGHT + 12, ly - 8, 10, 10);
                    g.setColor(Color.BLACK);
                    String last = String.format(Locale.ROOT, " %.4f", overall ? rounds.get(rounds.size() - 1).density()
                            : rounds.get(rounds.size() - 1).layerDensity().get(layers.get(l)));
                    g.drawString((overall ? "overall" : layers.get(l)) + last, W - RIGHT + 26, ly + 1);
                }
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", png.toFile());
    }
}
