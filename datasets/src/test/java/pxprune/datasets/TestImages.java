package pxprune.datasets;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes small image files for the loader tests. */
final class TestImages {

    private TestImages() {
    }

    /** Writes a w x h image, pixel (x, y) coloured rgb.at(x, y) (0xRRGGBB), as format "jpeg" or "png". */
    static Path write(Path file, int w, int h, Pixel rgb, String format) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.setRGB(x, y, rgb.at(x, y));
        }
        return write(file, img, format);
    }

    static Path solid(Path file, int w, int h, int rgb, String format) {
        return write(file, w, h, (x, y) -> rgb, format);
    }

    static Path write(Path file, BufferedImage img, String format) {
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(img, format, file.toFile())) throw new IllegalStateException("no writer for " + format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    interface Pixel {
        int at(int x, int y);
    }
}
