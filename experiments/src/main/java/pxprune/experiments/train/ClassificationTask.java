package pxprune.experiments.train;

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
import pxprune.datasets.Augment;
import pxprune.datasets.Batch;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.BatchStream;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.datasets.ImageFiles;
import pxprune.datasets.ImageSet;
import pxprune.datasets.PruningSplit;
import pxprune.datasets.Seeds;
import pxprune.datasets.Transforms;
import pxprune.kernels.Device;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.EvalMode;
import pxprune.px.ScoringData;

/**
 * Classification: one class per image, cross-entropy, accuracy.
 *
 * <p>Data: the train and test sets of the config ({@link #sets}); the pruning split is
 * {@code examples_per_class} examples of every class of the training set, drawn with the seed, no
 * augmentation ({@link PruningSplit#select}). Training batches: the batch order of epoch e is
 * {@link BatchIterator#order} with seed {@code Seeds.derive(seed, ORDER_KEY)}; with augment the CIFAR
 * crop (padding {@value #AUGMENT_PAD}) and flip of epoch e draw from
 * {@code Seeds.rng(seed, AUGMENT_KEY, e)} in batch order (one preparation thread draws the batches in
 * order). A final batch of a single example is left out (batch norm cannot train on it).
 *
 * <p>Sets streamed from files ({@link ImageFiles}, ImageNet): the same batch order; each batch is
 * decoded by a {@link BatchStream} on {@link BatchStream#defaultWorkers()} threads, {@value #STREAM_AHEAD}
 * batches ahead, with the random resized crop and flip of example k of batch b drawn from
 * {@code Seeds.rng(Seeds.derive(seed, AUGMENT_KEY, e), b, k)} when augment is on (the evaluation crop when
 * off); evaluation decodes the test set in batches of {@value #STREAM_EVAL_BATCH}.
 *
 * <p>Training batches keep their losses and logits on the device until {@value #READ_BACK} wait or the
 * epoch ends (so a diverged loss is reported within {@value #READ_BACK} batches); evaluation runs on
 * the device, the losses and logits downloaded once at the end.
 */
public record ClassificationTask(RunConfig cfg, ImageSet train, ImageSet test) implements Task {
    /** zero-padding of the random-crop augmentation */
    public static final int AUGMENT_PAD = 4;

    /** examples per evaluation batch (eval mode: the result does not depend on it) */
    public static final int EVAL_BATCH = 500;
    /** examples per evaluation batch of a streamed set (decoded 224 px images are large) */
    public static final int STREAM_EVAL_BATCH = 100;
    /** training batches whose losses and logits wait on the device before they are read back (memory: logits of this many) */
    public static final int READ_BACK = 256;
    /** batches a streamed set decodes ahead of the one training waits for */
    public static final int STREAM_AHEAD = 2;
    static final String RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, "
            + "Seeds.derive(seed, ORDER_KEY=" + Trainer.ORDER_KEY + "), e); augmentation of epoch e = Seeds.rng(seed, AUGMENT_KEY="
            + Trainer.AUGMENT_KEY + ", e) drawn in batch order";
    static final String STREAM_RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, "
            + "Seeds.derive(seed, ORDER_KEY=" + Trainer.ORDER_KEY + "), e); crop and flip of example k of batch b of epoch e = "
            + "Seeds.rng(Seeds.derive(seed, AUGMENT_KEY=" + Trainer.AUGMENT_KEY + ", e), b, k)";

    /** a classification evaluation: mean cross-entropy and accuracy */
    public record Accuracy(double loss, double accuracy) implements Task.Evaluation {
        @Override public Map<String, Object> extra() { return Map.of(); }

        @Override public String describe() { return String.format(Locale.ROOT, "acc %.2f%%", 100 * accuracy); }
    }

    /** the task of a config with its sets ({@link #sets}) */
    public static ClassificationTask load(RunConfig cfg) {
        ImageSet[] d = sets(cfg);
        return new ClassificationTask(cfg, d[0], d[1]);
    }

    /** the train and test sets of a config, normalised where the set has channel statistics */
    public static Dataset[] data(RunConfig cfg) {
        Path root = Path.of(cfg.dataRoot());
        Dataset train = DatasetRegistry.load(cfg.dataset(), root, true, Runner.DATA_SPLIT_SEED);
        Dataset test = DatasetRegistry.load(cfg.dataset(), root, false, Runner.DATA_SPLIT_SEED);
        var stats = DatasetRegistry.stats(cfg.dataset());
        if (stats.isPresent()) {
            train = Transforms.normalize(train, stats.get());
            test = Transforms.normalize(test, stats.get());
        }
        return new Dataset[] {train, test};
    }

    /**
     * The train and test sets of a config as training reads them: {@link #data} for sets held in memory; a
     * streamed set ({@link DatasetRegistry#isStreamed}, ImageNet) as its file index, normalised with its
     * channel statistics when decoded, its images {@code crop} x {@code crop} when the config sets crop.
     */
    public static ImageSet[] sets(RunConfig cfg) {
        if (!DatasetRegistry.isStreamed(cfg.dataset())) return data(cfg);
        Path root = Path.of(cfg.dataRoot());
        ImageSet[] out = new ImageSet[2];
        for (int k = 0; k < 2; k++) {
            ImageSet s = DatasetRegistry.open(cfg.dataset(), root, k == 0, Runner.DATA_SPLIT_SEED);
            if (cfg.crop() > 0 && s instanceof ImageFiles f) s = f.withSize(cfg.crop());
            var stats = DatasetRegistry.stats(cfg.dataset());
            out[k] = stats.isPresent() ? s.normalized(stats.get()) : s;
        }
        return out;
    }

    /** a freshly initialised model for the config and data (deterministic for the seed) */
    public static Module model(RunConfig cfg, ImageSet train) {
        return Runner.pretrained(cfg, ModelRegistry.create(cfg.model(), train.channels(), train.numClasses(),
                Math.min(train.height(), train.width()), cfg.seed()));
    }

    @Override public Module model() { return model(cfg, train); }

    @Override
    public int[] split(Path file) {
        if (java.nio.file.Files.isRegularFile(file)) {
            PruningSplit.Selection s = PruningSplit.read(file);
            s.checkAgainst(train);
            return s.indices();
        }
        int[] idx = PruningSplit.select(train, cfg.examplesPerClass(), cfg.seed());
        Path tmp = file.resolveSibling(Runner.SPLIT + ".tmp");
        PruningSplit.write(tmp, idx, train);
        Runner.move(tmp, file);
        return idx;
    }

    @Override
    public ScoringData pruningData(Module model, int[] split) {
        Batch batch = train.batch(split);
        Tensor x = Tensor.of(batch.x(), model.device(), batch.n(), batch.c(), batch.h(), batch.w());
        return new ScoringData(x, batch.y(), train.numClasses(), cfg.seed(), Math.min(Runner.SCORING_CHUNK, batch.n()));
    }

    // ------------------------------------------------------------------ training
    @Override public String rngDerivation() { return train instanceof ImageFiles ? STREAM_RNG_DERIVATION : RNG_DERIVATION; }

    @Override
    public Task.Epoch epoch(int epoch) {
        boolean dropLast = train.size() % cfg.batchSize() == 1;
        BatchIterator it = new BatchIterator(train, cfg.batchSize(), true, Seeds.derive(cfg.seed(), Trainer.ORDER_KEY), epoch, dropLast);
        int nb = it.numBatches();
        // one thread draws the batches in order, so the augmentation stream is drawn in batch order
        SplittableRandom aug = Seeds.rng(cfg.seed(), Trainer.AUGMENT_KEY, epoch);
        BatchStream stream;
        if (train instanceof ImageFiles files) {
            List<int[]> order = new ArrayList<>(nb);
            for (int b = 0; b < nb; b++) order.add(it.batch(b));
            stream = files.stream(order, cfg.augment() ? Seeds.derive(cfg.seed(), Trainer.AUGMENT_KEY, epoch) : null,
                    BatchStream.defaultWorkers(), STREAM_AHEAD);
        } else {
            stream = null;
        }
        return new Task.Epoch() {
            @Override public int size() { return nb; }

            @Override
            public Step prepare(int b, Device device) {
                Batch batch;
                if (stream != null) {
                    batch = stream.next();
                } else {
                    batch = train.batch(it.batch(b));
                    if (cfg.augment()) Augment.cifarInPlace(batch, AUGMENT_PAD, aug);
                }
                return Step.upload(batch.x(), new int[] {batch.n(), batch.c(), batch.h(), batch.w()}, batch.y(),
                        new int[] {batch.n()}, batch.n(), device);
            }

            @Override public void close() { if (stream != null) stream.close(); }
        };
    }

    @Override public Tensor loss(Tensor logits, Step step) { return Ops.crossEntropy(logits, step.y()); }

    @Override public long correct(Tensor logits, Step step) { return countCorrect(logits, step.labels()); }

    @Override public int readBack() { return READ_BACK; }

    @Override public String accuracyName() { return "acc"; }

    @Override public Accuracy evaluate(Module model) { return evaluate(model, test); }

    @Override
    public Task.Evaluation finalEvaluation(Module model, Trainer.Result result) {
        EpochMetrics last = result.last();
        return last == null ? evaluate(model) : new Accuracy(last.testLoss(), last.testAcc());
    }

    /**
     * Mean cross-entropy and accuracy of the model on data, in eval mode, in batches on the model's
     * device (the losses and logits are downloaded once, at the end); restores the training flag.
     */
    public static Accuracy evaluate(Module model, ImageSet data) {
        double lossSum = 0;
        long correct = 0;
        Device device = model.device();
        List<Tensor> losses = new ArrayList<>(), outputs = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        List<int[]> order = new ArrayList<>();
        BatchIterator it = new BatchIterator(data, data instanceof ImageFiles ? STREAM_EVAL_BATCH : EVAL_BATCH, false, 0, 0);
        while (it.hasNext()) order.add(it.next());
        // the batches' losses and logits are kept in this scope (on the device) until they are read at the end
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.noGrad(); MemoryScope kept = MemoryScope.open();
             BatchStream stream = data instanceof ImageFiles files ? files.stream(order, null, BatchStream.defaultWorkers(), STREAM_AHEAD) : null) {
            for (int[] idx : order) {
                Batch batch = stream != null ? stream.next() : data.batch(idx);
                try (MemoryScope s = MemoryScope.open()) {
                    Tensor x = Tensor.of(batch.x(), device, batch.n(), batch.c(), batch.h(), batch.w());
                    Tensor y = Tensor.ofInts(batch.y(), device, batch.n());
                    Tensor logits = model.forward(x);
                    losses.add(MemoryScope.keep(Ops.crossEntropy(logits, y)));
                    outputs.add(MemoryScope.keep(logits));
                    labels.add(batch.y());
                }
            }
            for (int b = 0; b < losses.size(); b++) {
                lossSum += losses.get(b).item() * labels.get(b).length;
                correct += countCorrect(outputs.get(b), labels.get(b));
            }
        }
        int n = Math.max(1, data.size());
        return new Accuracy(lossSum / n, (double) correct / n);
    }

    /** how many rows of logits [n, k] have their maximum (first one on ties) at the label */
    static long countCorrect(Tensor logits, int[] labels) {
        float[] v = logits.toFloatArray();
        int k = logits.size(1);
        long c = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
            if (best == labels[i]) c++;
        }
        return c;
    }

    // ------------------------------------------------------------------ the run folder
    @Override
    public Map<String, Object> testSummary(Task.Evaluation ev) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("test_acc", ev.accuracy());
        s.put("test_loss", ev.loss());
        return s;
    }
}
