package pxprune.datasets;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The embedded UCI "Optical Recognition of Handwritten Digits" set (the 1797-example copy shipped
 * with scikit-learn; credit in {@code pxprune/datasets/DIGITS-CREDIT.txt}, CC BY 4.0). Images are
 * 1x8x8 with pixel values 0..16 divided by 16; 10 classes.
 */
public final class Digits {

    /** Classpath location of the gzipped CSV: 64 pixels (0..16, row-major) then the label, no header. */
    public static final String RESOURCE = "/pxprune/datasets/digits.csv.gz";
    public static final int SIZE = 1797;
    public static final int SIDE = 8;
    public static final int NUM_CLASSES = 10;
    private static final int PIXELS = SIDE * SIDE;
    private static final int MAX_PIXEL = 16;

    private Digits() {
    }

    /** Loads all 1797 examples. Split them with {@link Splits#stratifiedSplit}. */
    public static Dataset load() {
        InputStream raw = Digits.class.getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new DatasetException("Resource " + RESOURCE + " is missing from the classpath; it ships inside the "
                    + "pxprune-datasets jar (src/main/resources" + RESOURCE + "). Rebuild the module or put the jar on the classpath.");
        }
        float[] images = new float[SIZE * PIXELS];
        int[] labels = new int[SIZE];
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII))) {
            int row = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) continue;
                if (row == SIZE) throw corrupt("more than " + SIZE + " rows");
                String[] f = line.split(",");
                if (f.length != PIXELS + 1) {
                    throw corrupt("line " + (row + 1) + " has " + f.length + " fields, expected " + (PIXELS + 1));
                }
                for (int p = 0; p < PIXELS; p++) {
                    images[row * PIXELS + p] = parse(f[p], MAX_PIXEL, row) / (float) MAX_PIXEL;
                }
                labels[row] = parse(f[PIXELS], NUM_CLASSES - 1, row);
                row++;
            }
            if (row != SIZE) throw corrupt("only " + row + " rows, expected " + SIZE);
        } catch (IOException e) {
            throw new DatasetException("Cannot read resource " + RESOURCE + ": " + e.getMessage(), e);
        }
        return Dataset.wrap(images, labels, 1, SIDE, SIDE, NUM_CLASSES, "digits");
    }

    private static int parse(String s, int max, int row) {
        int v;
        try {
            v = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw corrupt("line " + (row + 1) + " has non-integer value '" + s + "'");
        }
        if (v < 0 || v > max) throw corrupt("line " + (row + 1) + " has value " + v + " outside 0.." + max);
        return v;
    }

    private static DatasetException corrupt(String what) {
        return new DatasetException("Resource " + RESOURCE + " is corrupt: " + what + ". Expected " + SIZE
                + " rows of 64 pixel values 0..16 and a label 0..9. Restore the original file (see DIGITS-CREDIT.txt).");
    }
}
