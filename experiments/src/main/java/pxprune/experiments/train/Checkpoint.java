package pxprune.experiments.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;

/**
 * The training state after a whole number of epochs, as one safetensors file written atomically
 * (a temporary file in the same folder, then a rename; see {@link SafeTensors#write}), so that a
 * run killed at any moment finds either the previous checkpoint or the new one, never half of one.
 *
 * <p>Entries: {@code model.<key>} the model's state dict (parameters and buffers under PyTorch
 * names, {@code num_batches_tracked} as I64), {@code momentum.<name>} the SGD momentum buffers,
 * {@code mask.<name>} the masks (U8). Metadata: {@code format}, {@code epoch} (epochs completed),
 * {@code config_hash}, {@code metrics} (the JSON list of every completed epoch's metrics but their
 * wall time, so that the file is the same byte for byte in every run of the config) and
 * {@code rng}, which records how the random streams are derived: nothing random is carried from
 * one epoch to the next (batch order and augmentation of epoch e are pure functions of the seed
 * and e, see {@link Trainer}), so the epoch number is the whole generator state.
 */
public final class Checkpoint {
    public static final String FILE = "checkpoint.safetensors";
    static final String FORMAT = "pxprune-checkpoint-1";
    private static final String MODEL = "model.", MOMENTUM = "momentum.", MASK = "mask.";

    /** what a checkpoint restores: the epochs completed and their metrics */
    public record State(int epoch, List<EpochMetrics> metrics) {}

    private Checkpoint() {}

    public static void save(Path file, Module model, SGD opt, Masks masks, int epoch, String configHash,
                            List<EpochMetrics> metrics) throws IOException {
        save(file, model, List.of(opt), masks, epoch, configHash, metrics, ClassificationTask.RNG_DERIVATION);
    }

    /**
     * Saves with the momentum of several optimizers over disjoint parameters (e.g. head and
     * backbone with their own learning rates), in the given order, and the given description of
     * the random streams.
     */
    public static void save(Path file, Module model, List<SGD> opts, Masks masks, int epoch, String configHash,
                            List<EpochMetrics> metrics, String rng) throws IOException {
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
        StateDicts.entries(model).forEach((k, v) -> e.put(MODEL + k, v));
        for (SGD opt : opts) opt.state().forEach((k, t) -> e.put(MOMENTUM + k, SafeTensors.Entry.of(t)));
        for (String name : masks.names()) {
            float[] m = masks.values(name);
            byte[] b = new byte[m.length];
            for (int i = 0; i < m.length; i++) b[i] = (byte) (m[i] != 0f ? 1 : 0);
            int[] s = masks.shape(name);
            long[] ls = new long[s.length];
            for (int i = 0; i < s.length; i++) ls[i] = s[i];
            e.put(MASK + name, SafeTensors.Entry.ofBytes(b, ls));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("epoch", Integer.toString(epoch));
        meta.put("config_hash", configHash);
        List<Object> ms = new ArrayList<>();
        for (EpochMetrics m : metrics) {
            Map<String, Object> j = m.toJson();
            j.remove("seconds"); // wall time: the checkpoint's bytes depend only on the config, seed and threads
            ms.add(j);
        }
        meta.put("metrics", Json.write(ms));
        meta.put("rng", rng);
        SafeTensors.write(file, e, meta);
    }

    /**
     * Restores a checkpoint into the model and the optimizer, after checking that it belongs to
     * this configuration and these masks.
     *
     * @throws IllegalStateException if the checkpoint was written by another configuration or masks
     */
    public static State load(Path file, Module model, SGD opt, Masks masks, String configHash) throws IOException {
        return load(file, model, List.of(opt), masks, configHash);
    }

    /** {@link #load(Path, Module, SGD, Masks, String)} into several optimizers: each gets the buffers of its parameters */
    @SuppressWarnings("unchecked")
    public static State load(Path file, Module model, List<SGD> opts, Masks masks, String configHash) throws IOException {
        SafeTensors.File f = SafeTensors.read(file);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format")))
            throw new IllegalStateException(file + " is not a pxprune checkpoint (format " + meta.get("format")
                    + ", expected " + FORMAT + "); delete it to train from the start");
        if (!configHash.equals(meta.get("config_hash")))
            throw new IllegalStateException(file + " was written by the run with config hash " + meta.get("config_hash")
                    + ", not " + configHash + "; delete it (or the run folder) to train from the start");
        for (String name : masks.names()) {
            SafeTensors.Entry m = f.entries().get(MASK + name);
            float[] want = masks.values(name);
            if (m == null || m.numel() != want.length)
                throw new IllegalStateException(file + " has no mask for " + name + " of the run's shape; delete it to train from the start");
            float[] got = m.toFloats();
            for (int i = 0; i < want.length; i++)
                if ((got[i] != 0f) != (want[i] != 0f))
                    throw new IllegalStateException(file + " was trained with other masks than the run folder's "
                            + "masks.safetensors (" + name + " differs); delete it to train from the start");
        }
        StateDicts.load(model, f, MODEL);
        Map<String, Tensor> mom = new LinkedHashMap<>();
        try {
            f.entries().forEach((k, v) -> { if (k.startsWith(MOMENTUM)) mom.put(k.substring(MOMENTUM.length()), v.toTensor()); });
            if (opts.size() == 1) opts.get(0).loadState(mom);
            else {
                for (String k : mom.keySet())
                    if (opts.stream().noneMatch(o -> o.parameters().containsKey(k)))
                        throw new IllegalStateException(file + " holds a momentum buffer for " + k + ", which no optimizer of this run "
                                + "has; delete it to train from the start");
                for (SGD opt : opts) {
                    Map<String, Tensor> mine = new LinkedHashMap<>();
                    mom.forEach((k, v) -> { if (opt.parameters().containsKey(k)) mine.put(k, v); });
                    opt.loadState(mine);
                }
            }
        } finally {
            mom.values().forEach(Tensor::close);
        }
        int epoch = Integer.parseInt(meta.get("epoch"));
        List<EpochMetrics> metrics = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(meta.get("metrics"))) metrics.add(EpochMetrics.fromJson((Map<String, Object>) o));
        return new State(epoch, metrics);
    }

    /** the epochs completed by the checkpoint at file, or -1 if there is none */
    public static int epochOf(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return -1;
        String e = SafeTensors.read(file).metadata().get("epoch");
        return e == null ? -1 : Integer.parseInt(e);
    }
}
