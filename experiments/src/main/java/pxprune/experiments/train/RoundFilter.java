package pxprune.experiments.train;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Thins the pruner's progress: of the lines that say "round r/T", only r = 1, every k-th and the
 * last pass; all other lines pass unchanged.
 */
final class RoundFilter extends OutputStream {
    private static final Pattern ROUND = Pattern.compile("round (\\d+)/(\\d+)");
    private final int every;
    private final PrintStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private RoundFilter(int every, PrintStream out) { this.every = every; this.out = out; }

    static PrintStream every(int k, PrintStream out) {
        return new PrintStream(new RoundFilter(k, out), true, StandardCharsets.UTF_8);
    }

    @Override public void write(int b) {
        if (b == '\n') {
            String s = line.toString(StandardCharsets.UTF_8);
            line.reset();
            Matcher m = ROUND.matcher(s);
            if (m.find()) {
                int r = Integer.parseInt(m.group(1)), t = Integer.parseInt(m.group(2));
                if (r != 1 && r != t && r % every != 0) return;
            }
            out.println(s);
        } else line.write(b);
    }

    @Override public void flush() { out.flush(); }
}
