#!/usr/bin/env bash
# pxprune's GPU check, in the folder that bench/gpu/bundle.sh (./pxprune gpu-bundle) built. On the GPU
# machine (NVIDIA driver, python3 with torch; no Java, Maven or network needed):
#
#   ./run.sh [OUTDIR]            OUTDIR default ./results
#   ./run.sh --smoke [OUTDIR]    tiny sizes, for checking the bundle without a GPU: PXPRUNE_CUDA_LIBS must
#                                name kernels-cuda/target/cuda-emulator, and PyTorch runs on the CPU
#
# Within 8 minutes (each part has its own time limit, so that a hang cannot eat the others' time, and
# a part that fails still lets the others report):
#   (a) every cuda-tagged test of every module (pxprune.bench.CudaTestMain, one JVM per module),
#   (b) the GPU benchmarks, pxprune on Device.CUDA (pxprune.bench.GpuBench),
#   (c) the same workloads in PyTorch on the same GPU (pytorch_gpu_bench.py, TF32 off),
# then writes OUTDIR/results.md (one markdown table) and OUTDIR/results.json (pxprune.bench.GpuReport).
# Exit status 0 only if every test passed.
#
# Environment: PXPRUNE_PYTHON (the interpreter with torch; default: the first of python3, python that
# imports it), PXPRUNE_CUDA_LIBS (folders with libcudart.so.13, libcublas*.so.13, libcudnn*.so.9;
# default: torch's nvidia/*/lib folders), PXPRUNE_JAVA_OPTS (extra JVM options), PXPRUNE_TESTS_S,
# PXPRUNE_BENCH_S, PXPRUNE_PYTORCH_S (each part's time limit in seconds; defaults 200, 150, 90),
# PXPRUNE_CPU_PX_ROUNDS (rounds of the CPU PX reference, scaled to 100; default 10).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
smoke=0
out=""
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $a (valid: --smoke, OUTDIR)" >&2; exit 2 ;;
    *) out=$a ;;
  esac
done
out=${out:-$PWD/results}
mkdir -p "$out" || { echo "run.sh: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
rm -f "$out"/tests-*.json "$out"/part-*.rc "$out"/pxprune.json "$out"/pytorch.json "$out"/results.md "$out"/results.json
t_start=$(date +%s)
if [ "$smoke" = 1 ]; then
  tests_s=${PXPRUNE_TESTS_S:-1500}; bench_s=${PXPRUNE_BENCH_S:-600}; torch_s=${PXPRUNE_PYTORCH_S:-300}
else
  tests_s=${PXPRUNE_TESTS_S:-200}; bench_s=${PXPRUNE_BENCH_S:-150}; torch_s=${PXPRUNE_PYTORCH_S:-90}
fi
log() { echo "[run.sh $(( $(date +%s) - t_start ))s] $*"; }
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "${s//$'\n'/ }"; }

# the Java runtime: jre.tar.xz unpacked beside this script (or under $TMPDIR when this folder is read-only)
jre=$here/jre
if [ ! -x "$jre/bin/java" ]; then
  [ -f "$here/jre.tar.xz" ] || { echo "run.sh: neither $here/jre nor $here/jre.tar.xz exists: rebuild the bundle (./pxprune gpu-bundle)" >&2; exit 2; }
  if ! { mkdir -p "$jre.tmp" 2>/dev/null && [ -w "$jre.tmp" ]; }; then
    jre=${TMPDIR:-/tmp}/pxprune-jre-$(cksum <"$here/jre.tar.xz" | cut -d' ' -f1)/jre
    mkdir -p "$jre.tmp"
  fi
  if [ ! -x "$jre/bin/java" ]; then
    log "unpacking jre.tar.xz into $jre"
    if command -v xz >/dev/null 2>&1; then xz -dc "$here/jre.tar.xz" | tar -C "$jre.tmp" -xf -
    else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$here/jre.tar.xz" "$jre.tmp"; fi
    rm -rf "$jre" && mv "$jre.tmp/jre" "$jre"
  fi
  rm -rf "$jre.tmp"
fi
java=$jre/bin/java
[ -x "$java" ] || { echo "run.sh: could not unpack the Java runtime to $jre" >&2; exit 2; }

# python with torch
py=""; torch_version=""
for c in ${PXPRUNE_PYTHON:-} python3 python; do
  if command -v "$c" >/dev/null 2>&1 && torch_version=$("$c" -c 'import torch; print(torch.__version__)' 2>/dev/null); then py=$c; break; fi
done
if [ -n "$py" ]; then log "python with torch: $py (torch $torch_version)"
else log "no python with torch found (PXPRUNE_PYTHON, python3, python): the PyTorch part will not run"; fi

# the CUDA libraries: torch's own copies of the CUDA 13 runtime, cuBLAS and cuDNN 9
if [ "$smoke" = 1 ]; then
  [ -n "${PXPRUNE_CUDA_LIBS:-}" ] || { echo "run.sh --smoke: set PXPRUNE_CUDA_LIBS to kernels-cuda/target/cuda-emulator (kernels-cuda's build, or kernels-cuda/src/test/emulator/build.sh, makes it)" >&2; exit 2; }
elif [ -z "${PXPRUNE_CUDA_LIBS:-}" ] && [ -n "$py" ]; then
  PXPRUNE_CUDA_LIBS=$("$py" - <<'PY' 2>/dev/null
import glob, os, torch
site = os.path.dirname(os.path.dirname(torch.__file__))
dirs = sorted({os.path.dirname(f) for f in glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True)})
print(":".join(dirs))
PY
)
fi
export PXPRUNE_CUDA_LIBS=${PXPRUNE_CUDA_LIBS:-}
[ -n "$PXPRUNE_CUDA_LIBS" ] && export LD_LIBRARY_PATH="$PXPRUNE_CUDA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log "PXPRUNE_CUDA_LIBS=${PXPRUNE_CUDA_LIBS:-(none: the libraries of the system)}"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

# the machine
gpu="none"; driver="-"; memory="-"
if [ "$smoke" = 1 ]; then
  gpu="none (smoke run: the CPU emulator of kernels-cuda's tests)"
elif command -v nvidia-smi >/dev/null 2>&1; then
  q=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n1)
  log "nvidia-smi: $q"
  IFS=',' read -r gpu driver memory <<<"$q"
  gpu=$(echo "$gpu" | xargs); driver=$(echo "$driver" | xargs); memory=$(echo "$memory" | xargs)
else
  log "nvidia-smi not found"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs)
cat >"$out/machine.json" <<EOF
{"date": $(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)"), "gpu": $(jstr "$gpu"), "driver": $(jstr "$driver"), "memory": $(jstr "$memory"),
 "cpu": $(jstr "${cpu:-?} ($(nproc) cores)"), "command": $(jstr "run.sh $*"), "smoke": $([ "$smoke" = 1 ] && echo true || echo false),
 "bundle": $(jstr "$(head -n1 "$here/MANIFEST.txt" 2>/dev/null)"), "cuda_libs": $(jstr "$PXPRUNE_CUDA_LIBS")}
EOF

jopts=(-Xss8m -XX:ErrorFile="$out/hs_err_%p.log" -Djava.awt.headless=true -Dorg.bytedeco.javacpp.maxBytes=0 -Dorg.bytedeco.javacpp.maxPhysicalBytes=0)
[ "$smoke" = 1 ] && jopts+=(-Dpxprune.cuda.sync=true -Dpxprune.golden.images=2)
# shellcheck disable=SC2206
[ -n "${PXPRUNE_JAVA_OPTS:-}" ] && jopts+=(${PXPRUNE_JAVA_OPTS})

# runs "$@" with a time limit of $1 seconds, its exit status in part-$2.rc (124: killed by the limit)
part() {
  local limit=$1 name=$2; shift 2
  if [ "$limit" -lt 5 ]; then log "$name: no time left, not run"; echo 124 >"$out/part-$name.rc"; return 124; fi
  timeout -k 10 "$limit" "$@"
  local rc=$?
  echo "$rc" >"$out/part-$name.rc"
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && log "$name: killed by its time limit of $limit s"
  return "$rc"
}

# (a) the cuda-tagged tests, module by module (kernels-cuda first: the backend's ops)
log "(a) tests (time limit ${tests_s}s)"
t_tests=$(date +%s)
mods=$(ls "$here/tests" | sort)
ordered="$(echo "$mods" | grep -x kernels-cuda) $(echo "$mods" | grep -vx kernels-cuda)"
for m in $ordered; do
  left=$(( tests_s - ($(date +%s) - t_tests) ))
  log "tests of $m (up to ${left}s)"
  part "$left" "tests-$m" "$java" "${jopts[@]}" -Dpxprune.debugBounds=true -Dpxprune.testdata="$here/testdata" \
    -cp "$here/tests/$m:$here/lib/*" pxprune.bench.CudaTestMain "$m" "$here/tests/$m" "$out/tests-$m.json" 2>&1 | tee "$out/tests-$m.log"
done

# (b) pxprune's GPU benchmarks
log "(b) pxprune GPU benchmarks (time limit ${bench_s}s)"
bargs=("$out" --budget-s $(( bench_s - 20 )) --cpu-px-rounds "${PXPRUNE_CPU_PX_ROUNDS:-10}")
[ "$smoke" = 1 ] && bargs+=(--smoke --cpu-px-rounds 2)
part "$bench_s" bench "$java" "${jopts[@]}" -cp "$here/lib/*" pxprune.bench.GpuBench "${bargs[@]}" 2>&1 | tee "$out/bench.log"

# (c) the same workloads in PyTorch
if [ -n "$py" ]; then
  log "(c) PyTorch (time limit ${torch_s}s)"
  pargs=(--out "$out/pytorch.json" --budget-s $(( torch_s - 15 )))
  [ "$smoke" = 1 ] && pargs+=(--smoke --device cpu --threads 1) || pargs+=(--device cuda)
  part "$torch_s" pytorch "$py" "$here/pytorch_gpu_bench.py" "${pargs[@]}" >/dev/null 2> >(tee "$out/pytorch.log" >&2)
else
  echo 127 >"$out/part-pytorch.rc"
fi

# the report: results.md, results.json; its exit status says whether every test passed
log "report"
timeout 60 "$java" -cp "$here/lib/*" pxprune.bench.GpuReport "$out"
rc=$?
log "done in $(( $(date +%s) - t_start ))s: $out/results.md, $out/results.json; exit status $rc ($([ $rc = 0 ] && echo 'every test passed' || echo 'not every test passed'))"
exit "$rc"
