package pxprune.px.cli;

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
