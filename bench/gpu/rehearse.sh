#!/usr/bin/env bash
# A rehearsal of the GPU run without a GPU: the bundle's run.sh against the CPU emulator of the CUDA
# driver, runtime, cuBLAS and cuDNN (kernels-cuda's test emulator), on a machine stripped the way the
# GPU machine may be: an empty HOME, a PATH without java, xz or fontconfig (the bundle's own Java runtime
# must serve, python's lzma must unpack), and torch's library layout faked (a stand-in torch package
# beside nvidia/*/lib folders linking to the emulator's libraries; the driver, libcuda.so.1, on the
# loader's path as a real driver is). So the library lookup, the unpacking, the output folder and the
# report are exercised as on the GPU machine. Then it checks what came back: at most 6 files in OUTDIR;
# results.md, results.json, probe.txt and logs.tar.gz; tests that ran and passed; every benchmark row with
# a figure or a reason; the probe finding the libraries in the faked layout; run.sh's exit status.
# The test run is kernel-logic only and the figures (smoke sizes) measure nothing.
#
#   bench/gpu/rehearse.sh [OUTDIR]     (OUTDIR default target/gpu-rehearsal/out)
# Environment: BUNDLE (a built bundle folder inside this checkout; default: bundle.sh builds
# target/gpu-rehearsal/bundle), PXPRUNE_TESTS (test classes, a regular expression; default the emulator
# self-test and CudaTrainingTest, which draws charts), PXPRUNE_BENCH_ONLY (default px_cpu,resnet20_fwd_bwd),
# REHEARSAL_MODE (--smoke, the default, or --quick).
# Exit status 0 when everything checked out, 1 otherwise (each problem on a line of its own).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;; -*) echo "$(basename "$0"): unknown option $1 (valid: --help, a folder)" >&2; exit 2 ;; esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/target/gpu-rehearsal/out}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
emu=$root/kernels-cuda/target/cuda-emulator
fail() { echo "rehearsal: FAILED: $*" >&2; exit 1; }
cd "$root"
if [ -z "${BUNDLE:-}" ]; then
  BUNDLE=$root/target/gpu-rehearsal/bundle
  bash bench/gpu/bundle.sh "$BUNDLE"
fi
if [ ! -f "$emu/libcudart.so.13" ]; then
  echo "rehearsal: building the emulator ..." >&2
  bash kernels-cuda/src/test/emulator/build.sh "$emu" >/dev/null
fi
[ -f "$emu/libcudart.so.13" ] || fail "the CUDA emulator could not be built (kernels-cuda/src/test/emulator/build.sh says why)"
python=$(command -v python3) || fail "python3 is not on the PATH (run.sh needs one to find torch and, without xz, to unpack)"

# the stripped machine
fake=$(mktemp -d "${TMPDIR:-/tmp}/pxprune-rehearsal.XXXXXX")
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/home" "$fake/bin" "$fake/tmp" "$fake/driver" "$fake/site/torch"
for tool in bash sh env echo cat ls mkdir rm cp mv ln tar gzip timeout date dirname basename readlink grep sed awk head tail tee \
            sort paste cut tr nproc uname getconf mktemp wc chmod touch find sleep stat id ldd ldconfig; do
  p=$(command -v "$tool" 2>/dev/null) && ln -s "$p" "$fake/bin/$tool"
done
ln -s "$python" "$fake/bin/python3"
for t in java xz fc-list fc-match; do [ ! -e "$fake/bin/$t" ] || fail "$t is on the stripped PATH"; done
echo '__version__ = "0.0+rehearsal"  # a stand-in: run.sh imports torch only to find nvidia/*/lib beside it' >"$fake/site/torch/__init__.py"
declare -A pkg=([libcudart.so.13]=cuda_runtime [libcublas.so.13]=cublas [libcublasLt.so.13]=cublas
  [libcudnn_graph.so.9]=cudnn [libcudnn_ops.so.9]=cudnn [libcudnn_cnn.so.9]=cudnn [libcudnn_adv.so.9]=cudnn)
for lib in "${!pkg[@]}"; do
  mkdir -p "$fake/site/nvidia/${pkg[$lib]}/lib"
  ln -s "$emu/$lib" "$fake/site/nvidia/${pkg[$lib]}/lib/$lib"
done
ln -s "$emu/libcuda.so.1" "$fake/driver/libcuda.so.1"

rm -rf "$out"
mkdir -p "$out"
set +e
env -i HOME="$fake/home" PATH="$fake/bin" TMPDIR="$fake/tmp" LD_LIBRARY_PATH="$fake/driver" PYTHONPATH="$fake/site" \
  PXPRUNE_TESTS="${PXPRUNE_TESTS:-CudaEmulatorKernelLogicTest|CudaTrainingTest}" \
  PXPRUNE_BENCH_ONLY="${PXPRUNE_BENCH_ONLY:-px_cpu,resnet20_fwd_bwd}" PXPRUNE_CPU_PX_ROUNDS=1 \
  bash "$BUNDLE/run.sh" "${REHEARSAL_MODE:---smoke}" "$out"
rc=$?
set -e
echo "rehearsal: run.sh exited with $rc" >&2

"$python" - "$out" "$rc" "${REHEARSAL_MODE:---smoke}" <<'PY' || fail "the output does not hold what it should (above)"
import json, os, sys, tarfile
out, rc, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bad = []
files = sorted(os.listdir(out))
if len(files) > 6:
    bad.append(f"{len(files)} files in the output folder, at most 6 come back: {files}")
for f in ("results.md", "results.json", "probe.txt", "logs.tar.gz"):
    if not os.path.isfile(os.path.join(out, f)) or os.path.getsize(os.path.join(out, f)) == 0:
        bad.append(f"no {f}")
if bad:
    print("\n".join("  problem: " + b for b in bad)); sys.exit(1)
r = json.load(open(os.path.join(out, "results.json")))
t = r["tests"]
if t["passed"] == 0:
    bad.append("no test passed")
if t["failed"]:
    bad.append(f"{t['failed']} tests failed: " + "; ".join(t["failures"]))
if (rc == 0) != (t["failed"] == 0 and t["passed"] > 0):
    bad.append(f"run.sh exit status {rc} but tests {t['passed']} passed / {t['failed']} failed")
md = open(os.path.join(out, "results.md")).read()
if mode == "--smoke":
    if not r.get("pxprune") or not r["pxprune"].get("rows"):
        bad.append("no pxprune benchmark rows")
    for side in ("pxprune", "pytorch"):
        for row in (r.get(side) or {}).get("rows", []):
            if row.get("value") is None and not row.get("note"):
                bad.append(f"{side} {row['key']}: neither a figure nor a reason")
    for c in r["compared"]:
        if not c["met"]:
            bad.append(f"{c['workload']}: no verdict")
    if "| PyTorch |" not in md:
        bad.append("results.md says nothing about the PyTorch side")
probe = open(os.path.join(out, "probe.txt")).read()
for lib in ("libcudart.so.13", "libcudnn_cnn.so.9"):
    line = next((l for l in probe.splitlines() if l.startswith(lib + ":")), "")
    if "/nvidia/" not in line:
        bad.append(f"probe.txt did not find {lib} in torch's nvidia/*/lib layout: {line!r}")
names = tarfile.open(os.path.join(out, "logs.tar.gz")).getnames()
if not any(n.endswith("run.log") for n in names):
    bad.append(f"logs.tar.gz holds no run.log: {names[:10]}")
print("rehearsal: tests %d passed, %d failed, %d skipped; files: %s" % (t["passed"], t["failed"], t["skipped"], " ".join(files)))
for b in bad:
    print("  problem:", b)
sys.exit(1 if bad else 0)
PY
echo "rehearsal: OK ($out/results.md)" >&2
