package pxprune.experiments.sweep;

import java.io.Serializable;

/**
 * One run of a sweep as an executor gets it (plain strings, serializable: a Spark task carries it):
 * the grid point's index and label, its config hash, the runs folder and the sweep folder (absolute
 * paths, shared by every machine that runs tasks), and the GPUs it needs (1 for a CUDA config, else 0).
 */
public record RunTask(int index, String label, String hash, String runsDir, String sweepDir, int gpus) implements Serializable {
    static RunTask of(SweepPoint p, java.nio.file.Path runs, java.nio.file.Path sweepDir) {
        return new RunTask(p.index(), p.label(), p.hash(), runs.toAbsolutePath().normalize().toString(),
                sweepDir.toAbsolutePath().normalize().toString(), p.gpus());
    }
}
