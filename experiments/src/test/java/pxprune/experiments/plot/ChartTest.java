package pxprune.experiments.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The charts draw what they are given where the axes say (pixels read back from the PNG). */
class ChartTest {
    @Test void aPointLandsWhereItsAxesPutIt(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("c.png");
        // log x over [1e-3, 1], linear y over [0, 1] (padded 5%): the point (1e-3, 0) sits at the lower left, (1, 1) upper right
        new Chart("t", "density", "accuracy").logX().series("s", new double[] {1e-3, 1}, new double[] {0, 1}).color(Color.RED).markers()
                .write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(Chart.W, img.getWidth());
        int pw = Chart.W - Chart.LEFT - Chart.RIGHT, ph = Chart.H - Chart.TOP - Chart.BOTTOM;
        int x0 = Chart.LEFT, y0 = Chart.TOP + (int) Math.round(ph * (1 - 0.05 / 1.1));
        int x1 = Chart.LEFT + pw, y1 = Chart.TOP + (int) Math.round(ph * (1 - 1.05 / 1.1));
        assertEquals(Color.RED.getRGB(), img.getRGB(x0 + 1, y0), "marker of (1e-3, 0)");
        assertEquals(Color.RED.getRGB(), img.getRGB(x1 - 1, y1), "marker of (1, 1)");
        int mid = Chart.LEFT + pw / 2; // on the log axis the line passes the middle at x = 10^-1.5, y = 0.5
        int ym = Chart.TOP + (int) Math.round(ph * (1 - 0.55 / 1.1));
        boolean near = false; // antialiased: some pixel within one of the ideal point is mostly red
        for (int dy = -1; dy <= 1; dy++) near |= reddish(img.getRGB(mid, ym + dy));
        assertEquals(true, near, "line midpoint");
        assertEquals(false, reddish(img.getRGB(mid, Chart.TOP + 5)), "nothing red far from the line");
    }

    static boolean reddish(int rgb) {
        Color c = new Color(rgb);
        return c.getRed() > 180 && c.getGreen() < 120 && c.getBlue() < 120;
    }

    @Test void mismatchedSeriesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Chart("t", "x", "y").series("s", new double[2], new double[3]));
        assertThrows(IllegalArgumentException.class, () -> new HeatMap("t", List.of("a"), List.of("b", "c"), new double[][] {{1}}, -3));
    }

    @Test void heatMapColoursZeroBlackAndOrdersTheScale() {
        HeatMap h = new HeatMap("t", List.of("a"), List.of("b"), new double[][] {{0.5}}, -4);
        assertEquals(Color.BLACK, h.color(0));
        float[] lo = Color.RGBtoHSB(h.color(1e-4).getRed(), h.color(1e-4).getGreen(), h.color(1e-4).getBlue(), null);
        float[] hi = Color.RGBtoHSB(h.color(1).getRed(), h.color(1).getGreen(), h.color(1).getBlue(), null);
        assertEquals(true, hi[2] > lo[2], "brighter for denser layers");
    }

    @Test void heatMapDrawsNaNAsGreyAndFitsItsTitleAndScale(@TempDir Path tmp) throws Exception {
        String title = "a title much longer than the one column of this heat map";
        HeatMap h = new HeatMap(title, List.of("r"), List.of("c", "d"), new double[][] {{Double.NaN, 0}}, -3);
        assertEquals(HeatMap.NO_VALUE, h.color(Double.NaN));
        Path png = tmp.resolve("h.png");
        h.write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(true, img.getHeight() >= 60 + 200, "room for the colour scale: " + img.getHeight());
        assertEquals(true, img.getWidth() >= 7 * title.length(), "room for the title: " + img.getWidth());
        int labelW = 10 + 7, cw = 46, y = 60 + 9; // the cell centres of row 0; the NaN cell is grey with no text
        boolean allGrey = true;
        for (int x = labelW + 1; x < labelW + cw - 2; x++) allGrey &= img.getRGB(x, y) == HeatMap.NO_VALUE.getRGB();
        assertEquals(true, allGrey, "NaN cell grey and empty");
        assertEquals(Color.BLACK.getRGB(), img.getRGB(labelW + cw + cw - 3, 60 + 2), "0 cell black");
    }
}
