package pxprune.experiments.train;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Augment;
import pxprune.datasets.Batch;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.BatchStream;
import pxprune.datasets.ImageFiles;
import pxprune.datasets.ImageSet;
import pxprune.datasets.Seeds;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.nn.Sparsity;
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
 * <p>Sets streamed from files ({@link ImageFiles}, ImageNet): the same batch order; each batch is
 * decoded by a {@link BatchStream} on {@link BatchStream#defaultWorkers()} threads, {@value #STREAM_AHEAD}
 * batches ahead, with the random resized crop and flip of example k of batch b drawn from
 * {@code Seeds.rng(Seeds.derive(seed, AUGMENT_KEY, e), b, k)} when augment is on (the evaluation crop when
 * off); evaluation decodes the test set in batches of {@value #STREAM_EVAL_BATCH}.
 *
 * <p>Devices: the model is moved to the config's device ({@link RunConfig#device}, {@link DeviceSpec})
 * before the optimizer is built, so its momentum buffers and masks live there too; each batch is
 * gathered, augmented and uploaded on a preparation thread (one thread, batches in order, so the
 * augmentation stream is drawn as on one thread) while the previous batch computes; the batches'
 * losses and logits stay on the device until {@value #READ_BACK} batches wait or the epoch ends and
 * are read back then (so a diverged loss is reported within {@value #READ_BACK} batches); evaluation
 * runs on the device; checkpoints are written from the device tensors and resumed onto them, bit for
 * bit as on the CPU.
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
    /** examples per evaluation batch of a streamed set (decoded 224 px images are large) */
    public static final int STREAM_EVAL_BATCH = 100;
    /** training batches whose losses and logits wait on the device before they are read back (memory: logits of this many) */
    public static final int READ_BACK = 256;
    /** batches a streamed set decodes ahead of the one training waits for */
    public static final int STREAM_AHEAD = 2;
    static final String RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, "
            + "Seeds.derive(seed, ORDER_KEY=" + ORDER_KEY + "), e); augmentation of epoch e = Seeds.rng(seed, AUGMENT_KEY="
            + AUGMENT_KEY + ", e) drawn in batch order";
    static final String STREAM_RNG_DERIVATION = "stateless: batch order of epoch e = BatchIterator.order(n, true, "
            + "Seeds.derive(seed, ORDER_KEY=" + ORDER_KEY + "), e); crop and flip of example k of batch b of epoch e = "
            + "Seeds.rng(Seeds.derive(seed, AUGMENT_KEY=" + AUGMENT_KEY + ", e), b, k)";

    private final RunConfig cfg;
    private final ImageSet train, test;
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
    public Trainer(RunConfig cfg, ImageSet train, ImageSet test, Path dir, PrintStream log, String label) {
        this.cfg = cfg; this.train = train; this.test = test; this.dir = dir; this.log = log; this.label = label;
    }

    /**
     * Trains the model (at its initial weights, or resumed from the checkpoint) for the remaining
     * epochs of the config. The masks are applied to the model first.
     */
    public Result train(Module model, Masks masks) throws IOException {
        model.to(Runner.activate(cfg)); // before the optimizer: Module.to replaces the parameter tensors
        masks.apply(model);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        String hash = cfg.hash();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "train-batches");
            t.setDaemon(true);
            return t;
        });
        try (SGD opt = SGD.of(model, cfg.lr(), cfg.momentum(), cfg.weightDecay(), cfg.nesterov());
             MemoryScope scope = MemoryScope.open();
             Sparsity sparse = Sparsity.attach(model, masks.pruned())) {
            logSparse(log, label, sparse, masks);
            // an all-ones mask changes nothing (x * 1 is exact): only pruned layers get one
            for (String name : masks.names())
                if (masks.kept(name) < masks.numel(name)) opt.setMask(name, masks.tensor(name, model.device()));
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
                EpochMetrics m = epoch(model, opt, epoch, pool);
                history.add(m);
                Checkpoint.save(ckpt, model, List.of(opt), masks, epoch + 1, hash, history,
                        train instanceof ImageFiles ? STREAM_RNG_DERIVATION : RNG_DERIVATION);
                appendMetrics(dir, m);
                if (log != null)
                    log.printf(Locale.ROOT, "[%s] epoch %d/%d  lr %.4g  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.1fs%n",
                            label, m.epoch(), cfg.epochs(), m.lr(), m.trainLoss(), 100 * m.trainAcc(), m.testLoss(),
                            100 * m.testAcc(), m.seconds());
            }
            return new Result(history, start);
        } finally {
            pool.shutdownNow();
        }
    }

    /** a progress line naming how many pruned layers run on the sparse kernels (nothing when none is pruned) */
    static void logSparse(PrintStream log, String label, Sparsity sparse, Masks masks) {
        int pruned = masks.pruned().size();
        if (log != null && pruned > 0)
            log.printf("[%s] sparse kernels: %d of %d pruned layers (-D%s=%s)%n", label, sparse.layers().size(), pruned,
                    Sparsity.PROPERTY, Sparsity.mode());
    }

    /**
     * One training batch on the model's device, made on the preparation thread: gathered, augmented
     * and uploaded while the previous batch computes. Owned by no scope: the training loop closes it.
     */
    private record Prepared(Tensor x, Tensor y, int n) implements AutoCloseable {
        @Override public void close() { x.close(); y.close(); }
    }

    /** one epoch of training (0-based index) followed by evaluation on the test set */
    EpochMetrics epoch(Module model, SGD opt, int epoch, ExecutorService pool) {
        long t0 = System.nanoTime();
        double lr = cfg.lrAt(epoch);
        opt.setLr(lr);
        model.train(true);
        pxprune.kernels.Device device = model.device();
        boolean dropLast = train.size() % cfg.batchSize() == 1;
        BatchIterator it = new BatchIterator(train, cfg.batchSize(), true, Seeds.derive(cfg.seed(), ORDER_KEY), epoch, dropLast);
        int nb = it.numBatches();
        // one thread draws the batches in order, so the augmentation stream is drawn in batch order as before
        SplittableRandom aug = Seeds.rng(cfg.seed(), AUGMENT_KEY, epoch);
        BatchStream stream = null;
        if (train instanceof ImageFiles files) {
            List<int[]> order = new ArrayList<>(nb);
            for (int b = 0; b < nb; b++) order.add(it.batch(b));
            stream = files.stream(order, cfg.augment() ? Seeds.derive(cfg.seed(), AUGMENT_KEY, epoch) : null,
                    BatchStream.defaultWorkers(), STREAM_AHEAD);
        }
        // the batches' losses and logits stay on the device until READ_BACK of them wait or the epoch ends: no download per batch
        List<Tensor> losses = new ArrayList<>(), outputs = new ArrayList<>();
        List<int[]> labels = new ArrayList<>(nb);
        double[] sums = new double[3]; // loss * examples, correct, examples of the batches read back
        long lastNote = System.nanoTime();
        Future<Prepared> next = nb == 0 ? null : submit(pool, it, 0, aug, stream, device, labels);
        try {
            for (int b = 0; b < nb; b++) {
                Prepared p = get(next);
                next = null;
                try (p; MemoryScope s = MemoryScope.open()) {
                    next = b + 1 < nb ? submit(pool, it, b + 1, aug, stream, device, labels) : null;
                    Tensor logits = model.forward(p.x());
                    Tensor loss = Ops.crossEntropy(logits, p.y());
                    loss.backwardAndFree(logits); // the forward's activations go as the backward passes them
                    opt.step();
                    opt.zeroGrad();
                    try (GradMode g = GradMode.noGrad()) {
                        losses.add(MemoryScope.unscoped(() -> Ops.copy(loss)));
                        outputs.add(MemoryScope.unscoped(() -> Ops.copy(logits)));
                    }
                }
                if (log != null && System.nanoTime() - lastNote > 30e9) {
                    lastNote = System.nanoTime();
                    log.printf(Locale.ROOT, "[%s] epoch %d/%d  batch %d/%d  train loss %.4f%n", label, epoch + 1, cfg.epochs(), b + 1,
                            nb, losses.get(losses.size() - 1).item());
                }
                if (losses.size() == READ_BACK || b == nb - 1) readBack(losses, outputs, labels, b + 1 - losses.size(), sums, epoch, lr);
            }
            double lossSum = sums[0];
            long correct = (long) sums[1], seen = (long) sums[2];
            double[] ev = evaluate(model, test);
            double secs = (System.nanoTime() - t0) / 1e9;
            return new EpochMetrics(epoch + 1, lr, lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen), ev[0], ev[1], secs);
        } finally {
            if (next != null) {
                try { get(next).close(); } catch (RuntimeException e) { /* the failure that got us here matters more */ }
            }
            if (stream != null) stream.close();
            losses.forEach(Tensor::close);
            outputs.forEach(Tensor::close);
        }
    }

    /**
     * Adds the losses and correct predictions of the batches first, first + 1, ... (whose losses and logits wait
     * on the device) to sums, and closes their tensors.
     *
     * @throws IllegalStateException if a loss is not finite (training diverged)
     */
    private static void readBack(List<Tensor> losses, List<Tensor> outputs, List<int[]> labels, int first, double[] sums, int epoch,
                                 double lr) {
        try {
            for (int k = 0; k < losses.size(); k++) {
                double l = losses.get(k).item();
                int[] y;
                synchronized (labels) { y = labels.get(first + k); }
                if (!Double.isFinite(l))
                    throw new IllegalStateException("training diverged: the loss of epoch " + (epoch + 1) + ", batch " + (first + k + 1)
                            + " is " + l + "; lower the learning rate (lr=" + lr + ")");
                sums[0] += l * y.length;
                sums[1] += countCorrect(outputs.get(k), y);
                sums[2] += y.length;
            }
        } finally {
            losses.forEach(Tensor::close);
            outputs.forEach(Tensor::close);
            losses.clear();
            outputs.clear();
        }
    }

    /**
     * batch b of the epoch, gathered and augmented (or taken from the stream, which decodes it) and uploaded to
     * device on the preparation thread; its labels kept for the metrics
     */
    private Future<Prepared> submit(ExecutorService pool, BatchIterator it, int b, SplittableRandom aug, BatchStream stream,
                                    pxprune.kernels.Device device, List<int[]> labels) {
        return pool.submit(() -> {
            Batch batch;
            if (stream != null) {
                batch = stream.next();
            } else {
                batch = train.batch(it.batch(b));
                if (cfg.augment()) Augment.cifarInPlace(batch, AUGMENT_PAD, aug);
            }
            synchronized (labels) { labels.add(batch.y()); }
            return MemoryScope.unscoped(() -> {
                Tensor x = Tensor.of(batch.x(), device, batch.n(), batch.c(), batch.h(), batch.w());
                try {
                    return new Prepared(x, Tensor.ofInts(batch.y(), device, batch.n()), batch.n());
                } catch (RuntimeException e) {
                    x.close();
                    throw e;
                }
            });
        });
    }

    /** the next prepared batch (Trainer's and SegmentationTask's preparation threads), with the preparation's own failure */
    static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next training batch", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException("preparing a training batch failed: " + c, c);
        }
    }

    /**
     * Mean cross-entropy and accuracy of the model on data, in eval mode, in batches on the model's
     * device (the losses and logits are downloaded once, at the end); restores the training flag.
     */
    public static double[] evaluate(Module model, ImageSet data) {
        double lossSum = 0;
        long correct = 0;
        pxprune.kernels.Device device = model.device();
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
