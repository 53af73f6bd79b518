// Kernels for the emulator's own kernel-logic tests (CudaEmulatorKernelLogicTest), compiled into the
// emulator only (never into the PTX): a test loads a "PTX" module declaring them and launches them
// like any kernel. In the emulator one fiber runs at a time, so the plain increments below are atomic.

// Records the order in which the threads of each block pass each of two barrier intervals, and the
// order in which the blocks start, so that a test can see both are shuffled (and reshuffled per round).
// order: [gridDim.x][2][blockDim.x] thread indices as they ran; blocks: [gridDim.x + 1] block indices
// in start order, the last element a counter the caller zeroes.
extern "C" __global__ void pxemu_test_order(int* order, int* blocks) {
  __shared__ int next;
  if (threadIdx.x == 0) {
    blocks[blocks[gridDim.x]++] = blockIdx.x;
    next = 0;
  }
  __syncthreads();
  order[(blockIdx.x * 2 + 0) * blockDim.x + next++] = threadIdx.x;
  __syncthreads();
  if (threadIdx.x == 0) next = 0;
  __syncthreads();
  order[(blockIdx.x * 2 + 1) * blockDim.x + next++] = threadIdx.x;
}
