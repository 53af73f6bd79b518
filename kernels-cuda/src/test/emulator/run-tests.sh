#!/usr/bin/env bash
# Builds the CUDA emulator (build.sh) and runs kernels-cuda's cuda-tagged tests against it by hand;
# `mvn test` does the same on its own (kernels-cuda's pom builds the emulator, the parent pom's
# cuda-emulator surefire execution runs every module's cuda-tagged tests on it). These are
# kernel-logic tests: the Java side and the kernels' arithmetic, not a GPU. Not checked: real
# concurrency between threads, the memory model, PTX compilation by the driver, speed.
# Needs g++ and the PTX (nvcc when pxprune-native is built).
# Usage: kernels-cuda/src/test/emulator/run-tests.sh [extra mvn arguments]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bash "$here/build.sh"
cd "$root"
mvn -q test -pl kernels-cuda -Dpxprune.golden.images=2 "$@"
