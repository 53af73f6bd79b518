package pxprune.experiments.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.Device;
import pxprune.nn.Module;
import pxprune.px.ScoringData;

/**
 * What one kind of run brings to the {@link Runner} and the {@link Trainer}: its data (the pruning
 * split, the pruning data, each epoch's batches), its loss and its metrics (the evaluation, the
 * summary's test results, the files beside the weights). The runner's stages and the trainer's loop
 * are the same for every task: {@link ClassificationTask} (accuracy) and {@link SegmentationTask}
 * (per-pixel labels: mIoU, pixel accuracy, confusion.csv, predictions.png).
 */
public interface Task {

    /** the task of a config, its train and test sets loaded */
    static Task of(RunConfig cfg) {
        return cfg.segmentation() ? SegmentationTask.load(cfg) : ClassificationTask.load(cfg);
    }

    RunConfig cfg();

    /** a freshly initialised model for the config and data (deterministic for the seed), pre-trained weights loaded */
    Module model();

    /** the pruning split, read from file in the run folder when it is there (and checked), else drawn and saved there */
    int[] split(Path file);

    /** the pruning data of the split on the model's device (called inside the scope that frees it) */
    ScoringData pruningData(Module model, int[] split);

    // ------------------------------------------------------------------ training

    /** how the random streams of training are derived, as the checkpoint records it */
    String rngDerivation();

    /** the batches of epoch e (0-based), in their order */
    Epoch epoch(int epoch);

    /** called on the training thread before the step of batch b of epoch e */
    default void beforeStep(Module model, int epoch, int b) {}

    /** the training loss of a batch's logits (a scalar) */
    Tensor loss(Tensor logits, Step step);

    /** the correct predictions of a batch's logits, out of {@link Step#weight} (from the step's labels: its tensors may be closed) */
    long correct(Tensor logits, Step step);

    /**
     * How many training batches keep their losses and logits on the device before they are read back
     * (memory: logits of this many). With 1 every batch is read back after its step, and the progress
     * line shows the running mean loss of the epoch; else the last batch's loss.
     */
    int readBack();

    /** the name of the training accuracy in progress lines */
    String accuracyName();

    /** the model's loss and metrics on the test set (eval mode, the training flag restored after) */
    Evaluation evaluate(Module model);

    /** the evaluation of the trained model: the last one of the result, or one made now */
    Evaluation finalEvaluation(Module model, Trainer.Result result);

    // ------------------------------------------------------------------ the run folder

    /** the summary's test results, after the keys every summary starts with */
    Map<String, Object> testSummary(Evaluation ev);

    /** the summary's last keys: the task's own files (none for classification) */
    default Map<String, Object> filesSummary() { return Map.of(); }

    /** writes the task's own files of the trained model into the run folder (none for classification) */
    default void writeFiles(Module model, Evaluation ev, Path dir) throws IOException {}

    /** an evaluation: loss and accuracy (pixel accuracy for segmentation) and the task's further metrics */
    interface Evaluation {
        double loss();

        double accuracy();

        /** further metrics of metrics.jsonl, written after test_acc in this order */
        Map<String, Object> extra();

        /** the test metrics in a progress line, e.g. {@code acc 98.61%} */
        String describe();
    }

    /** the batches of one epoch, prepared on one thread in their order */
    interface Epoch extends AutoCloseable {
        int size();

        /** batch b, uploaded to device; called for b = 0, 1, ... in order on one thread */
        Step prepare(int b, Device device);

        @Override
        default void close() {}
    }

    /**
     * One training batch on the model's device (owned by no scope: the training loop closes it), its
     * labels kept for the metrics, weight the examples (labelled pixels) its loss averages over.
     */
    record Step(Tensor x, Tensor y, int[] labels, long weight) implements AutoCloseable {
        /** uploads the images [n, c, h, w] and the labels (of yShape) to device, outside every scope */
        static Step upload(float[] x, int[] xShape, int[] labels, int[] yShape, long weight, Device device) {
            return MemoryScope.unscoped(() -> {
                Tensor tx = Tensor.of(x, device, xShape);
                try {
                    return new Step(tx, Tensor.ofInts(labels, device, yShape), labels, weight);
                } catch (RuntimeException e) {
                    tx.close();
                    throw e;
                }
            });
        }

        @Override public void close() { x.close(); y.close(); }
    }
}
