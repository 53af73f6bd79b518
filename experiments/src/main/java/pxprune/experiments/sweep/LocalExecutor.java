package pxprune.experiments.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The embedded executor: up to {@code parallel} child JVMs at once on this machine, each run in its
 * own process ({@link ChildRun}). A run that needs a GPU (a CUDA config: {@link SweepPoint#gpus()}) also takes one
 * of the GPU slots, so at most one CUDA run uses each GPU at a time.
 */
public final class LocalExecutor implements SweepExecutor {
    private final int parallel;
    private final Slots gpus;

    public LocalExecutor(int parallel, int gpus) {
        if (parallel < 1) throw new IllegalArgumentException("parallel runs must be >= 1, got " + parallel);
        this.parallel = parallel;
        this.gpus = new Slots(gpus);
    }

    /** runs at once by default: the cores divided by the threads per run, at least 1 */
    public static int defaultParallel(int threadsPerRun) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, threadsPerRun));
    }

    @Override
    public int slots() { return parallel; }

    @Override
    public String describe() { return "embedded, " + parallel + " run(s) at once, " + gpus.count() + " GPU slot(s)"; }

    @Override
    public List<RunResult> run(List<RunTask> tasks, ChildRun.Options options) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "pxprune-sweep");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<RunResult>> fs = new ArrayList<>();
            for (RunTask t : tasks) fs.add(pool.submit(() -> one(t, options)));
            List<RunResult> out = new ArrayList<>();
            for (Future<RunResult> f : fs) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private RunResult one(RunTask t, ChildRun.Options options) throws InterruptedException {
        List<Integer> held;
        try {
            held = gpus.acquire(t.gpus());
        } catch (IllegalStateException e) {
            return new RunResult(t.index(), t.hash(), RunResult.FAILED, 0, -1, e.getMessage(), 0, ChildRun.host());
        }
        try {
            String cuda = held.isEmpty() ? null : String.join(",", held.stream().map(String::valueOf).toList());
            return ChildRun.execute(t, options, cuda);
        } finally {
            gpus.release(held);
        }
    }
}
