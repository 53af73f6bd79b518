#!/usr/bin/env bash
# Usage: build-ptx.sh OUT [SOURCES [FOLDER]]
# Compiles every *.cu in SOURCES (default: this script's folder) to PTX for sm_80 and sm_90, and to sm_90 native
# code: OUT/FOLDER/sm_80/<name>.ptx, OUT/FOLDER/sm_90/<name>.ptx, OUT/FOLDER/sm_90/<name>.cubin, FOLDER by default
# pxprune/cuda (run so by native/pom.xml at generate-resources; a module with kernels of its own runs it on its
# folder into a FOLDER of its own, which kernels-cuda's CudaKernels loads), and writes OUT/FOLDER/ptx-build.properties
# saying what happened. This folder's headers (pxcuda.cuh) are on the include path. Without nvcc the
# kernels are simply not compiled (status=skipped, with the reason) and the build goes on; the
# CUDA backend then reports itself unavailable. A compile error fails the build.
# nvcc: $NVCC if set ("none" skips), else nvcc on PATH, $CUDA_HOME/bin/nvcc, /usr/local/cuda/bin/nvcc.
# Incremental: a PTX file is rebuilt only when a source here is newer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${2:-$here}" && pwd)
shared=$(cd "$here/../cpp" && pwd)  # pxops.h: the element-wise bodies shared with the C++ kernels
out=$1/${3:-pxprune/cuda}
archs="80 90"
cubin_arch=90
mkdir -p "$out"
props=$out/ptx-build.properties

nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then nvcc=$CUDA_HOME/bin/nvcc
  elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [ -z "$nvcc" ] || [ "$nvcc" = none ]; then
  reason="nvcc not found (looked at \$NVCC, PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin)"
  [ "$nvcc" = none ] && reason="disabled with NVCC=none (-Dpxprune.nvcc=none)"
  rm -rf "$out"/sm_*
  printf 'status=skipped\nreason=%s\n' "$reason" > "$props"
  echo "pxprune: CUDA kernels not compiled: $reason"
  exit 0
fi

version=$("$nvcc" --version | tail -n 2 | tr '\n' ' ' | sed 's/ *$//')
sources=("$src"/*.cu)
deps=("$src"/*.cu "$here"/*.cuh "$here"/*.inc "$here"/build-ptx.sh "$shared"/pxops.h)
newest=$(ls -t "${deps[@]}" | head -n 1)
# the outputs of a source that is gone (moved to another module) go too
for f in "$out"/sm_*/*.ptx "$out"/sm_*/*.cubin; do
  [ -e "$f" ] || continue
  name=$(basename "${f%.*}")
  [ -f "$src/$name.cu" ] || rm -f "$f" "${f%.*}.ptxas.log"
done
pids=()
names=()
for arch in $archs; do
  mkdir -p "$out/sm_$arch"
  for cu in "${sources[@]}"; do
    name=$(basename "$cu" .cu)
    ptx=$out/sm_$arch/$name.ptx
    if [ -f "$ptx" ] && [ "$ptx" -nt "$newest" ]; then continue; fi
    "$nvcc" -ptx -O3 -std=c++17 -arch=compute_$arch -I "$src" -I "$here" -I "$shared" -o "$ptx.tmp" "$cu" && mv "$ptx.tmp" "$ptx" &
    pids+=($!)
    names+=("$name for sm_$arch")
  done
done
# native code for the newest architecture too (loaded instead of the PTX on a device of exactly that
# compute capability: no JIT compilation by the driver at start-up), with ptxas's resource report
# (registers, spills) in <name>.ptxas.log beside it: bench/gpu/bundle.sh refuses register spills
for cu in "${sources[@]}"; do
  name=$(basename "$cu" .cu)
  cubin=$out/sm_$cubin_arch/$name.cubin
  if [ -f "$cubin" ] && [ "$cubin" -nt "$newest" ] && [ -s "${cubin%.cubin}.ptxas.log" ]; then continue; fi
  { "$nvcc" -cubin -O3 -std=c++17 -arch=sm_$cubin_arch -Xptxas -v -I "$src" -I "$here" -I "$shared" -o "$cubin.tmp" "$cu" 2>"${cubin%.cubin}.ptxas.log" \
      && mv "$cubin.tmp" "$cubin"; } || { cat "${cubin%.cubin}.ptxas.log" >&2; false; } &
  pids+=($!)
  names+=("$name as sm_$cubin_arch native code")
done
fail=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then echo "pxprune: nvcc failed on ${names[$i]}" >&2; fail=1; fi
done
[ $fail = 0 ] || exit 1
modules=$(for cu in "${sources[@]}"; do basename "$cu" .cu; done | paste -sd, -)
printf 'status=built\nnvcc=%s\narchs=%s\ncubin=sm_%s\nmodules=%s\n' "$nvcc: $version" "$(echo $archs | sed 's/\([0-9]*\)/sm_\1/g; s/ /,/g')" "$cubin_arch" "$modules" > "$props"
