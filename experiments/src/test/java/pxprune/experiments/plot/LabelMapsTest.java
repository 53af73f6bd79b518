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

/** The VOC palette and the panels of a predictions picture, pixel by pixel. */
class LabelMapsTest {
    @Test
    void vocPaletteColours() {
        assertEquals(new Color(0, 0, 0), LabelMaps.color(0));
        assertEquals(new Color(128, 0, 0), LabelMaps.color(1)); // aeroplane
        assertEquals(new Color(0, 128, 0), LabelMaps.color(2));
        assertEquals(new Color(128, 128, 0), LabelMaps.color(3));
        assertEquals(new Color(0, 0, 128), LabelMaps.color(4));
        assertEquals(new Color(192, 128, 128), LabelMaps.color(15)); // person
        assertEquals(new Color(0, 64, 128), LabelMaps.color(20)); // tvmonitor
        assertEquals(Color.WHITE, LabelMaps.color(255)); // ignore
    }

    @Test
    void panelsShowImageTruthAndPrediction(@TempDir Path tmp) throws Exception {
        // a 2x2 RGB image: red, green / blue, grey; truth 0 1 / 2 255; prediction 1 1 / 3 0
        float[] img = {1, 0, 0, 0.5f, /**/ 0, 1, 0, 0.5f, /**/ 0, 0, 1, 0.5f};
        LabelMaps.Row row = new LabelMaps.Row(img, 3, 2, 2, new int[] {0, 1, 2, 255}, new int[] {1, 1, 3, 0});
        Path png = tmp.resolve("p.png");
        LabelMaps.write(png, "t", List.of(row), List.of("bg", "a", "b", "c"));
        BufferedImage b = ImageIO.read(png.toFile());
        int scale = 64, left = 8, top = 48, gap = 8, panel = 2 * scale;
        // centre of each enlarged pixel
        int[][] at = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
        Color[] image = {Color.RED, Color.GREEN, Color.BLUE, new Color(128, 128, 128)};
        Color[] truth = {LabelMaps.color(0), LabelMaps.color(1), LabelMaps.color(2), Color.WHITE};
        Color[] pred = {LabelMaps.color(1), LabelMaps.color(1), LabelMaps.color(3), LabelMaps.color(0)};
        for (int i = 0; i < 4; i++) {
            int x = left + at[i][0] * scale + scale / 2, y = top + at[i][1] * scale + scale / 2;
            assertEquals(image[i].getRGB(), b.getRGB(x, y), "image pixel " + i);
            assertEquals(truth[i].getRGB(), b.getRGB(x + panel + gap, y), "truth pixel " + i);
            assertEquals(pred[i].getRGB(), b.getRGB(x + 2 * (panel + gap), y), "prediction pixel " + i);
        }
    }

    @Test
    void mismatchedRowsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LabelMaps.Row(new float[12], 3, 2, 2, new int[3], new int[4]));
        assertThrows(IllegalArgumentException.class, () -> new LabelMaps.Row(new float[8], 2, 2, 2, new int[4], new int[4]));
        assertThrows(IllegalArgumentException.class, () -> LabelMaps.write(Path.of("x.png"), "t", List.of(), List.of("a")));
    }
}
