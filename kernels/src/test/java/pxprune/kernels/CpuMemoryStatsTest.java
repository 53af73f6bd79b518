package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** The CPU backend counts the bytes of its own allocations (Backend.memoryStats), as leak tests need. */
class CpuMemoryStatsTest {
    @Test void allocationsAreCountedUntilFreed() {
        Backend cpu = CpuBackend.INSTANCE;
        MemoryStats base = cpu.memoryStats();
        Pointer p = cpu.allocate(1000), q = cpu.allocateUninitialized(24);
        MemoryStats s = cpu.memoryStats();
        assertEquals(base.allocatedBytes() + 1024, s.allocatedBytes());
        assertEquals(base.liveAllocations() + 2, s.liveAllocations());
        assertEquals(base.mallocCalls() + 2, s.mallocCalls());
        assertTrue(s.peakAllocatedBytes() >= s.allocatedBytes());
        assertEquals(s.allocatedBytes(), s.reservedBytes(), "the CPU backend caches nothing");
        cpu.free(p);
        cpu.free(q);
        assertEquals(base.allocatedBytes(), cpu.memoryStats().allocatedBytes());
        assertEquals(base.liveAllocations(), cpu.memoryStats().liveAllocations());
        assertEquals(0, cpu.releaseCached());
    }

    @Test void resetPeakStartsTheNextPeakFromWhatIsAllocatedNow() {
        Backend cpu = CpuBackend.INSTANCE;
        Pointer big = cpu.allocate(1 << 20);
        cpu.free(big);
        cpu.resetPeakMemory();
        long now = cpu.memoryStats().allocatedBytes();
        assertEquals(now, cpu.memoryStats().peakAllocatedBytes(), "after the reset the peak is what is allocated");
        Pointer p = cpu.allocate(4096);
        cpu.free(p);
        assertEquals(now + 4096, cpu.memoryStats().peakAllocatedBytes(), "the peak of the work since the reset");
    }
}
