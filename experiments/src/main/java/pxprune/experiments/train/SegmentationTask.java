package pxprune.experiments.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.ChannelStats;
import pxprune.datasets.SegAugment;
import pxprune.datasets.SegBatch;
import pxprune.datasets.SegDataset;
import pxprune.datasets.SegSample;
import pxprune.datasets.Seeds;
import pxprune.nn.Dropout;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.nn.Sparsity;
import pxprune.px.EvalMode;
import pxprune.px.Masks;

/**
 * Trains a (pruned) segmentation model with SGD on one config's recipe: per-pixel cross-entropy
 * over the pixels not labelled {@link SegDataset#IGNORE} ({@code Ops.crossEntropy2d}), one
 * checkpoint per epoch, resuming from the run folder's checkpoint; evaluation on whole test images
 * after every epoch (see {@link #evaluate}). See docs/segmentation.md.
 *
 * <p>Masks and schedule as {@link Trainer}: weights multiplied by their masks before the first
 * step, every SGD step masks weight, momentum and update (pruned weights stay exactly zero), the
 * learning rate of epoch e is {@link RunConfig#lrAt}. With {@code backbone_lr > 0} the parameters
 * named {@code backbone.*} are optimised by a second SGD (same momentum, weight decay, Nesterov)
 * at {@link RunConfig#backboneLrAt}; its momentum buffers go into the same checkpoint.
 *
 * <p>Data: every training image is normalised with the dataset's channel statistics (when it has
 * them), then, with {@code crop > 0}, cut to crop x crop by {@link SegAugment#train}: with
 * {@code augment} at a random scale in [scale_min, scale_max] and flipped with {@code flip}, else at
 * scale 1 without flip (the random crop position only). With crop 0 whole images are batched
 * (they must share one size).
 *
 * <p>Determinism: the batch order of epoch e is {@code BatchIterator.order(n, true,
 * Seeds.derive(seed, ORDER_KEY), e)}; the augmentation of batch b of epoch e draws from
 * {@code Seeds.rng(seed, AUGMENT_KEY, e, b)} in the batch's order; before the step of batch b
 * {@link Dropout#reseed} sets every dropout module from {@code Seeds.derive(seed, DROPOUT_KEY, e, b)}.
 * So every batch is a pure function of (seed, e, b): the next batch is prepared on another thread
 * while the current one computes, without changing a bit, and nothing random crosses an epoch
 * boundary, so a run resumed at epoch e from its checkpoint repeats the uninterrupted run bit for bit.
 * A final batch of a single image is left out (batch norm cannot train on it).
 *
 * <p>Files: {@value Checkpoint#FILE} and {@value Trainer#METRICS} as {@link Trainer}, each line
 * with the extra metrics {@code test_miou}, {@code test_pixel_acc}, {@code test_iou} (see
 * {@link EpochMetrics}, {@link ConfusionMatrix}); {@code train_acc} and {@code test_acc} are pixel
 * accuracies, the losses per-pixel means.
 */
public final class SegmentationTask {
    /** keys of the random streams derived from the run's seed (order and augmentation as {@link Trainer}) */
    public static final long ORDER_KEY = Trainer.ORDER_KEY, AUGMENT_KEY = Trainer.AUGMENT_KEY, DROPOUT_KEY = 0x64726f70L;
    /** the prefix of the parameters that backbone_lr applies to */
    public static final String BACKBONE = "backbone.";
    /** evaluation batches: consecutive test images of one size, at most this many and this many pixels */
    public static final int EVAL_BATCH = 32, EVAL_PIXELS = 1 << 18;
    static final String RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, Seeds.derive(seed, "
            + "ORDER_KEY=" + ORDER_KEY + "), e); augmentation of batch b of epoch e = Seeds.rng(seed, AUGMENT_KEY=" + AUGMENT_KEY
            + ", e, b) drawn in batch order; dropout of batch b = Dropout.reseed(model, Seeds.derive(seed, DROPOUT_KEY="
            + DROPOUT_KEY + ", e, b))";

    private final RunConfig cfg;
    private final SegDataset train, test;
    private final ChannelStats stats;
    private final Path dir;
    private final PrintStream log;
    private final String label;

    /**
     * What training produced: every epoch's metrics, the epoch it started from (0 = fresh) and the
     * confusion matrix of the last evaluation in this process (null when no epoch ran here).
     */
    public record Result(List<EpochMetrics> metrics, int startEpoch, ConfusionMatrix lastConfusion) {
        public EpochMetrics last() { return metrics.isEmpty() ? null : metrics.get(metrics.size() - 1); }

        /** the training seconds of the epochs whose wall time is known */
        public double seconds() { return metrics.stream().mapToDouble(EpochMetrics::seconds).filter(Double::isFinite).sum(); }
    }

    /** an evaluation: the mean per-pixel cross-entropy over the labelled pixels and the confusion matrix */
    public record Evaluation(double loss, ConfusionMatrix confusion) {
        public double pixelAccuracy() { return confusion.pixelAccuracy(); }
        public double meanIou() { return confusion.meanIou(); }
    }

    /**
     * @param stats the channel statistics to normalise with, or null for none
     * @param dir   the run folder (checkpoint and metrics go there)
     * @param log   progress lines (stderr), or null for none
     * @param label a short name for progress lines (e.g. the method)
     */
    public SegmentationTask(RunConfig cfg, SegDataset train, SegDataset test, ChannelStats stats, Path dir, PrintStream log, String label) {
        this.cfg = cfg; this.train = train; this.test = test; this.stats = stats; this.dir = dir; this.log = log; this.label = label;
    }

    /** whether the config gives the backbone its own SGD (backbone_lr set and the model has backbone.* parameters) */
    static boolean splitsBackbone(RunConfig cfg, Module model) {
        return cfg.backboneLr() != 0 && model.namedParameters().keySet().stream().anyMatch(k -> k.startsWith(BACKBONE));
    }

    /**
     * Trains the model (at its initial weights, or resumed from the checkpoint) for the remaining
     * epochs of the config. The masks are applied to the model first.
     */
    public Result train(Module model, Masks masks) throws IOException {
        model.to(Runner.activate(cfg)); // before the optimizers: Module.to replaces the parameter tensors
        masks.apply(model);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        String hash = cfg.hash();
        Map<String, Tensor> head = new LinkedHashMap<>(), backbone = new LinkedHashMap<>();
        boolean split = splitsBackbone(cfg, model);
        model.namedParameters().forEach((k, v) -> (split && k.startsWith(BACKBONE) ? backbone : head).put(k, v));
        List<SGD> opts = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "seg-batches");
            t.setDaemon(true);
            return t;
        });
        try (MemoryScope scope = MemoryScope.open(); Sparsity sparse = Sparsity.attach(model, masks.pruned())) {
            Trainer.logSparse(log, label, sparse, masks);
            opts.add(new SGD(head, cfg.lr(), cfg.momentum(), cfg.weightDecay(), cfg.nesterov()));
            if (split) opts.add(new SGD(backbone, cfg.backboneLr(), cfg.momentum(), cfg.weightDecay(), cfg.nesterov()));
            // an all-ones mask changes nothing (x * 1 is exact): only pruned layers get one
            for (String name : masks.names())
                if (masks.kept(name) < masks.numel(name))
                    for (SGD o : opts) if (o.parameters().containsKey(name)) o.setMask(name, masks.tensor(name, model.device()));
            List<EpochMetrics> history = new ArrayList<>();
            int start = 0;
            if (Files.isRegularFile(ckpt)) {
                Checkpoint.State s = Checkpoint.load(ckpt, model, opts, masks, hash);
                start = s.epoch();
                history.addAll(Trainer.withSeconds(dir, s.metrics()));
                if (start > 0 && log != null) log.printf("[%s] resuming from the checkpoint of epoch %d/%d%n", label, start, cfg.epochs());
            }
            Trainer.writeMetrics(dir, history);
            ConfusionMatrix last = null;
            for (int epoch = start; epoch < cfg.epochs(); epoch++) {
                long t0 = System.nanoTime();
                double[] tr = trainEpoch(model, opts, epoch, pool);
                Evaluation ev = evaluate(model, test, stats);
                last = ev.confusion();
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("test_miou", ev.meanIou());
                extra.put("test_pixel_acc", ev.pixelAccuracy());
                extra.put("test_iou", ev.confusion().iouJson());
                EpochMetrics m = new EpochMetrics(epoch + 1, cfg.lrAt(epoch), tr[0], tr[1], ev.loss(), ev.pixelAccuracy(),
                        (System.nanoTime() - t0) / 1e9, extra);
                history.add(m);
                Checkpoint.save(ckpt, model, opts, masks, epoch + 1, hash, history, RNG_DERIVATION);
                Trainer.appendMetrics(dir, m);
                if (log != null)
                    log.printf(Locale.ROOT, "[%s] epoch %d/%d  lr %.4g  train loss %.4f pixel acc %.2f%%  test loss %.4f mIoU %.2f%% "
                                    + "pixel acc %.2f%%  %.1fs%n", label, m.epoch(), cfg.epochs(), m.lr(), m.trainLoss(),
                            100 * m.trainAcc(), m.testLoss(), 100 * ev.meanIou(), 100 * m.testAcc(), m.seconds());
            }
            return new Result(history, start, last);
        } finally {
            pool.shutdownNow();
            opts.forEach(SGD::close);
        }
    }

    /** one training batch, prepared off the compute thread */
    private record Prepared(SegBatch batch, long validPixels) {}

    /** the batch order of an epoch: the batches, each a list of training indices */
    int[][] batches(int epoch) {
        int n = train.size(), bs = cfg.batchSize();
        int[] order = BatchIterator.order(n, true, Seeds.derive(cfg.seed(), ORDER_KEY), epoch);
        int nb = (n + bs - 1) / bs;
        if (nb > 0 && n % bs == 1 && n > 1) nb--; // a last batch of one image: batch norm cannot train on it
        int[][] out = new int[nb][];
        for (int b = 0; b < nb; b++) out[b] = java.util.Arrays.copyOfRange(order, b * bs, Math.min(n, (b + 1) * bs));
        return out;
    }

    /** batch b of epoch e: normalised, cropped and augmented as the config says; a pure function of (seed, e, b) */
    SegBatch prepare(int[] indices, int epoch, int b) {
        SplittableRandom rng = Seeds.rng(cfg.seed(), AUGMENT_KEY, epoch, b);
        List<SegSample> samples = new ArrayList<>(indices.length);
        for (int i : indices) {
            SegSample s = train.get(i);
            if (stats != null) s = SegAugment.normalize(s, stats);
            if (cfg.crop() > 0) {
                s = cfg.augment() ? SegAugment.train(s, cfg.crop(), cfg.scaleMin(), cfg.scaleMax(), cfg.flip(), rng)
                        : SegAugment.train(s, cfg.crop(), 1, 1, false, rng);
            }
            samples.add(s);
        }
        try {
            return SegBatch.stack(samples);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config key 'crop': the training images of " + train.name() + " differ in size ("
                    + e.getMessage() + "); set crop (e.g. crop=513 for VOC) to train on crops of one size");
        }
    }

    /** trains one epoch (0-based); returns {mean per-pixel loss, pixel accuracy} over the labelled training pixels */
    private double[] trainEpoch(Module model, List<SGD> opts, int epoch, ExecutorService pool) {
        double lr = cfg.lrAt(epoch);
        opts.get(0).setLr(lr);
        if (opts.size() > 1) opts.get(1).setLr(cfg.backboneLrAt(epoch));
        model.train(true);
        int[][] batches = batches(epoch);
        double lossSum = 0;
        long seen = 0, correct = 0;
        long lastNote = System.nanoTime();
        Future<Prepared> next = batches.length == 0 ? null : submit(pool, batches[0], epoch, 0);
        for (int b = 0; b < batches.length; b++) {
            Prepared p = Trainer.get(next);
            next = b + 1 < batches.length ? submit(pool, batches[b + 1], epoch, b + 1) : null;
            SegBatch batch = p.batch();
            Dropout.reseed(model, Seeds.derive(cfg.seed(), DROPOUT_KEY, epoch, b));
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = Tensor.of(batch.x(), model.device(), batch.n(), batch.c(), batch.h(), batch.w());
                Tensor y = Tensor.ofInts(batch.y(), model.device(), batch.n(), batch.h(), batch.w());
                Tensor logits = model.forward(x);
                checkOutput(logits, batch.n(), train.numClasses(), batch.h(), batch.w());
                Tensor loss = Ops.crossEntropy2d(logits, y, SegDataset.IGNORE);
                loss.backwardAndFree(logits);
                for (SGD o : opts) o.step();
                for (SGD o : opts) o.zeroGrad();
                double l = loss.item();
                if (!Double.isFinite(l))
                    throw new IllegalStateException("training diverged: the loss of epoch " + (epoch + 1) + ", batch " + (b + 1)
                            + " is " + l + "; lower the learning rate (lr=" + lr + ")");
                lossSum += l * p.validPixels();
                seen += p.validPixels();
                int[] pred = ConfusionMatrix.argmax(logits.toFloatArray(), batch.n(), train.numClasses(), batch.h(), batch.w());
                for (int i = 0; i < pred.length; i++) if (batch.y()[i] != SegDataset.IGNORE && pred[i] == batch.y()[i]) correct++;
            }
            if (log != null && System.nanoTime() - lastNote > 30e9) {
                lastNote = System.nanoTime();
                log.printf(Locale.ROOT, "[%s] epoch %d/%d  batch %d/%d  train loss %.4f%n", label, epoch + 1, cfg.epochs(), b + 1,
                        batches.length, lossSum / Math.max(1, seen));
            }
        }
        return new double[] {lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen)};
    }

    private Future<Prepared> submit(ExecutorService pool, int[] indices, int epoch, int b) {
        return pool.submit(() -> {
            SegBatch batch = prepare(indices, epoch, b);
            long valid = 0;
            for (int v : batch.y()) if (v != SegDataset.IGNORE) valid++;
            return new Prepared(batch, valid);
        });
    }

    static void checkOutput(Tensor logits, int n, int k, int h, int w) {
        int[] s = logits.shape();
        if (s.length != 4 || s[0] != n || s[1] != k || s[2] != h || s[3] != w)
            throw new IllegalStateException("the model's output is " + java.util.Arrays.toString(s) + ", a segmentation model must give ["
                    + n + ", " + k + ", " + h + ", " + w + "] (classes x the input's height and width)");
    }

    /** test image i as the model sees it: normalised with stats (when given), whole */
    static SegSample input(SegDataset data, int i, ChannelStats stats) {
        SegSample s = data.get(i);
        return stats == null ? s : SegAugment.normalize(s, stats);
    }

    /**
     * Evaluates the model on whole images of data, in eval mode without gradients (the training
     * flag restored after): consecutive images of one size go through together (at most
     * {@value #EVAL_BATCH} images and {@value #EVAL_PIXELS} pixels, so Pascal VOC's images of varying
     * size go one at a time; in eval mode the result does not depend on the grouping).
     */
    public static Evaluation evaluate(Module model, SegDataset data, ChannelStats stats) {
        ConfusionMatrix cm = new ConfusionMatrix(data.numClasses());
        double lossSum = 0;
        long valid = 0;
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.noGrad()) {
            List<SegSample> group = new ArrayList<>();
            for (int i = 0; i <= data.size(); i++) {
                SegSample s = i < data.size() ? input(data, i, stats) : null;
                if (!group.isEmpty() && (s == null || s.h() != group.get(0).h() || s.w() != group.get(0).w()
                        || group.size() == EVAL_BATCH || (long) (group.size() + 1) * s.h() * s.w() > EVAL_PIXELS)) {
                    SegBatch b = SegBatch.stack(group);
                    group.clear();
                    try (MemoryScope sc = MemoryScope.open()) {
                        Tensor x = Tensor.of(b.x(), model.device(), b.n(), b.c(), b.h(), b.w());
                        Tensor logits = model.forward(x);
                        checkOutput(logits, b.n(), data.numClasses(), b.h(), b.w());
                        long v = 0;
                        for (int l : b.y()) if (l != SegDataset.IGNORE) v++;
                        if (v > 0) lossSum += Ops.crossEntropy2d(logits, Tensor.ofInts(b.y(), model.device(), b.n(), b.h(), b.w()), SegDataset.IGNORE).item() * v;
                        valid += v;
                        cm.add(b.y(), ConfusionMatrix.argmax(logits.toFloatArray(), b.n(), data.numClasses(), b.h(), b.w()));
                    }
                }
                if (s != null) group.add(s);
            }
        }
        return new Evaluation(valid == 0 ? 0 : lossSum / valid, cm);
    }

    /** the predicted label map of each given image of data (whole, eval mode, one at a time) */
    public static List<int[]> predict(Module model, SegDataset data, ChannelStats stats, int[] indices) {
        List<int[]> out = new ArrayList<>();
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.noGrad()) {
            for (int i : indices) {
                SegSample s = input(data, i, stats);
                try (MemoryScope sc = MemoryScope.open()) {
                    Tensor logits = model.forward(Tensor.of(s.image(), model.device(), 1, s.c(), s.h(), s.w()));
                    checkOutput(logits, 1, data.numClasses(), s.h(), s.w());
                    out.add(ConfusionMatrix.argmax(logits.toFloatArray(), 1, data.numClasses(), s.h(), s.w()));
                }
            }
        }
        return out;
    }
}
