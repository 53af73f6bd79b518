#!/usr/bin/env bash
# Checks the GPU bundle without a GPU: builds it (unless BUNDLE names one already built), runs
# `run.sh --smoke` against the CPU emulator of the CUDA driver/runtime/cuBLAS (kernels-cuda's test
# emulator, which kernels-cuda's build makes; built here when missing) with PyTorch on the CPU, and checks what it wrote: results.md and
# results.json exist and parse, every benchmark row of both sides has a figure or says why not, the
# report compares all five targets, and run.sh's exit status agrees with the tests' counts.
# This checks the bundle's plumbing and the kernels' logic, not a GPU: the smoke sizes measure nothing.
#
#   bench/gpu/smoke-check.sh [OUTDIR]     (OUTDIR default target/gpu-smoke)
# Environment: BUNDLE (a built bundle folder; default: build target/gpu-bundle), PXPRUNE_PYTHON
# (python with torch, CPU is enough; default python3), MVN_FLAGS (e.g. -o).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/target/gpu-smoke}
emu=$root/kernels-cuda/target/cuda-emulator
fail() { echo "smoke-check: FAILED: $*" >&2; exit 1; }
cd "$root"
if [ -z "${BUNDLE:-}" ]; then
  bash bench/gpu/bundle.sh "$root/target/gpu-bundle"
  BUNDLE=$root/target/gpu-bundle
fi
if [ ! -f "$emu/libcudart.so.13" ]; then
  echo "smoke-check: building the emulator ..." >&2
  bash kernels-cuda/src/test/emulator/build.sh "$emu" >/dev/null
fi
rm -rf "$out"
set +e
PXPRUNE_CUDA_LIBS=$emu PXPRUNE_PYTHON=${PXPRUNE_PYTHON:-python3} "$BUNDLE/run.sh" --smoke "$out"
rc=$?
set -e
echo "smoke-check: run.sh exited with $rc" >&2
[ -s "$out/results.md" ] || fail "no results.md"
[ -s "$out/results.json" ] || fail "no results.json"
py=${PXPRUNE_PYTHON:-python3}
"$py" - "$out/results.json" "$rc" <<'PY' || fail "results.json does not hold what it should (above)"
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
bad = []
t = r["tests"]
if t["passed"] + t["failed"] == 0:
    bad.append("no test ran")
if (rc == 0) != (t["failed"] == 0 and t["passed"] > 0):
    bad.append(f"run.sh exit status {rc} but tests {t['passed']} passed / {t['failed']} failed")
if len(r["compared"]) != 5:
    bad.append(f"{len(r['compared'])} compared rows, expected 5")
for side, n in (("pxprune", 5), ("pytorch", 4)):
    s = r.get(side)
    if not s:
        bad.append(f"no {side} results")
        continue
    if not s.get("finished"):
        bad.append(f"the {side} part did not finish")
    if len(s["rows"]) != n:
        bad.append(f"{side}: {len(s['rows'])} rows, expected {n}")
    for row in s["rows"]:
        if row.get("value") is None and not row.get("note"):
            bad.append(f"{side} {row['key']}: neither a figure nor a reason")
for c in r["compared"]:
    if not c["met"]:
        bad.append(f"{c['workload']}: no verdict")
print("smoke-check: tests %d passed, %d failed, %d skipped; pxprune rows: %s; pytorch rows: %s" % (
    t["passed"], t["failed"], t["skipped"],
    ", ".join(f"{x['key']}={x['status']}" for x in r["pxprune"]["rows"]) if r.get("pxprune") else "-",
    ", ".join(f"{x['key']}={x['status']}" for x in r["pytorch"]["rows"]) if r.get("pytorch") else "-"))
for b in bad:
    print("  problem:", b)
sys.exit(1 if bad else 0)
PY
[ "$rc" = 0 ] || fail "not every cuda test passed on the emulator (see $out/results.md)"
echo "smoke-check: OK ($out/results.md)" >&2
