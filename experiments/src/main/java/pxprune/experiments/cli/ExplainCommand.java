package pxprune.experiments.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.datasets.Batch;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.datasets.PruningSplit;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.ScoringData;
import pxprune.experiments.explain.Explain;
import pxprune.experiments.explain.NetworkSvg;
import pxprune.experiments.train.Runner;

/**
 * {@code pxprune explain}: PX pass by pass (docs/walkthrough.md). Without {@code --model}, the
 * tiny 3-4-4-2 network with every number ({@code --svg FILE} also draws it); with {@code --model M
 * [--dataset D]}, per-layer summaries on a small class-balanced sample of D's training set
 * ({@code --examples-per-class}, 1 by default, at most {@link #MAX_PER_CLASS}) at the model's
 * initialisation (masks all ones).
 */
final class ExplainCommand {
    static final int MAX_PER_CLASS = 10;

    private ExplainCommand() {}

    static void run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("model", "resnet20");
        opts.put("dataset", "digits");
        opts.put("examples-per-class", "1");
        opts.put("seed", "1");
        opts.put("data-root", "data");
        opts.put("svg", "docs/walkthrough-net.svg");
        opts.put("device", "cuda");
        Args a = new Args("explain", args, 1, opts, Set.of(), Set.of());
        a.maxPositional(0, "pxprune explain [--svg FILE] | pxprune explain --model M --dataset D [--examples-per-class K] [--device D]");
        if (!a.has("model")) {
            for (String o : new String[] {"dataset", "examples-per-class", "seed", "data-root", "device"})
                if (a.has(o))
                    throw new UsageException("--" + o + " needs --model: without it explain runs the fixed tiny network; "
                            + "give e.g. --model resnet20 --dataset digits");
            Path svg = a.has("svg") ? OutputDir.prepareFile(Path.of(a.required("svg")), "--svg") : null;
            Explain.tiny(out);
            if (svg != null) {
                NetworkSvg.write(svg);
                out.println("wrote " + svg);
            }
            return;
        }
        if (a.has("svg"))
            throw new UsageException("--svg draws the tiny network only; leave out --model (or --svg)");
        String spec = Main.deviceOption(a, "cpu");
        String model = Main.modelName(a.required("model"));
        String dataset = a.string("dataset", "digits");
        Main.classificationSet(dataset, "explain");
        int perClass = a.integer("examples-per-class", 1, 1, MAX_PER_CLASS);
        long seed = a.longValue("seed", 1);
        Path root = Path.of(a.string("data-root", "data"));
        pxprune.kernels.Device device = Main.activate(spec, "--device " + spec);

        Dataset train = DatasetRegistry.load(dataset, root, true, Runner.DATA_SPLIT_SEED);
        var stats = DatasetRegistry.stats(dataset);
        if (stats.isPresent()) train = pxprune.datasets.Transforms.normalize(train, stats.get());
        int[] split = PruningSplit.select(train, perClass, seed);
        Batch b = train.batch(split);
        try (Module m = ModelRegistry.create(model, train.channels(), train.numClasses(), Math.min(train.height(), train.width()), seed);
             MemoryScope s = MemoryScope.open()) {
            m.to(device);
            Tensor x = Tensor.of(b.x(), device, b.n(), b.c(), b.h(), b.w());
            ScoringData data = new ScoringData(x, b.y(), train.numClasses(), seed);
            Explain.model(out, m, model + " (seed " + seed + ") on " + dataset + ", " + perClass + " example(s) per class, masks all ones"
                    + (device == pxprune.kernels.Device.CPU ? "" : ", on " + spec),
                    Masks.ones(m), data);
        }
    }
}
