package pxprune.px.methods;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import pxprune.kernels.DType;
import pxprune.px.Scorer;
import pxprune.px.methods.px.PxScorer;
import pxprune.px.methods.synflow.SynFlowScorer;

/**
 * The only place that names the scorer classes. A scorer is created for a precision: null (each
 * method's default), F32 or F64. SNIP and GraSP compute their loss and gradients in it (default:
 * the model's, float32). px and px_datafree compute their activation network A in it: F64 as it
 * is, F32 with a power-of-two exponent carried per tensor, exact up to float32's rounding
 * (docs/px-method.md#float32-activation-network); their default is {@link PxScorer#DEFAULT_PRECISION}; their path-kernel network
 * P runs in float64 either way. synflow and synflow_l2 compute their linearised network in it: F64
 * as Synaptic-Flow does, F32 with a power-of-two exponent carried per tensor, exact up to float32's
 * rounding (docs/px-method.md#float32-synflow); their default is {@link SynFlowScorer#DEFAULT_PRECISION}. Magnitude and
 * random need no arithmetic to speak of, so for them the precision changes nothing.
 */
public final class ScorerRegistry {
    private static final Map<String, Function<DType, Scorer>> SCORERS = new LinkedHashMap<>();

    static {
        SCORERS.put("px", p -> new PxScorer(false, p == null ? PxScorer.DEFAULT_PRECISION : p));
        SCORERS.put("px_datafree", p -> new PxScorer(true, p == null ? PxScorer.DEFAULT_PRECISION : p));
        SCORERS.put("random", p -> new RandomScorer());
        SCORERS.put("magnitude", p -> new MagnitudeScorer());
        SCORERS.put("snip", SnipScorer::new);
        SCORERS.put("grasp", GraspScorer::new);
        SCORERS.put("synflow", p -> new SynFlowScorer(false, p == null ? SynFlowScorer.DEFAULT_PRECISION : p));
        SCORERS.put("synflow_l2", p -> new SynFlowScorer(true, p == null ? SynFlowScorer.DEFAULT_PRECISION : p));
    }

    private ScorerRegistry() {}

    public static List<String> names() { return List.copyOf(SCORERS.keySet()); }

    public static Scorer create(String name) { return create(name, null); }

    /** @param precision null for the method's default (see the class comment), {@link DType#F32} or {@link DType#F64} */
    public static Scorer create(String name, DType precision) {
        Function<DType, Scorer> s = SCORERS.get(name);
        if (s == null)
            throw new IllegalArgumentException("unknown pruning method '" + name + "'; valid methods: " + String.join(", ", names()));
        if (precision != null && precision != DType.F64 && precision != DType.F32)
            throw new IllegalArgumentException("precision must be float32 or float64, got " + precision);
        return s.apply(precision);
    }
}
