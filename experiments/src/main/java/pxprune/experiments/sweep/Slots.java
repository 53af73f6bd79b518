package pxprune.experiments.sweep;

import java.util.ArrayList;
import java.util.List;

/**
 * A count of one resource (GPUs) handed out by index: a run that needs k of them waits until k are
 * free and gets their indices (for CUDA_VISIBLE_DEVICES), so that with N GPUs at most N CUDA runs
 * go at once, one per GPU. With 0 GPUs a run that needs one cannot start: {@link #acquire} fails.
 */
public final class Slots {
    private final boolean[] busy;

    public Slots(int count) {
        if (count < 0) throw new IllegalArgumentException("a slot count must be >= 0, got " + count);
        busy = new boolean[count];
    }

    public int count() { return busy.length; }

    /** waits until k slots are free and takes them; returns their indices (empty for k = 0) */
    public synchronized List<Integer> acquire(int k) throws InterruptedException {
        if (k > busy.length)
            throw new IllegalStateException("the run needs " + k + " GPU(s) and the sweep has " + busy.length
                    + "; give --gpus N (the GPUs of this machine) or run it where there are GPUs");
        while (free() < k) wait();
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < busy.length && got.size() < k; i++)
            if (!busy[i]) { busy[i] = true; got.add(i); }
        return got;
    }

    public synchronized void release(List<Integer> ids) {
        for (int i : ids) busy[i] = false;
        notifyAll();
    }

    public synchronized int free() {
        int n = 0;
        for (boolean b : busy) if (!b) n++;
        return n;
    }

    /**
     * The NVIDIA GPUs of this machine as the driver shows them (/dev/nvidia0, /dev/nvidia1, ...);
     * 0 where there are none.
     */
    public static int detectGpus() {
        java.io.File[] f = new java.io.File("/dev").listFiles((d, n) -> n.matches("nvidia[0-9]+"));
        return f == null ? 0 : f.length;
    }
}
