import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * JPEG decoders side by side: each decodes the same files (read into memory first) to interleaved RGB
 * bytes on one thread; one warm-up pass, then the fastest of three passes. Also checks that every decoder
 * gives the JDK's pixels to within a small mean difference (decoders may round the IDCT and the colour
 * conversion differently).
 */
public class DecoderBench {

    record Rgb(int w, int h, byte[] px) {}

    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args[0]);
        int max = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        List<byte[]> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".JPEG")).sorted().limit(max).toList()) files.add(Files.readAllBytes(p));
        }
        long bytes = files.stream().mapToLong(b -> b.length).sum();
        System.out.printf(Locale.ROOT, "%d JPEGs, %.1f KB on average; java %s; %s%n", files.size(), bytes / 1024.0 / files.size(),
                System.getProperty("java.version"), cpu());
        ImageIO.setUseCache(false); // decode from memory, no temporary files
        List<Rgb> ref = new ArrayList<>();
        for (byte[] f : files) ref.add(imageio(f, "com.sun.imageio"));
        for (int round = 0; round < 2; round++) { // twice, in turn: the machine's load changes
            bench("javax.imageio (the JDK's reader)", files, f -> imageio(f, "com.sun.imageio"), ref);
            bench("TwelveMonkeys imageio-jpeg 3.12.0", files, f -> imageio(f, "com.twelvemonkeys"), ref);
            bench("OpenCV 4.13.0 imdecode (JavaCPP 1.5.13)", files, DecoderBench::opencv, ref);
        }
    }

    static String cpu() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 2);
        return "?";
    }

    static void bench(String name, List<byte[]> files, Function<byte[], Rgb> dec, List<Rgb> ref) {
        double diff = 0;
        long px = 0;
        for (int i = 0; i < files.size(); i++) {
            Rgb a = dec.apply(files.get(i)), b = ref.get(i);
            if (a.w != b.w || a.h != b.h) throw new IllegalStateException(name + ": image " + i + " has another size");
            for (int k = 0; k < a.px.length; k++) diff += Math.abs((a.px[k] & 0xFF) - (b.px[k] & 0xFF));
            px += a.px.length;
        }
        double best = Double.MAX_VALUE;
        for (int pass = 0; pass < 3; pass++) {
            long t0 = System.nanoTime();
            for (byte[] f : files) dec.apply(f);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        System.out.printf(Locale.ROOT, "%-42s %7.1f images/s  %6.1f Mpixel/s  mean |difference| from the JDK's %.3f (of 255)%n", name,
                files.size() / best, px / 3.0 / best / 1e6, diff / px);
    }

    static Rgb imageio(byte[] f, String vendor) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(f))) {
            Iterator<ImageReader> it = ImageIO.getImageReaders(in);
            ImageReader r = null;
            while (it.hasNext()) {
                ImageReader c = it.next();
                if (c.getClass().getName().startsWith(vendor)) r = c;
            }
            if (r == null) throw new IllegalStateException("no " + vendor + " reader");
            try {
                r.setInput(in, true, true);
                BufferedImage img = r.read(0);
                int w = img.getWidth(), h = img.getHeight();
                byte[] out = new byte[3 * w * h];
                if (img.getType() == BufferedImage.TYPE_3BYTE_BGR) {
                    byte[] s = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
                    for (int i = 0; i < out.length; i += 3) { out[i] = s[i + 2]; out[i + 1] = s[i + 1]; out[i + 2] = s[i]; }
                } else {
                    int[] p = img.getRGB(0, 0, w, h, null, 0, w);
                    for (int i = 0; i < p.length; i++) { out[3 * i] = (byte) (p[i] >> 16); out[3 * i + 1] = (byte) (p[i] >> 8); out[3 * i + 2] = (byte) p[i]; }
                }
                return new Rgb(w, h, out);
            } finally {
                r.dispose();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Rgb opencv(byte[] f) {
        try (Mat buf = new Mat(1, f.length, opencv_core.CV_8UC1)) {
            buf.data().put(f);
            return bgr(opencv_imgcodecs.imdecode(buf, opencv_imgcodecs.IMREAD_COLOR));
        }
    }

    static Rgb bgr(Mat decoded) {
        try (Mat m = decoded) {
            int w = m.cols(), h = m.rows();
            byte[] s = new byte[3 * w * h], out = new byte[3 * w * h];
            m.data().get(s);
            for (int i = 0; i < out.length; i += 3) { out[i] = s[i + 2]; out[i + 1] = s[i + 1]; out[i + 2] = s[i]; }
            return new Rgb(w, h, out);
        }
    }
}
