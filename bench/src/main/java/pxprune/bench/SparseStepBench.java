package pxprune.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import pxprune.core.Tensor;
import pxprune.kernels.CpuBackend;

/**
 * {@link SparseBench}'s step (masked ResNet-20, batch 100, SGD) with the dense and the sparse
 * kernels interleaved step by step in one JVM, so that the load of other jobs on a shared machine
 * hits both alike: per density, the fastest and the median wall time of each, and the median
 * process CPU time per step (all threads; what the step costs the machine, which other jobs'
 * load barely moves), with sparse / dense ratios. Not JMH: run it with the bench module's class
 * path, {@code java -cp ... pxprune.bench.SparseStepBench [steps] [density...]}.
 */
public final class SparseStepBench {
    private SparseStepBench() {}

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        double[] densities = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToDouble(Double::parseDouble).toArray()
                : new double[] {0.1, 0.05, 0.01};
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.out.println("CPU: " + BenchMain.cpuModel() + ", threads " + CpuBackend.INSTANCE.threads() + ", " + CpuBackend.INSTANCE.describeConv());
        System.out.println("| density | dense min / median ms | sparse min / median ms | ratio min | ratio median | dense CPU ms | sparse CPU ms | ratio CPU |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
        try (Tensor x = Fixtures.images(100, 3, 32, 1); Tensor y = Tensor.ofInts(Fixtures.labels(100, 10), 100)) {
            for (double d : densities) {
                SparseBench.Masked[] v = {SparseBench.Masked.resnet20(d, "dense"), SparseBench.Masked.resnet20(d, "auto")};
                long[][] wall = new long[2][steps], cpu = new long[2][steps];
                try {
                    for (int s = -2; s < steps; s++) // two warm-up steps each
                        for (int i = 0; i < 2; i++) {
                            long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                            v[i].step(x, y);
                            long t = System.nanoTime() - t0, c = os.getProcessCpuTime() - c0;
                            if (s >= 0) { wall[i][s] = t; cpu[i][s] = c; }
                        }
                } finally { for (SparseBench.Masked m : v) m.close(); }
                double[] min = new double[2], med = new double[2], cmed = new double[2];
                for (int i = 0; i < 2; i++) {
                    Arrays.sort(wall[i]);
                    Arrays.sort(cpu[i]);
                    min[i] = wall[i][0] / 1e6;
                    med[i] = wall[i][steps / 2] / 1e6;
                    cmed[i] = cpu[i][steps / 2] / 1e6;
                }
                System.out.printf(Locale.ROOT, "| %s | %.0f / %.0f | %.0f / %.0f | %.2f | %.2f | %.0f | %.0f | %.2f |%n", d, min[0], med[0], min[1],
                        med[1], min[1] / min[0], med[1] / med[0], cmed[0], cmed[1], cmed[1] / cmed[0]);
            }
        }
    }
}
