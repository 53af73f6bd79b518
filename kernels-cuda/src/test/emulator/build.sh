#!/usr/bin/env bash
# Builds the CPU emulation of the CUDA driver, runtime, cuBLAS and cuDNN (emu_*.cpp) into
# kernels-cuda/target/cuda-emulator as libcuda.so.1, libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13 and libcudnn_graph/ops/cnn/adv.so.9, with the kernels of native/src/main/cuda and of every other
# module's src/main/cuda (kernel extensions) compiled for the host by g++ (one fiber per CUDA thread). Point PXPRUNE_CUDA_LIBS and LD_LIBRARY_PATH at that folder and the CUDA
# backend runs on it: a kernel-logic check of the Java side and the kernels, not of a GPU. See
# emu_device.h for what it does to catch missing synchronisation and host/device mix-ups.
# Run by kernels-cuda's pom (process-test-classes). Without g++, or without the PTX (the backend
# checks kernel names against it: pxprune-native built without nvcc), it prints why and builds
# nothing, so the cuda-tagged tests skip with that reason. Incremental: rebuilds only when a
# source is newer than the libraries.
# Usage: build.sh [output folder]   (PXPRUNE_PTX_BUILD: the PTX build record, default native/target/classes/...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
src=$root/native/src/main/cuda
shared=$root/native/src/main/cpp  # pxops.h, which the CUDA kernels include
# every module's CUDA sources: native's, then those of the modules that add kernels of their own
sources=("$src"/*.cu)
for d in "$root"/*/src/main/cuda; do [ "$d" = "$src" ] || sources+=("$d"/*.cu); done
out=${1:-$root/kernels-cuda/target/cuda-emulator}
ptx=${PXPRUNE_PTX_BUILD:-$root/native/target/classes/pxprune/cuda/ptx-build.properties}

skip() {
  echo "CUDA emulator not built: $1; the cuda-tagged tests will skip"
  rm -f "$out"/lib*.so*  # no stale emulator
  exit 0
}
command -v g++ >/dev/null || skip "g++ is not installed"
if [ -f "$ptx" ]; then
  grep -q '^status=built' "$ptx" || skip "pxprune-native was built without nvcc, so there is no PTX ($(grep '^reason=' "$ptx" || true))"
else  # pxprune-native not built in this tree (it comes from the local repository): the backend checks its PTX itself
  echo "CUDA emulator: no PTX build record at $ptx; building anyway"
fi

mkdir -p "$out"
newest=$(ls -t "$here"/*.cpp "$here"/*.h "$here"/*.cu "$here"/build.sh "${sources[@]}" "$src"/*.cuh "$src"/*.inc "$shared"/pxops.h 2>/dev/null | head -1)
if [ -f "$out/libcudnn_adv.so.9" ] && [ "$out/libcudnn_adv.so.9" -nt "$newest" ]; then
  echo "CUDA emulator up to date in $out"
  exit 0
fi
flags=(-std=c++17 -O2 -g -fPIC -shared -Wall -Wno-unused-function -Wno-unused-variable)

# the kernels, included by emu_driver.cpp, and the registry of every extern "C" kernel, from the preprocessed sources
for cu in "${sources[@]}"; do printf '#include "%s"\n' "$cu"; done > "$out/kernels.inc"
for cu in "${sources[@]}" "$here/emu_testkernels.cu"; do
  g++ -std=c++17 -E -x c++ -include "$here/cuda_emu.h" -I "$src" -I "$shared" "$cu"
done | grep -o 'extern "C" *void *[A-Za-z_][A-Za-z0-9_]*' | awk '{print "REG(" $NF ")"}' | sort -u > "$out/registry.inc"

for lib in cudart cublas cublasLt; do
  printf 'lib%s.so.13 { global: *; };\n' "$lib" > "$out/$lib.map"
done
g++ "${flags[@]}" -include "$here/cuda_emu.h" -I "$src" -I "$shared" -I "$out" -I "$here" "$here/emu_driver.cpp" \
    -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1"
# the runtime and cuBLAS share the driver's device (memory, streams): they link against it
link=(-L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN')
g++ "${flags[@]}" -I "$here" "$here/emu_runtime.cpp" -Wl,-soname,libcudart.so.13 -Wl,--version-script="$out/cudart.map" \
    "${link[@]}" -o "$out/libcudart.so.13"
g++ "${flags[@]}" -I "$here" "$here/emu_cublas.cpp" -Wl,-soname,libcublas.so.13 -Wl,--version-script="$out/cublas.map" \
    "${link[@]}" -o "$out/libcublas.so.13"
echo 'extern "C" int pxemu_cublaslt_placeholder() { return 0; }' > "$out/lt.cpp"
g++ "${flags[@]}" "$out/lt.cpp" -Wl,-soname,libcublasLt.so.13 -Wl,--version-script="$out/cublasLt.map" \
    -o "$out/libcublasLt.so.13"

# cuDNN 9 (emu_cudnn.cpp): every symbol in libcudnn_graph.so.9, each under the version node libjnicudnn.so
# binds it to (nm -D libjnicudnn.so: cudnnCreate@libcudnn_graph.so.9, cudnnAddTensor@libcudnn_ops.so.9,
# cudnnConvolutionForward@libcudnn_cnn.so.9, ...); libcudnn_ops/cnn/adv.so.9 only define their own node
# (the loader checks that each file it needs defines it) and need libcudnn_graph.so.9, as the real ones do.
# Like the runtime and cuBLAS it links against libcuda.so.1 (the shared device: memory, streams).
cat > "$out/cudnn_graph.map" <<'MAP'
libcudnn_graph.so.9 { global: cudnnGetVersion; cudnnGetErrorString; cudnnGetLastErrorString; cudnnCreate; cudnnDestroy; cudnnSetStream; local: *; };
libcudnn_ops.so.9 { global: cudnnCreateTensorDescriptor; cudnnSetTensor4dDescriptor; cudnnDestroyTensorDescriptor;
  cudnnCreateFilterDescriptor; cudnnSetFilter4dDescriptor; cudnnDestroyFilterDescriptor; cudnnAddTensor;
  cudnnBatchNormalizationForwardTraining; cudnnBatchNormalizationBackward; };
libcudnn_cnn.so.9 { global: cudnnCreateConvolutionDescriptor; cudnnSetConvolution2dDescriptor; cudnnSetConvolutionGroupCount;
  cudnnSetConvolutionMathType; cudnnDestroyConvolutionDescriptor; cudnnGetConvolutionForwardWorkspaceSize;
  cudnnGetConvolutionBackwardDataWorkspaceSize; cudnnGetConvolutionBackwardFilterWorkspaceSize;
  cudnnFindConvolutionForwardAlgorithmEx; cudnnFindConvolutionBackwardDataAlgorithmEx;
  cudnnFindConvolutionBackwardFilterAlgorithmEx; cudnnGetConvolutionForwardAlgorithm_v7;
  cudnnGetConvolutionBackwardDataAlgorithm_v7; cudnnGetConvolutionBackwardFilterAlgorithm_v7; cudnnConvolutionForward;
  cudnnConvolutionBackwardData; cudnnConvolutionBackwardFilter; };
MAP
g++ "${flags[@]}" -I "$here" "$here/emu_cudnn.cpp" -Wl,-soname,libcudnn_graph.so.9 -Wl,--version-script="$out/cudnn_graph.map" \
    "${link[@]}" -o "$out/libcudnn_graph.so.9"
for lib in ops cnn adv; do
  printf 'libcudnn_%s.so.9 { global: pxemu_cudnn_%s; local: *; };\n' "$lib" "$lib" > "$out/cudnn_$lib.map"
  echo "extern \"C\" int pxemu_cudnn_$lib() { return 0; }" > "$out/cudnn_$lib.cpp"
  g++ "${flags[@]}" "$out/cudnn_$lib.cpp" -Wl,-soname,libcudnn_$lib.so.9 -Wl,--version-script="$out/cudnn_$lib.map" \
      -Wl,--no-as-needed -L"$out" -l:libcudnn_graph.so.9 -Wl,-rpath,'$ORIGIN' -o "$out/libcudnn_$lib.so.9"
done
echo "CUDA emulator built in $out ($(wc -l < "$out/registry.inc") kernels)"
