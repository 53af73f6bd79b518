package pxprune.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import pxprune.core.io.Json;

/**
 * PyTorch's figures for the same benchmarks, measured in the same run by {@code bench/pytorch_bench.py}
 * (same models, shapes and thread count). The interpreter is {@code $PXPRUNE_PYTHON}, else
 * {@code python3}; without torch the result says how to install it (bench/README.md).
 *
 * @param milliseconds key (a JMH key without pxprune-only parameters) -> mean milliseconds; empty when not run
 * @param mibPerImage MemoryBench key -> "tensors" and "rss": MiB per image at the peak of a training step
 *                    (pytorch_bench.py --memory says how each is measured); empty when not run
 * @param versions "torch 2.13.0+cpu, Python 3.11.7" or why PyTorch was not measured
 * @param ok whether the figures exist
 */
record PyTorchRef(Map<String, Double> milliseconds, Map<String, Map<String, Double>> mibPerImage, String versions, boolean ok) {
    static final String INSTALL = "python3 -m venv V && V/bin/pip install torch==2.13.0+cpu numpy "
            + "--index-url https://download.pytorch.org/whl/cpu, then PXPRUNE_PYTHON=V/bin/python";

    /** the interpreter: $PXPRUNE_PYTHON, else python3 */
    static String python() { return System.getenv().getOrDefault("PXPRUNE_PYTHON", "python3"); }

    /** bench/NAME (a script) beside this module's classes (bench/target/classes), else under the working folder */
    static Path script(String name) {
        try {
            Path classes = Path.of(PyTorchRef.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path p = classes.getParent().getParent().resolve(name);
            if (Files.isRegularFile(p)) return p;
        } catch (Exception e) {
            // not from a folder of classes (a jar): fall through
        }
        return Path.of("bench", name);
    }

    static PyTorchRef none(String why) { return new PyTorchRef(Map.of(), Map.of(), why, false); }

    /** runs the script for the keys matching {@code include} with {@code threads} threads (with memory: also --memory) */
    static PyTorchRef measure(String include, int threads, boolean memory) {
        String py = python();
        Path script = script("pytorch_bench.py");
        if (!Files.isRegularFile(script)) return none("PyTorch not measured: " + script + " not found");
        try {
            Process probe = new ProcessBuilder(py, "-c", "import torch").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            if (!probe.waitFor(120, TimeUnit.SECONDS) || probe.exitValue() != 0)
                return none("PyTorch not measured: " + py + " has no torch; install it: " + INSTALL);
            List<String> cmd = new ArrayList<>(List.of(py, script.toString(), "--threads", String.valueOf(threads), "--include", include));
            if (memory) cmd.add("--memory");
            System.err.println("pxprune: bench: PyTorch (" + String.join(" ", cmd) + ") ...");
            // PyTorch inherits this JVM's environment, so also the launcher's OMP_WAIT_POLICY=PASSIVE:
            // on the shared 2-core machine PyTorch's default (spinning) waits made it up to 8x slower
            // whenever another process held a core (ResNet-20, batch 1, forward: 51 ms against 6.7 ms)
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) return none("PyTorch not measured: " + script + " exited with " + p.exitValue());
            Map<String, Object> json = Json.parseObject(out);
            Map<String, Double> ms = new java.util.LinkedHashMap<>();
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) json.get("milliseconds");
            for (var e : m.entrySet()) ms.put(e.getKey(), ((Number) e.getValue()).doubleValue());
            Map<String, Map<String, Double>> mib = new java.util.LinkedHashMap<>();
            if (json.get("mib_per_image") instanceof Map<?, ?> mm)
                for (var e : mm.entrySet()) {
                    Map<String, Double> v = new java.util.LinkedHashMap<>();
                    for (var f : ((Map<?, ?>) e.getValue()).entrySet()) v.put((String) f.getKey(), ((Number) f.getValue()).doubleValue());
                    mib.put((String) e.getKey(), v);
                }
            return new PyTorchRef(ms, mib, "torch " + json.get("torch") + " (" + json.get("threads") + " threads), Python " + json.get("python"), true);
        } catch (IOException e) {
            return none("PyTorch not measured: cannot run " + py + " (" + e.getMessage() + "); install it: " + INSTALL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return none("PyTorch not measured: interrupted");
        }
    }
}
