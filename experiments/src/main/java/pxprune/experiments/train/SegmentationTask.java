package pxprune.experiments.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.ChannelStats;
import pxprune.datasets.DatasetRegistry;
import pxprune.datasets.PruningSplit;
import pxprune.datasets.SegAugment;
import pxprune.datasets.SegBatch;
import pxprune.datasets.SegDataset;
import pxprune.datasets.SegSample;
import pxprune.datasets.Seeds;
import pxprune.experiments.plot.LabelMaps;
import pxprune.kernels.Device;
import pxprune.nn.Dropout;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.EvalMode;
import pxprune.px.ScoringData;

/**
 * Semantic segmentation ({@link RunConfig#segmentation()}, see docs/segmentation.md): a class per
 * pixel, per-pixel cross-entropy over the pixels not labelled {@link SegDataset#IGNORE}
 * ({@code Ops.crossEntropy2d}), evaluation on whole test images after every epoch (see
 * {@link #evaluate}): mean IoU and pixel accuracy from the confusion matrix.
 *
 * <p>Pruning: the split is drawn by {@code PruningSplit.selectSegmentation} (images until every
 * class is present in {@code examples_per_class} of them; CSV {@code index,classes}), pruning
 * differentiates the per-pixel loss ({@link ScoringData#dense}) on the images of the split
 * ({@link #pruningData}).
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
 * So every batch is a pure function of (seed, e, b), and nothing random crosses an epoch
 * boundary. A final batch of a single image is left out (batch norm cannot train on it). Every
 * batch is read back after its step (segmentation logits are large).
 *
 * <p>Files: {@value Checkpoint#FILE} and {@value Trainer#METRICS} as {@link Trainer}, each line
 * with the extra metrics {@code test_miou}, {@code test_pixel_acc}, {@code test_iou} (see
 * {@link EpochMetrics}, {@link ConfusionMatrix}); {@code train_acc} and {@code test_acc} are pixel
 * accuracies, the losses per-pixel means. The run folder also gets {@value Runner#CONFUSION} (the
 * final test confusion matrix with per-class IoU) and {@value Runner#PREDICTIONS} (test images,
 * ground truth, prediction); the summary has {@code test_miou}, {@code test_iou} per class, and
 * {@code test_acc} = {@code test_pixel_acc}, the pixel accuracy.
 *
 * @param stats the channel statistics to normalise with, or null for none
 */
public record SegmentationTask(RunConfig cfg, SegDataset train, SegDataset test, ChannelStats stats) implements Task {
    /** keys of the random streams derived from the run's seed (order and augmentation as {@link Trainer}) */
    public static final long ORDER_KEY = Trainer.ORDER_KEY, AUGMENT_KEY = Trainer.AUGMENT_KEY, DROPOUT_KEY = 0x64726f70L;
    /** evaluation batches: consecutive test images of one size, at most this many and this many pixels */
    public static final int EVAL_BATCH = 32, EVAL_PIXELS = 1 << 18;
    /** test images drawn in predictions.png */
    public static final int PICTURE_ROWS = 4;
    /** the key of the random crop position of pruning images larger than crop */
    static final long PRUNE_CROP_KEY = 0x7072756eL;
    static final String RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, Seeds.derive(seed, "
            + "ORDER_KEY=" + ORDER_KEY + "), e); augmentation of batch b of epoch e = Seeds.rng(seed, AUGMENT_KEY=" + AUGMENT_KEY
            + ", e, b) drawn in batch order; dropout of batch b = Dropout.reseed(model, Seeds.derive(seed, DROPOUT_KEY="
            + DROPOUT_KEY + ", e, b))";

    /** an evaluation: the mean per-pixel cross-entropy over the labelled pixels and the confusion matrix */
    public record Evaluation(double loss, ConfusionMatrix confusion) implements Task.Evaluation {
        public double pixelAccuracy() { return confusion.pixelAccuracy(); }
        public double meanIou() { return confusion.meanIou(); }

        @Override public double accuracy() { return pixelAccuracy(); }

        @Override
        public Map<String, Object> extra() {
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("test_miou", meanIou());
            extra.put("test_pixel_acc", pixelAccuracy());
            extra.put("test_iou", confusion.iouJson());
            return extra;
        }

        @Override
        public String describe() {
            return String.format(Locale.ROOT, "mIoU %.2f%% pixel acc %.2f%%", 100 * meanIou(), 100 * pixelAccuracy());
        }
    }

    /** the segmentation task of a config with its train and test sets and their channel statistics */
    public static SegmentationTask load(RunConfig cfg) {
        Path root = Path.of(cfg.dataRoot());
        SegDataset train = DatasetRegistry.loadSegmentation(cfg.dataset(), root, true, Runner.DATA_SPLIT_SEED);
        SegDataset test = DatasetRegistry.loadSegmentation(cfg.dataset(), root, false, Runner.DATA_SPLIT_SEED);
        return new SegmentationTask(cfg, train, test, DatasetRegistry.stats(cfg.dataset()).orElse(null));
    }

    /** a freshly initialised segmentation model for the config (deterministic for the seed) */
    @Override
    public Module model() {
        int size = cfg.crop() > 0 ? cfg.crop() : Math.min(train.get(0).h(), train.get(0).w());
        return Runner.pretrained(cfg, ModelRegistry.create(cfg.model(), train.channels(), train.numClasses(), size, cfg.seed()));
    }

    @Override
    public int[] split(Path file) {
        if (Files.isRegularFile(file)) {
            PruningSplit.SegSelection s = PruningSplit.readSegmentation(file);
            s.checkAgainst(train);
            return s.indices();
        }
        int[] idx;
        try {
            idx = PruningSplit.selectSegmentation(train, cfg.examplesPerClass(), cfg.seed());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config key 'examples_per_class': " + e.getMessage());
        }
        Path tmp = file.resolveSibling(Runner.SPLIT + ".tmp");
        PruningSplit.writeSegmentation(tmp, idx, train);
        Runner.move(tmp, file);
        return idx;
    }

    /**
     * The pruning images with their per-pixel labels: normalised like the training images, and with
     * crop > 0 padded and cut to crop x crop (at a position drawn from the seed when larger), no
     * other augmentation; whole images with crop 0 (they must share one size).
     */
    @Override
    public ScoringData pruningData(Module model, int[] split) {
        SplittableRandom rng = Seeds.rng(cfg.seed(), PRUNE_CROP_KEY);
        List<SegSample> samples = new ArrayList<>();
        for (int i : split) {
            SegSample s = train.get(i);
            if (stats != null) s = SegAugment.normalize(s, stats);
            if (cfg.crop() > 0) s = SegAugment.train(s, cfg.crop(), 1, 1, false, rng);
            samples.add(s);
        }
        SegBatch b;
        try {
            b = SegBatch.stack(samples);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config key 'crop': the pruning images of " + train.name() + " differ in size ("
                    + e.getMessage() + "); set crop (e.g. crop=513 for VOC)");
        }
        Tensor x = Tensor.of(b.x(), model.device(), b.n(), b.c(), b.h(), b.w());
        return ScoringData.dense(x, b.y(), train.numClasses(), cfg.seed(), Math.min(Runner.SCORING_CHUNK, b.n()));
    }

    // ------------------------------------------------------------------ training
    @Override public String rngDerivation() { return RNG_DERIVATION; }

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

    @Override
    public Task.Epoch epoch(int epoch) {
        int[][] batches = batches(epoch);
        return new Task.Epoch() {
            @Override public int size() { return batches.length; }

            @Override
            public Step prepare(int b, Device device) {
                SegBatch batch = SegmentationTask.this.prepare(batches[b], epoch, b);
                long valid = 0;
                for (int v : batch.y()) if (v != SegDataset.IGNORE) valid++;
                return Step.upload(batch.x(), new int[] {batch.n(), batch.c(), batch.h(), batch.w()}, batch.y(),
                        new int[] {batch.n(), batch.h(), batch.w()}, valid, device);
            }
        };
    }

    @Override
    public void beforeStep(Module model, int epoch, int b) {
        Dropout.reseed(model, Seeds.derive(cfg.seed(), DROPOUT_KEY, epoch, b));
    }

    @Override
    public Tensor loss(Tensor logits, Step step) {
        int[] s = step.x().shape();
        checkOutput(logits, s[0], train.numClasses(), s[2], s[3]);
        return Ops.crossEntropy2d(logits, step.y(), SegDataset.IGNORE);
    }

    @Override
    public long correct(Tensor logits, Step step) {
        int[] s = logits.shape(); // checked by loss: [n, classes, h, w]
        int[] y = step.labels();
        int[] pred = ConfusionMatrix.argmax(logits.toFloatArray(), s[0], s[1], s[2], s[3]);
        long correct = 0;
        for (int i = 0; i < pred.length; i++) if (y[i] != SegDataset.IGNORE && pred[i] == y[i]) correct++;
        return correct;
    }

    @Override public int readBack() { return 1; }

    @Override public String accuracyName() { return "pixel acc"; }

    @Override public Evaluation evaluate(Module model) { return evaluate(model, test, stats); }

    /** the last epoch's evaluation of this process, or (resumed after the last checkpoint, or 0 epochs) the same one again */
    @Override
    public Task.Evaluation finalEvaluation(Module model, Trainer.Result result) {
        return result.lastEvaluation() != null ? result.lastEvaluation() : evaluate(model);
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

    // ------------------------------------------------------------------ the run folder
    @Override
    public Map<String, Object> testSummary(Task.Evaluation ev) {
        Evaluation e = (Evaluation) ev;
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("task", "segmentation");
        s.put("test_miou", e.meanIou());
        s.put("test_acc", e.pixelAccuracy());
        s.put("test_pixel_acc", e.pixelAccuracy());
        s.put("test_loss", e.loss());
        Map<String, Object> iou = new LinkedHashMap<>();
        List<Object> values = e.confusion().iouJson();
        List<String> classNames = test.classNames();
        for (int c = 0; c < classNames.size(); c++) iou.put(classNames.get(c), values.get(c));
        s.put("test_iou", iou);
        return s;
    }

    @Override
    public Map<String, Object> filesSummary() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("confusion", Runner.CONFUSION);
        s.put("predictions", Runner.PREDICTIONS);
        return s;
    }

    /** confusion.csv (the evaluation's confusion matrix) and predictions.png */
    @Override
    public void writeFiles(Module model, Task.Evaluation ev, Path dir) throws IOException {
        Runner.writeAtomically(dir.resolve(Runner.CONFUSION), ((Evaluation) ev).confusion().csv(test.classNames()));
        predictionsPng(model, dir.resolve(Runner.PREDICTIONS));
    }

    /** the test images of predictions.png: {@value #PICTURE_ROWS} spread evenly over the test set */
    static int[] pictureIndices(int n) {
        int k = Math.min(PICTURE_ROWS, n);
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = (int) ((long) i * n / k);
        return out;
    }

    private void predictionsPng(Module model, Path png) throws IOException {
        int[] idx = pictureIndices(test.size());
        List<int[]> pred = predict(model, test, stats, idx);
        List<LabelMaps.Row> rows = new ArrayList<>();
        for (int r = 0; r < idx.length; r++) {
            SegSample s = test.get(idx[r]);
            rows.add(new LabelMaps.Row(s.image(), s.c(), s.h(), s.w(), s.label(), pred.get(r)));
        }
        Path tmp = png.resolveSibling(Runner.PREDICTIONS + "." + ProcessHandle.current().pid() + ".tmp.png");
        LabelMaps.write(tmp, String.format(Locale.ROOT, "%s %s on %s, density %.4f: test images %s", cfg.method(), cfg.model(),
                cfg.dataset(), cfg.prunes() ? cfg.density() : 1.0, java.util.Arrays.toString(idx)), rows, test.classNames());
        Runner.move(tmp, png);
    }
}
