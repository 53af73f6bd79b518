package pxprune.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import pxprune.core.io.Json;

/**
 * Runs one module's {@code cuda}-tagged tests (those marked {@code @pxprune.kernels.CudaTest}) without
 * Maven: the JUnit platform launcher over a folder of test classes, for the GPU bundle that
 * {@code bench/gpu/bundle.sh} builds (its {@code run.sh} calls this once per module, each in its own
 * JVM, so that a crash or a hang in one module leaves the others' results).
 *
 * <p>Prints one line per test ({@code PASS|FAIL|SKIP|ABORT module Class.method  12 ms: message}; ABORT is a
 * failed assumption, e.g. an emulator-only test on a real GPU, and counts as skipped, not failed)
 * and the counts, and rewrites {@code OUT_JSON} after every test (a killed run keeps what finished):
 * {@code {"module", "tests": [{"name", "status", "ms", "message"}], "counts": {...}, "finished"}}.
 * A container (class) that fails, e.g. in its {@code @BeforeAll}, counts as one failed test.
 *
 * <p>Usage: {@code CudaTestMain MODULE TEST_CLASSES_DIR OUT_JSON}; {@code -Dpxprune.tests.include=REGEX} keeps
 * only the test classes whose fully qualified names contain a match. Exit status 0 when no test failed
 * (aborted tests, failed assumptions, do not count), 1 otherwise, 2 on bad arguments.
 */
public final class CudaTestMain {
    private CudaTestMain() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: CudaTestMain MODULE TEST_CLASSES_DIR OUT_JSON");
            System.exit(2);
        }
        String module = args[0];
        Path classes = Path.of(args[1]), out = Path.of(args[2]);
        if (!Files.isDirectory(classes)) {
            System.err.println("CudaTestMain: test classes folder " + classes + " does not exist; give the folder of the module's compiled tests");
            System.exit(2);
        }
        String include = System.getProperty("pxprune.tests.include", ".*");
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectClasspathRoots(Set.of(classes.toAbsolutePath())))
                .filters(TagFilter.includeTags("cuda"), ClassNameFilter.includeClassNamePatterns(".*(?:" + include + ").*"))
                .build();
        Recorder rec = new Recorder(module, out);
        rec.write(false);
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, rec);
        rec.write(true);
        Map<String, Integer> c = rec.counts();
        System.out.printf(Locale.ROOT, "[tests %s] %d passed, %d failed, %d aborted, %d skipped%n", module,
                c.get("passed"), c.get("failed"), c.get("aborted"), c.get("skipped"));
        System.exit(c.get("failed") == 0 ? 0 : 1);
    }

    /** collects one entry per test (and per failed container) and keeps OUT_JSON current */
    static final class Recorder implements TestExecutionListener {
        private final String module;
        private final Path out;
        private final List<Map<String, Object>> tests = new ArrayList<>();
        private final Map<String, Long> started = new ConcurrentHashMap<>();

        Recorder(String module, Path out) { this.module = module; this.out = out; }

        private static String name(TestIdentifier t) {
            return t.getSource().map(s -> {
                if (s instanceof org.junit.platform.engine.support.descriptor.MethodSource m)
                    return m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1) + "." + m.getMethodName()
                            + (t.getDisplayName().startsWith(m.getMethodName() + "(") ? "" : " " + t.getDisplayName());
                if (s instanceof org.junit.platform.engine.support.descriptor.ClassSource c) return c.getClassName();
                return t.getDisplayName();
            }).orElse(t.getDisplayName());
        }

        @Override public void executionStarted(TestIdentifier t) { started.put(t.getUniqueId(), System.nanoTime()); }

        @Override public synchronized void executionSkipped(TestIdentifier t, String reason) {
            add(name(t), "skipped", 0, reason);
        }

        @Override public synchronized void executionFinished(TestIdentifier t, TestExecutionResult r) {
            if (!t.isTest() && r.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return; // a container that went well
            Long t0 = started.get(t.getUniqueId());
            double ms = t0 == null ? 0 : (System.nanoTime() - t0) / 1e6;
            String status = switch (r.getStatus()) {
                case SUCCESSFUL -> "passed";
                case ABORTED -> "aborted";
                case FAILED -> "failed";
            };
            add(name(t), status, ms, r.getThrowable().map(e -> e.getClass().getSimpleName() + ": " + e.getMessage()).orElse(""));
        }

        private void add(String name, String status, double ms, String message) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", name);
            e.put("status", status);
            e.put("ms", Math.round(ms * 10) / 10.0);
            e.put("message", message == null ? "" : message);
            tests.add(e);
            String tag = switch (status) {
                case "passed" -> "PASS";
                case "failed" -> "FAIL";
                case "aborted" -> "ABORT";
                default -> "SKIP";
            };
            System.out.printf(Locale.ROOT, "%-5s %s %s  %.0f ms%s%n", tag, module, name, ms,
                    message == null || message.isEmpty() ? "" : ": " + firstLine(message));
            System.out.flush();
            try {
                write(false);
            } catch (IOException ex) {
                System.err.println("CudaTestMain: cannot write " + out + ": " + ex.getMessage());
            }
        }

        static String firstLine(String s) {
            int i = s.indexOf('\n');
            return i < 0 ? s : s.substring(0, i);
        }

        synchronized Map<String, Integer> counts() {
            Map<String, Integer> c = new LinkedHashMap<>();
            for (String k : new String[] {"passed", "failed", "aborted", "skipped"}) c.put(k, 0);
            for (Map<String, Object> t : tests) c.merge((String) t.get("status"), 1, Integer::sum);
            return c;
        }

        synchronized void write(boolean finished) throws IOException {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("module", module);
            j.put("finished", finished);
            j.put("counts", counts());
            j.put("tests", tests);
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            Files.writeString(tmp, Json.pretty(j));
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
