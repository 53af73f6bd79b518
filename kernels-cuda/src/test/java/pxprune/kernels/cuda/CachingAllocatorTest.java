package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import pxprune.kernels.MemoryStats;

/**
 * The caching allocator's bookkeeping over a fake driver (no device needed): size classes, reuse,
 * splitting and merging, per-stream pools, frees deferred on other streams' events, release of
 * the cache, and the out-of-memory path (release and retry once) under a fake memory limit.
 */
class CachingAllocatorTest {
    static final long MiB = 1L << 20;
    static final long S1 = 0x1000, S2 = 0x2000;  // two streams

    /** a driver handing out addresses from a counter, with a memory limit and events completed by hand */
    static final class FakeDriver implements CachingAllocator.Driver {
        long next = 0x7000_0000_0000L, limit = Long.MAX_VALUE, inUse, syncs;
        final List<Long> mallocs = new ArrayList<>(), frees = new ArrayList<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();
        final Set<Object> open = new HashSet<>();  // events not yet complete
        int events, released;

        @Override public long malloc(long bytes) {
            if (inUse + bytes > limit) return 0;
            long a = next;
            next += bytes + MiB;  // gaps: segments are never adjacent
            inUse += bytes;
            sizes.put(a, bytes);
            mallocs.add(bytes);
            return a;
        }

        @Override public void free(long address) {
            Long s = sizes.remove(address);
            assertTrue(s != null, "cudaFree of an address cudaMalloc did not return");
            inUse -= s;
            frees.add(address);
        }

        @Override public Object record(long stream) {
            Object e = new Object();
            open.add(e);
            events++;
            return e;
        }

        @Override public boolean done(Object event) { return !open.contains(event); }

        @Override public void release(Object event) { released++; }

        @Override public void synchronize() { syncs++; open.clear(); }

        @Override public String name() { return "a fake device"; }
    }

    @Test void sizesAreRoundedToClasses() {
        assertEquals(512, CachingAllocator.roundSize(0));
        assertEquals(512, CachingAllocator.roundSize(1));
        assertEquals(512, CachingAllocator.roundSize(512));
        assertEquals(1024, CachingAllocator.roundSize(513));
        assertEquals(MiB, CachingAllocator.roundSize(MiB));
        assertEquals(2 * MiB, CachingAllocator.roundSize(MiB + 1));
        assertEquals(4 * MiB, CachingAllocator.roundSize(2 * MiB + 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CachingAllocator.roundSize(-1));
        assertTrue(e.getMessage().contains("-1 bytes"), e.getMessage());
    }

    @Test void smallBlocksShareASegmentAndAreReused() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long p = a.allocate(100, S1), q = a.allocate(1000, S1);
        assertEquals(List.of(2 * MiB), d.mallocs, "one 2 MiB segment for both");
        assertEquals(p + 512, q, "split: the second block follows the first");
        MemoryStats s = a.stats();
        assertEquals(512 + 1024, s.allocatedBytes());
        assertEquals(2 * MiB, s.reservedBytes());
        assertEquals(2, s.liveAllocations());
        assertEquals(1, s.mallocCalls());
        assertEquals(1, s.cacheHits());

        a.free(p, S1);
        assertEquals(p, a.allocate(300, S1), "freed on its own stream: reused at once (best fit: the 512-byte hole)");
        assertEquals(1, d.mallocs.size());
        assertEquals(2, a.stats().cacheHits());
        assertTrue(d.frees.isEmpty(), "no cudaFree on the hot path");
    }

    @Test void bestFitTakesTheSmallestBlockThatFits() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long[] p = new long[5];
        for (int i = 0; i < 5; i++) p[i] = a.allocate(i % 2 == 0 ? 4096 : 512, S1);
        a.free(p[0], S1);  // a 4096 hole
        a.free(p[2], S1);  // another 4096 hole
        a.free(p[1], S1);  // merges p0, p1, p2: 4096 + 512 + 4096
        long tail = a.allocate(512, S1);
        assertEquals(p[0], tail, "the merged hole (8704) is smaller than the segment's free tail");
        a.free(tail, S1);
        long big = a.allocate(8704, S1);
        assertEquals(p[0], big, "exactly the merged hole");
    }

    @Test void freeBlocksMergeBackIntoWholeSegmentsAndAreReleased() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        List<Long> ps = new ArrayList<>();
        for (int i = 0; i < 12; i++) ps.add(a.allocate(200_000, S1));
        assertEquals(2, d.mallocs.size(), "12 x 200,192 bytes: 10 fit in the first 2 MiB segment, 2 in a second");
        long partial = a.allocate(3 * MiB, S1);
        assertEquals(8 * MiB, a.stats().reservedBytes(), "two small segments and one 4 MiB large one");
        for (long p : ps) a.free(p, S1);
        assertEquals(4 * MiB, a.stats().allocatedBytes());
        long released = a.releaseCached();
        assertEquals(4 * MiB, released, "both small segments, merged back whole, go to the driver");
        assertEquals(2, d.frees.size());
        assertEquals(4 * MiB, a.stats().reservedBytes());
        a.free(partial, S1);
        assertEquals(4 * MiB, a.releaseCached());
        assertEquals(0, a.stats().reservedBytes());
        assertEquals(0, d.inUse);
        assertEquals(0, a.stats().liveAllocations());
        assertEquals(4 * MiB + 12 * 200_192, a.stats().peakAllocatedBytes());
    }

    @Test void largeBlocksAreSplitInWholeUnitsAndKeptApartFromSmallOnes() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long big = a.allocate(10 * MiB, S1);
        assertEquals(List.of(10 * MiB), d.mallocs, "a large request gets a segment of its rounded size");
        a.free(big, S1);
        long small = a.allocate(1000, S1);
        assertEquals(2, d.mallocs.size(), "a small request does not splinter a large block");
        long three = a.allocate(3 * MiB, S1);
        assertEquals(big, three, "best fit in the large pool, split");
        long six = a.allocate(6 * MiB, S1);
        assertEquals(big + 4 * MiB, six, "the 6 MiB rest of the split");
        assertEquals(2, d.mallocs.size());
        a.free(three, S1);
        a.free(six, S1);
        a.free(small, S1);
        assertEquals(12 * MiB, a.releaseCached());
    }

    @Test void poolsArePerStream() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long p = a.allocate(4096, S1);
        a.free(p, S1);
        long q = a.allocate(4096, S2);
        assertNotEquals(p, q, "a block of stream 1 is not handed to stream 2");
        assertEquals(2, d.mallocs.size());
        assertEquals(p, a.allocate(4096, S1));
    }

    @Test void aBlockFreedOnAnotherStreamWaitsForItsEvent() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long p = a.allocate(4096, S1);
        a.free(p, S2);  // thread of stream 2 frees: its kernels may still read p
        assertEquals(1, d.events);
        assertEquals(1, a.pendingBlocks());
        assertEquals(0, a.stats().allocatedBytes(), "not allocated any more, but not reusable yet");
        long q = a.allocate(4096, S1);
        assertNotEquals(p, q, "the event has not completed: p is not reused");
        d.open.clear();  // stream 2 reaches the event
        a.free(q, S1);
        long r = a.allocate(8192, S1);
        assertEquals(0, a.pendingBlocks());
        assertEquals(1, d.released, "the event went back to the driver");
        assertEquals(p, r, "p, merged with q after its event, is reused");

        // freed by a thread with no stream (queued nothing): at once
        a.free(r, 0);
        assertEquals(0, a.pendingBlocks());
    }

    @Test void recordStreamDefersTheFreeUntilTheOtherStreamIsDone() {
        FakeDriver d = new FakeDriver();
        CachingAllocator a = new CachingAllocator(d);
        long p = a.allocate(4096, S1);
        a.recordStream(p + 100, S2);  // an address inside the block
        a.free(p, S1);
        assertEquals(1, a.pendingBlocks(), "stream 2 used it: wait for an event there");
        assertEquals(p + 4096, a.allocate(4096, S1));
        a.releaseCached();
        assertEquals(1, d.syncs, "releaseCached waits for the device first");
        assertEquals(0, a.pendingBlocks());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.recordStream(p + (1L << 30), S2));
        assertTrue(e.getMessage().contains("not inside a live allocation"), e.getMessage());
    }

    @Test void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        FakeDriver d = new FakeDriver();
        d.limit = 8 * MiB;
        CachingAllocator a = new CachingAllocator(d);
        long p = a.allocate(4 * MiB, S1), q = a.allocate(2 * MiB, S1);
        a.free(p, S1);  // cached, not returned
        long r = a.allocate(6 * MiB, S1);  // 6 + 6 > 8: release p's segment, retry
        assertEquals(List.of(4 * MiB, 2 * MiB, 6 * MiB), d.mallocs);
        assertEquals(1, d.frees.size(), "the cached 4 MiB segment was given back");
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> a.allocate(1, S1));
        assertTrue(e.getMessage().contains("asked for 1 bytes") && e.getMessage().contains((8 * MiB) + " bytes in use")
                && e.getMessage().contains((8 * MiB) + " reserved") && e.getMessage().contains("a fake device"), e.getMessage());
        a.free(q, S1);
        a.free(r, S1);
        a.allocate(1, S1);  // the limit is reached: the cached q and r go back to the driver and the retry succeeds
        assertEquals(3, d.frees.size());
        assertEquals(2 * MiB, a.stats().reservedBytes());
    }

    @Test void freeingTwiceOrAForeignAddressIsAnError() {
        CachingAllocator a = new CachingAllocator(new FakeDriver());
        long p = a.allocate(10, S1);
        a.free(p, S1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(p, S1));
        assertTrue(e.getMessage().contains("not a live allocation"), e.getMessage());
    }
}
