package pxprune.experiments.plot;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import pxprune.px.Pruner;

/** The pruning loop's chart: every layer's density over the rounds (see {@link Chart}). */
public final class Plots {
    private Plots() {}

    /**
     * Writes a chart of each layer's density (log scale) and the overall density against the
     * round: how PX or SynFlow spread the pruning over the layers, and whether one collapses.
     */
    public static void densityPerRound(Path png, String title, List<Pruner.Round> rounds, List<String> layers) throws IOException {
        int n = rounds.size();
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i + 1;
        Chart c = new Chart(title + ": density per layer", "round", "density").logY();
        for (int l = 0; l < layers.size(); l++) {
            String name = layers.get(l);
            double[] y = rounds.stream().mapToDouble(r -> r.layerDensity().get(name)).toArray();
            c.series(name, x, y).color(Chart.palette(l, layers.size())).note(String.format(Locale.ROOT, " %.4f", y[n - 1]));
        }
        double[] overall = rounds.stream().mapToDouble(Pruner.Round::density).toArray();
        c.series("overall", x, overall).color(Color.BLACK).thick().note(String.format(Locale.ROOT, " %.4f", overall[n - 1]));
        c.write(png);
    }
}
