package pxprune.px;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.Interpreter;

/**
 * What a scorer tells about its passes, for {@code --trace} and {@code explain}. A scorer gets its
 * trace from {@link ScoringData#trace()} (an explicit object, no global state) and, for every pass
 * it runs (e.g. PX's gate pass, activation network A, path-kernel network P forward and backward,
 * score), calls {@link #watch} on the interpreter it evaluates the model with and {@link #pass}
 * once the pass is done. {@link #NONE} does nothing, and a scorer's results never depend on the
 * trace: a trace may copy tensors, never change them.
 */
public interface Trace {
    /** no tracing */
    Trace NONE = new Trace() {};

    /**
     * The interpreter a pass evaluates the model with; a trace may wrap it to see every layer's
     * output. The default returns it unchanged.
     */
    default Interpreter watch(String pass, Interpreter it) { return it; }

    /**
     * A pass is done. {@code tensors}: its inputs and outputs by name, inputs first; a name
     * {@code group:member} (e.g. {@code score:conv.weight}, {@code gate:3}) is one member of a
     * group of like tensors. The tensors are valid only during the call.
     *
     * @param nanos the pass's wall time
     */
    default void pass(String scorer, String pass, Map<String, Tensor> tensors, long nanos) {}

    /** name, tensor, name, tensor, ... as an ordered map (null tensors left out) */
    static Map<String, Tensor> tensors(Object... nameTensor) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < nameTensor.length; i += 2)
            if (nameTensor[i + 1] != null) m.put((String) nameTensor[i], (Tensor) nameTensor[i + 1]);
        return m;
    }

    /** adds group:i -> the i-th tensor of the list, for each i */
    static Map<String, Tensor> group(Map<String, Tensor> m, String group, List<Tensor> ts) {
        for (int i = 0; i < ts.size(); i++) m.put(group + ":" + i, ts.get(i));
        return m;
    }

    /** adds group:(layer name) -> tensor, one per prunable layer, in order */
    static Map<String, Tensor> group(Map<String, Tensor> m, String group, List<PrunableLayer> layers, List<Tensor> ts) {
        for (int i = 0; i < ts.size(); i++) m.put(group + ":" + layers.get(i).name(), ts.get(i));
        return m;
    }

    /**
     * One line per pass on {@code out}, e.g.
     * {@code [trace px] P backward 1.2 ms cpu | dR/dp: 22 x F64 [16, 1, 3, 3] .. [10, 64], 272474 values};
     * a group is shown as its count, dtype, first and last shape and total size.
     */
    static Trace log(PrintStream out) { return new Log(out); }

    /** {@link #log}'s format */
    final class Log implements Trace {
        private final PrintStream out;

        Log(PrintStream out) { this.out = out; }

        @Override public void pass(String scorer, String pass, Map<String, Tensor> tensors, long nanos) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[trace %s] %s %.3f ms", scorer, pass, nanos / 1e6));
            String device = tensors.isEmpty() ? "cpu" : tensors.values().iterator().next().device().name().toLowerCase(Locale.ROOT);
            b.append(' ').append(device);
            Map<String, List<Tensor>> groups = new LinkedHashMap<>();
            tensors.forEach((k, t) -> groups.computeIfAbsent(k.contains(":") ? k.substring(0, k.indexOf(':')) : k,
                    g -> new ArrayList<>()).add(t));
            String sep = " | ";
            for (var e : groups.entrySet()) {
                List<Tensor> ts = e.getValue();
                Tensor first = ts.get(0), last = ts.get(ts.size() - 1);
                b.append(sep).append(e.getKey()).append(": ");
                sep = "; ";
                if (ts.size() == 1 && tensors.containsKey(e.getKey())) {
                    b.append(first.dtype()).append(' ').append(Arrays.toString(first.shape()));
                    continue;
                }
                long n = 0;
                for (Tensor t : ts) n += t.numel();
                b.append(ts.size()).append(" x ").append(first.dtype()).append(' ').append(Arrays.toString(first.shape()));
                if (ts.size() > 1) b.append(" .. ").append(Arrays.toString(last.shape()));
                b.append(", ").append(n).append(" values");
            }
            out.println(b);
        }
    }
}
