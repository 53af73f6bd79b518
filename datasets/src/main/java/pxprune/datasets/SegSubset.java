package pxprune.datasets;

import java.util.List;
import java.util.Objects;

/** {@link SegDataset#subset(int[])}: a re-indexed view of another set. */
final class SegSubset implements SegDataset {

    private final SegDataset base;
    private final int[] indices;

    SegSubset(SegDataset base, int[] indices) {
        this.base = Objects.requireNonNull(base, "base");
        this.indices = indices.clone();
        for (int i : this.indices) Objects.checkIndex(i, base.size());
    }

    @Override public String name() { return base.name(); }
    @Override public int size() { return indices.length; }
    @Override public int numClasses() { return base.numClasses(); }
    @Override public int channels() { return base.channels(); }
    @Override public List<String> classNames() { return base.classNames(); }
    @Override public SegSample get(int i) { return base.get(indices[Objects.checkIndex(i, indices.length)]); }
    @Override public int[] presentClasses(int i) { return base.presentClasses(indices[Objects.checkIndex(i, indices.length)]); }

    @Override
    public String toString() {
        return "SegDataset[" + name() + ": " + size() + " of " + base + "]";
    }
}
