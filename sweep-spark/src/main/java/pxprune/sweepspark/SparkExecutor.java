package pxprune.sweepspark;

import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceInformation;
import pxprune.experiments.cli.Main;
import pxprune.experiments.sweep.ChildRun;
import pxprune.experiments.sweep.RunResult;
import pxprune.experiments.sweep.RunTask;
import pxprune.experiments.sweep.SweepExecutor;

/**
 * A sweep on Apache Spark: every run is one Spark task, and the task runs the run's child JVM on
 * its executor ({@link ChildRun}: a native crash kills only that process; a child that dies is
 * retried and resumes from its checkpoint; an executor that dies has its task retried by Spark,
 * which resumes the run the same way). Each task takes {@code spark.task.cpus} = the threads per
 * run; a run that needs a GPU takes one ({@code spark.task.resource.gpu.amount=1}) and its child
 * sees only that GPU (CUDA_VISIBLE_DEVICES from the task's resources). The run folders and the
 * sweep folder must be on a path every executor shares; the driver collects the results and writes
 * the table.
 *
 * <p>{@code local[N]} runs Spark embedded in this JVM (no cluster, no network beyond loopback);
 * {@code spark://HOST:7077}, {@code k8s://...} and {@code yarn} need pxprune's classes on the
 * executors: submit with spark-submit and the cluster jar (profile cluster-jar of this module).
 */
public final class SparkExecutor implements SweepExecutor {
    private final String master;
    private final JavaSparkContext sc;
    private final int slots, taskCpus;

    SparkExecutor(String master, String appName, int threads, int gpus) {
        this.master = master;
        boolean local = master.startsWith("local");
        int localCores = local ? localCores(master) : 0;
        taskCpus = local ? Math.min(threads, localCores) : threads;
        if (!local && !submitted())
            throw new IllegalArgumentException("--spark " + master + ": the executors need pxprune's classes; build the cluster jar "
                    + "(mvn -q -B -DskipTests package -pl sweep-spark -am -Pcluster-jar) and start the sweep with spark-submit "
                    + "--class pxprune.experiments.cli.Main sweep-spark/target/pxprune-sweep-spark-*-cluster.jar sweep SWEEP.json --spark "
                    + master + " (README, Sweeps)");
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName)
                .set("spark.task.cpus", String.valueOf(taskCpus))
                .set("spark.locality.wait", "0s")
                .setIfMissing("spark.task.maxFailures", "4");
        if (local) {
            conf.set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        if (gpus > 0) conf.set("spark.task.resource.gpu.amount", String.valueOf(gpus));
        sc = new JavaSparkContext(conf);
        sc.setLogLevel("WARN");
        slots = Math.max(1, sc.defaultParallelism() / taskCpus);
    }

    /** N of local[N] (local: 1, local[*]: the cores) */
    static int localCores(String master) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[(\\*|[0-9]+)").matcher(master);
        if (!m.lookingAt()) return 1;
        return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }

    /** whether the executors get pxprune's classes: spark-submit set spark.jars, or this code runs from the cluster jar */
    private static boolean submitted() {
        String jars = System.getProperty("spark.jars", "");
        if (!jars.isBlank()) return true;
        var src = Main.class.getProtectionDomain().getCodeSource();
        return src != null && src.getLocation().getPath().endsWith("-cluster.jar");
    }

    @Override
    public int slots() { return slots; }

    @Override
    public String describe() { return "spark " + master + ", " + slots + " run(s) at once (" + taskCpus + " cpu(s) per task)"; }

    @Override
    public List<RunResult> run(List<RunTask> tasks, ChildRun.Options options) {
        try {
            if (tasks.isEmpty()) return List.of();
            return sc.parallelize(tasks, tasks.size()).map(new RunOnExecutor(options)).collect();
        } finally {
            sc.stop();
        }
    }

    /** the task: the run's child JVM on this executor, with the GPUs Spark gave the task */
    static final class RunOnExecutor implements Function<RunTask, RunResult> {
        private static final long serialVersionUID = 1L;
        private final ChildRun.Options options;

        RunOnExecutor(ChildRun.Options options) { this.options = options; }

        @Override
        public RunResult call(RunTask t) {
            String cuda = null;
            TaskContext tc = TaskContext.get();
            if (t.gpus() > 0 && tc != null) {
                Map<String, ResourceInformation> res = tc.resourcesJMap();
                ResourceInformation gpu = res.get("gpu");
                if (gpu != null) cuda = String.join(",", gpu.addresses());
            }
            return ChildRun.execute(t, options, cuda);
        }
    }

    /** registered in META-INF/services: {@code --spark MASTER} */
    public static final class Provider implements SweepExecutor.Provider {
        @Override
        public String name() { return "spark"; }

        @Override
        public SweepExecutor create(String master, String appName, int threads, int gpus) {
            return new SparkExecutor(master, appName, threads, gpus);
        }
    }

}
