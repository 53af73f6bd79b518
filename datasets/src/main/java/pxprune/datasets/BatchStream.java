package pxprune.datasets;

import java.util.ArrayDeque;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of an {@link ImageFiles} set decoded ahead of use on worker threads. Batches are handed out in
 * the order given; the next batch and at most {@code ahead} more are being decoded or waiting (the bounded
 * queue), so memory is {@code ahead + 1} batches, one decoded image per worker, and the batches the caller
 * still holds, whatever the number of files. Every image is decoded by one task that writes its own slot of its
 * batch, and a training crop draws from a generator of its own (seed, batch, position), so the batches
 * are the same for any number of workers and any timing. A file that cannot be decoded fails the batch
 * it is in: {@link #next} throws the {@link DatasetException} that names it. Close the stream to stop
 * its workers.
 */
public final class BatchStream implements AutoCloseable {

    private final ImageFiles files;
    private final List<int[]> batches;
    private final Long augmentSeed;
    private final int ahead;
    private final ExecutorService pool;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private int submitted, taken;

    /** one batch being decoded: its pixels, labels and how many images are still missing */
    private record Pending(float[] x, int[] y, AtomicInteger left, CompletableFuture<Void> done) {
    }

    /** The decoding threads used when none are given: the processors the JVM may use. */
    public static int defaultWorkers() {
        return Runtime.getRuntime().availableProcessors();
    }

    BatchStream(ImageFiles files, List<int[]> batches, Long augmentSeed, int workers, int ahead) {
        if (workers < 1) throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        if (ahead < 0) throw new IllegalArgumentException("ahead must be >= 0, got " + ahead);
        for (int[] b : batches) {
            Dataset.checkedLength(b.length, files.channels(), files.height(), files.width());
            for (int i : b) java.util.Objects.checkIndex(i, files.size());
        }
        this.files = files;
        this.batches = List.copyOf(batches);
        this.augmentSeed = augmentSeed;
        this.ahead = ahead;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "decode-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        topUp();
    }

    /** Number of batches in the stream. */
    public int numBatches() {
        return batches.size();
    }

    /** Whether a batch is left. */
    public boolean hasNext() {
        return taken < batches.size();
    }

    /**
     * The next batch, waiting for its images.
     *
     * @throws DatasetException naming the file, if one of its images cannot be decoded
     */
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("all " + batches.size() + " batches were handed out");
        topUp();
        Pending p = pending.poll();
        try {
            p.done().join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new DatasetException("Decoding a batch of " + files.name() + " failed: " + c, c);
        }
        taken++;
        topUp();
        return new Batch(p.x(), p.y(), p.y().length, files.channels(), files.height(), files.width());
    }

    /** submits batches until {@code ahead} are queued beyond the next one to hand out */
    private void topUp() {
        while (submitted < batches.size() && submitted <= taken + ahead) submit(submitted++);
    }

    private void submit(int b) {
        int[] idx = batches.get(b);
        int d = files.channels() * files.height() * files.width();
        Pending p = new Pending(new float[idx.length * d], new int[idx.length], new AtomicInteger(idx.length), new CompletableFuture<>());
        for (int k = 0; k < idx.length; k++) p.y()[k] = files.label(idx[k]);
        if (idx.length == 0) p.done().complete(null);
        for (int k = 0; k < idx.length; k++) {
            int pos = k;
            pool.execute(() -> {
                if (p.done().isDone()) return; // an earlier image of the batch failed
                try {
                    ResizedCrop.Draws rng = augmentSeed == null ? null : ResizedCrop.draws(Seeds.rng(augmentSeed, b, pos));
                    files.decode(idx[pos], rng, p.x(), pos * d);
                    if (p.left().decrementAndGet() == 0) p.done().complete(null);
                } catch (Throwable t) {
                    p.done().completeExceptionally(t);
                }
            });
        }
        pending.add(p);
    }

    /** Stops the workers; batches not handed out are dropped. */
    @Override
    public void close() {
        pool.shutdownNow();
    }
}
