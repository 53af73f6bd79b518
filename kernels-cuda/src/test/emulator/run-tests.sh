#!/usr/bin/env bash
# Runs kernels-cuda's device tests on a machine WITHOUT a GPU, against a CPU emulation of the
# CUDA driver, runtime and cuBLAS (emu_*.cpp, built here into kernels-cuda/target/cuda-emulator
# as libcuda.so.1, libcudart.so.13, libcublas.so.13, libcublasLt.so.13). The kernels of
# native/src/main/cuda are compiled for the host with g++ and run one fiber per CUDA thread, so
# the Java side (launch arguments, pointers, cuBLAS operand order) and the kernels' arithmetic are
# checked against the CPU backend exactly as on a GPU. Not checked: anything GPU-specific
# (real concurrency between threads, memory model, PTX compilation by the driver, speed).
# Needs g++ and nvcc (the PTX must exist: the backend checks kernel names against it).
# Usage: kernels-cuda/src/test/emulator/run-tests.sh [extra mvn arguments]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
src=$root/native/src/main/cuda
out=$root/kernels-cuda/target/cuda-emulator
mkdir -p "$out"
flags=(-std=c++17 -O1 -g -fPIC -shared -Wall -Wno-unused-function -Wno-unused-variable)

# registry of every extern "C" kernel, from the preprocessed sources
for cu in "$src"/*.cu; do
  g++ -std=c++17 -E -x c++ -include "$here/cuda_emu.h" -I "$src" "$cu"
done | grep -o 'extern "C" *void *[A-Za-z_][A-Za-z0-9_]*' | awk '{print "REG(" $NF ")"}' | sort -u > "$out/registry.inc"
echo "emulator: $(wc -l < "$out/registry.inc") kernels"

for lib in cudart cublas cublasLt; do
  printf 'lib%s.so.13 { global: *; };\n' "$lib" > "$out/$lib.map"
done
g++ "${flags[@]}" -include "$here/cuda_emu.h" -I "$src" -I "$out" "$here/emu_driver.cpp" \
    -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1"
g++ "${flags[@]}" "$here/emu_runtime.cpp" -Wl,-soname,libcudart.so.13 -Wl,--version-script="$out/cudart.map" \
    -o "$out/libcudart.so.13"
g++ "${flags[@]}" "$here/emu_cublas.cpp" -Wl,-soname,libcublas.so.13 -Wl,--version-script="$out/cublas.map" \
    -o "$out/libcublas.so.13"
echo 'extern "C" int pxemu_cublaslt_placeholder() { return 0; }' > "$out/lt.cpp"
g++ "${flags[@]}" "$out/lt.cpp" -Wl,-soname,libcublasLt.so.13 -Wl,--version-script="$out/cublasLt.map" \
    -o "$out/libcublasLt.so.13"

cd "$root"
PXPRUNE_CUDA_LIBS="$out" LD_LIBRARY_PATH="$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" mvn -q test -pl kernels-cuda -Dpxprune.cuda.sync=true -Dpxprune.golden.images=2 "$@"
