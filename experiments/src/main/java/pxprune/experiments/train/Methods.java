package pxprune.experiments.train;

import java.util.ArrayList;
import java.util.List;
import pxprune.px.methods.ScorerRegistry;

/** The method names a run accepts: {@code dense} (no pruning) and every scorer of {@link ScorerRegistry}. */
public final class Methods {
    private Methods() {}

    public static List<String> names() {
        List<String> out = new ArrayList<>();
        out.add(RunConfig.DENSE);
        out.addAll(ScorerRegistry.names());
        return out;
    }
}
