package pxprune.experiments.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A grid of coloured cells written as a PNG: rows and columns with labels, values on a log-10
 * colour scale between 10^lo and 1 (0 drawn black: an emptied layer stands out), each cell
 * printed with its value when it fits; NaN (no value) is a light grey cell without text. Used for
 * per-layer densities (rows: layers, columns: densities or methods) and mask overlaps.
 */
public final class HeatMap {
    private final String title;
    private final List<String> rows, cols;
    private final double[][] v;
    private final double lo;
    static final Color NO_VALUE = new Color(230, 230, 230);

    /**
     * @param values values[r][c] in [0, 1], or NaN where there is none
     * @param log10Low the lower end of the colour scale, e.g. -4 for 1e-4
     */
    public HeatMap(String title, List<String> rows, List<String> cols, double[][] values, double log10Low) {
        if (values.length != rows.size()) throw new IllegalArgumentException(values.length + " rows of values for " + rows.size() + " labels");
        for (double[] r : values)
            if (r.length != cols.size()) throw new IllegalArgumentException(r.length + " columns of values for " + cols.size() + " labels");
        this.title = title;
        this.rows = List.copyOf(rows);
        this.cols = List.copyOf(cols);
        this.v = values;
        this.lo = log10Low;
    }

    /** the colour of value x: black for 0, then dark blue (10^lo) to yellow (1); light grey for NaN */
    Color color(double x) {
        if (Double.isNaN(x)) return NO_VALUE;
        if (!(x > 0)) return Color.BLACK;
        double f = Math.max(0, Math.min(1, (Math.log10(x) - lo) / -lo));
        return Color.getHSBColor((float) (0.66 - 0.5 * f), 0.85f, (float) (0.35 + 0.65 * f));
    }

    public void write(Path png) throws IOException {
        int labelW = 10 + 7 * rows.stream().mapToInt(String::length).max().orElse(4);
        int cw = Math.max(46, 7 * cols.stream().mapToInt(String::length).max().orElse(4) + 8), ch = 18;
        int titleW = Text.width(new Font(Font.SANS_SERIF, Font.BOLD, 14), title);
        int top = 60, w = Math.max(labelW + cw * cols.size() + 120, titleW + 20), h = top + Math.max(ch * rows.size() + 40, 200); // room for the colour scale beside a few rows
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            Text.draw(g, title, 10, 20);
            g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 11));
            for (int c = 0; c < cols.size(); c++) Text.draw(g, cols.get(c), labelW + c * cw + 3, top - 6);
            for (int r = 0; r < rows.size(); r++) {
                int y = top + r * ch;
                g.setColor(Color.BLACK);
                Text.draw(g, rows.get(r), 6, y + ch - 5);
                for (int c = 0; c < cols.size(); c++) {
                    Color col = color(v[r][c]);
                    g.setColor(col);
                    g.fillRect(labelW + c * cw, y, cw - 1, ch - 1);
                    float[] hsb = Color.RGBtoHSB(col.getRed(), col.getGreen(), col.getBlue(), null);
                    g.setColor(hsb[2] > 0.7 ? Color.BLACK : Color.WHITE);
                    String s = Double.isNaN(v[r][c]) ? "" : v[r][c] == 0 ? "0" : v[r][c] >= 0.01 ? String.format(Locale.ROOT, "%.2f", v[r][c])
                            : String.format(Locale.ROOT, "%.0e", v[r][c]);
                    Text.draw(g, s, labelW + c * cw + 3, y + ch - 5);
                }
            }
            int bx = labelW + cw * cols.size() + 20;
            for (int i = 0; i <= 100; i++) {
                g.setColor(color(Math.pow(10, lo * (1 - i / 100.0))));
                g.fillRect(bx, top + (int) ((100 - i) * 1.5), 16, 2);
            }
            g.setColor(Color.BLACK);
            Text.draw(g, "1", bx + 22, top + 8);
            Text.draw(g, "1e" + (long) lo, bx + 22, top + 152);
            Text.draw(g, "0 = black", bx, top + 172);
            boolean none = false;
            for (double[] row : v) for (double x : row) none |= Double.isNaN(x);
            if (none) Text.draw(g, "grey = none", bx, top + 188);
        } finally {
            g.dispose();
        }
        Chart.write(img, png);
    }
}
