package pxprune.px.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Augment;
import pxprune.datasets.Batch;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.Dataset;
import pxprune.datasets.Seeds;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.px.EvalMode;
import pxprune.px.Masks;

/**
 * Trains a (pruned) model with SGD on one config's recipe, one checkpoint per epoch, resuming from
 * the run folder's checkpoint when there is one.
 *
 * <p>Masks: the weights are multiplied by their masks before the first step, and every step of
 * {@link SGD} multiplies weight, momentum buffer and update by the mask, so pruned weights stay
 * exactly zero (weight decay, momentum and Nesterov included).
 *
 * <p>Determinism: the model is initialised from the seed (by the caller); the batch order of epoch
 * e is {@link BatchIterator#order} with seed {@code Seeds.derive(seed, ORDER_KEY)}; augmentation of
 * epoch e draws from {@code Seeds.rng(seed, AUGMENT_KEY, e)} in batch order. No random state
 * crosses an epoch boundary, so a run resumed at epoch e from its checkpoint (weights, buffers,
 * momentum) repeats the uninterrupted run bit for bit. A final batch of a single example is left
 * out (batch norm cannot train on it).
 *
 * <p>Files in the run folder: {@value Checkpoint#FILE} (after every epoch, atomically) and
 * {@value #METRICS} (one JSON object per epoch, see {@link EpochMetrics}; rebuilt from the
 * checkpoint on resume so that it never holds an epoch the checkpoint does not, the epochs' wall
 * times kept from the old file since the checkpoint does not hold them).
 */
public final class Trainer {
    public static final String METRICS = "metrics.jsonl";
    /** keys that separate the random streams derived from the run's seed */
    public static final long ORDER_KEY = 0x6f72646572L, AUGMENT_KEY = 0x6175676dL;
    /** zero-padding of the random-crop augmentation */
    public static final int AUGMENT_PAD = 4;
    /** examples per evaluation batch (eval mode: the result does not depend on it) */
    public static final int EVAL_BATCH = 500;
    static final String RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, "
            + "Seeds.derive(seed, ORDER_KEY=" + ORDER_KEY + "), e); augmentation of epoch e = Seeds.rng(seed, AUGMENT_KEY="
            + AUGMENT_KEY + ", e) drawn in batch order";

    private final RunConfig cfg;
    private final Dataset train, test;
    private final Path dir;
    private final PrintStream log;
    private final String label;

    /** what training produced: every epoch's metrics and the epoch it started from (0 = fresh) */
    public record Result(List<EpochMetrics> metrics, int startEpoch) {
        public EpochMetrics last() { return metrics.isEmpty() ? null : metrics.get(metrics.size() - 1); }

        /** the training seconds of the epochs whose wall time is known (see {@link Trainer#withSeconds}) */
        public double seconds() { return metrics.stream().mapToDouble(EpochMetrics::seconds).filter(Double::isFinite).sum(); }
    }

    /**
     * @param dir   the run folder (checkpoint and metrics go there)
     * @param log   progress lines (stderr), or null for none
     * @param label a short name for progress lines (e.g. the method)
     */
    public Trainer(RunConfig cfg, Dataset train, Dataset test, Path dir, PrintStream log, String label) {
        this.cfg = cfg; this.train = train; this.test = test; this.dir = dir; this.log = log; this.label = label;
    }

    /**
     * Trains the model (at its initial weights, or resumed from the checkpoint) for the remaining
     * epochs of the config. The masks are applied to the model first.
     */
    public Result train(Module model, Masks masks) throws IOException {
        masks.apply(model);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        String hash = cfg.hash();
        try (SGD opt = SGD.of(model, cfg.lr(), cfg.momentum(), cfg.weightDecay(), cfg.nesterov());
             MemoryScope scope = MemoryScope.open()) {
            // an all-ones mask changes nothing (x * 1 is exact): only pruned layers get one
            for (String name : masks.names()) if (masks.kept(name) < masks.numel(name)) opt.setMask(name, masks.tensor(name));
            List<EpochMetrics> history = new ArrayList<>();
            int start = 0;
            if (Files.isRegularFile(ckpt)) {
                Checkpoint.State s = Checkpoint.load(ckpt, model, opt, masks, hash);
                start = s.epoch();
                history.addAll(withSeconds(dir, s.metrics()));
                if (start > 0 && log != null) log.printf("[%s] resuming from the checkpoint of epoch %d/%d%n", label, start, cfg.epochs());
            }
            writeMetrics(dir, history);
            for (int epoch = start; epoch < cfg.epochs(); epoch++) {
                EpochMetrics m = epoch(model, opt, epoch);
                history.add(m);
                Checkpoint.save(ckpt, model, opt, masks, epoch + 1, hash, history);
                appendMetrics(dir, m);
                if (log != null)
                    log.printf(Locale.ROOT, "[%s] epoch %d/%d  lr %.4g  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.1fs%n",
                            label, m.epoch(), cfg.epochs(), m.lr(), m.trainLoss(), 100 * m.trainAcc(), m.testLoss(),
                            100 * m.testAcc(), m.seconds());
            }
            return new Result(history, start);
        }
    }

    /** one epoch of training (0-based index) followed by evaluation on the test set */
    EpochMetrics epoch(Module model, SGD opt, int epoch) {
        long t0 = System.nanoTime();
        double lr = cfg.lrAt(epoch);
        opt.setLr(lr);
        model.train(true);
        boolean dropLast = train.size() % cfg.batchSize() == 1;
        BatchIterator it = new BatchIterator(train, cfg.batchSize(), true, Seeds.derive(cfg.seed(), ORDER_KEY), epoch, dropLast);
        SplittableRandom aug = Seeds.rng(cfg.seed(), AUGMENT_KEY, epoch);
        double lossSum = 0;
        long correct = 0, seen = 0;
        long lastNote = System.nanoTime();
        for (int b = 0; b < it.numBatches(); b++) {
            Batch batch = train.batch(it.batch(b));
            if (cfg.augment()) Augment.cifarInPlace(batch, AUGMENT_PAD, aug);
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = Tensor.of(batch.x(), batch.n(), batch.c(), batch.h(), batch.w());
                Tensor y = Tensor.ofInts(batch.y(), batch.n());
                Tensor logits = model.forward(x);
                Tensor loss = Ops.crossEntropy(logits, y);
                loss.backward();
                opt.step();
                opt.zeroGrad();
                double l = loss.item();
                if (!Double.isFinite(l))
                    throw new IllegalStateException("training diverged: the loss of epoch " + (epoch + 1) + ", batch " + (b + 1)
                            + " is " + l + "; lower the learning rate (lr=" + lr + ")");
                lossSum += l * batch.n();
                correct += countCorrect(logits, batch.y());
                seen += batch.n();
            }
            if (log != null && System.nanoTime() - lastNote > 30e9) {
                lastNote = System.nanoTime();
                log.printf(Locale.ROOT, "[%s] epoch %d/%d  batch %d/%d  train loss %.4f%n", label, epoch + 1, cfg.epochs(), b + 1,
                        it.numBatches(), lossSum / seen);
            }
        }
        double[] ev = evaluate(model, test);
        double secs = (System.nanoTime() - t0) / 1e9;
        return new EpochMetrics(epoch + 1, lr, lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen), ev[0], ev[1], secs);
    }

    /** mean cross-entropy and accuracy of the model on data, in eval mode, in batches; restores the training flag */
    public static double[] evaluate(Module model, Dataset data) {
        double lossSum = 0;
        long correct = 0;
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.noGrad()) {
            BatchIterator it = new BatchIterator(data, EVAL_BATCH, false, 0, 0);
            while (it.hasNext()) {
                Batch batch = it.nextBatch();
                try (MemoryScope s = MemoryScope.open()) {
                    Tensor x = Tensor.of(batch.x(), batch.n(), batch.c(), batch.h(), batch.w());
                    Tensor y = Tensor.ofInts(batch.y(), batch.n());
                    Tensor logits = model.forward(x);
                    lossSum += Ops.crossEntropy(logits, y).item() * batch.n();
                    correct += countCorrect(logits, batch.y());
                }
            }
        }
        int n = Math.max(1, data.size());
        return new double[] {lossSum / n, (double) correct / n};
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

    static void appendMetrics(Path dir, EpochMetrics m) {
        try {
            Files.writeString(dir.resolve(METRICS), Json.write(m.toJson()) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + dir.resolve(METRICS) + ": " + e.getMessage(), e);
        }
    }

    /**
     * The checkpoint's metrics with the wall time of each epoch taken from metrics.jsonl in dir (the
     * checkpoint leaves it out to stay the same byte for byte); NaN for an epoch whose line is
     * missing or unreadable there.
     */
    static List<EpochMetrics> withSeconds(Path dir, List<EpochMetrics> fromCheckpoint) throws IOException {
        java.util.Map<Integer, Double> seconds = new java.util.HashMap<>();
        Path f = dir.resolve(METRICS);
        if (Files.isRegularFile(f)) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                try {
                    EpochMetrics m = EpochMetrics.fromJson(Json.parseObject(line));
                    seconds.put(m.epoch(), m.seconds());
                } catch (RuntimeException e) {
                    // a line cut short by a kill: its epoch's time is unknown
                }
            }
        }
        List<EpochMetrics> out = new ArrayList<>();
        for (EpochMetrics m : fromCheckpoint) out.add(m.withSeconds(seconds.getOrDefault(m.epoch(), Double.NaN)));
        return out;
    }

    /** rewrites metrics.jsonl in dir (atomically) with exactly the given epochs */
    static void writeMetrics(Path dir, List<EpochMetrics> history) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (EpochMetrics m : history) sb.append(Json.write(m.toJson())).append('\n');
        Runner.writeAtomically(dir.resolve(METRICS), sb.toString());
    }
}
