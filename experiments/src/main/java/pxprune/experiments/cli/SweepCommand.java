package pxprune.experiments.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import pxprune.experiments.sweep.ChildRun;
import pxprune.experiments.sweep.LocalExecutor;
import pxprune.experiments.sweep.Slots;
import pxprune.experiments.sweep.Sweep;
import pxprune.experiments.sweep.SweepExecutor;
import pxprune.experiments.sweep.SweepPoint;
import pxprune.experiments.sweep.SweepSpec;
import pxprune.experiments.train.ConfigException;

/**
 * {@code pxprune sweep SWEEP.json [--dry-run] [--runs DIR] [--threads T] [--parallel P]
 * [--retries R] [--gpus G] [--spark MASTER]}: a grid of runs ({@link SweepSpec}), embedded in
 * child JVMs on this machine or on Apache Spark (module sweep-spark, found through a
 * {@link ServiceLoader}). Exit 0 when every run is done, 1 when some failed (the table says which
 * and why), 2 for a bad sweep file or option.
 */
final class SweepCommand {
    static final String USAGE = """
              sweep SWEEP.json [--dry-run] [--runs DIR] [--threads T] [--parallel P] [--retries R] [--gpus G] [--spark MASTER]
                  a grid of runs: SWEEP.json has "grid" (config keys to lists of values), "base" (fixed keys, as a
                  config file), "name" and "runs". Every grid point is an ordinary run in DIR/<config hash>/, each in
                  its own child JVM with T threads (default 1, or the cores over P when P is given), P at once (default:
                  the cores over T); a child that dies is retried R times (default 2) and resumes; finished runs are
                  never run again. The table goes to DIR/sweeps/<name>/results.{csv,md}. --dry-run lists the points;
                  --gpus: GPU slots of the embedded sweep, one CUDA run each (default: the GPUs found; with --spark the
                  executors' GPUs decide); --spark local[N] | spark://HOST:7077 | k8s://...: run on Apache Spark
                  (module sweep-spark; DIR must be a path every executor shares).
            """;

    private SweepCommand() {}

    static void run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("runs", "runs");
        opts.put("threads", "1");
        opts.put("parallel", "2");
        opts.put("retries", "2");
        opts.put("gpus", "0");
        opts.put("spark", "local[2]");
        Args a = new Args("sweep", args, 1, opts, Set.of("dry-run"), Set.of());
        String usage = "pxprune sweep SWEEP.json [--dry-run] [--runs DIR] [--threads T] [--parallel P] [--retries R] [--gpus G] [--spark MASTER]";
        a.maxPositional(1, usage);
        if (a.positional().isEmpty()) throw new UsageException("'sweep' needs a sweep file; usage: " + usage);
        Path file = Path.of(a.positional().get(0));
        if (!Files.isRegularFile(file))
            throw new UsageException("sweep file " + file + ": " + (Files.exists(file) ? "is not a regular file" : "no such file")
                    + "; give a JSON file such as {\"base\": {\"epochs\": 1}, \"grid\": {\"seed\": [1, 2]}}");
        SweepSpec spec = SweepSpec.load(file);
        Path runs = Path.of(a.string("runs", spec.runs()));
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = a.has("threads") ? a.integer("threads", 1, 1, 4096)
                : a.has("parallel") ? Math.max(1, cores / a.integer("parallel", 1, 1, 4096)) : 1;
        int retries = a.integer("retries", 2, 0, 100);
        int gpus = a.has("gpus") ? a.integer("gpus", 0, 0, 1024) : Slots.detectGpus();
        String master = a.string("spark", null);
        if (master != null && a.has("parallel"))
            throw new UsageException("--parallel is for the embedded sweep; on Spark the executors' cores decide (each run takes "
                    + "--threads of them); drop --parallel or --spark");
        if (master != null && a.has("gpus"))
            throw new UsageException("--gpus is for the embedded sweep; on Spark each CUDA run's task asks for one GPU and the "
                    + "executors' GPU resources decide (spark.executor.resource.gpu.amount); drop --gpus or --spark");
        if (master != null && !(master.matches("local(\\[(\\*|[1-9][0-9]*)(,[1-9][0-9]*)?])?") || master.startsWith("spark://")
                || master.startsWith("k8s://") || master.equals("yarn")))
            throw new UsageException("--spark " + master + " is not a Spark master; give local[N], spark://HOST:7077, k8s://https://HOST:PORT or yarn");

        if (a.flag("dry-run")) {
            Sweep.dryRun(spec, runs, out);
            return;
        }
        List<SweepPoint> points = spec.points();
        if (points.stream().noneMatch(SweepPoint::valid))
            throw new ConfigException("sweep file " + file + ": no grid point is a valid config (point 1, " + points.get(0).label() + ": "
                    + points.get(0).error() + "); fix the grid (pxprune sweep " + file + " --dry-run lists every point)");
        OutputDir.prepare(runs, "--runs");

        SweepExecutor ex;
        if (master == null) {
            int parallel = a.has("parallel") ? a.integer("parallel", 1, 1, 4096) : LocalExecutor.defaultParallel(threads);
            ex = new LocalExecutor(parallel, gpus);
        } else {
            ex = spark(master, "pxprune sweep " + spec.name(), threads, points.stream().anyMatch(p -> p.gpus() > 0) ? 1 : 0);
        }
        ChildRun.Options co = new ChildRun.Options(threads, retries, List.of(), null, null);
        Sweep.Summary s = Sweep.run(spec, runs, ex, co, out, err);
        if (s.failed() > 0)
            throw new IllegalStateException("sweep " + spec.name() + ": " + s.failed() + " of " + s.total() + " runs failed (errors in "
                    + s.dir().resolve("results.md") + ", logs in " + s.dir().resolve(ChildRun.LOGS) + "); the others are done; "
                    + "fix the grid or the cause and run the sweep again: it runs only what is missing");
    }

    private static SweepExecutor spark(String master, String app, int threads, int gpus) {
        for (SweepExecutor.Provider p : ServiceLoader.load(SweepExecutor.Provider.class))
            if (p.name().equals("spark")) return p.create(master, app, threads, gpus);
        throw new UsageException("--spark needs the sweep-spark module on the class path (./pxprune builds it when --spark is given; "
                + "with java -cp add sweep-spark/target/classes and its dependencies)");
    }
}
