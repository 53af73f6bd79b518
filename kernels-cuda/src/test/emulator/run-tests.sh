#!/usr/bin/env bash
# Builds the CUDA emulator (build.sh: driver, runtime, cuBLAS and cuDNN stand-ins) and runs
# kernels-cuda's cuda-tagged tests against it by hand; `mvn test` does the first pass on its own
# (kernels-cuda's pom builds the emulator, the parent pom's cuda-emulator surefire execution runs
# every module's cuda-tagged tests on it). These are kernel-logic tests: the Java side and the
# kernels' arithmetic, not a GPU. Not checked: real concurrency between threads, the memory model,
# PTX compilation by the driver, speed. Needs g++ and the PTX (nvcc when pxprune-native is built).
# Then, unless a test selection was given, a second pass through the paths without cuDNN in the
# Backend methods (im2col + gemm, pxprune's batch-norm kernels) and cuDNN's heuristic algorithm
# choice (CudnnTest calls cuDNN directly, so it covers both); `mvn test` does not run this pass.
# Usage: kernels-cuda/src/test/emulator/run-tests.sh [extra mvn arguments]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bash "$here/build.sh"
cd "$root"
# kernels too, so that kernels-cuda never runs against a stale pxprune-kernels jar of the local repository
mvn -q test -pl kernels,kernels-cuda -Dsurefire.failIfNoSpecifiedTests=false -Dpxprune.golden.images=2 "$@"
case " $* " in *" -Dtest="*) ;; *)
  echo "again without cuDNN in the Backend methods (CudnnTest calls it directly, with heuristic algorithms):"
  echo "  -Dpxprune.cuda.conv=gemm -Dpxprune.cuda.bn=own -Dpxprune.cuda.conv.search=heuristic"
  mvn -q test -pl kernels,kernels-cuda -Dsurefire.failIfNoSpecifiedTests=false -Dpxprune.golden.images=2 \
      -Dpxprune.cuda.conv=gemm -Dpxprune.cuda.bn=own -Dpxprune.cuda.conv.search=heuristic \
      -Dtest='CudaBackendKernelLogicTest,CudnnTest' "$@" ;;
esac
