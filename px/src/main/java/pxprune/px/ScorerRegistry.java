package pxprune.px;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The only place that names the scorer classes. */
public final class ScorerRegistry {
    private static final Map<String, Supplier<Scorer>> SCORERS = new LinkedHashMap<>();

    static {
        SCORERS.put("px", () -> new PxScorer(false));
        SCORERS.put("px_datafree", () -> new PxScorer(true));
        SCORERS.put("random", RandomScorer::new);
        SCORERS.put("magnitude", MagnitudeScorer::new);
        SCORERS.put("snip", SnipScorer::new);
        SCORERS.put("grasp", GraspScorer::new);
        SCORERS.put("synflow", () -> new SynFlowScorer(false));
        SCORERS.put("synflow_l2", () -> new SynFlowScorer(true));
    }

    private ScorerRegistry() {}

    public static List<String> names() { return List.copyOf(SCORERS.keySet()); }

    public static Scorer create(String name) {
        Supplier<Scorer> s = SCORERS.get(name);
        if (s == null)
            throw new IllegalArgumentException("unknown pruning method '" + name + "'; valid methods: " + String.join(", ", names()));
        return s.get();
    }
}
