package pxprune.experiments.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import pxprune.jni.PxNative;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;

/**
 * The "devices" section of {@code pxprune list}: the CPU (model name from /proc/cpuinfo, cores,
 * the instruction set the convolution kernels picked) and every CUDA device the driver sees (name,
 * compute capability, memory, driver version), found through the CUDA backend provider without
 * starting the backend, or the one-line reason CUDA is not usable. When devices are listed but the
 * backend itself cannot start (kernels not compiled, a library missing), that reason follows.
 */
final class DeviceList {
    private DeviceList() {}

    static List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(cpuLine());
        List<String> cuda = Backends.describe(Device.CUDA);
        out.addAll(cuda);
        boolean listed = cuda.stream().anyMatch(l -> l.startsWith("cuda:") && !l.startsWith("cuda: "));
        if (listed) {
            String reason = Backends.unavailableReason(Device.CUDA);
            if (reason != null) out.add("cuda: not usable: " + reason);
        }
        return out;
    }

    /** e.g. "cpu     AMD EPYC 7B13, 2 cores, kernels: AVX2+FMA" */
    static String cpuLine() {
        StringBuilder sb = new StringBuilder("cpu     ").append(cpuModel()).append(", ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores");
        try {
            int isa = PxNative.isa(), cpu = PxNative.pxk_conv_isa();
            sb.append(", kernels: ").append(PxNative.isaName(isa));
            if (isa != cpu) sb.append(" (capped by ").append(PxNative.ISA_PROPERTY).append("; the CPU has ").append(PxNative.isaName(cpu)).append(')');
        } catch (LinkageError e) {
            sb.append(", kernels: not loaded (").append(e.getMessage()).append(')');
        }
        return sb.toString();
    }

    /** the "model name" of /proc/cpuinfo, or the JVM's os.arch where there is none */
    static String cpuModel() {
        Path f = Path.of("/proc/cpuinfo");
        try {
            if (Files.isReadable(f))
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8))
                    if (line.startsWith("model name") && line.contains(":")) return line.substring(line.indexOf(':') + 1).strip();
        } catch (IOException | RuntimeException e) {
            // fall through: the architecture is all we can say
        }
        return System.getProperty("os.arch", "unknown CPU");
    }
}
