package pxprune.kernels;

/**
 * A snapshot of a backend's memory accounting (see {@link Backend#memoryStats()}).
 *
 * @param allocatedBytes bytes in live allocations (on CUDA: the allocator's rounded block sizes)
 * @param reservedBytes bytes held from the system (on CUDA: segments from cudaMalloc, in use or cached)
 * @param peakAllocatedBytes the most {@code allocatedBytes} has been since the backend started or since {@link Backend#resetPeakMemory()}
 * @param liveAllocations allocations not yet freed
 * @param mallocCalls requests made to the system allocator (cudaMalloc; on the CPU every allocation)
 * @param cacheHits allocations served from the cache without asking the system (0 on the CPU)
 */
public record MemoryStats(long allocatedBytes, long reservedBytes, long peakAllocatedBytes, long liveAllocations,
                          long mallocCalls, long cacheHits) {
    /** for a backend that keeps no accounting */
    public static final MemoryStats NONE = new MemoryStats(0, 0, 0, 0, 0, 0);

    @Override public String toString() {
        return String.format("%d bytes allocated in %d blocks (peak %d), %d reserved; %d system allocations, %d cache hits",
                allocatedBytes, liveAllocations, peakAllocatedBytes, reservedBytes, mallocCalls, cacheHits);
    }
}
