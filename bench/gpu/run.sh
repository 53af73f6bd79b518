#!/usr/bin/env bash
# pxprune's GPU check, in the folder that bench/gpu/bundle.sh (./pxprune gpu-bundle) built, inside the
# checkout it was built in (the tests read its testdata/). On the GPU machine (NVIDIA driver, python3
# with torch; no Java, Maven or network needed):
#
#   ./run.sh [OUTDIR]            every part; OUTDIR default ./results
#   ./run.sh --quick [OUTDIR]    the cuda-tagged tests only
#   ./run.sh --smoke [OUTDIR]    tiny benchmark sizes and PyTorch on the CPU: for a rehearsal against the CPU
#                                emulator of the CUDA libraries (no GPU), where the real sizes would take hours
#
# Everything runs in a scratch folder (under $TMPDIR); OUTDIR receives at most 6 files, and these 4:
#   results.md    the device, driver, date, commit and command; the test counts and every failure with its
#                 message; every benchmark row of both sides with its figure or the reason it has none;
#                 the comparison with the targets
#   results.json  all of it, and every test's result
#   probe.txt     the machine: GPU, driver, glibc, CPU, python and torch (its CUDA and cuDNN versions), the
#                 CUDA libraries found and their versions, the bundle
#   logs.tar.gz   every part's log and output file (tar + gzip, or python's tarfile where gzip is missing)
#
# Parts, each under its own time limit so that a hang costs only its part (defaults: at most about
# 4.5 minutes in all on an H100, 1.5 with --quick; bench/README.md has the estimate):
#   (a) every cuda-tagged test of every module (pxprune.bench.CudaTestMain, one JVM per module)   PXPRUNE_TESTS_S   90
#   (b) the GPU benchmarks, pxprune on Device.CUDA (pxprune.bench.GpuBench)                      PXPRUNE_BENCH_S  110
#   (c) the same workloads in PyTorch on the same GPU (pytorch_gpu_bench.py, TF32 off)           PXPRUNE_PYTORCH_S 60
# Exit status 0 only if every test passed.
#
# Environment: PXPRUNE_PYTHON (the interpreter with torch; default: the first of python3, python that
# imports it), PXPRUNE_CUDA_LIBS (folders with libcudart.so.13, libcublas*.so.13, libcudnn*.so.9; default:
# torch's nvidia/*/lib folders), PXPRUNE_TESTDATA (the checkout's testdata/; default: found upwards from
# here), PXPRUNE_JAVA_OPTS (extra JVM options), PXPRUNE_TESTS (a regular expression: only the test classes
# whose names match), PXPRUNE_BENCH_ONLY (rows, e.g. px_gpu,px_cpu), PXPRUNE_CPU_PX_ROUNDS (rounds of the CPU
# PX reference, scaled to 100; default 10), PXPRUNE_KEEP_WORK=1 (keep the scratch folder).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
smoke=0; quick=0; out=""
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "run.sh: unknown option $a (valid: --quick, --smoke, OUTDIR)" >&2; exit 2 ;;
    *) out=$a ;;
  esac
done
out=${out:-$PWD/results}
mkdir -p "$out" || { echo "run.sh: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
rm -f "$out/results.md" "$out/results.json" "$out/probe.txt" "$out/logs.tar.gz"
work=$(mktemp -d "${TMPDIR:-/tmp}/pxprune-gpu.XXXXXX") || { echo "run.sh: cannot make a scratch folder under ${TMPDIR:-/tmp}" >&2; exit 2; }
parts=$work/parts; logs=$work/logs
mkdir -p "$parts" "$logs"
t_start=$(date +%s)
tests_s=${PXPRUNE_TESTS_S:-90}; bench_s=${PXPRUNE_BENCH_S:-110}; torch_s=${PXPRUNE_PYTORCH_S:-60}
if [ "$smoke" = 1 ]; then tests_s=${PXPRUNE_TESTS_S:-1500}; bench_s=${PXPRUNE_BENCH_S:-600}; torch_s=${PXPRUNE_PYTORCH_S:-300}; fi
log() { echo "[run.sh $(( $(date +%s) - t_start ))s] $*" | tee -a "$logs/run.log"; }
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "${s//$'\n'/ }"; }

# the report and the archive, whatever happened before (also on an interrupt): at most 6 files in OUTDIR
java=""; py=""; finished=0
finish() {
  [ "$finished" = 1 ] && return
  finished=1
  local rc=1
  log "report"
  if [ -n "$java" ] && [ -x "$java" ]; then
    timeout 60 "$java" -Xmx1g -cp "$work/lib/*" pxprune.bench.GpuReport "$parts" "$out" >"$logs/report.log" 2>&1
    rc=$?
    [ "$rc" -le 1 ] || echo "run.sh: the report failed (exit status $rc): see report.log in logs.tar.gz" >&2
  fi
  if [ ! -s "$out/results.md" ]; then
    { echo "## GPU run: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo; echo "**No report**: ${why_no_report:-the report failed, see report.log in logs.tar.gz}."; echo; tail -n 30 "$logs/run.log"; } >"$out/results.md"
    rc=1
  fi
  cp -f "$parts"/hs_err_*.log "$logs/" 2>/dev/null
  if ! tar -C "$work" -czf "$out/logs.tar.gz" parts logs 2>/dev/null; then
    rm -f "$out/logs.tar.gz"
    if [ -n "$py" ]; then "$py" -c 'import sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for d in ("parts", "logs"): t.add(sys.argv[2] + "/" + d, arcname=d)' "$out/logs.tar.gz" "$work"; fi
  fi
  log "done in $(( $(date +%s) - t_start ))s: $out ($(ls "$out" | paste -sd' ')); exit status $rc ($([ $rc = 0 ] && echo 'every test passed' || echo 'not every test passed'))"
  [ "${PXPRUNE_KEEP_WORK:-0}" = 1 ] && echo "run.sh: scratch folder kept: $work" >&2 || rm -rf "$work"
  exit "$rc"
}
trap finish EXIT
trap 'log "interrupted"; exit 1' INT TERM

# python with torch
torch_version=""
for c in ${PXPRUNE_PYTHON:-} python3 python; do
  if command -v "$c" >/dev/null 2>&1 && torch_version=$("$c" -c 'import torch; print(torch.__version__)' 2>/dev/null); then py=$c; break; fi
done
[ -z "$py" ] && command -v python3 >/dev/null 2>&1 && py=python3  # for unpacking and the archive, even without torch
if [ -n "$torch_version" ]; then log "python with torch: $py (torch $torch_version)"
else log "no python with torch found (PXPRUNE_PYTHON, python3, python): the PyTorch part will not run"; torch_version=""; fi

# the payload (runtime, jars, compiled tests), unpacked into the scratch folder: xz, or python's lzma
if [ ! -f "$here/payload.tar.xz" ]; then why_no_report="$here/payload.tar.xz is missing: rebuild the bundle (./pxprune gpu-bundle)"; log "$why_no_report"; exit 2; fi
log "unpacking payload.tar.xz into $work"
if command -v xz >/dev/null 2>&1; then xz -dc "$here/payload.tar.xz" | tar -C "$work" -xf -
elif [ -n "$py" ]; then "$py" -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$here/payload.tar.xz" "$work"
else why_no_report="neither xz nor python3 is on the PATH: the payload cannot be unpacked"; log "$why_no_report"; exit 2; fi
java=$work/jre/bin/java
export LD_LIBRARY_PATH="$work/jre/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"  # the bundled libgomp of pxprune's kernels
if ! "$java" -version >"$logs/java-version.txt" 2>&1; then why_no_report="the bundled Java runtime does not start: $(head -c 300 "$logs/java-version.txt")"; log "$why_no_report"; java=""; exit 2; fi

# the checkout's test data (the bundle does not copy them)
testdata=${PXPRUNE_TESTDATA:-}
if [ -z "$testdata" ]; then
  d=$here
  while [ "$d" != "/" ]; do [ -d "$d/testdata/golden" ] && { testdata=$d/testdata; break; }; d=$(dirname "$d"); done
fi
[ -n "$testdata" ] && log "test data: $testdata" || log "no testdata/ found above $here (PXPRUNE_TESTDATA): the golden tests will fail"

# the CUDA libraries: torch's own copies of the CUDA 13 runtime, cuBLAS and cuDNN 9
if [ -z "${PXPRUNE_CUDA_LIBS:-}" ] && [ -n "$torch_version" ]; then
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

# the probe of the machine: OUTDIR/probe.txt, and machine.json for the report
gpu="none"; driver="-"; memory="-"
if command -v nvidia-smi >/dev/null 2>&1; then
  q=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n1)
  IFS=',' read -r gpu driver memory <<<"$q"
  trim() { local v=${1#"${1%%[![:space:]]*}"}; printf '%s' "${v%"${v##*[![:space:]]}"}"; }
  gpu=$(trim "$gpu"); driver=$(trim "$driver"); memory=$(trim "$memory")
fi
[ "$smoke" = 1 ] && [ "$gpu" = none ] && gpu="none (smoke run: the CPU emulator of the CUDA libraries)"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>/dev/null | head -n1)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: run.sh $*"
  echo "bundle: $(head -n1 "$here/MANIFEST.txt" 2>/dev/null)"
  echo "host: $(uname -srm); CPU: ${cpu:-?} ($(nproc) cores); memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)"
  echo "glibc: $glibc"
  echo "java (bundled): $(head -n1 "$logs/java-version.txt")"
  echo
  echo "== nvidia-smi"
  if command -v nvidia-smi >/dev/null 2>&1; then timeout 20 nvidia-smi 2>&1 | head -n 20; else echo "nvidia-smi not found"; fi
  echo
  echo "== python and torch"
  if [ -n "$torch_version" ]; then
    timeout 60 "$py" - <<'PY' 2>&1
import sys
print("python", sys.version.split()[0], sys.executable)
try:
    import torch
    print("torch", torch.__version__, "file", torch.__file__)
    print("torch CUDA", getattr(torch.version, "cuda", None), "cuDNN", torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)
    print("cuda available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
except Exception as e:
    print("torch probe failed:", type(e).__name__, e)
PY
  else echo "no python with torch"; fi
  echo
  echo "== CUDA libraries (in PXPRUNE_CUDA_LIBS, LD_LIBRARY_PATH, then the loader's cache)"
  IFS=: read -r -a libdirs <<<"$LD_LIBRARY_PATH"
  for want in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libcudnn_graph.so.9 libcudnn_ops.so.9 libcudnn_cnn.so.9 libcudnn_adv.so.9; do
    found=""
    for d in "${libdirs[@]}"; do [ -e "$d/$want" ] && { found="$d/$want -> $(readlink -f "$d/$want")"; break; }; done
    [ -z "$found" ] && found=$(ldconfig -p 2>/dev/null | awk -v w="$want" '$1 == w {print $NF " (system)"; exit}')
    echo "$want: ${found:-NOT FOUND}"
  done
} >"$out/probe.txt" 2>&1
cat >"$parts/machine.json" <<EOF
{"date": $(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)"), "gpu": $(jstr "$gpu"), "driver": $(jstr "$driver"), "memory": $(jstr "$memory"),
 "glibc": $(jstr "$glibc"), "cpu": $(jstr "${cpu:-?} ($(nproc) cores)"), "command": $(jstr "run.sh $*"),
 "smoke": $([ "$smoke" = 1 ] && echo true || echo false), "quick": $([ "$quick" = 1 ] && echo true || echo false),
 "bundle": $(jstr "$(head -n1 "$here/MANIFEST.txt" 2>/dev/null)"), "cuda_libs": $(jstr "$PXPRUNE_CUDA_LIBS")}
EOF

jopts=(-Xss8m -XX:ErrorFile="$parts/hs_err_%p.log" -Djava.awt.headless=true -Dorg.bytedeco.javacpp.cachedir="$work/javacpp" -Dorg.bytedeco.javacpp.maxBytes=0 -Dorg.bytedeco.javacpp.maxPhysicalBytes=0)
[ "$smoke" = 1 ] && jopts+=(-Dpxprune.golden.images=2)
# shellcheck disable=SC2206
[ -n "${PXPRUNE_JAVA_OPTS:-}" ] && jopts+=(${PXPRUNE_JAVA_OPTS})

# runs "$@" with a time limit of $1 seconds, its exit status in parts/part-$2.rc (124: killed by the limit)
part() {
  local limit=$1 name=$2; shift 2
  if [ "$limit" -lt 5 ]; then log "$name: no time left, not run"; echo 124 >"$parts/part-$name.rc"; return 124; fi
  timeout -k 10 "$limit" "$@"
  local rc=$?
  echo "$rc" >"$parts/part-$name.rc"
  { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && log "$name: killed by its time limit of $limit s"
  return "$rc"
}

# (a) the cuda-tagged tests, module by module (kernels-cuda first: the backend's ops); the test helpers of
# kernels and nn on every module's class path
log "(a) tests (time limit ${tests_s}s)"
t_tests=$(date +%s)
mods=$(ls "$work/tests" | sort)
ordered="$(echo "$mods" | grep -x kernels-cuda) $(echo "$mods" | grep -vx kernels-cuda)"
helpers=""
for h in kernels nn; do [ -d "$work/tests/$h" ] && helpers="$helpers:$work/tests/$h"; done
topts=(-Xmx6g -Dpxprune.debugBounds=true -Dpxprune.cuda.conv.algo=deterministic -Dpxprune.testdata="$testdata" -Dpxprune.tests.include="${PXPRUNE_TESTS:-.*}")
for m in $ordered; do
  left=$(( tests_s - ($(date +%s) - t_tests) ))
  log "tests of $m (up to ${left}s)"
  part "$left" "tests-$m" "$java" "${jopts[@]}" "${topts[@]}" -cp "$work/tests/$m$helpers:$work/lib/*" \
    pxprune.bench.CudaTestMain "$m" "$work/tests/$m" "$parts/tests-$m.json" >"$logs/tests-$m.log" 2>&1
  grep -E '^(FAIL|\[tests)' "$logs/tests-$m.log" | head -n 20 | while IFS= read -r l; do log "  $l"; done
done

if [ "$quick" = 0 ]; then
  # (b) pxprune's GPU benchmarks
  log "(b) pxprune GPU benchmarks (time limit ${bench_s}s)"
  bargs=("$parts" --budget-s $(( bench_s - 15 )) --cpu-px-rounds "${PXPRUNE_CPU_PX_ROUNDS:-10}")
  [ "$smoke" = 1 ] && bargs+=(--smoke --cpu-px-rounds 2)
  [ -n "${PXPRUNE_BENCH_ONLY:-}" ] && bargs+=(--only "$PXPRUNE_BENCH_ONLY")
  part "$bench_s" bench "$java" "${jopts[@]}" -Xmx8g -cp "$work/lib/*" pxprune.bench.GpuBench "${bargs[@]}" >"$logs/bench.log" 2>&1
  grep '^\[bench\]' "$logs/bench.log" | while IFS= read -r l; do log "  $l"; done

  # (c) the same workloads in PyTorch
  if [ -n "$torch_version" ]; then
    log "(c) PyTorch (time limit ${torch_s}s)"
    pargs=(--out "$parts/pytorch.json" --budget-s $(( torch_s - 10 )))
    if [ "$smoke" = 1 ]; then pargs+=(--smoke --device cpu --threads 1); else pargs+=(--device cuda); fi
    part "$torch_s" pytorch "$py" "$here/pytorch_gpu_bench.py" "${pargs[@]}" >"$logs/pytorch.log" 2>&1
  else
    echo 127 >"$parts/part-pytorch.rc"
    echo "no python with torch was found (PXPRUNE_PYTHON, python3, python)" >"$logs/pytorch.log"
  fi
else
  log "--quick: the tests only"
fi
exit 0  # the EXIT trap writes the report and sets the exit status
