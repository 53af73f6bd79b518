package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pxprune explain and --trace through the command line, and docs/walkthrough.md against explain's output. */
class ExplainCommandTest {
    static Path docs() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("docs/px-method.md"))) return p.resolve("docs");
        throw new IllegalStateException("no docs/ folder above " + Path.of("").toAbsolutePath());
    }

    @Test void theWalkThroughShowsExactlyWhatExplainPrints() throws IOException {
        MainTest.Result r = MainTest.run("explain");
        assertEquals(0, r.code(), r.err());
        String doc = Files.readString(docs().resolve("walkthrough.md"), StandardCharsets.UTF_8);
        assertTrue(doc.contains("```text\n$ ./pxprune explain\n" + r.out() + "```\n"),
                "docs/walkthrough.md must hold the output of `pxprune explain` verbatim, in a ```text block that starts with "
                        + "'$ ./pxprune explain'; regenerate it (see the page's section 'How this page is made')");
        assertTrue(r.out().contains("(agree)") && r.out().contains("(conserved)"), r.out());
    }

    @Test void theCommittedDiagramIsWhatExplainDraws(@TempDir Path dir) throws IOException {
        Path svg = dir.resolve("net.svg");
        MainTest.Result r = MainTest.run("explain", "--svg", svg.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(docs().resolve("walkthrough-net.svg")), Files.readString(svg),
                "docs/walkthrough-net.svg is not what `pxprune explain --svg` draws now; regenerate it");
    }

    @Test void resnet20OnDigitsIsFastAndConserves() {
        long t0 = System.nanoTime();
        MainTest.Result r = MainTest.run("explain", "--model", "resnet20", "--dataset", "digits");
        double sec = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err());
        assertTrue(sec < 60, "explain on resnet20 took " + sec + " s");
        Matcher m = Pattern.compile("(\\d+) cuts checked; max relative error over them: (<= 1e-15|[0-9.]+e-\\d+)  \\(conserved\\)")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(6, Integer.parseInt(m.group(1)), "resnet20: stem, fc and 4 branch+shortcut pairs are cuts");
        double err = m.group(2).startsWith("<=") ? 0 : Double.parseDouble(m.group(2));
        assertTrue(err <= 1e-12, "conservation error " + err);
        for (String pass : List.of("1. gate pass", "2. activation network A", "3. w", "4. path-kernel network P", "5. P backward", "6. score"))
            assertTrue(r.out().contains(pass), pass + " missing:\n" + r.out());
    }

    /**
     * --examples-per-class K and --seed pick the examples (PruningSplit's draw: 10 K of digits' images, whose sum is exact,
     * every pixel being a multiple of 1/16), --dataset the data set (its image shape), --data-root where one on disk is read.
     */
    @Test void optionsPickTheExamples(@TempDir Path dir) {
        pxprune.datasets.Dataset train = pxprune.datasets.DatasetRegistry.load("digits", Path.of("data"), true,
                pxprune.experiments.train.Runner.DATA_SPLIT_SEED);
        for (int[] c : new int[][] {{2, 2}, {2, 3}}) {
            MainTest.Result r = MainTest.run("explain", "--model", "resnet20", "--examples-per-class", "" + c[0], "--seed", "" + c[1]);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("resnet20 (seed " + c[1] + ") on digits, " + c[0] + " example(s) per class"), r.out());
            assertTrue(r.out().contains("  " + 10 * c[0] + " samples of shape [1, 8, 8], "), r.out());
            double sum = 0;
            for (int i : pxprune.datasets.PruningSplit.select(train, c[0], c[1])) for (float v : train.image(i)) sum += v;
            Matcher m = Pattern.compile("(?m)^  x +F32 \\[" + 10 * c[0] + ", 1, 8, 8\\] +sum (\\S+)").matcher(r.out());
            assertTrue(m.find(), r.out());
            // explain prints 7 significant digits: 5e-7 relative
            assertEquals(sum, Double.parseDouble(m.group(1)), 1e-6 * sum, "the pixels of the split of seed " + c[1]);
        }
        MainTest.Result r = MainTest.run("explain", "--model", "resnet20", "--dataset", "synthetic");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("on synthetic, 1 example(s) per class") && r.out().contains("  10 samples of shape [3, 32, 32], "),
                r.out());
        Path root = dir.resolve("no-data");
        r = MainTest.run("explain", "--model", "resnet20", "--dataset", "cifar10", "--data-root", root.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(root.resolve("cifar-10-batches-bin").toString()), r.err());
    }

    @Test void pruneAndScoreTraceTheirPasses(@TempDir Path dir) {
        MainTest.Result r = MainTest.run(("prune --model resnet20 --dataset digits --method px --density 0.5 --rounds 1 "
                + "--examples-per-class 1 --trace --out " + dir.resolve("p")).split(" "));
        assertEquals(0, r.code(), r.err());
        for (String pass : List.of("gates", "A", "w", "P forward", "P backward", "score"))
            assertTrue(Pattern.compile("(?m)^\\[trace px\\] " + pass + " [0-9.]+ ms cpu \\| ").matcher(r.err()).find(),
                    "no trace line for " + pass + ":\n" + r.err());
        assertTrue(r.err().contains("gate: 19 x F32 [10, 16, 8, 8]"), r.err()); // A in float32, the default: gates in float32
        MainTest.Result q = MainTest.run(("prune --model resnet20 --dataset digits --method synflow --density 0.5 --rounds 1 "
                + "--examples-per-class 1 --trace --out " + dir.resolve("q")).split(" "));
        assertEquals(0, q.code(), q.err());
        for (String pass : List.of("forward", "backward", "score"))
            assertTrue(q.err().contains("[trace synflow] " + pass + " "), q.err());
        MainTest.Result quiet = MainTest.run(("prune --model resnet20 --dataset digits --method px --density 0.5 --rounds 1 "
                + "--examples-per-class 1 --out " + dir.resolve("r")).split(" "));
        assertTrue(!quiet.err().contains("[trace"), quiet.err());
    }

    @Test void badArgumentsExitTwoWithOneLine(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        String[][] cases = {
                {"explain --dataset digits", "--dataset needs --model"},
                {"explain --seed 3", "--seed needs --model"},
                {"explain --model resnet21", "unknown model 'resnet21'"},
                {"explain --model resnet20 --dataset emnist", "unknown dataset 'emnist'"},
                {"explain --model resnet20 --examples-per-class 11", "outside 1..10"},
                {"explain --model resnet20 --svg x.svg", "--svg draws the tiny network only"},
                {"explain --svg " + file.resolve("x.svg"), "is a file"},
                {"explain extra", "unexpected argument 'extra'"},
                {"explain --verbose", "unknown option --verbose"},
                {"prune --trace=yes", "--trace takes no value"}};
        for (String[] c : cases) {
            MainTest.Result r = MainTest.run(c[0].split(" "));
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().contains(c[1]), c[0] + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), c[0] + ": " + r.err());
            assertEquals("", r.out(), c[0]);
        }
    }
}
