package pxprune.experiments.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A PNG of segmentation results: one row per example with the input image, the ground truth and
 * the prediction side by side, label maps in the Pascal VOC palette (class c's colour from the
 * bits of c, as VOC's {@code VOClabelcolormap}; background black) with ignored pixels
 * ({@value #IGNORE}) white, enlarged by a whole factor without smoothing, and a legend of the
 * classes. Written with javax.imageio (see {@link Chart}).
 */
public final class LabelMaps {
    /** the label of ignored pixels (drawn white) */
    public static final int IGNORE = 255;

    /** one row: an image (CHW floats in [0, 1], 1 or 3 channels) and two label maps (HW) of the same size */
    public record Row(float[] image, int c, int h, int w, int[] truth, int[] predicted) {
        public Row {
            if (c != 1 && c != 3) throw new IllegalArgumentException("LabelMaps.Row: an image needs 1 or 3 channels, got " + c);
            if (h < 1 || w < 1 || image.length != c * h * w)
                throw new IllegalArgumentException("LabelMaps.Row: " + image.length + " pixel values for a " + c + "x" + h + "x" + w + " image");
            if (truth.length != h * w || predicted.length != h * w)
                throw new IllegalArgumentException("LabelMaps.Row: label maps of " + truth.length + " and " + predicted.length
                        + " pixels for a " + h + "x" + w + " image");
        }
    }

    private LabelMaps() {}

    /** the VOC colour of class c (c in 0..255; 255 = ignore is white here, not VOC's beige) */
    public static Color color(int c) {
        if (c == IGNORE) return Color.WHITE;
        int r = 0, g = 0, b = 0, v = c;
        for (int j = 0; j < 8; j++) {
            r |= ((v) & 1) << (7 - j);
            g |= ((v >> 1) & 1) << (7 - j);
            b |= ((v >> 2) & 1) << (7 - j);
            v >>= 3;
        }
        return new Color(r, g, b);
    }

    /**
     * Writes the rows (each panel enlarged to about 128 pixels on its longer side, at least by 1)
     * with column titles and a legend of classNames.
     */
    public static void write(Path png, String title, List<Row> rows, List<String> classNames) throws IOException {
        if (rows.isEmpty()) throw new IllegalArgumentException("LabelMaps: no rows to draw");
        int maxSide = rows.stream().mapToInt(r -> Math.max(r.h(), r.w())).max().orElse(1);
        int scale = Math.max(1, 128 / maxSide);
        int panelW = rows.stream().mapToInt(Row::w).max().orElse(1) * scale;
        int panelH = maxSide * scale;
        int gap = 8, left = 8, top = 48, legendW = 20 + 8 * classNames.stream().mapToInt(String::length).max().orElse(4) + 20;
        int titleW = Text.width(new Font(Font.SANS_SERIF, Font.BOLD, 13), title);
        int w = Math.max(left + 3 * (panelW + gap) + legendW, titleW + 2 * left);
        int h = Math.max(top + rows.size() * (panelH + gap) + gap, top + 18 * (classNames.size() + 1) + 8);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(new Color(235, 235, 235));
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            Text.draw(g, title, left, 17);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            String[] heads = {"image", "ground truth", "prediction"};
            for (int i = 0; i < 3; i++) Text.draw(g, heads[i], left + i * (panelW + gap), top - 8);
            for (int r = 0; r < rows.size(); r++) {
                Row row = rows.get(r);
                int y0 = top + r * (panelH + gap);
                draw(img, left, y0, scale, row.w(), row.h(), (x, y) -> imageRgb(row, x, y));
                draw(img, left + panelW + gap, y0, scale, row.w(), row.h(), (x, y) -> color(row.truth()[y * row.w() + x]).getRGB());
                draw(img, left + 2 * (panelW + gap), y0, scale, row.w(), row.h(), (x, y) -> color(row.predicted()[y * row.w() + x]).getRGB());
            }
            int lx = left + 3 * (panelW + gap) + 4;
            for (int c = 0; c <= classNames.size(); c++) {
                int y = top + c * 18;
                boolean ign = c == classNames.size();
                g.setColor(ign ? Color.WHITE : color(c));
                g.fillRect(lx, y - 11, 14, 14);
                g.setColor(Color.DARK_GRAY);
                g.drawRect(lx, y - 11, 14, 14);
                g.setColor(Color.BLACK);
                Text.draw(g, ign ? "ignored" : c + " " + classNames.get(c), lx + 20, y);
            }
        } finally {
            g.dispose();
        }
        Chart.write(img, png);
    }

    private interface Pixel { int rgb(int x, int y); }

    private static void draw(BufferedImage img, int x0, int y0, int scale, int w, int h, Pixel p) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = p.rgb(x, y);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) img.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
            }
    }

    private static int imageRgb(Row r, int x, int y) {
        int hw = r.h() * r.w(), i = y * r.w() + x;
        int red = level(r.image()[i]);
        if (r.c() == 1) return (red << 16) | (red << 8) | red;
        return (red << 16) | (level(r.image()[hw + i]) << 8) | level(r.image()[2 * hw + i]);
    }

    private static int level(float v) {
        if (!(v > 0)) return 0;
        return v >= 1 ? 255 : Math.round(v * 255);
    }
}
