package pxprune.datasets;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import org.w3c.dom.Node;

/**
 * Writes small Pascal-VOC-format folders for the segmentation tests: real JPEGs (quality 1.0), real
 * palette PNGs (an IndexColorModel image with VOC's palette, written by ImageIO) and 8-bit grayscale PNGs.
 */
final class VocFiles {

    static final int W = 16;
    static final int H = 12;

    private VocFiles() {
    }

    /** The smooth test colour of pixel (x, y) of image number k (small JPEG error). */
    static int colour(int k, int x, int y) {
        int r = 40 + 8 * x, g = 30 + 10 * y, b = 60 + 40 * k;
        return (r << 16) | (g << 8) | b;
    }

    /** A label with several classes of image k and a row of 255 (boundary). */
    static int[] label(int k, int w, int h) {
        int[] l = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) l[y * w + x] = y == h / 2 ? 255 : x < w / 2 ? 0 : (k * 3 + y / 4) % 20 + 1;
        }
        return l;
    }

    static Path jpeg(Path file, int w, int h, TestImages.Pixel rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb.at(x, y));
        return writeJpeg(file, new IIOImage(img, null, null));
    }

    static Path writeJpeg(Path file, IIOImage image) {
        try {
            Files.createDirectories(file.getParent());
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
                writer.setOutput(out);
                ImageWriteParam p = writer.getDefaultWriteParam();
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionQuality(1f);
                writer.write(null, image, p);
            } finally {
                writer.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** An 8-bit palette PNG with VOC's colour map whose palette indices are {@code label}. */
    static Path palettePng(Path file, int w, int h, int[] label) {
        int[] pal = VocSegmentation.palette();
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int k = 0; k < 256; k++) {
            r[k] = (byte) (pal[k] >> 16);
            g[k] = (byte) (pal[k] >> 8);
            b[k] = (byte) pal[k];
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, r, g, b));
        img.getRaster().setSamples(0, 0, w, h, 0, label);
        return TestImages.write(file, img, "png");
    }

    /** An 8-bit grayscale PNG whose gray values are {@code label}. */
    static Path grayPng(Path file, int w, int h, int[] label) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSamples(0, 0, w, h, 0, label);
        return TestImages.write(file, img, "png");
    }

    /** An RGB PNG coloured with VOC's palette colours of {@code label} (what an editor's re-save gives). */
    static Path rgbPng(Path file, int w, int h, int[] label) {
        int[] pal = VocSegmentation.palette();
        return TestImages.write(file, w, h, (x, y) -> pal[label[y * w + x]], "png");
    }

    /**
     * A 4-channel (CMYK) JPEG with the given 8-bit inks everywhere: plain (the inks stored as they are), or
     * with an Adobe APP14 marker and the inks stored inverted, as Photoshop writes them.
     */
    static Path cmykJpeg(Path file, int w, int h, int[] cmyk, boolean adobe) {
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        int[] stored = new int[4];
        for (int c = 0; c < 4; c++) stored[c] = adobe ? 255 - cmyk[c] : cmyk[c];
        for (int yy = 0; yy < h; yy++) for (int x = 0; x < w; x++) r.setPixel(x, yy, stored);
        writeJpeg(file, new IIOImage(r, null, null));
        if (!adobe) return file;
        try {
            // the JPEG writer has no default metadata for a raster: take the plain file's and add the marker
            IIOMetadata meta;
            try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
                ImageReader reader = ImageIO.getImageReaders(in).next();
                reader.setInput(in);
                meta = reader.getImageMetadata(0);
                reader.dispose();
            }
            String format = "javax_imageio_jpeg_image_1.0";
            IIOMetadataNode tree = (IIOMetadataNode) meta.getAsTree(format);
            Node sequence = tree.getElementsByTagName("markerSequence").item(0);
            IIOMetadataNode marker = new IIOMetadataNode("app14Adobe");
            marker.setAttribute("version", "100");
            marker.setAttribute("flags0", "0");
            marker.setAttribute("flags1", "0");
            marker.setAttribute("transform", "0");
            sequence.insertBefore(marker, sequence.getFirstChild());
            meta.setFromTree(format, tree);
            return writeJpeg(file, new IIOImage(r, null, meta));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeList(Path file, List<String> lines) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes image k as id {@code id}: JPEGImages/id.jpg and a palette PNG in {@code labelFolder}. */
    static void example(Path voc, String id, int k, String labelFolder) {
        jpeg(voc.resolve("JPEGImages/" + id + ".jpg"), W, H, (x, y) -> colour(k, x, y));
        palettePng(voc.resolve(labelFolder + "/" + id + ".png"), W, H, label(k, W, H));
    }

    /**
     * A VOC tree under {@code dataRoot/VOCdevkit/VOC2012}: train = a, b; val = c; train_aug (in dataRoot,
     * labels in SegmentationClassAug) = a (grayscale), b (palette), d (grayscale). Image k is a=0, b=1, c=2, d=3.
     */
    static Path tree(Path dataRoot) {
        Path voc = dataRoot.resolve("VOCdevkit/VOC2012");
        String[] ids = {"2007_000032", "2007_000039", "2008_000001", "2011_003276"};
        for (int k = 0; k < ids.length; k++) example(voc, ids[k], k, "SegmentationClass");
        grayPng(voc.resolve("SegmentationClassAug/" + ids[0] + ".png"), W, H, label(0, W, H));
        palettePng(voc.resolve("SegmentationClassAug/" + ids[1] + ".png"), W, H, label(1, W, H));
        grayPng(voc.resolve("SegmentationClassAug/" + ids[3] + ".png"), W, H, label(3, W, H));
        writeList(voc.resolve("ImageSets/Segmentation/train.txt"), List.of(ids[0], ids[1]));
        writeList(voc.resolve("ImageSets/Segmentation/val.txt"), List.of(ids[2], ""));
        writeList(dataRoot.resolve("train_aug.txt"), List.of(ids[0],
                "/JPEGImages/" + ids[1] + ".jpg /SegmentationClassAug/" + ids[1] + ".png", ids[3]));
        return voc;
    }
}
