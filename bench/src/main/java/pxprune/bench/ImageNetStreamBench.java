package pxprune.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.datasets.Batch;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.BatchStream;
import pxprune.datasets.ChannelStats;
import pxprune.datasets.ImageFiles;
import pxprune.datasets.ImageNet;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.SGD;

/**
 * The ImageNet loader's cost, measured on generated JPEGs (not JMH: one pass over many files is the
 * measurement, and memory needs a JVM of its own per folder size). Subcommands:
 * <ul>
 * <li>{@code generate DATA_ROOT N [DISTINCT]}: writes {@code DATA_ROOT/imagenet} in the official layout:
 *     train/ with N images over 100 classes and a flat val/ of N/10 images with LOC_val_solution.csv.
 *     DISTINCT (default 500) different photo-like JPEGs (smooth random colour fields with strong pixel noise, about 90 KB each, sides
 *     300-500 x 250-450, quality 0.9) are encoded; the other files are hard links to them, so that a large
 *     folder takes little disk (the loader sees N files);</li>
 * <li>{@code stream DATA_ROOT BATCH WORKERS [BATCHES]}: indexes train/ (timed), then decodes BATCHES
 *     batches (default: the whole epoch) with the training crop (random resized crop 224, flip, ImageNet
 *     normalisation) on WORKERS threads, {@code ahead} 2; prints images/s, the peak heap in use and the peak
 *     heap left after a collection (both sampled every 10 ms), the heap after a full GC with the index alive,
 *     and the process's peak RSS (VmHWM);</li>
 * <li>{@code step BATCH [STEPS]}: ResNet-50 at 224 px, 1000 classes, one SGD training step (forward,
 *     backward, update) of BATCH images, STEPS times (default 2) after one warm-up step; prints images/s.</li>
 * </ul>
 */
public final class ImageNetStreamBench {
    private ImageNetStreamBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help")) {
            System.out.println("usage: ImageNetStreamBench generate DATA_ROOT N [DISTINCT] | stream DATA_ROOT BATCH WORKERS [BATCHES] | step BATCH [STEPS]");
            return;
        }
        switch (args[0]) {
            case "generate" -> generate(Path.of(args[1]), Integer.parseInt(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 500);
            case "stream" -> stream(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    args.length > 4 ? Integer.parseInt(args[4]) : Integer.MAX_VALUE);
            case "step" -> step(Integer.parseInt(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 2);
            default -> throw new IllegalArgumentException("unknown subcommand " + args[0] + "; use generate, stream or step");
        }
    }

    static final int CLASSES = 100;

    static void generate(Path dataRoot, int n, int distinct) throws IOException {
        Path dir = dataRoot.resolve(ImageNet.FOLDER);
        List<Path> made = new ArrayList<>();
        long bytes = 0;
        int nVal = Math.max(1, n / 10);
        StringBuilder csv = new StringBuilder("ImageId,PredictionString\n");
        for (int i = 0; i < n + nVal; i++) {
            boolean val = i >= n;
            int c = val ? (i - n) % CLASSES : i % CLASSES;
            String wnid = String.format(Locale.ROOT, "n%08d", 1440764 + c);
            Path f;
            if (val) {
                String id = String.format(Locale.ROOT, "ILSVRC2012_val_%08d", i - n + 1);
                f = dir.resolve("val").resolve(id + ".JPEG");
                csv.append(id).append(',').append(wnid).append(" 10 10 100 100\n");
            } else {
                f = dir.resolve("train").resolve(wnid).resolve(wnid + "_" + (i / CLASSES) + ".JPEG");
            }
            Files.createDirectories(f.getParent());
            if (made.size() < distinct) {
                writeJpeg(f, photo(new SplittableRandom(i)));
                made.add(f);
                bytes += Files.size(f);
            } else {
                Files.createLink(f, made.get(i % distinct));
            }
            if ((i + 1) % 2000 == 0) System.err.printf("%d / %d files%n", i + 1, n + nVal);
        }
        Files.writeString(dir.resolve(ImageNet.SOLUTION), csv, StandardCharsets.UTF_8);
        System.out.printf(Locale.ROOT, "wrote %s: %d train + %d val files, %d distinct JPEGs of %.1f KB on average%n", dir, n, nVal,
                made.size(), bytes / 1024.0 / made.size());
    }

    /** a smooth random colour field (a few sinusoids per channel) with pixel noise, 300-500 x 250-450 */
    static BufferedImage photo(SplittableRandom r) {
        int w = 300 + r.nextInt(201), h = 250 + r.nextInt(201);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        double[][] f = new double[3][12];
        for (double[] ch : f) for (int k = 0; k < ch.length; k++) ch[k] = r.nextDouble();
        byte[] px = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    double[] a = f[c];
                    double v = 128;
                    for (int k = 0; k < 12; k += 4)
                        v += 40 * a[k] * Math.sin((a[k + 1] * 0.08 + 0.005) * x + (a[k + 2] * 0.08 + 0.005) * y + 6.3 * a[k + 3]);
                    v += 110 * (r.nextDouble() - 0.5);
                    px[3 * (y * w + x) + (2 - c)] = (byte) Math.max(0, Math.min(255, (int) v));
                }
            }
        }
        return img;
    }

    static void writeJpeg(Path f, BufferedImage img) throws IOException {
        ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam p = wr.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(0.9f);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(f.toFile())) {
            wr.setOutput(out);
            wr.write(null, new IIOImage(img, null, null), p);
        } finally {
            wr.dispose();
        }
    }

    static void stream(Path dataRoot, int batch, int workers, int maxBatches) throws Exception {
        long[] peakHeap = {0, 0};
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakHeap[0] = Math.max(peakHeap[0], heapUsed());
                peakHeap[1] = Math.max(peakHeap[1], heapAfterGc());
                try { Thread.sleep(10); } catch (InterruptedException e) { return; }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        long t0 = System.nanoTime();
        ImageFiles train = ImageNet.open(dataRoot, true).normalized(ChannelStats.IMAGENET);
        double indexS = (System.nanoTime() - t0) / 1e9;
        System.gc();
        long indexHeap = heapUsed();
        BatchIterator it = new BatchIterator(train, batch, true, 1, 0, true);
        List<int[]> order = new ArrayList<>();
        while (it.hasNext() && order.size() < maxBatches) order.add(it.next());
        long images = 0;
        t0 = System.nanoTime();
        try (BatchStream s = train.stream(order, 7L, workers, 2)) {
            while (s.hasNext()) {
                Batch b = s.next();
                images += b.n();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        sampler.interrupt();
        System.out.printf(Locale.ROOT, "files %d  batch %d  workers %d  index %.2f s (heap after GC with the index: %.1f MB)  "
                        + "decoded %d images in %.2f s = %.1f images/s  peak heap %.1f MB (after a GC: %.1f MB)  peak RSS %.1f MB  max heap %.0f MB%n",
                train.size(), batch, workers, indexS, indexHeap / 1e6, images, secs, images / secs, peakHeap[0] / 1e6, peakHeap[1] / 1e6,
                vmHwmKb() / 1e3, Runtime.getRuntime().maxMemory() / 1e6);
    }

    static long heapUsed() {
        long used = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) used += p.getUsage().getUsed();
        return used;
    }

    /** the heap in use right after the latest collection of each pool (live data and what that collection kept) */
    static long heapAfterGc() {
        long used = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null) used += p.getCollectionUsage().getUsed();
        return used;
    }

    static long vmHwmKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        return -1;
    }

    static void step(int batch, int steps) {
        try (Module m = ModelRegistry.create("resnet50", 3, 1000, 224, 1); SGD sgd = SGD.of(m, 0.1, 0.9, 1e-4, false)) {
            m.train(true);
            float[] x = new float[batch * 3 * 224 * 224];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            int[] y = new int[batch];
            for (int i = 0; i < batch; i++) y[i] = r.nextInt(1000);
            double best = Double.MAX_VALUE;
            for (int s = 0; s <= steps; s++) {
                long t0 = System.nanoTime();
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor logits = m.forward(Tensor.of(x, batch, 3, 224, 224));
                    Ops.crossEntropy(logits, Tensor.ofInts(y, batch)).backwardAndFree(logits);
                    sgd.step();
                    sgd.zeroGrad();
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                System.err.printf(Locale.ROOT, "step %d: %.2f s%n", s, secs);
                if (s > 0) best = Math.min(best, secs);
            }
            System.out.printf(Locale.ROOT, "ResNet-50 224 px training step, batch %d: %.2f s (fastest of %d after a warm-up) = %.2f images/s%n",
                    batch, best, steps, batch / best);
        }
    }
}
