package pxprune.experiments.sweep;

import java.util.Map;
import java.util.stream.Collectors;
import pxprune.core.io.Json;
import pxprune.experiments.train.RunConfig;

/**
 * One grid point: its 1-based index, its grid values (grid key to value, in grid order), and
 * either its full config or, for a point that cannot run, the reason.
 */
public record SweepPoint(int index, Map<String, Object> values, RunConfig config, String error) {
    public SweepPoint {
        values = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(values));
        if ((config == null) == (error == null)) throw new IllegalArgumentException("a point has a config or an error, not both");
    }

    public boolean valid() { return config != null; }

    /** the config hash (the run folder's name), or "-" for an invalid point */
    public String hash() { return config == null ? "-" : config.hash(); }

    /** "method=px density=0.1 seed=1" */
    public String label() {
        return values.entrySet().stream().map(e -> e.getKey() + "=" + text(e.getValue())).collect(Collectors.joining(" "));
    }

    /** a grid value as a table cell: strings bare, everything else as JSON */
    static String text(Object v) { return v instanceof String s ? s : Json.write(v); }

    /**
     * The GPUs a run of this point needs: 1 for a config whose {@code device} key names a CUDA
     * device ({@code cuda} or {@code cuda:N}), else 0; the GPU slots of the executors read it.
     */
    public int gpus() {
        if (config == null) return 0;
        Object d = config.toMap().get("device");
        return d instanceof String s && s.startsWith("cuda") ? 1 : 0;
    }
}
