package pxprune.datasets;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/** Decoding image files (javax.imageio) into float RGB CHW arrays in [0, 1]. */
final class Images {

    static final int CHANNELS = 3;
    /** the most pixels an image may declare (a 8192 x 8192 image): more is refused before decoding */
    static final long MAX_PIXELS = 1L << 26;

    private Images() {
    }

    /**
     * Decodes {@code files} in parallel into one N x 3 x crop x crop float array (file order kept): each
     * image is resized (bilinear) so its shorter side is {@code resizeShorter}, then center-cropped to
     * {@code crop} x {@code crop}. With resizeShorter == crop and a crop x crop image this is an exact copy.
     */
    static float[] loadAll(List<Path> files, int resizeShorter, int crop) {
        if (crop < 1 || resizeShorter < crop) {
            throw new IllegalArgumentException("Need 1 <= crop <= resizeShorter, got crop=" + crop
                    + " resizeShorter=" + resizeShorter);
        }
        int d = CHANNELS * crop * crop;
        float[] out = new float[Dataset.checkedLength(files.size(), CHANNELS, crop, crop)];
        IntStream.range(0, files.size()).parallel().forEach(i ->
                resizeCenterCrop(read(files.get(i)), resizeShorter, crop, out, i * d));
        return out;
    }

    /**
     * The non-hidden entries of {@code dir} whose names {@code byName} accepts, each checked to stay inside
     * {@code root} (see {@link #inside}), then kept if {@code keep} accepts them; sorted by file name.
     *
     * @throws DatasetException if the folder cannot be listed or an entry leads outside root
     */
    static List<Path> list(Path root, Path dir, Predicate<String> byName, Predicate<Path> keep) {
        List<Path> named;
        try (Stream<Path> s = Files.list(dir)) {
            named = s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> byName.test(p.getFileName().toString()))
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new DatasetException("Cannot list folder " + dir + ": " + e, e);
        }
        for (Path p : named) inside(root, dir, p.getFileName().toString(), "folder " + dir);
        return named.stream().filter(keep).toList();
    }

    /** Regular files in {@code dir} whose extension is one of {@code lowerCaseExtensions} (any case), sorted. */
    static List<Path> listFiles(Path root, Path dir, Set<String> lowerCaseExtensions) {
        return list(root, dir, n -> {
            int dot = n.lastIndexOf('.');
            return dot >= 0 && lowerCaseExtensions.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
        }, Files::isRegularFile);
    }

    /**
     * {@code base.resolve(name)}, refused unless it resolves inside {@code root} with every symbolic link
     * followed (also links whose targets do not exist). The message is the same whether or not the outside
     * target exists, so a hostile list cannot probe the file system through it.
     *
     * @param where the list or folder that gave the name, for the message (e.g. "wnids.txt line 3")
     */
    static Path inside(Path root, Path base, String name, String where) {
        Path p = base.resolve(name).toAbsolutePath().normalize();
        boolean ok;
        try {
            ok = resolveLinks(p, 0).startsWith(root.toRealPath());
        } catch (IOException e) {
            ok = false;
        }
        if (!ok) {
            throw new DatasetException(where + " names '" + name + "', which leads outside the data folder "
                    + root.toAbsolutePath().normalize() + " (through '..', an absolute path or a symbolic link); "
                    + "list only files inside the data folder.");
        }
        return p;
    }

    /** p with every symbolic link followed, also where p or a link's target does not exist */
    private static Path resolveLinks(Path p, int hops) throws IOException {
        if (hops > 40) throw new IOException("too many levels of symbolic links");
        if (Files.exists(p)) return p.toRealPath();
        Path parent = p.getParent();
        if (parent == null) return p;
        Path q = resolveLinks(parent, hops).resolve(p.getFileName());
        if (!Files.isSymbolicLink(q)) return q;
        return resolveLinks(q.resolveSibling(Files.readSymbolicLink(q)).toAbsolutePath().normalize(), hops + 1);
    }

    /**
     * Reads one image file, with an error naming the file when it cannot be decoded. The size its header
     * declares is checked first: more than {@link #MAX_PIXELS} pixels is refused without decoding.
     */
    static BufferedImage read(Path file) {
        return decode(file, false).image();
    }

    /** A decoded image and whether its JPEG stream has an Adobe APP14 marker (inverted CMYK, Photoshop's convention). */
    record Decoded(BufferedImage image, boolean adobe) {
    }

    /** An image as packed 0xRRGGBB pixels, row-major. */
    record Rgb(int width, int height, int[] pixels) {
    }

    /**
     * Reads an image file as RGB, strictly: a decoder warning (e.g. a truncated JPEG, which javax.imageio
     * otherwise fills with gray) is refused naming the file. Grayscale is replicated to R=G=B, CMYK
     * (4-channel JPEG) is converted with R = (1-C)(1-K) etc., reading Adobe-marked files as inverted.
     */
    static Rgb readRgb(Path file) {
        Decoded d = decode(file, true);
        BufferedImage img = d.image();
        int w = img.getWidth(), h = img.getHeight();
        if (img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK && img.getRaster().getNumBands() == 4) {
            // javax.imageio's JPEG reader gives 255 - (stored sample) for CMYK: the ink for Adobe-marked files
            // (which store 255 - ink, Photoshop's convention), 255 - ink for plain ones (which store the ink)
            return new Rgb(w, h, cmykToRgb(img.getRaster(), !d.adobe()));
        }
        return new Rgb(w, h, rgb(img));
    }

    /** An image as interleaved 8-bit RGB samples, row-major: pixel (x, y) is {@code rgb[3*(y*width + x) ..+3]}. */
    record Pixels(int width, int height, byte[] rgb) {
    }

    /**
     * {@link #readRgb} as interleaved bytes, read straight from the decoded raster for the layouts
     * javax.imageio's JPEG reader gives (3-byte BGR, 8-bit gray); other images go through readRgb.
     */
    static Pixels readPixels(Path file) {
        Decoded d = decode(file, true);
        BufferedImage img = d.image();
        int w = img.getWidth(), h = img.getHeight();
        byte[] out = new byte[Math.multiplyExact(3, w * h)];
        int type = img.getType();
        if ((type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_BYTE_GRAY)
                && img.getRaster().getDataBuffer() instanceof java.awt.image.DataBufferByte db
                && db.getNumBanks() == 1 && db.getOffset() == 0
                && img.getRaster().getSampleModel() instanceof java.awt.image.ComponentSampleModel sm
                && sm.getScanlineStride() == w * sm.getPixelStride()) {
            byte[] src = db.getData();
            if (type == BufferedImage.TYPE_BYTE_GRAY) {
                for (int i = 0; i < w * h; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i];
            } else {
                for (int i = 0; i < 3 * w * h; i += 3) {
                    out[i] = src[i + 2];
                    out[i + 1] = src[i + 1];
                    out[i + 2] = src[i];
                }
            }
            return new Pixels(w, h, out);
        }
        int[] packed = img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK && img.getRaster().getNumBands() == 4
                ? cmykToRgb(img.getRaster(), !d.adobe()) : rgb(img);
        for (int i = 0; i < packed.length; i++) {
            out[3 * i] = (byte) (packed[i] >> 16);
            out[3 * i + 1] = (byte) (packed[i] >> 8);
            out[3 * i + 2] = (byte) packed[i];
        }
        return new Pixels(w, h, out);
    }

    /** Naive CMYK to RGB of 8-bit samples, R = (255 - C)(255 - K)/255 etc.; {@code inverted}: the samples are 255 - ink. */
    static int[] cmykToRgb(Raster r, boolean inverted) {
        int w = r.getWidth(), h = r.getHeight();
        int[] out = new int[w * h];
        int[] px = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(x, y, px);
                int k = inverted ? px[3] : 255 - px[3];
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    int ink = inverted ? px[c] : 255 - px[c];
                    rgb = (rgb << 8) | (int) Math.round(ink * k / 255.0);
                }
                out[y * w + x] = rgb;
            }
        }
        return out;
    }

    private static Decoded decode(Path file, boolean strict) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DatasetException("Cannot decode image " + file + ": javax.imageio has no reader for its "
                        + "content. Expected a JPEG or PNG file; re-encode or remove the file.");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            if (strict) reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, !strict);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > MAX_PIXELS) {
                    throw new DatasetException("Image " + file + " declares " + w + " x " + h + " pixels; expected 1 to "
                            + MAX_PIXELS + " pixels (e.g. 8192 x 8192). Resize or remove the file.");
                }
                BufferedImage img = reader.read(0, reader.getDefaultReadParam());
                if (!warnings.isEmpty()) {
                    throw new DatasetException("Cannot decode image " + file + ": it is truncated or corrupt (javax.imageio: "
                            + String.join("; ", warnings) + "). Re-download or re-encode the file.");
                }
                boolean adobe = strict && img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK
                        && hasAdobeMarker(reader);
                return new Decoded(img, adobe);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DatasetException d) throw d;
            throw new DatasetException("Cannot decode image " + file + ": " + e
                    + ". Expected a JPEG or PNG that javax.imageio can read (RGB or grayscale"
                    + (strict ? "" : "; CMYK JPEGs are not supported") + "); re-encode or remove the file.", e);
        }
    }

    /** whether the JPEG metadata of image 0 holds an Adobe APP14 marker */
    private static boolean hasAdobeMarker(ImageReader reader) throws IOException {
        IIOMetadata meta = reader.getImageMetadata(0);
        String format = "javax_imageio_jpeg_image_1.0";
        if (meta == null || !Arrays.asList(meta.getMetadataFormatNames()).contains(format)) return false;
        Node n = meta.getAsTree(format);
        return hasNode(n, "app14Adobe");
    }

    private static boolean hasNode(Node n, String name) {
        if (name.equals(n.getNodeName())) return true;
        for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (hasNode(c, name)) return true;
        }
        return false;
    }

    /**
     * Writes {@code img} as 3 x crop x crop floats in [0, 1] at {@code dst[off..]}: bilinear resize (pixel
     * centres aligned, edge clamped) so the shorter side becomes {@code shorter}, then a center crop.
     */
    static void resizeCenterCrop(BufferedImage img, int shorter, int crop, float[] dst, int off) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = rgb(img);
        // torchvision Resize(int): shorter side -> shorter, longer side truncated; CenterCrop rounds half to even
        int rw = w <= h ? shorter : (int) ((long) shorter * w / h);
        int rh = w <= h ? (int) ((long) shorter * h / w) : shorter;
        int top = (int) Math.rint((rh - crop) / 2.0);
        int left = (int) Math.rint((rw - crop) / 2.0);
        double sy = (double) h / rh;
        double sx = (double) w / rw;
        int plane = crop * crop;
        for (int y = 0; y < crop; y++) {
            double fy = clamp((y + top + 0.5) * sy - 0.5, h - 1);
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, h - 1);
            double wy = fy - y0;
            for (int x = 0; x < crop; x++) {
                double fx = clamp((x + left + 0.5) * sx - 0.5, w - 1);
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, w - 1);
                double wx = fx - x0;
                int p00 = rgb[y0 * w + x0];
                int p01 = rgb[y0 * w + x1];
                int p10 = rgb[y1 * w + x0];
                int p11 = rgb[y1 * w + x1];
                for (int c = 0; c < CHANNELS; c++) {
                    int shift = 16 - 8 * c;
                    double top0 = (1 - wx) * ((p00 >> shift) & 0xFF) + wx * ((p01 >> shift) & 0xFF);
                    double bot0 = (1 - wx) * ((p10 >> shift) & 0xFF) + wx * ((p11 >> shift) & 0xFF);
                    dst[off + c * plane + y * crop + x] = (float) (((1 - wy) * top0 + wy * bot0) / 255.0);
                }
            }
        }
    }

    private static double clamp(double v, int max) {
        return Math.max(0, Math.min(v, max));
    }

    /**
     * Pixels as packed 0xRRGGBB. Grayscale images are replicated to R=G=B from their raw samples
     * (as PIL's convert("RGB") does); BufferedImage.getRGB would apply a linear-to-sRGB curve to them.
     */
    static int[] rgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        if (r.getNumBands() <= 2 && !(img.getColorModel() instanceof IndexColorModel)) {
            int bits = img.getColorModel().getComponentSize(0);
            double scale = 255.0 / ((1L << bits) - 1);
            int[] out = new int[w * h];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = (int) Math.round(row[x] * scale);
                    out[y * w + x] = (v << 16) | (v << 8) | v;
                }
            }
            return out;
        }
        return img.getRGB(0, 0, w, h, null, 0, w);
    }
}
