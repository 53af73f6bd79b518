package pxprune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU bundle's rehearsal without a GPU ({@code bench/gpu/rehearse.sh}): a bundle assembled by
 * {@code bench/gpu/bundle.sh} from this build's classes and this test's class path (no Maven inside
 * Maven), run by its {@code run.sh --smoke} against the CPU emulator of the CUDA libraries, with an empty
 * HOME, a PATH without java, xz or fontconfig, and torch's library layout faked; the script checks what
 * comes back (at most 6 files, the report, the probe, the logs). A few test classes and benchmark rows
 * only, to keep it short: the library lookup, the unpacking, the bundled runtime, the charts without
 * fonts, the output folder and the report are what it exercises. Skipped, with the reason, where the
 * emulator or the tools to build a bundle (jlink, xz, objdump, python3, git) are missing.
 */
class GpuRehearsalTest {
    static Path checkout() {
        Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (d != null && !Files.isRegularFile(d.resolve("bench/gpu/rehearse.sh"))) d = d.getParent();
        assertTrue(d != null, "bench/gpu/rehearse.sh not found above " + System.getProperty("user.dir"));
        return d;
    }

    static boolean onPath(String tool) throws IOException, InterruptedException {
        return new ProcessBuilder("bash", "-c", "command -v " + tool).start().waitFor() == 0;
    }

    @Test void runShWorksOnAStrippedMachine(@TempDir Path tmp) throws Exception {
        Path root = checkout();
        assumeTrue(Files.isRegularFile(root.resolve("kernels-cuda/target/cuda-emulator/libcudart.so.13")),
                "the CUDA emulator is not built (it needs g++ and nvcc; kernels-cuda's build says why)");
        Path javaBin = Path.of(System.getProperty("java.home"), "bin");
        assumeTrue(Files.isExecutable(javaBin.resolve("jlink")), "no jlink in " + javaBin + " (a JDK is needed to bundle a runtime)");
        for (String tool : List.of("xz", "objdump", "python3", "git"))
            assumeTrue(onPath(tool), tool + " is not on the PATH: the bundle cannot be built here");
        assumeTrue(new ProcessBuilder("git", "-C", root.toString(), "rev-parse", "--is-inside-work-tree").start().waitFor() == 0,
                root + " is not a git work tree: the bundle's test data travel as tracked files of one");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        assertTrue(cp.contains("junit-platform-launcher"), "the test class path lacks JUnit's launcher: " + cp);

        Path log = tmp.resolve("rehearsal.log");
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bench/gpu/rehearse.sh").toString(), tmp.resolve("out").toString())
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PATH", javaBin + ":" + System.getenv("PATH"));
        pb.environment().put("PXPRUNE_BUNDLE_CLASSPATH", cp);
        pb.environment().put("PXPRUNE_BUNDLE_XZ", "0"); // fast; the size limit is the real bundle's (./pxprune gpu-bundle)
        pb.environment().put("PXPRUNE_BUNDLE_LIMIT_MIB", "1024");
        Process p = pb.start();
        boolean done = p.waitFor(15, TimeUnit.MINUTES);
        if (!done) p.destroyForcibly();
        List<String> lines = Files.readAllLines(log);
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        System.out.println(tail);
        assertTrue(done, "the rehearsal took more than 15 minutes:\n" + tail);
        assertEquals(0, p.exitValue(), "the rehearsal failed:\n" + tail);
        try (var files = Files.list(tmp.resolve("out"))) {
            assertTrue(files.count() <= 6, "more than 6 files in the output folder");
        }
    }
}
