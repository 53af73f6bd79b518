package pxprune.experiments.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.nn.Dropout;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.Sparsity;
import pxprune.nn.StateDicts;

/**
 * {@code pxprune predict}: a model's outputs for a batch, so that anyone can check pxprune's models
 * against another framework. The model (a registry name) gets the weights W (a state dict under
 * PyTorch's names; its input channels come from the batch, its classes from W's output layer); the
 * batch B holds {@code x}, float32 or float64 [N, C, H, W]; the output file holds {@code out}, float32:
 * [N, classes] for classifiers, [N, classes, H, W] (per-pixel logits) for segmentation models.
 * Eval mode by default (running statistics); {@code --train-mode} uses batch statistics as
 * PyTorch's {@code model.train()} does, with dropout still off (its masks are random, so no
 * framework could reproduce them) and the running statistics of the loaded weights left as they
 * were in the output file's sense: nothing is written back.
 */
final class PredictCommand {
    private PredictCommand() {}

    static final String USAGE = """
            predict --model M --weights W.safetensors --batch B.safetensors --out O.safetensors [--train-mode]
                    [--device cpu|cuda|cuda:N]
                the model's outputs for the batch B (x: float32 [N, C, H, W]) as O.safetensors (out: float32;
                [N, classes], or per-pixel logits [N, classes, H, W] for segmentation models); eval mode unless
                --train-mode (batch statistics, dropout off), for comparing against another framework
            """;

    static void run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("model", "resnet20");
        opts.put("weights", "W.safetensors");
        opts.put("batch", "B.safetensors");
        opts.put("out", "O.safetensors");
        opts.put("device", "cuda");
        Args a = new Args("predict", args, 1, opts, Set.of("train-mode"), Set.of());
        a.maxPositional(0, "pxprune predict --model M --weights W.safetensors --batch B.safetensors --out O.safetensors [--train-mode]");
        String spec = Main.deviceOption(a, "cpu");
        String model = Main.modelName(a.required("model"));
        Path wPath = a.existingFile("weights"), bPath = a.existingFile("batch");
        Path outPath = Path.of(a.required("out"));
        OutputDir.prepareFile(outPath, "--out");
        boolean trainMode = a.flag("train-mode");

        SafeTensors.Header w = Main.readHeader(wPath, "weights");
        LabelledBatch batch = LabelledBatch.read(bPath, false);
        int[] xs = batch.shape();
        if (xs[0] < 1 || (trainMode && xs[0] * xs[2] * xs[3] < 2))
            throw new UsageException("--batch " + bPath + ": 'x' " + java.util.Arrays.toString(xs) + " holds too few values"
                    + (trainMode ? " for batch statistics (--train-mode needs more than one value per channel)" : "; give at least one image"));
        float[] x = batch.x();
        for (int i = 0; i < x.length; i++)
            if (!Float.isFinite(x[i]))
                throw new UsageException("--batch " + bPath + ": 'x' holds " + x[i] + " at flat index " + i + "; give finite inputs");
        int channels = xs[1], size = Math.min(xs[2], xs[3]);
        int numClasses = Main.numClasses(model, channels, size, w, wPath);
        pxprune.kernels.Device device = Main.activate(spec, "--device " + spec);

        Map<String, SafeTensors.Entry> result = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (Module m = ModelRegistry.create(model, channels, numClasses, size, 0); MemoryScope s = MemoryScope.open();
             GradMode g = GradMode.noGrad()) {
            try {
                StateDicts.load(m, wPath);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--weights " + wPath + " cannot be loaded into " + model + " (" + channels + " input channels, "
                        + numClasses + " classes): " + Main.oneLine(e.getMessage()));
            }
            m.to(device);
            m.train(trainMode);
            for (Module sub : m.namedModules().values()) if (sub instanceof Dropout) sub.train(false);
            // a pruned network's zero weights: its layers run on the sparse kernels where that is faster (CPU only)
            try (Sparsity sparse = Sparsity.attach(m, device == pxprune.kernels.Device.CPU ? Sparsity.zeroMasks(m) : Map.of())) {
                Tensor y = m.forward(Tensor.of(x, device, xs));
                result.put("out", SafeTensors.Entry.of(y.to(pxprune.kernels.Device.CPU)));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", model);
        meta.put("mode", trainMode ? "train" : "eval");
        meta.put("device", spec);
        meta.put("weights", wPath.getFileName().toString());
        meta.put("batch", bPath.getFileName().toString());
        SafeTensors.write(outPath, result, meta);
        err.printf(Locale.ROOT, "[predict %s] %d images in %.2fs%n", model, xs[0], (System.nanoTime() - t0) / 1e9);
        out.println("outputs " + java.util.Arrays.toString(result.get("out").shape()) + " written to " + outPath);
    }
}
