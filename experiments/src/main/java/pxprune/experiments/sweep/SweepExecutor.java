package pxprune.experiments.sweep;

import java.util.List;

/**
 * Runs the tasks of a sweep somewhere and returns one result per task (in any order). The embedded
 * one is {@link LocalExecutor}; others (Apache Spark, module sweep-spark) are found through
 * {@link java.util.ServiceLoader} as {@link Provider}s, so px does not depend on them.
 */
public interface SweepExecutor {
    List<RunResult> run(List<RunTask> tasks, ChildRun.Options options) throws Exception;

    /** how many runs go at once (for the estimate of the time left) */
    int slots();

    /** a short description for the progress lines, e.g. "embedded, 2 at once" */
    String describe();

    /** an executor reached by a master URL (--spark MASTER) */
    interface Provider {
        /** e.g. "spark" */
        String name();

        /**
         * @param master  a master URL: local[N], spark://HOST:PORT, k8s://...
         * @param threads CPU threads per run
         * @param gpus    GPUs a CUDA run takes (1); 0 when no run needs one
         */
        SweepExecutor create(String master, String appName, int threads, int gpus);
    }
}
