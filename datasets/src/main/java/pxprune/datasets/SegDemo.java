package pxprune.datasets;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The embedded tiny segmentation set {@code seg_demo}: 3 x 32 x 32 images of one to three shapes
 * (square, disc, triangle) on a textured, noisy background, with a class per pixel. Generated, not read:
 * example {@code k} of a seed is a pure function of (seed, k), drawn from {@link Seeds#rng(long, long...)
 * Seeds.rng(seed, k)}, so any range of examples can be made on its own and is the same every time.
 * <p>
 * Per image: a background of a random colour with a random linear gradient, a random stripe texture and
 * pixel noise; then 1-3 shapes painted in order (later ones cover earlier ones, so shapes overlap), each of
 * a uniformly drawn class, a random colour (independent of the class, at least 0.3 away from the
 * background's in some channel) with the class's surface pattern (squares plain, discs striped,
 * triangles checkered: {@link #texture}), a random size (about the same area for every class, so neither colour
 * nor area gives the class away), a random rotation (squares and triangles) and position, with pixel noise.
 * A pixel's label is the class of the last shape covering its centre, else background (0); no pixel is
 * {@link #IGNORE}. Pixels are in [0, 1]. All examples are held in memory (12 KiB each).
 */
public final class SegDemo implements SegDataset {

    public static final List<String> CLASS_NAMES = List.of("background", "square", "disc", "triangle");
    public static final int SIDE = 32;
    public static final int CHANNELS = 3;
    /** the registry's {@code seg_demo}: train = examples [0, 256), test = [256, 320) of data seed 0 */
    public static final int TRAIN_SIZE = 256;
    public static final int TEST_SIZE = 64;

    private static final int PLANE = SIDE * SIDE;
    private static final double NOISE = 0.05;
    /** the contrast of the shapes' surface patterns ({@link #texture}) */
    private static final double TEXTURE = 0.2;

    private final String name;
    private final float[] images;
    private final byte[] labels;
    private final int[][] present;

    private SegDemo(String name, float[] images, byte[] labels, int[][] present) {
        this.name = name;
        this.images = images;
        this.labels = labels;
        this.present = present;
    }

    /** Examples [0, n) of {@code seed}, named {@code seg_demo}. */
    public static SegDemo create(int n, long seed) {
        return create(seed, 0, n, "seg_demo");
    }

    /**
     * Examples [first, first + n) of {@code seed}, named {@code name}.
     *
     * @throws IllegalArgumentException if first < 0 or n < 0
     */
    public static SegDemo create(long seed, int first, int n, String name) {
        Objects.requireNonNull(name, "name");
        if (first < 0 || n < 0 || (long) first + n > Integer.MAX_VALUE || (long) n * CHANNELS * PLANE > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("SegDemo.create: need 0 <= first and 0 <= n (at most "
                    + (Integer.MAX_VALUE - 8) / (CHANNELS * PLANE) + " examples), got first=" + first + " n=" + n);
        }
        float[] images = new float[n * CHANNELS * PLANE];
        byte[] labels = new byte[n * PLANE];
        int[][] present = new int[n][];
        for (int k = 0; k < n; k++) {
            SegSample s = generate(seed, first + k);
            System.arraycopy(s.image(), 0, images, k * CHANNELS * PLANE, CHANNELS * PLANE);
            for (int p = 0; p < PLANE; p++) labels[k * PLANE + p] = (byte) s.label()[p];
            present[k] = s.presentClasses();
        }
        return new SegDemo(name, images, labels, present);
    }

    /** Example {@code index} of {@code seed}'s stream (see the class comment). */
    public static SegSample generate(long seed, int index) {
        SplittableRandom rng = Seeds.rng(seed, index);
        float[] img = new float[CHANNELS * PLANE];
        int[] label = new int[PLANE];
        double[] bg = new double[CHANNELS];
        double fy = (rng.nextDouble() - 0.5) * 1.6, fx = (rng.nextDouble() - 0.5) * 1.6, phase = rng.nextDouble() * 2 * Math.PI;
        for (int c = 0; c < CHANNELS; c++) {
            bg[c] = 0.15 + 0.7 * rng.nextDouble();
            double gy = (rng.nextDouble() - 0.5) * 0.4, gx = (rng.nextDouble() - 0.5) * 0.4;
            double stripe = (rng.nextDouble() - 0.5) * 0.2;
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    img[c * PLANE + y * SIDE + x] = (float) (bg[c] + gy * (y / (SIDE - 1.0) - 0.5) + gx * (x / (SIDE - 1.0) - 0.5)
                            + stripe * Math.sin(fy * y + fx * x + phase) + NOISE * rng.nextGaussian());
                }
            }
        }
        int shapes = 1 + rng.nextInt(3);
        for (int s = 0; s < shapes; s++) {
            int cls = 1 + rng.nextInt(3);
            double[] colour = new double[CHANNELS];
            for (int attempt = 0; attempt < 50; attempt++) {
                double far = 0;
                for (int c = 0; c < CHANNELS; c++) {
                    colour[c] = rng.nextDouble();
                    far = Math.max(far, Math.abs(colour[c] - bg[c]));
                }
                if (far >= 0.3) break;
            }
            double r = 4 + 4 * rng.nextDouble(); // radius of the disc of the same area
            double cy = 4 + (SIDE - 9) * rng.nextDouble(), cx = 4 + (SIDE - 9) * rng.nextDouble();
            double angle = rng.nextDouble() * 2 * Math.PI;
            double cos = Math.cos(angle), sin = Math.sin(angle);
            double half = r * Math.sqrt(Math.PI) / 2; // square of side 2*half has area pi r^2
            double circum = r * Math.sqrt(4 * Math.PI / (3 * Math.sqrt(3))); // equilateral triangle of area pi r^2
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    double dy = y - cy, dx = x - cx;
                    double u = cos * dx + sin * dy, v = -sin * dx + cos * dy;
                    boolean in = switch (cls) {
                        case 1 -> Math.abs(u) <= half && Math.abs(v) <= half;
                        case 2 -> dx * dx + dy * dy <= r * r;
                        default -> inTriangle(u, v, circum);
                    };
                    if (!in) continue;
                    label[y * SIDE + x] = cls;
                    double t = TEXTURE * texture(cls, y, x);
                    for (int c = 0; c < CHANNELS; c++) {
                        img[c * PLANE + y * SIDE + x] = (float) (colour[c] + t + NOISE * rng.nextGaussian());
                    }
                }
            }
        }
        for (int p = 0; p < img.length; p++) img[p] = Math.max(0f, Math.min(1f, img[p]));
        return new SegSample(img, label, CHANNELS, SIDE, SIDE);
    }

    /**
     * The surface pattern of a class, +-1 or 0: squares are plain, discs striped (2-pixel bands),
     * triangles checkered (2-pixel cells). A 3x3 filter tells them apart where a shape's outline alone
     * would need a receptive field of the whole shape, so a small network learns the set in seconds.
     */
    static int texture(int cls, int y, int x) {
        return switch (cls) {
            case 2 -> (y / 2) % 2 == 0 ? 1 : -1;
            case 3 -> ((y / 2) + (x / 2)) % 2 == 0 ? 1 : -1;
            default -> 0;
        };
    }

    /** whether (u, v) lies in the equilateral triangle with circumradius R, centred at 0, one vertex at angle 0 */
    private static boolean inTriangle(double u, double v, double circumradius) {
        // the three edges' outward normals point at angles pi, -pi/3 and pi/3; the inradius is R/2
        double in = circumradius / 2;
        for (int j = 0; j < 3; j++) {
            double a = Math.PI + j * 2 * Math.PI / 3;
            if (u * Math.cos(a) + v * Math.sin(a) > in) return false;
        }
        return true;
    }

    @Override public String name() { return name; }
    @Override public int size() { return present.length; }
    @Override public int numClasses() { return CLASS_NAMES.size(); }
    @Override public int channels() { return CHANNELS; }
    @Override public List<String> classNames() { return CLASS_NAMES; }

    @Override
    public SegSample get(int i) {
        Objects.checkIndex(i, present.length);
        int[] label = new int[PLANE];
        for (int p = 0; p < PLANE; p++) label[p] = labels[i * PLANE + p];
        return new SegSample(Arrays.copyOfRange(images, i * CHANNELS * PLANE, (i + 1) * CHANNELS * PLANE), label,
                CHANNELS, SIDE, SIDE);
    }

    @Override
    public int[] presentClasses(int i) {
        return present[Objects.checkIndex(i, present.length)].clone();
    }

    @Override
    public String toString() {
        return "SegDemo[" + name + ": " + size() + " x 3x32x32, 4 classes]";
    }
}
