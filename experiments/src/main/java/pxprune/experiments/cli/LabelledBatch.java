package pxprune.experiments.cli;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A batch file of examples with labels, as {@code score}, {@code prune}, {@code ntk} and {@code predict} (these two without
 * labels) take it with {@code --batch}: a
 * safetensors file with {@code x} (float32 or float64 [N, C, H, W]) and {@code y} (an integer type [N]). Read from an
 * untrusted file: every check fails with a {@link UsageException} naming the file, what is wrong and what is expected.
 */
record LabelledBatch(Path file, float[] x, int[] shape, long[] y) {
    /** reads and checks the shapes and types of x and y (not the label range: see {@link #labels}) */
    static LabelledBatch read(Path bPath) {
        return read(bPath, true);
    }

    /** reads x, and y when {@code needLabels} (else {@code y} is null and the file's y, if any, is not read) */
    static LabelledBatch read(Path bPath, boolean needLabels) {
        pxprune.core.io.SafeTensors.File bf = Main.readSafetensors(bPath, "batch");
        var xe = bf.entries().get("x");
        var ye = needLabels ? bf.entries().get("y") : null;
        if (xe == null && !needLabels)
            throw new UsageException("--batch " + bPath + " needs a tensor 'x' (float32 [N, C, H, W]); it has " + bf.entries().keySet());
        if (xe == null || ye == null && needLabels)
            throw new UsageException("--batch " + bPath + " needs tensors 'x' (float32 [N, C, H, W]) and 'y' (int64 [N]); it has "
                    + bf.entries().keySet());
        if (xe.shape().length != 4 || !(xe.dtype().equals("F32") || xe.dtype().equals("F64")))
            throw new UsageException("--batch " + bPath + ": 'x' must be float32 [N, C, H, W], got " + xe.dtype() + Arrays.toString(xe.shape()));
        if (ye == null) return new LabelledBatch(bPath, xe.toFloats(), xe.intShape(), null);
        if (ye.shape().length != 1 || ye.shape()[0] != xe.shape()[0] || !(ye.dtype().startsWith("I") || ye.dtype().startsWith("U")))
            throw new UsageException("--batch " + bPath + ": 'y' must be int64 [" + xe.shape()[0] + "], got " + ye.dtype()
                    + Arrays.toString(ye.shape()));
        return new LabelledBatch(bPath, xe.toFloats(), xe.intShape(), ye.toLongs());
    }

    /** the labels, each checked to lie in 0..numClasses-1; {@code classesFrom} says where numClasses came from */
    int[] labels(int numClasses, String classesFrom) {
        int[] out = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0 || y[i] >= numClasses)
                throw new UsageException("--batch " + file + ": label " + y[i] + " of example " + i + " is outside 0.." + (numClasses - 1)
                        + " (" + classesFrom + " has " + numClasses + " classes); give labels in 0.." + (numClasses - 1));
            out[i] = (int) y[i];
        }
        return out;
    }
}
