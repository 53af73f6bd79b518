package pxprune.experiments.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import pxprune.core.io.Json;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.experiments.plot.Plots;

/** The files of a pruning result: what {@code pxprune prune} writes, and a run folder's pruning part. */
public final class PruningFiles {
    private PruningFiles() {}

    /** rounds.csv, rounds.png, layers.csv, summary.json and masks.safetensors in dir (created if needed) */
    public static void write(Pruner.Result result, Path dir) throws IOException {
        Masks masks = result.masks();
        Files.createDirectories(dir);
        StringBuilder r = new StringBuilder(roundsCsvHeader(masks.names()));
        for (Pruner.Round x : result.rounds()) {
            r.append(String.format(Locale.ROOT, "%d,%.10g,%.10g,%b,%.4f", x.round(), x.targetDensity(), x.density(),
                    x.connected(), x.seconds()));
            for (String name : masks.names()) r.append(String.format(Locale.ROOT, ",%.10g", x.layerDensity().get(name)));
            r.append('\n');
        }
        Files.writeString(dir.resolve("rounds.csv"), r.toString(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("layers.csv"), layersCsv(masks), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("summary.json"), Json.pretty(result.summary()), StandardCharsets.UTF_8);
        Plots.densityPerRound(dir.resolve("rounds.png"), result.method(), result.rounds(), masks.names());
        masks.save(dir.resolve("masks.safetensors"), result.method(), result.config().rounds(), result.seed());
    }

    /** rounds.csv's header line: the fixed columns, then each layer's density after the round */
    public static String roundsCsvHeader(List<String> layers) {
        StringBuilder r = new StringBuilder("round,target_density,density,connected,seconds");
        for (String name : layers) r.append(",density:").append(name);
        return r.append('\n').toString();
    }

    /** layers.csv: per layer its shape (e.g. 16x3x3x3), size, kept count and density */
    public static String layersCsv(Masks masks) {
        StringBuilder l = new StringBuilder("layer,shape,numel,kept,density\n");
        for (String name : masks.names())
            l.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%.10g%n", name,
                    Arrays.toString(masks.shape(name)).replace(" ", "").replace(",", "x").replace("[", "").replace("]", ""),
                    masks.numel(name), masks.kept(name), masks.density(name)));
        return l.toString();
    }
}
