package pxprune.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small ImageNet folders in the official layout for the tests. */
final class ImageNetFiles {

    static final String A = "n01440764", B = "n01443537";
    static final int RED = 0xFF0000, BLUE = 0x0000FF;

    private ImageNetFiles() {
    }

    /**
     * dataRoot/imagenet: train/A/ with {@code perClass} red images, train/B/ with {@code perClass} blue ones
     * (sizes vary between w x h and 2w x h); val/ flat with 3 images (ILSVRC2012_val_00000001: blue = B,
     * 2: red = A, 3: red = A) and LOC_val_solution.csv listing them out of order.
     */
    static Path write(Path dataRoot, int perClass, int w, int h) {
        Path dir = dataRoot.resolve("imagenet");
        for (int i = 0; i < perClass; i++) {
            int wi = w + (i % 3) * w / 2;
            TestImages.write(dir.resolve("train/" + A + "/" + A + "_" + (100 + i) + ".JPEG"), wi, h, pattern(RED), "jpeg");
            TestImages.write(dir.resolve("train/" + B + "/" + B + "_" + (200 + i) + ".JPEG"), h, wi, pattern(BLUE), "jpeg");
        }
        TestImages.write(dir.resolve("val/ILSVRC2012_val_00000001.JPEG"), w, h, pattern(BLUE), "jpeg");
        TestImages.write(dir.resolve("val/ILSVRC2012_val_00000002.JPEG"), h, w, pattern(RED), "jpeg");
        TestImages.write(dir.resolve("val/ILSVRC2012_val_00000003.JPEG"), w, w, pattern(RED), "jpeg");
        solution(dir, "ImageId,PredictionString\n"
                + "ILSVRC2012_val_00000003," + A + " 1 2 3 4 \n"
                + "ILSVRC2012_val_00000001," + B + " 0 0 5 5 " + B + " 1 1 4 4\n"
                + "ILSVRC2012_val_00000002," + A + " 0 0 2 2\n");
        return dir;
    }

    /** a colour with a little texture, so that crops differ */
    static TestImages.Pixel pattern(int rgb) {
        return (x, y) -> rgb | (((x * 7 + y * 13) % 64) << 8);
    }

    static void solution(Path dir, String text) {
        try {
            Files.writeString(dir.resolve("LOC_val_solution.csv"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
