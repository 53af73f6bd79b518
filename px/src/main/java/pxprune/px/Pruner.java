package pxprune.px;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.nn.Module;

/**
 * Iterative pruning at initialization: for r = 0 .. T-1, multiply the model's prunable weights by
 * the current masks, score them, and keep exactly n_keep of the currently kept weights for the
 * round's target density ({@link TopK}), globally or per layer. After the last round the model's
 * weights are multiplied by the final masks. Every round is recorded (target and achieved density,
 * per-layer density, whether the network is still connected, time), and a progress line goes to
 * the given stream.
 */
public final class Pruner {
    private Pruner() {}

    /** final density d in (0, 1], T rounds, the schedule of intermediate densities, global or per-layer selection */
    public record Config(double density, int rounds, Schedule schedule, boolean perLayer) {
        /** the most rounds a run may ask for (the method's default is 100; each round scores the whole model once) */
        public static final int MAX_ROUNDS = 100_000;

        public Config {
            TopK.checkDensity(density);
            if (rounds < 1 || rounds > MAX_ROUNDS)
                throw new IllegalArgumentException("rounds must be in 1.." + MAX_ROUNDS + ", got " + rounds);
            if (schedule == null) throw new IllegalArgumentException("schedule must be given (exponential or linear)");
        }

        public Config(double density, int rounds) { this(density, rounds, Schedule.EXPONENTIAL, false); }
    }

    /**
     * One round's outcome: density = kept / total after the selection; connected and
     * reachableOutputs as {@link Connectivity} defines them; seconds = scoring + selection + check.
     */
    public record Round(int round, double targetDensity, double density, long kept, Map<String, Double> layerDensity,
                        boolean connected, int reachableOutputs, int outputs, double seconds) {}

    public record Result(String method, Config config, long seed, Masks masks, List<Round> rounds) {
        public Map<String, Object> summary() {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("method", method);
            s.put("target_density", config.density());
            s.put("rounds", config.rounds());
            s.put("schedule", config.schedule().name().toLowerCase(Locale.ROOT));
            s.put("scope", config.perLayer() ? "layer" : "global");
            s.put("seed", seed);
            s.put("total", masks.total());
            s.put("kept", masks.kept());
            s.put("density", masks.density());
            Round last = rounds.get(rounds.size() - 1);
            s.put("connected", last.connected());
            s.put("reachable_outputs", last.reachableOutputs());
            s.put("outputs", last.outputs());
            s.put("connected_definition", "at least one output unit is reached from the input by a path of kept weights");
            double sec = 0;
            for (Round x : rounds) sec += x.seconds();
            s.put("seconds", sec);
            Map<String, Object> layers = new LinkedHashMap<>();
            for (String name : masks.names()) layers.put(name, masks.density(name));
            s.put("layer_density", layers);
            return s;
        }
    }

    /**
     * Fails unless the final density keeps at least one weight: n_keep = N - floor((1 - d) N) >= 1
     * for the N prunable weights of the model (global selection) or of each of its prunable layers
     * (per-layer selection). Every earlier round's target is at least d, so it keeps at least as many.
     *
     * @param modelName the model as the message names it, e.g. resnet20
     * @throws IllegalArgumentException naming the density, the model's weight count and the smallest usable density
     */
    public static void checkKeepsWeights(Module model, String modelName, double density, boolean perLayer) {
        TopK.checkDensity(density);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        if (layers.isEmpty()) throw new IllegalArgumentException(modelName + " has no prunable weights");
        if (!perLayer) {
            long n = 0;
            for (PrunableLayer l : layers) n += l.numel();
            if (TopK.keepCount(n, density) < 1)
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "density %s keeps no weight of %s's %,d prunable weights (n_keep = N - floor((1 - d) N) = 0); use density >= %s",
                        show(density), modelName, n, show(smallestDensity(n))));
            return;
        }
        PrunableLayer smallest = layers.get(0);
        for (PrunableLayer l : layers) if (l.numel() < smallest.numel()) smallest = l;
        if (TopK.keepCount(smallest.numel(), density) < 1)
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "density %s keeps no weight of %s's smallest prunable layer %s (%,d weights) with per-layer selection; "
                            + "use density >= %s", show(density), modelName, smallest.name(), smallest.numel(),
                    show(smallestDensity(smallest.numel()))));
    }

    /** 1/n rounded up to two significant digits, raised until it keeps a weight of n */
    static double smallestDensity(long n) {
        double d = new java.math.BigDecimal(1.0 / n).round(new java.math.MathContext(2, java.math.RoundingMode.UP)).doubleValue();
        while (TopK.keepCount(n, d) < 1) d = Math.min(1, Math.nextUp(d * 1.01));
        return d;
    }

    /** a density as a short number: 1e-300, 3.7e-6, 0.01 */
    private static String show(double d) {
        return Double.toString(d).replace("E", "e").replace(".0e", "e");
    }

    /**
     * Prunes the model in place (its prunable weights end multiplied by the final masks).
     *
     * @param start the masks to start from (null: all ones); never revived
     * @param progress where a line per round goes (null: nowhere), e.g. System.err
     */
    public static Result run(Module model, Scorer scorer, ScoringData data, Config config, Masks start, PrintStream progress) {
        checkKeepsWeights(model, "the model", config.density(), config.perLayer());
        Masks masks = start == null ? Masks.ones(model) : start;
        masks.checkFits(model);
        List<Round> rounds = new ArrayList<>();
        for (int r = 0; r < config.rounds(); r++) {
            long t0 = System.nanoTime();
            double target = config.schedule().density(r, config.rounds(), config.density());
            masks.apply(model);
            try (MemoryScope s = MemoryScope.open()) {
                Map<String, Tensor> scores = scorer.score(model, masks, data);
                masks = config.perLayer() ? TopK.perLayer(scores, masks, target) : TopK.global(scores, masks, target);
            }
            int[] reach = Connectivity.reachableOutputs(model, masks, data.sampleShape());
            Map<String, Double> layers = new LinkedHashMap<>();
            for (String name : masks.names()) layers.put(name, masks.density(name));
            double sec = (System.nanoTime() - t0) / 1e9;
            Round round = new Round(r, target, masks.density(), masks.kept(), layers, reach[0] > 0, reach[0], reach[1], sec);
            rounds.add(round);
            if (progress != null)
                progress.printf(Locale.ROOT, "[prune %s] round %d/%d target %.6f density %.6f (%d of %d kept) connected %s (%d/%d outputs) %.2fs%n",
                        scorer.name(), r + 1, config.rounds(), target, round.density(), round.kept(), masks.total(),
                        round.connected() ? "yes" : "NO", reach[0], reach[1], sec);
        }
        masks.apply(model);
        Map<String, String> meta = new LinkedHashMap<>(); // ordered, as everything that may reach a file
        meta.put("method", scorer.name());
        meta.put("density", Double.toString(masks.density()));
        meta.put("rounds", Integer.toString(config.rounds()));
        meta.put("seed", Long.toString(data.seed()));
        Masks tagged = masks.withMetadata(meta);
        return new Result(scorer.name(), config, data.seed(), tagged, List.copyOf(rounds));
    }
}
