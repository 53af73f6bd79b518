package pxprune.kernels.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import pxprune.kernels.MemoryStats;

/**
 * A caching allocator for device memory, in the manner of PyTorch's CUDA caching allocator
 * (<a href="https://pytorch.org/docs/stable/notes/cuda.html#memory-management">PyTorch: CUDA memory
 * management</a>). Tensors come and go thousands of times per training step; cudaMalloc is slow and
 * cudaFree synchronises the whole device, so neither may sit on that path. Instead memory is taken
 * from the driver in large <em>segments</em>, cut into <em>blocks</em>, and a freed block goes back
 * to a free list of this allocator, not to the driver.
 *
 * <h2>Sizes</h2>
 * <ul>
 *   <li>Every request is rounded up: to a multiple of {@value #GRANULE} bytes (so that every block
 *       is aligned as cudaMalloc's are), and, above {@value #SMALL_LIMIT} bytes (1 MiB), to a
 *       multiple of {@value #SEGMENT} bytes (2 MiB).</li>
 *   <li><b>Small</b> requests (at most 1 MiB) are cut from 2 MiB segments shared by many blocks, so
 *       that the many tiny tensors (biases, batch-norm statistics, scalars) do not each take a
 *       segment.</li>
 *   <li><b>Large</b> requests get a segment of exactly their rounded size when nothing cached fits;
 *       large blocks are kept in their own free list, so a small request never splinters a large
 *       block.</li>
 * </ul>
 *
 * <h2>Finding a block</h2>
 * Each pool (small, large) keeps its free blocks in one sorted set ordered by (stream, size,
 * address). A request takes the <em>best fit</em>: the smallest free block of its stream that is big
 * enough ({@code ceiling}, O(log n)). If that block is larger than asked it is <em>split</em>: the
 * front is handed out and the rest stays free (small pool: a rest of at least {@value #GRANULE}
 * bytes; large pool: a rest of at least one 2 MiB unit). Blocks of one segment form a doubly linked
 * list in address order; a freed block is <em>merged</em> with a free neighbour, so a segment whose
 * blocks are all free is one block again.
 *
 * <h2>Streams and when a freed block may be reused</h2>
 * Each block belongs to the stream of the thread that allocated it (its segment does: segments are
 * per stream), and is only handed out again for requests on that stream. Work on one stream runs in
 * order, so a block freed on its own stream can be reused at once: any kernel that later writes
 * the reused block is queued behind every kernel that used it before. That is why no free needs a
 * synchronisation. Two cases need more:
 * <ul>
 *   <li>A block freed by a thread whose stream is not the block's: that thread's kernels may still
 *       be reading it. An event is recorded on the freeing stream and the block stays
 *       <em>pending</em> until the event has completed (polled with cudaEventQuery at the next
 *       allocation or release).</li>
 *   <li>A block another stream used although a thread of the block's own stream frees it: whoever
 *       lets that happen calls {@link #recordStream} for the other stream (PyTorch's
 *       {@code Tensor.record_stream}); the free then records an event on each such stream.</li>
 * </ul>
 *
 * <h2>Out of memory</h2>
 * When cudaMalloc fails, the cache is released ({@link #releaseCached}: wait for the device, then
 * cudaFree every segment that is entirely free) and the request tried once more; if it fails again
 * the {@link OutOfMemoryError} names the bytes asked for, in use and reserved.
 *
 * <h2>Statistics</h2>
 * {@link #stats()}: bytes in live blocks (rounded sizes), bytes reserved from the driver, the peak of
 * the bytes in use, live blocks, cudaMalloc calls, and requests served from the cache.
 *
 * <p>All methods are synchronised on the allocator: one lock, held for microseconds. The driver is
 * reached through {@link Driver}, which tests replace with a fake to check splitting, merging,
 * pending frees and the out-of-memory path without a device.
 */
final class CachingAllocator {
    /** every block is a multiple of this many bytes */
    static final long GRANULE = 512;
    /** requests up to this size share segments of {@link #SEGMENT} bytes */
    static final long SMALL_LIMIT = 1L << 20;
    /** the size of a small-pool segment, and the rounding unit of large requests */
    static final long SEGMENT = 2L << 20;

    /** what the allocator needs from the driver (CUDA runtime calls; a fake in tests) */
    interface Driver {
        /** cudaMalloc: the device address of a new segment, or 0 when the device is out of memory */
        long malloc(long bytes);

        /** cudaFree (synchronises the device) */
        void free(long address);

        /** an event recorded now on stream, done when the work queued there so far has completed */
        Object record(long stream);

        /** cudaEventQuery: whether the event's work has completed */
        boolean done(Object event);

        /** returns an event to the driver (or to a pool for reuse) */
        void release(Object event);

        /** cudaDeviceSynchronize */
        void synchronize();

        /** the device, in words, for error messages */
        String name();
    }

    /** a contiguous range of device memory from one cudaMalloc */
    private static final class Segment {
        final long address, size, stream;
        final boolean small;

        Segment(long address, long size, long stream, boolean small) {
            this.address = address;
            this.size = size;
            this.stream = stream;
            this.small = small;
        }
    }

    /** a piece of a segment: live (handed out), free (in a pool) or pending (waiting on events) */
    private static final class Block {
        final Segment segment;
        long address, size;
        Block prev, next;
        boolean free;
        /** streams other than the segment's that used this block (recordStream) */
        List<Long> usedOn;

        Block(Segment segment, long address, long size) {
            this.segment = segment;
            this.address = address;
            this.size = size;
        }

        long stream() { return segment.stream; }
    }

    /** a freed block waiting until the events recorded on the streams that used it have completed */
    private record Pending(Block block, List<Object> events) {}

    private static final Comparator<Block> ORDER = Comparator.comparingLong(Block::stream)
            .thenComparingLong(b -> b.size).thenComparingLong(b -> b.address);

    private final Driver driver;
    private final TreeSet<Block> smallPool = new TreeSet<>(ORDER), largePool = new TreeSet<>(ORDER);
    /** live blocks by address (TreeMap: recordStream accepts an address inside a block) */
    private final TreeMap<Long, Block> live = new TreeMap<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private long allocated, reserved, peak, mallocCalls, cacheHits;

    CachingAllocator(Driver driver) { this.driver = driver; }

    /** the size a request of {@code bytes} is given */
    static long roundSize(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of device memory; give a size >= 0");
        long b = Math.max(bytes, 1);
        if (b <= SMALL_LIMIT) return (b + GRANULE - 1) / GRANULE * GRANULE;
        return (b + SEGMENT - 1) / SEGMENT * SEGMENT;
    }

    /** a block of at least {@code bytes} bytes for work on {@code stream}; its device address */
    synchronized long allocate(long bytes, long stream) {
        collectPending();
        long size = roundSize(bytes);
        boolean small = size <= SMALL_LIMIT;
        TreeSet<Block> pool = small ? smallPool : largePool;
        Block b = bestFit(pool, stream, size);
        if (b != null) {
            pool.remove(b);
            cacheHits++;
        } else {
            long segmentSize = small ? SEGMENT : size;
            long address = driver.malloc(segmentSize);
            if (address == 0) {
                releaseCachedLocked();
                address = driver.malloc(segmentSize);
            }
            if (address == 0)
                throw new OutOfMemoryError("pxprune: CUDA out of memory on " + driver.name() + ": asked for " + bytes
                        + " bytes (a segment of " + segmentSize + "), " + allocated + " bytes in use, " + reserved
                        + " reserved (the cache was released and the request retried); free tensors or use a smaller batch");
            mallocCalls++;
            reserved += segmentSize;
            Segment s = new Segment(address, segmentSize, stream, small);
            b = new Block(s, address, segmentSize);
        }
        split(b, size, pool);
        b.free = false;
        live.put(b.address, b);
        allocated += b.size;
        peak = Math.max(peak, allocated);
        return b.address;
    }

    /** the smallest free block of the stream with at least size bytes, or null */
    private static Block bestFit(TreeSet<Block> pool, long stream, long size) {
        Block key = new Block(new Segment(0, 0, stream, false), Long.MIN_VALUE, size);
        Block b = pool.ceiling(key);
        return b != null && b.stream() == stream ? b : null;
    }

    /** keeps the first size bytes of b, puts the rest (when worth keeping) in the pool as a free block */
    private static void split(Block b, long size, TreeSet<Block> pool) {
        long rest = b.size - size;
        if (rest < (b.segment.small ? GRANULE : SEGMENT)) return;
        Block r = new Block(b.segment, b.address + size, rest);
        r.prev = b;
        r.next = b.next;
        if (b.next != null) b.next.prev = r;
        b.next = r;
        b.size = size;
        r.free = true;
        pool.add(r);
    }

    /**
     * Frees the block at address, freed by a thread whose stream is {@code stream} (0: a thread that
     * has queued no work). Reusable at once on its own stream; else once events on the other streams
     * that used it have completed.
     */
    synchronized void free(long address, long stream) {
        Block b = live.remove(address);
        if (b == null)
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address)
                    + " is not a live allocation of pxprune's CUDA allocator (freed twice, or not from it)");
        allocated -= b.size;
        List<Long> streams = b.usedOn == null ? new ArrayList<>() : b.usedOn;
        b.usedOn = null;
        if (stream != 0 && stream != b.stream() && !streams.contains(stream)) streams.add(stream);
        if (streams.isEmpty()) {
            release(b);
            return;
        }
        List<Object> events = new ArrayList<>(streams.size());
        for (long s : streams) events.add(driver.record(s));
        pending.add(new Pending(b, events));
    }

    /** notes that work on {@code stream} uses the live block holding address (PyTorch's record_stream) */
    synchronized void recordStream(long address, long stream) {
        Map.Entry<Long, Block> e = live.floorEntry(address);
        if (e == null || address >= e.getValue().address + e.getValue().size)
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address)
                    + " is not inside a live allocation of pxprune's CUDA allocator");
        Block b = e.getValue();
        if (stream == 0 || stream == b.stream()) return;
        if (b.usedOn == null) b.usedOn = new ArrayList<>(2);
        if (!b.usedOn.contains(stream)) b.usedOn.add(stream);
    }

    /** makes b free, merged with free neighbours, and puts the result in its pool */
    private void release(Block b) {
        TreeSet<Block> pool = b.segment.small ? smallPool : largePool;
        if (b.prev != null && b.prev.free) {
            Block p = b.prev;
            pool.remove(p);
            p.size += b.size;
            p.next = b.next;
            if (b.next != null) b.next.prev = p;
            b = p;
        }
        if (b.next != null && b.next.free) {
            Block n = b.next;
            pool.remove(n);
            b.size += n.size;
            b.next = n.next;
            if (n.next != null) n.next.prev = b;
        }
        b.free = true;
        pool.add(b);
    }

    /** releases the pending blocks whose events have all completed */
    private void collectPending() {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            boolean done = true;
            for (Object e : p.events()) done &= driver.done(e);
            if (!done) continue;
            it.remove();
            for (Object e : p.events()) driver.release(e);
            release(p.block());
        }
    }

    /**
     * Waits for the device, then gives every segment that is entirely free back to the driver
     * (cudaFree); returns the bytes released.
     */
    synchronized long releaseCached() { return releaseCachedLocked(); }

    private long releaseCachedLocked() {
        if (!pending.isEmpty()) {
            driver.synchronize();
            collectPending();
        }
        long released = 0;
        for (TreeSet<Block> pool : List.of(smallPool, largePool))
            for (Iterator<Block> it = pool.iterator(); it.hasNext(); ) {
                Block b = it.next();
                if (b.prev != null || b.next != null) continue;  // part of a segment still in use
                it.remove();
                driver.free(b.segment.address);
                reserved -= b.segment.size;
                released += b.segment.size;
            }
        return released;
    }

    /** the peak starts again from what is allocated now */
    synchronized void resetPeak() { peak = allocated; }

    synchronized MemoryStats stats() {
        return new MemoryStats(allocated, reserved, peak, live.size(), mallocCalls, cacheHits);
    }

    /** blocks freed but waiting on other streams' events (for tests) */
    synchronized int pendingBlocks() { return pending.size(); }
}
