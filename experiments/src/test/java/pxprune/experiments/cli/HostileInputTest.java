package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.core.io.SafeTensors;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;

/**
 * The command line against hostile input: malformed and malicious safetensors files, weights and
 * batches with impossible values, configs, datasets and arguments at and past their bounds. Every
 * case must exit with code 2 and print exactly one line, starting "pxprune: ", that contains the
 * expected text, names the offending input (option, key or file) and says what to do, with no
 * exception name or stack trace. Each case is one row: its arguments are built over a shared
 * folder of fixtures (a valid ResNet-20 state dict and batch, and the broken variants).
 */
class HostileInputTest {
    static Path dir;
    static Path weights, batch;
    /** the valid state dict's entries, from which the broken ones are made */
    static Map<String, SafeTensors.Entry> state;

    /** one hostile input: what to run, a text the error must contain, and the input it must name */
    record Case(String name, String[] args, String expected, String names) {
        @Override public String toString() { return name; }
    }

    /** words that tell the user what to do; every message must use one */
    static final Pattern FIX = Pattern.compile(
            "\\b(give|use|set|list|check|delete|remove|rerun|run|fix|re-export|write|restore|choose|pick|make|lower|raise|rename|move|"
                    + "keep|add|put|pass|extract|download|copy|create|expected|needs?|must|should)\\b",
            Pattern.CASE_INSENSITIVE);

    @AfterAll static void cleanUp() throws IOException {
        if (dir != null) cleanUp(dir);
    }

    static void cleanUp(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static synchronized void makeFixtures() throws IOException {
        if (dir != null) return;
        dir = Files.createTempDirectory("pxprune-hostile");
        weights = dir.resolve("W.safetensors");
        batch = dir.resolve("B.safetensors");
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 8, 5)) {
            StateDicts.save(m, weights);
        }
        state = new LinkedHashMap<>(SafeTensors.read(weights).entries());
        writeBatch(batch, 4, e -> {});
    }

    static void writeBatch(Path p, int n, Consumer<Map<String, SafeTensors.Entry>> edit) throws IOException {
        float[] x = new float[n * 3 * 8 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = i % 10;
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
        e.put("x", SafeTensors.Entry.of(x, n, 3, 8, 8));
        e.put("y", SafeTensors.Entry.ofLongs(y, n));
        edit.accept(e);
        SafeTensors.write(p, e, null);
    }

    /** the valid state dict with one entry replaced */
    static Path weightsWith(String file, String key, SafeTensors.Entry replacement) throws IOException {
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>(state);
        e.put(key, replacement);
        Path p = dir.resolve(file);
        SafeTensors.write(p, e, null);
        return p;
    }

    /** one entry's values with element i changed */
    static SafeTensors.Entry floatsWith(String key, int i, float v) {
        SafeTensors.Entry e = state.get(key);
        float[] f = e.toFloats();
        f[i] = v;
        return SafeTensors.Entry.of(f, e.shape());
    }

    /** a file of an 8-byte little-endian header length, the header and the data, as given */
    static Path raw(String file, long headerLength, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h);
        Path p = dir.resolve(file);
        Files.write(p, b.array());
        return p;
    }

    static Path raw(String file, String header, int dataBytes) throws IOException {
        return raw(file, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    static Path text(String file, String content) throws IOException {
        Path p = dir.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    static String[] score(Path w, Path b) {
        return new String[] {"score", "--model", "resnet20", "--weights", w.toString(), "--batch", b.toString(), "--method", "px",
                "--out", dir.resolve("scores.safetensors").toString()};
    }

    static String[] prune(String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", "resnet20", "--dataset", "digits", "--method", "random",
                "--density", "0.1", "--rounds", "2", "--out", dir.resolve("never-written").toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int at = a.indexOf(extra[i]);
            if (at >= 0 && i + 1 < extra.length) a.set(at + 1, extra[i + 1]);
            else { a.add(extra[i]); if (i + 1 < extra.length) a.add(extra[i + 1]); }
        }
        return a.toArray(new String[0]);
    }

    static String[] run(Path config) { return new String[] {"run", config.toString(), "--runs", dir.resolve("runs").toString()}; }

    static Case c(String name, String[] args, String expected, String names) { return new Case(name, args, expected, names); }

    static List<Case> cases() {
        try {
            makeFixtures();
            return build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Case> build() throws IOException {
        List<Case> l = new ArrayList<>();
        String nb = "blocks.0.bn1.num_batches_tracked";
        // ---------------------------------------------------------------- arguments and their bounds
        l.add(c("rounds far above the bound", prune("--rounds", "2000000000"), "outside 1..100000", "--rounds"));
        l.add(c("rounds past int range", prune("--rounds", "2147483648"), "outside 1..100000", "--rounds"));
        l.add(c("negative rounds", prune("--rounds", "-5"), "outside 1..100000", "--rounds"));
        l.add(c("fractional rounds", prune("--rounds", "1e3"), "not an integer", "--rounds"));
        l.add(c("density NaN", prune("--density", "NaN"), "outside (0, 1]", "--density"));
        l.add(c("density infinite", prune("--density", "Infinity"), "outside (0, 1]", "--density"));
        l.add(c("density that keeps no weight", prune("--density", "1e-300"), "keeps no weight", "--density"));
        l.add(c("examples per class 0", prune("--examples-per-class", "0"), "outside 1..", "--examples-per-class"));
        l.add(c("examples per class huge", prune("--examples-per-class", "99999999999"), "outside 1..", "--examples-per-class"));
        l.add(c("seed past long range", prune("--seed", "99999999999999999999"), "not an integer", "--seed"));
        l.add(c("unknown schedule", prune("--schedule", "cubic"), "not a schedule", "--schedule"));
        l.add(c("flag with a value", prune("--per-layer=yes"), "takes no value", "--per-layer"));
        l.add(c("option without its value", prune("--seed"), "needs a value", "--seed"));
        l.add(c("empty model name", prune("--model", ""), "needs --model", "--model"));
        l.add(c("--out in /proc", prune("--out", "/proc/pxprune-x"), "--out", "/proc/pxprune-x"));
        l.add(c("--out in /sys", prune("--out", "/sys/pxprune-x"), "--out", "/sys/pxprune-x"));
        Path regular = text("a-file", "x");
        l.add(c("--out under a regular file", prune("--out", regular.resolve("sub").toString()), "--out", "a-file"));
        l.add(c("--runs in /proc", new String[] {"run", "digits", "--runs", "/proc/pxprune-x"}, "--runs", "/proc/pxprune-x"));
        l.add(c("score --out is a folder", new String[] {"score", "--model", "resnet20", "--weights", weights.toString(), "--batch",
                batch.toString(), "--method", "px", "--out", dir.toString()}, "is a folder", "--out"));

        // ---------------------------------------------------------------- malformed safetensors
        l.add(c("empty weights file", score(text("empty.safetensors", ""), batch), "not a readable safetensors", "empty.safetensors"));
        l.add(c("header length past the file", score(raw("long.safetensors", 1L << 40, "{}", 0), batch), "header", "long.safetensors"));
        l.add(c("negative header length", score(raw("neg.safetensors", -8, "{}", 0), batch), "header", "neg.safetensors"));
        l.add(c("header not JSON", score(raw("notjson.safetensors", "{\"a\": [1, 2", 0), batch), "not a readable", "notjson.safetensors"));
        l.add(c("header a JSON array", score(raw("array.safetensors", "[1, 2, 3]", 0), batch), "object", "array.safetensors"));
        l.add(c("entry not an object", score(raw("entry.safetensors", "{\"a\": 3}", 0), batch), "'a'", "entry.safetensors"));
        l.add(c("negative data offsets", score(raw("negoff.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 0), batch), "data_offsets", "negoff.safetensors"));
        l.add(c("overlapping offsets", score(raw("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12), batch), "overlap", "overlap.safetensors"));
        l.add(c("gap between entries", score(raw("gap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                12), batch), "gap", "gap.safetensors"));
        l.add(c("trailing bytes", score(raw("trail.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12), batch), "bytes", "trail.safetensors"));
        l.add(c("offsets past the end", score(raw("past.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 4), batch), "a", "past.safetensors"));
        l.add(c("unknown dtype", score(raw("dtype.safetensors",
                "{\"a\":{\"dtype\":\"F8_E9\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), batch), "F8_E9", "dtype.safetensors"));
        l.add(c("negative dimension", score(raw("negdim.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0), batch), "shape", "negdim.safetensors"));
        l.add(c("shape product overflows", score(raw("overflow.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0), batch), "a",
                "overflow.safetensors"));
        l.add(c("header nested 10,000 deep", score(raw("deep.safetensors", "{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", 0),
                batch), "deep", "deep.safetensors"));
        l.add(c("duplicate key in the header", score(raw("dup.safetensors",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
                0), batch), "duplicate", "dup.safetensors"));
        l.add(c("metadata not strings", score(raw("meta.safetensors", "{\"__metadata__\":{\"k\":[1]}}", 0), batch), "__metadata__",
                "meta.safetensors"));
        Path sparse = dir.resolve("huge.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) { // 1 GiB, sparse: another model's checkpoint
            byte[] h = "{\"other.weight\":{\"dtype\":\"U8\",\"shape\":[1073741824],\"data_offsets\":[0,1073741824]}}".getBytes(StandardCharsets.UTF_8);
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + (1L << 30));
        }
        l.add(c("a 1 GiB checkpoint of another model", score(sparse, batch), "other.weight", "huge.safetensors"));
        l.add(c("weights file is a folder", score(dir, batch), "not a regular file", "--weights"));

        // ---------------------------------------------------------------- impossible values
        l.add(c("NaN weight", score(weightsWith("nan.safetensors", "conv.weight", floatsWith("conv.weight", 5, Float.NaN)), batch),
                "NaN", "conv.weight"));
        l.add(c("infinite weight", score(weightsWith("inf.safetensors", "fc.weight", floatsWith("fc.weight", 0, Float.POSITIVE_INFINITY)),
                batch), "infinite", "fc.weight"));
        l.add(c("negative running variance", score(weightsWith("var.safetensors", "bn.running_var", floatsWith("bn.running_var", 2, -1f)),
                batch), "negative running variance", "bn.running_var"));
        l.add(c("huge num_batches_tracked", score(weightsWith("nbt.safetensors", nb, SafeTensors.Entry.ofLongs(new long[] {1L << 40})),
                batch), "outside 0..", nb));
        l.add(c("negative num_batches_tracked", score(weightsWith("nbtneg.safetensors", nb, SafeTensors.Entry.ofLongs(new long[] {-3})),
                batch), "outside 0..", nb));
        Path w32;
        try (Module m = ModelRegistry.create("resnet32", 3, 10, 8, 5)) {
            w32 = dir.resolve("resnet32.safetensors");
            StateDicts.save(m, w32);
        }
        l.add(c("weights of another model", score(w32, batch), "cannot be loaded into resnet20", "resnet32.safetensors"));
        l.add(c("no classes in the output layer", score(weightsWith("fc0.safetensors", "fc.weight",
                SafeTensors.Entry.of(new float[0], 0, 64)), batch), "classes", "fc.weight"));
        Path b;
        writeBatch(b = dir.resolve("bnan.safetensors"), 4, e -> {
            float[] x = e.get("x").toFloats();
            x[100] = Float.NaN;
            e.put("x", SafeTensors.Entry.of(x, 4, 3, 8, 8));
        });
        l.add(c("NaN pixel", score(weights, b), "NaN", "bnan.safetensors"));
        writeBatch(b = dir.resolve("blabel.safetensors"), 4, e -> e.put("y", SafeTensors.Entry.ofLongs(new long[] {0, 1, 10, 3}, 4)));
        l.add(c("label = number of classes", score(weights, b), "label 10", "blabel.safetensors"));
        writeBatch(b = dir.resolve("bhuge.safetensors"), 4, e -> e.put("y", SafeTensors.Entry.ofLongs(new long[] {0, 1L << 40, 2, 3}, 4)));
        l.add(c("huge label", score(weights, b), "outside 0..9", "bhuge.safetensors"));
        writeBatch(b = dir.resolve("bneg.safetensors"), 4, e -> e.put("y", SafeTensors.Entry.ofLongs(new long[] {0, -1, 2, 3}, 4)));
        l.add(c("negative label", score(weights, b), "label -1", "bneg.safetensors"));
        writeBatch(b = dir.resolve("bempty.safetensors"), 0, e -> {});
        l.add(c("empty batch", score(weights, b), "empty", "bempty.safetensors"));
        writeBatch(b = dir.resolve("b3d.safetensors"), 4, e -> e.put("x", SafeTensors.Entry.of(e.get("x").toFloats(), 4, 3, 64)));
        l.add(c("3-D input", score(weights, b), "[N, C, H, W]", "b3d.safetensors"));
        writeBatch(b = dir.resolve("bydtype.safetensors"), 4, e -> e.put("y", SafeTensors.Entry.of(new float[] {0, 1, 2, 3}, 4)));
        l.add(c("float labels", score(weights, b), "'y' must be int64", "bydtype.safetensors"));
        writeBatch(b = dir.resolve("bylen.safetensors"), 4, e -> e.put("y", SafeTensors.Entry.ofLongs(new long[] {0, 1}, 2)));
        l.add(c("fewer labels than inputs", score(weights, b), "'y' must be int64 [4]", "bylen.safetensors"));
        writeBatch(b = dir.resolve("bnox.safetensors"), 4, e -> e.remove("x"));
        l.add(c("batch without x", score(weights, b), "needs tensors 'x'", "bnox.safetensors"));

        // ---------------------------------------------------------------- configs
        l.add(c("duplicate key in a config", run(text("dup.json", "{\"recipe\": \"digits\", \"epochs\": 1, \"epochs\": 2}")),
                "duplicate", "dup.json"));
        l.add(c("config with a BOM is read", run(text("bom.json", "\uFEFF{\"recipe\": \"digits\", \"lr\": \"fast\"}")), "'lr'", "bom.json"));
        l.add(c("config not JSON", run(text("broken.json", "{\"recipe\": ")), "broken.json", "broken.json"));
        l.add(c("config a JSON array", run(text("array.json", "[1, 2]")), "object", "array.json"));
        l.add(c("config nested deep", run(text("deep.json", "{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}")), "deep", "deep.json"));
        l.add(c("negative epochs", run(text("ep.json", "{\"recipe\": \"digits\", \"epochs\": -1}")), "'epochs'", "ep.json"));
        l.add(c("fractional epochs", run(text("ep2.json", "{\"recipe\": \"digits\", \"epochs\": 1.5}")), "'epochs'", "ep2.json"));
        l.add(c("batch size 0", run(text("bs.json", "{\"recipe\": \"digits\", \"batch_size\": 0}")), "'batch_size'", "bs.json"));
        l.add(c("rounds past the bound", run(text("rounds.json", "{\"recipe\": \"digits\", \"rounds\": 2000000000}")), "'rounds'",
                "rounds.json"));
        l.add(c("density that keeps no weight (config)", run(text("nokeep.json", "{\"recipe\": \"digits\", \"density\": 1e-300}")),
                "keeps no weight", "density"));
        l.add(c("milestones not a list", run(text("ms.json", "{\"recipe\": \"digits\", \"milestones\": \"x\"}")), "'milestones'",
                "ms.json"));
        l.add(c("unknown dataset", run(text("ds.json", "{\"recipe\": \"digits\", \"dataset\": \"emnist\"}")), "emnist", "ds.json"));
        l.add(c("unknown recipe", run(text("rc.json", "{\"recipe\": \"nope\"}")), "nope", "rc.json"));
        l.add(c("config is a folder", new String[] {"run", dir.toString()}, "not a regular file", dir.getFileName().toString()));
        l.add(c("--set rounds past int range", new String[] {"run", "digits", "--set", "rounds=2147483648", "--runs",
                dir.resolve("runs").toString()}, "'rounds'", "rounds"));
        l.add(c("--set without a value", new String[] {"run", "digits", "--set", "epochs", "--runs", dir.resolve("runs").toString()},
                "epochs", "--set"));

        // ---------------------------------------------------------------- datasets
        Path cifar = dir.resolve("cifar-short");
        Files.createDirectories(cifar.resolve("cifar-10-batches-bin"));
        for (String f : List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
                "test_batch.bin"))
            Files.write(cifar.resolve("cifar-10-batches-bin").resolve(f), new byte[3073 * 20]); // 20 whole records, not 10,000
        l.add(c("CIFAR file cut on a record boundary", run(text("cifar.json",
                "{\"recipe\": \"cifar10_resnet20\", \"data_root\": \"" + cifar + "\", \"epochs\": 1}")), "10000", "data_batch_1.bin"));
        l.add(c("CIFAR folder missing", run(text("cifar2.json",
                "{\"recipe\": \"cifar10_resnet20\", \"data_root\": \"" + dir.resolve("no-such-root") + "\"}")), "cifar", "no-such-root"));
        Path tiny = dir.resolve("tiny").resolve("tiny-imagenet-200");
        Files.createDirectories(tiny.resolve("train"));
        Files.createDirectories(tiny.resolve("val").resolve("images"));
        Files.writeString(tiny.resolve("wnids.txt"), "../../../outside\n");
        Files.writeString(tiny.resolve("val").resolve("val_annotations.txt"), "");
        l.add(c("Tiny-ImageNet class outside the data root", run(text("tiny.json",
                "{\"recipe\": \"tinyimagenet_resnet18\", \"data_root\": \"" + tiny.getParent() + "\", \"epochs\": 1}")), "outside",
                "wnids.txt"));
        // an IDX header declaring two billion images in a 100-byte gzip file: refused before anything is allocated
        Path kmnist = Files.createDirectories(dir.resolve("idx").resolve("kmnist"));
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
            try (var out = new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(gz))) {
                out.writeInt(f.contains("images") ? 0x803 : 0x801);
                out.writeInt(2_000_000_000);
                if (f.contains("images")) { out.writeInt(28); out.writeInt(28); }
            }
            Files.write(kmnist.resolve(f + ".gz"), gz.toByteArray());
        }
        l.add(c("IDX header declaring more than the file holds", run(text("kmnist.json", "{\"recipe\": \"fashion_mnist_resnet20\", "
                + "\"dataset\": \"kmnist\", \"data_root\": \"" + kmnist.getParent() + "\", \"epochs\": 1}")), "more than",
                "train-images-idx3-ubyte.gz"));
        return l;
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("cases")
    void refusedWithOneClearLine(Case k) throws IOException {
        Path never = dir.resolve("never-written");
        MainTest.Result r = MainTest.run(k.args());
        boolean created = Files.exists(never);
        if (created) cleanUp(never);
        String e = r.err();
        assertEquals(2, r.code(), k.name() + ": exit code; stderr: " + e);
        assertEquals(1, e.lines().count(), k.name() + ": not one line: " + e);
        assertTrue(e.startsWith("pxprune: "), e);
        assertTrue(e.contains(k.expected()), k.name() + ": expected '" + k.expected() + "' in: " + e);
        assertTrue(e.contains(k.names()), k.name() + ": the message does not name '" + k.names() + "': " + e);
        assertTrue(FIX.matcher(e).find(), k.name() + ": the message says nothing about what to do: " + e);
        assertFalse(e.contains("Exception") || e.contains("Error:") || e.contains("\tat "), k.name() + ": stack trace or exception name: " + e);
        assertFalse(created, k.name() + ": an output folder was created for a refused command");
    }
}
