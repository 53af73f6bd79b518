package pxprune.experiments.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.nn.Sparsity;
import pxprune.px.Masks;

/**
 * Trains a (pruned) model with SGD on one config's recipe, one checkpoint per epoch, resuming from
 * the run folder's checkpoint when there is one; the {@link Task} supplies the batches, the loss
 * and the metrics ({@link ClassificationTask}, {@link SegmentationTask}).
 *
 * <p>Masks: the weights are multiplied by their masks before the first step, and every step of
 * {@link SGD} multiplies weight, momentum buffer and update by the mask, so pruned weights stay
 * exactly zero (weight decay, momentum and Nesterov included). Pruned layers run on the sparse
 * kernels where nn's {@link Sparsity} chooses them.
 *
 * <p>Schedule: the learning rate of epoch e is {@link RunConfig#lrAt}. With {@code backbone_lr > 0}
 * the parameters named {@code backbone.*} (a segmentation model's) are optimised by a second SGD
 * (same momentum, weight decay, Nesterov) at {@link RunConfig#backboneLrAt}; its momentum buffers go
 * into the same checkpoint.
 *
 * <p>Determinism: the model is initialised from the seed (by the caller); the batches of epoch e
 * (order and augmentation) are pure functions of the seed and e ({@link Task#epoch}, the task's
 * keys derived from {@link #ORDER_KEY} and {@link #AUGMENT_KEY}). No random state crosses an epoch
 * boundary, so a run resumed at epoch e from its checkpoint (weights, buffers, momentum) repeats the
 * uninterrupted run bit for bit.
 *
 * <p>Devices: the model is moved to the config's device ({@link RunConfig#device}, {@link Devices})
 * before the optimizers are built, so their momentum buffers and masks live there too; each batch is
 * gathered, augmented and uploaded on a preparation thread (one thread, batches in order, so the
 * augmentation streams are drawn as on one thread) while the previous batch computes; the batches'
 * losses and logits stay on the device until {@link Task#readBack} batches wait or the epoch ends and
 * are read back then (so a diverged loss is reported within that many batches); evaluation runs on
 * the device; checkpoints are written from the device tensors and resumed onto them, bit for bit as
 * on the CPU.
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
    /** the prefix of the parameters that backbone_lr applies to */
    public static final String BACKBONE = "backbone.";

    private final RunConfig cfg;
    private final Task task;
    private final Path dir;
    private final PrintStream log;
    private final String label;

    /**
     * What training produced: every epoch's metrics, the epoch it started from (0 = fresh) and the
     * last evaluation in this process (null when no epoch ran here).
     */
    public record Result(List<EpochMetrics> metrics, int startEpoch, Task.Evaluation lastEvaluation) {
        public EpochMetrics last() { return metrics.isEmpty() ? null : metrics.get(metrics.size() - 1); }

        /** the training seconds of the epochs whose wall time is known (see {@link Trainer#withSeconds}) */
        public double seconds() { return metrics.stream().mapToDouble(EpochMetrics::seconds).filter(Double::isFinite).sum(); }
    }

    /**
     * @param task  the data, loss and metrics (and the config)
     * @param dir   the run folder (checkpoint and metrics go there)
     * @param log   progress lines (stderr), or null for none
     * @param label a short name for progress lines (e.g. the method)
     */
    public Trainer(Task task, Path dir, PrintStream log, String label) {
        this.cfg = task.cfg(); this.task = task; this.dir = dir; this.log = log; this.label = label;
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
            Thread t = new Thread(r, "train-batches");
            t.setDaemon(true);
            return t;
        });
        try (MemoryScope scope = MemoryScope.open(); Sparsity sparse = Sparsity.attach(model, masks.pruned())) {
            logSparse(log, label, sparse, masks);
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
                history.addAll(withSeconds(dir, s.metrics()));
                if (start > 0 && log != null) log.printf("[%s] resuming from the checkpoint of epoch %d/%d%n", label, start, cfg.epochs());
            }
            writeMetrics(dir, history);
            Task.Evaluation last = null;
            for (int epoch = start; epoch < cfg.epochs(); epoch++) {
                EpochResult e = epoch(model, opts, epoch, pool);
                EpochMetrics m = e.metrics();
                last = e.evaluation();
                history.add(m);
                Checkpoint.save(ckpt, model, opts, masks, epoch + 1, hash, history, task.rngDerivation());
                appendMetrics(dir, m);
                if (log != null)
                    log.printf(Locale.ROOT, "[%s] epoch %d/%d  lr %.4g  train loss %.4f %s %.2f%%  test loss %.4f %s  %.1fs%n",
                            label, m.epoch(), cfg.epochs(), m.lr(), m.trainLoss(), task.accuracyName(), 100 * m.trainAcc(), m.testLoss(),
                            last.describe(), m.seconds());
            }
            return new Result(history, start, last);
        } finally {
            pool.shutdownNow();
            opts.forEach(SGD::close);
        }
    }

    /** a progress line naming how many pruned layers run on the sparse kernels (nothing when none is pruned) */
    private static void logSparse(PrintStream log, String label, Sparsity sparse, Masks masks) {
        int pruned = masks.pruned().size();
        if (log != null && pruned > 0)
            log.printf("[%s] sparse kernels: %d of %d pruned layers (-D%s=%s)%n", label, sparse.layers().size(), pruned,
                    Sparsity.PROPERTY, Sparsity.mode());
    }

    /** an epoch's metrics and its evaluation */
    record EpochResult(EpochMetrics metrics, Task.Evaluation evaluation) {}

    /** one epoch of training (0-based index) followed by evaluation on the test set */
    EpochResult epoch(Module model, List<SGD> opts, int epoch, ExecutorService pool) {
        long t0 = System.nanoTime();
        double[] tr = trainEpoch(model, opts, epoch, pool);
        Task.Evaluation ev = task.evaluate(model);
        return new EpochResult(new EpochMetrics(epoch + 1, cfg.lrAt(epoch), tr[0], tr[1], ev.loss(), ev.accuracy(),
                (System.nanoTime() - t0) / 1e9, ev.extra()), ev);
    }

    /** a trained batch whose loss and logits (copies) wait on the device to be read back */
    private record Pending(int batch, Tensor loss, Tensor logits, Task.Step step) {}

    /**
     * Trains one epoch (0-based); returns {mean loss, accuracy} over the training examples (labelled
     * pixels) as the task weighs them.
     */
    private double[] trainEpoch(Module model, List<SGD> opts, int epoch, ExecutorService pool) {
        double lr = cfg.lrAt(epoch);
        opts.get(0).setLr(lr);
        if (opts.size() > 1) opts.get(1).setLr(cfg.backboneLrAt(epoch));
        model.train(true);
        pxprune.kernels.Device device = model.device();
        int readBack = task.readBack();
        // loss * weight, correct, weight of the batches read back
        double[] sums = new double[3];
        List<Pending> pending = new ArrayList<>();
        try (Task.Epoch batches = task.epoch(epoch)) {
            int nb = batches.size();
            long lastNote = System.nanoTime();
            Future<Task.Step> next = nb == 0 ? null : pool.submit(() -> batches.prepare(0, device));
            try {
                for (int b = 0; b < nb; b++) {
                    Task.Step p = get(next);
                    next = null;
                    double batchLoss;
                    try (p; MemoryScope s = MemoryScope.open()) {
                        int following = b + 1;
                        next = following < nb ? pool.submit(() -> batches.prepare(following, device)) : null;
                        task.beforeStep(model, epoch, b);
                        Tensor logits = model.forward(p.x());
                        Tensor loss = task.loss(logits, p);
                        loss.backwardAndFree(logits); // the forward's activations go as the backward passes them
                        for (SGD o : opts) o.step();
                        for (SGD o : opts) o.zeroGrad();
                        if (readBack == 1) {
                            account(loss.item(), logits, p, b, epoch, lr, sums);
                            batchLoss = sums[0] / Math.max(1, sums[2]);
                        } else {
                            try (GradMode g = GradMode.noGrad()) {
                                pending.add(new Pending(b, MemoryScope.unscoped(() -> Ops.copy(loss)),
                                        MemoryScope.unscoped(() -> Ops.copy(logits)), p));
                            }
                            batchLoss = Double.NaN;
                        }
                    }
                    if (log != null && System.nanoTime() - lastNote > 30e9) {
                        lastNote = System.nanoTime();
                        if (readBack != 1) batchLoss = pending.get(pending.size() - 1).loss().item();
                        log.printf(Locale.ROOT, "[%s] epoch %d/%d  batch %d/%d  train loss %.4f%n", label, epoch + 1, cfg.epochs(), b + 1,
                                nb, batchLoss);
                    }
                    if (pending.size() == readBack || b == nb - 1) readBack(pending, epoch, lr, sums);
                }
            } finally {
                if (next != null) {
                    try { get(next).close(); } catch (RuntimeException e) { /* the failure that got us here matters more */ }
                }
                for (Pending q : pending) {
                    q.loss().close();
                    q.logits().close();
                }
            }
        }
        return new double[] {sums[0] / Math.max(1, sums[2]), sums[1] / Math.max(1, sums[2])};
    }

    /**
     * Adds the losses and correct predictions of the pending batches to sums, and closes their tensors.
     *
     * @throws IllegalStateException if a loss is not finite (training diverged)
     */
    private void readBack(List<Pending> pending, int epoch, double lr, double[] sums) {
        try {
            for (Pending q : pending) account(q.loss().item(), q.logits(), q.step(), q.batch(), epoch, lr, sums);
        } finally {
            for (Pending q : pending) {
                q.loss().close();
                q.logits().close();
            }
            pending.clear();
        }
    }

    /** adds batch b's loss (times its weight), correct predictions and weight to sums; a loss that is not finite is an error */
    private void account(double loss, Tensor logits, Task.Step step, int b, int epoch, double lr, double[] sums) {
        if (!Double.isFinite(loss))
            throw new IllegalStateException("training diverged: the loss of epoch " + (epoch + 1) + ", batch " + (b + 1)
                    + " is " + loss + "; lower the learning rate (lr=" + lr + ")");
        sums[0] += loss * step.weight();
        sums[1] += task.correct(logits, step);
        sums[2] += step.weight();
    }

    /** the next prepared batch of the preparation thread, with the preparation's own failure */
    private static <T> T get(Future<T> f) {
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
