package pxprune.px.methods.px;

import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Resample;

/**
 * An interpreter that frees the intermediate results of a no-gradient pass (PX's gate pass and
 * activation network) as soon as the next operation has read them, where the models of nn read them
 * exactly once: a convolution's or linear layer's output once the batch norm, ReLU, residual sum or
 * max pool that comes right after it has read it; a batch norm's output likewise; a residual sum's
 * output once the ReLU right after it has read it; a ReLU's output once the max pool right after it
 * has read it. "Right after": the tensor is the output of the hook called just before (a model's
 * {@code relu(bn(conv(x)))}, {@code relu(add(bn(conv(h)), shortcut))}, {@code maxPool(relu(...))}),
 * and any operand a model declares used nowhere else ({@link Interpreter#reluOfTemporary}, the first
 * operand of {@link Interpreter#addToTemporary}). Nothing else is freed (a ReLU's output feeding a convolution may be a residual branch's input), and
 * no value changes: only when a buffer is given back.
 *
 * <p>If a model does read such a tensor again, the read fails (a closed tensor refuses
 * {@link Tensor#ptr()} with an IllegalStateException) rather than giving a wrong value; PxScorer then
 * runs that chunk again without this wrapper ({@link #released()} says whether anything was freed), so
 * any model is scored, and the same numbers come out either way.
 */
final class EarlyRelease implements Interpreter {
    /** what produced the last hook's output */
    private enum Kind { LAYER, NORM, RELU, SUM, OTHER }

    private final Interpreter inner;
    private Tensor last;
    private Kind lastKind = Kind.OTHER;
    private int released;

    EarlyRelease(Interpreter inner) { this.inner = inner; }

    /** how many tensors this wrapper has freed */
    int released() { return released; }

    private Tensor out(Tensor y, Kind k) {
        last = y;
        lastKind = k;
        return y;
    }

    /** frees x, which op has just read to make y, if it is the last hook's output and that hook was one of from */
    private void release(Tensor x, Tensor y, Kind... from) {
        if (x != last || x == y || x.isClosed()) return;
        for (Kind k : from)
            if (k == lastKind) {
                x.close();
                released++;
                return;
            }
    }

    @Override public Tensor conv2d(Conv2d m, Tensor x) { return out(inner.conv2d(m, x), Kind.LAYER); }

    @Override public Tensor linear(Linear m, Tensor x) { return out(inner.linear(m, x), Kind.LAYER); }

    /** an identity normalisation (A's) returns x itself: it stays, and counts as the layer's output */
    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        Kind k = lastKind;
        Tensor y = inner.batchNorm(m, x);
        if (y == x) return out(y, x == last ? k : Kind.OTHER);
        release(x, y, Kind.LAYER);
        return out(y, Kind.NORM);
    }

    @Override public Tensor relu(Tensor x) {
        Tensor y = inner.relu(x);
        release(x, y, Kind.LAYER, Kind.NORM, Kind.SUM);
        return out(y, Kind.RELU);
    }

    /** the model declares x used nowhere else (Interpreter#reluOfTemporary): it goes once read */
    @Override public Tensor reluOfTemporary(Tensor x) {
        Tensor y = inner.reluOfTemporary(x);
        if (y != x && !x.isClosed()) {
            x.close();
            released++;
        }
        return out(y, Kind.RELU);
    }

    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) {
        Tensor y = inner.maxPool2d(m, x);
        release(x, y, Kind.LAYER, Kind.NORM, Kind.RELU);
        return out(y, Kind.OTHER);
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        Tensor y = inner.add(a, b);
        if (a != b) {
            release(a, y, Kind.LAYER, Kind.NORM);
            release(b, y, Kind.LAYER, Kind.NORM);
        }
        return out(y, Kind.SUM);
    }

    /** the model declares a used nowhere else (Interpreter#addToTemporary): it goes once read, and b as {@link #add} */
    @Override public Tensor addToTemporary(Tensor a, Tensor b) {
        Tensor y = inner.addToTemporary(a, b);
        if (a != b && y != a && !a.isClosed()) {
            a.close();
            released++;
        }
        if (a != b) release(b, y, Kind.LAYER, Kind.NORM);
        return out(y, Kind.SUM);
    }

    @Override public Tensor resample(Resample r, Tensor x) { return out(inner.resample(r, x), Kind.OTHER); }

    @Override public Tensor cat(int dim, Tensor... xs) { return out(inner.cat(dim, xs), Kind.OTHER); }

    @Override public Tensor globalAvgPool(Tensor x) { return out(inner.globalAvgPool(x), Kind.OTHER); }

    @Override public Tensor flatten(Tensor x, int startDim) { return out(inner.flatten(x, startDim), Kind.OTHER); }
}
