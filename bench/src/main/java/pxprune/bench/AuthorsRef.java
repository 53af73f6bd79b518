package pxprune.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import pxprune.core.io.Json;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.Prunable;
import pxprune.px.TopK;
import pxprune.experiments.cli.UsageException;

/**
 * The reference implementations of PX and SynFlow, timed in the same run as PxBench's
 * {@code px100Rounds} and {@code synflow100Rounds}: {@code bench/authors_bench.py} imports their
 * code, unmodified, from checkouts the user names ({@code --px-authors DIR}, {@code --synflow DIR},
 * or {@code PXPRUNE_PX_AUTHORS} / {@code PXPRUNE_SYNFLOW}), and runs it on the same workload
 * (their ResNet-20, checked to be pxprune's; 100 CIFAR-sized images; 100 rounds of the exponential
 * schedule to density 0.018; pxprune's thread count). The project ships none of their code. The
 * interpreter is {@code $PXPRUNE_PYTHON}, else {@code python3}, as for {@link PyTorchRef}.
 */
final class AuthorsRef {
    private AuthorsRef() {}

    /** a reference implementation: the pxprune benchmark it is set against, where its checkout is named, how to get it */
    enum Code {
        PX("px", "the PX authors' code", "PX", "PxBench.px100Rounds", "--px-authors", "PXPRUNE_PX_AUTHORS", "lib/pruners.py",
                "https://github.com/iurada/px-ntk-pruning", "ed6c40ea576e4651d6665b3a45741f6eb67ceef8", 0.5),
        SYNFLOW("synflow", "Synaptic-Flow's SynFlow", "SynFlow", "PxBench.synflow100Rounds", "--synflow", "PXPRUNE_SYNFLOW",
                "Pruners/pruners.py", "https://github.com/ganguli-lab/Synaptic-Flow", "9dfa57aa4012c34028ee646d367f18e32f0e3bc7", 1.0);

        /** authors_bench.py's target, the row's words, pxprune's benchmark, the option, the variable, a file every checkout has */
        final String target, name, method, benchmark, option, env, marker, url, commit;
        /** pxprune's time over the reference's that the project aims at (at most) */
        final double goal;

        Code(String target, String name, String method, String benchmark, String option, String env, String marker, String url,
             String commit, double goal) {
            this.target = target;
            this.name = name;
            this.method = method;
            this.benchmark = benchmark;
            this.option = option;
            this.env = env;
            this.marker = marker;
            this.url = url;
            this.commit = commit;
            this.goal = goal;
        }

        /** what the row says when no checkout was named */
        String howToEnable() {
            return "not run: give " + option + " DIR or set " + env + "=DIR, DIR a checkout of " + url + " at commit "
                    + commit.substring(0, 7) + " (bench/README.md)";
        }

        /** the folder, checked to hold the code; {@code from} is where it was given: the option or the variable */
        Path checkout(String from, String dir) {
            String given = from.startsWith("--") ? from + " " + dir : from + "=" + dir;
            Path p = Path.of(dir).toAbsolutePath().normalize();
            if (!Files.isDirectory(p))
                throw new UsageException(given + ": no such folder; give a checkout of " + url + " (git clone " + url
                        + " && git -C " + url.substring(url.lastIndexOf('/') + 1) + " checkout " + commit.substring(0, 7) + ")");
            if (!Files.isRegularFile(p.resolve(marker)))
                throw new UsageException(given + ": no " + marker + " there, so it is not a checkout of " + url + "; give the folder of one");
            return p;
        }
    }

    /**
     * pxprune's side of the model check: PxBench's ResNet-20 (3x32x32, 10 classes), its parameter
     * count, its prunable weights (every Conv2d and Linear weight) and how many of them density
     * 0.018 keeps (n_keep = N - floor((1 - d) N))
     */
    record Model(long params, long prunable, long kept) {
        static Model ofPxBench() {
            try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 1)) {
                long prunable = Prunable.prunableWeights(m).values().stream().mapToLong(t -> t.numel()).sum();
                return new Model(m.parameterCount(), prunable, TopK.keepCount(prunable, PxBench.DENSITY));
            }
        }
    }

    /**
     * One reference's outcome: seconds (NaN when not run), what ran (the commit, torch, the model
     * check) or why it did not, and the script's JSON (empty when not run).
     */
    record Result(Code code, double seconds, String note, Map<String, Object> json) {
        boolean ok() { return !Double.isNaN(seconds); }

        static Result notRun(Code code, String why) { return new Result(code, Double.NaN, why, Map.of()); }
    }

    /** runs authors_bench.py for one reference from its checkout with pxprune's threads, checking the model against pxprune's */
    static Result measure(Code code, Path repo, int threads, Model ours) {
        String py = PyTorchRef.python();
        Path script = PyTorchRef.script("authors_bench.py");
        if (!Files.isRegularFile(script)) return Result.notRun(code, "not run: " + script + " not found");
        List<String> cmd = List.of(py, script.toString(), code.target, repo.toString(), "--threads", String.valueOf(threads),
                "--rounds", String.valueOf(PxBench.ROUNDS), "--density", String.valueOf(PxBench.DENSITY), "--images",
                String.valueOf(PxBench.IMAGES), "--expect-params", String.valueOf(ours.params()), "--expect-prunable",
                String.valueOf(ours.prunable()));
        System.err.println("pxprune: bench: " + code.name + " (" + String.join(" ", cmd) + ") ...");
        try {
            Process p = new ProcessBuilder(cmd).start();
            // the script's progress goes on to our stderr; its last line is the reason if it fails
            List<String> err = new ArrayList<>();
            Thread echo = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        System.err.println("  " + l);
                        synchronized (err) { err.add(l); }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
            echo.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            echo.join();
            if (rc != 0) {
                String last;
                synchronized (err) { last = err.isEmpty() ? "" : ": " + err.get(err.size() - 1).trim(); }
                return Result.notRun(code, "not run: " + py + " " + script.getFileName() + " " + code.target + " exited with " + rc + last
                        + (rc == 1 && last.contains("No module named 'torch'") ? "; install torch: " + PyTorchRef.INSTALL : ""));
            }
            Map<String, Object> json = Json.parseObject(out);
            return new Result(code, ((Number) json.get("seconds")).doubleValue(), describe(code, json, threads, ours), json);
        } catch (IOException e) {
            return Result.notRun(code, "not run: cannot run " + py + " (" + e.getMessage() + "); install python3 with torch: " + PyTorchRef.INSTALL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.notRun(code, "not run: interrupted");
        }
    }

    /** the row's words: which code ran, on what, and how its model and result compare with pxprune's */
    static String describe(Code code, Map<String, Object> j, int threads, Model ours) {
        StringBuilder s = new StringBuilder(code.name);
        Object commit = j.get("commit");
        if (commit instanceof String c) {
            s.append(" at ").append(c, 0, Math.min(7, c.length()));
            if (!c.equals(code.commit)) s.append(" (the bench was checked against ").append(code.commit, 0, 7).append(')');
        } else s.append(" (not a git checkout: commit unknown)");
        s.append(", torch ").append(j.get("torch")).append(", ").append(num(j.get("threads"))).append(" threads");
        if (num(j.get("threads")) != threads) s.append(" (pxprune: ").append(threads).append(')');
        s.append("; their ResNet-20: ").append(String.format("%,d", num(j.get("params")))).append(" parameters, ")
                .append(String.format("%,d", num(j.get("prunable")))).append(" prunable, as pxprune's");
        long kept = num(j.get("kept"));
        s.append("; ").append(String.format("%,d", kept)).append(" kept").append(kept == ours.kept() ? ", as pxprune" :
                String.format(" (pxprune keeps %,d)", ours.kept()));
        if (j.get("stand_ins") instanceof List<?> l && !l.isEmpty()) s.append("; stand-in: ").append(String.join(", ", l.stream().map(String::valueOf).toList()));
        return s.toString();
    }

    private static long num(Object o) { return o instanceof Number n ? n.longValue() : -1; }
}
