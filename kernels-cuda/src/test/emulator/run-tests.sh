#!/usr/bin/env bash
# Runs kernels-cuda's device tests on a machine WITHOUT a GPU, against a CPU emulation of the
# CUDA driver, runtime, cuBLAS and cuDNN (emu_*.cpp, built here into kernels-cuda/target/cuda-emulator
# as libcuda.so.1, libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcudnn_graph/ops/cnn/adv.so.9). The kernels of
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

# cuDNN 9 (emu_cudnn.cpp): every symbol in libcudnn_graph.so.9, each under the version node libjnicudnn.so
# binds it to (nm -D libjnicudnn.so: cudnnCreate@libcudnn_graph.so.9, cudnnAddTensor@libcudnn_ops.so.9,
# cudnnConvolutionForward@libcudnn_cnn.so.9, ...); libcudnn_ops/cnn/adv.so.9 only define their own node
# (the loader checks that each file it needs defines it) and need libcudnn_graph.so.9, as the real ones do.
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
g++ "${flags[@]}" "$here/emu_cudnn.cpp" -Wl,-soname,libcudnn_graph.so.9 -Wl,--version-script="$out/cudnn_graph.map" \
    -o "$out/libcudnn_graph.so.9"
for lib in ops cnn adv; do
  printf 'libcudnn_%s.so.9 { global: pxemu_cudnn_%s; local: *; };\n' "$lib" "$lib" > "$out/cudnn_$lib.map"
  echo "extern \"C\" int pxemu_cudnn_$lib() { return 0; }" > "$out/cudnn_$lib.cpp"
  g++ "${flags[@]}" "$out/cudnn_$lib.cpp" -Wl,-soname,libcudnn_$lib.so.9 -Wl,--version-script="$out/cudnn_$lib.map" \
      -Wl,--no-as-needed -L"$out" -l:libcudnn_graph.so.9 -o "$out/libcudnn_$lib.so.9"
done

cd "$root"
PXPRUNE_CUDA_LIBS="$out" LD_LIBRARY_PATH="$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" mvn -q test -pl kernels-cuda -Dpxprune.cuda.sync=true -Dpxprune.golden.images=2 "$@"
# the paths without cuDNN (im2col + gemm, pxprune's batch-norm kernels) through the Backend methods, and
# cuDNN's heuristic algorithm choice, unless a test selection was given
case " $* " in *" -Dtest="*) ;; *)
  echo "again without cuDNN in the Backend methods (CudnnTest calls it directly, with heuristic algorithms):"
  echo "  -Dpxprune.cuda.conv=gemm -Dpxprune.cuda.bn=own -Dpxprune.cuda.conv.search=heuristic"
  PXPRUNE_CUDA_LIBS="$out" LD_LIBRARY_PATH="$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" mvn -q test -pl kernels-cuda \
      -Dpxprune.cuda.sync=true -Dpxprune.cuda.conv=gemm -Dpxprune.cuda.bn=own -Dpxprune.cuda.conv.search=heuristic \
      -Dtest='CudaBackendTest,CudnnTest' "$@" ;;
esac
