#!/usr/bin/env bash
# Builds the GPU bundle: one self-contained folder (at most 60 MB) to carry to an offline GPU machine
# that has an NVIDIA driver and python3 with torch but no Java, no Maven and no network. There
# `DIR/run.sh [OUTDIR]` runs, within 8 minutes, every cuda-tagged test of every module, the GPU
# benchmarks (pxprune.bench.GpuBench) and the same workloads in PyTorch (pytorch_gpu_bench.py), and
# writes OUTDIR/results.md and OUTDIR/results.json (bench/README.md, "The GPU bundle").
#
#   ./pxprune gpu-bundle [DIR]           (the same as bench/gpu/bundle.sh [DIR]; DIR default target/gpu-bundle)
#
# Needs a JDK 17 (jlink, jdeps, jar) and Maven; MVN_FLAGS adds Maven options (e.g. -o offline).
# What goes in:
#   jre.tar.xz a jlink'd runtime with only the modules jdeps finds (no debug, man pages or headers, stripped
#              native libraries), xz-compressed; run.sh unpacks it on its first run
#   lib/       pxprune's jars (pxprune-native's holds the PTX), their dependency jars (the CUDA presets' JNI
#              jar repacked with only libjnicudart/libjnicublas/libjnicudnn; OpenBLAS's without its _full
#              JNI library and headers: the CPU backend the tests compare with needs the rest), the modules'
#              test jars, JUnit's platform and engine
#   tests/M/   the compiled tests of every module M that has @CudaTest tests
#   testdata/  only the files under testdata/ that those tests name
#   run.sh, pytorch_gpu_bench.py (+ pytorch_bench.py, whose models it imports), MANIFEST.txt
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${1:-$root/target/gpu-bundle}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
limit=$((60 * 1000 * 1000))
die() { echo "gpu-bundle: $*" >&2; exit 2; }
for tool in mvn jlink jdeps jar; do command -v "$tool" >/dev/null || die "$tool is not on the PATH; install a JDK 17 and Maven"; done
[ "$(basename "$dir")" != "/" ] || die "refusing to use / as the bundle folder"

modules=(native kernels kernels-cuda core nn datasets px bench)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "gpu-bundle: building (mvn package -DskipTests -pl bench,kernels-cuda -am) ..." >&2
# one session: the reactor's own jars, and every module's test-scope dependencies (but pxprune's, taken from target/)
if ! mvn -q -B ${MVN_FLAGS:-} -DskipTests package org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=test -DexcludeGroupIds=dev.pxprune \
      -DexcludeArtifactIds=jmh-core,jmh-generator-annprocess,jopt-simple,commons-math3 \
      -DoutputDirectory="$work/deps" -pl bench,kernels-cuda -am >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  die "the build failed (log above)"
fi

rm -rf "$dir"
mkdir -p "$dir/lib" "$dir/tests" "$dir/testdata"
for m in "${modules[@]}"; do
  for j in "$m"/target/pxprune-"$m"-*.jar; do
    case "$j" in *-sources.jar|*-javadoc.jar) continue ;; esac
    [ -f "$j" ] && cp "$j" "$dir/lib/"
  done
done
[ -n "$(ls "$dir"/lib/pxprune-native-*.jar 2>/dev/null)" ] || die "no pxprune-native jar was built"
# (the listing first: grep -q closing the pipe early would fail the pipeline under pipefail)
native_list=$(unzip -l "$dir"/lib/pxprune-native-*[0-9T].jar 2>/dev/null || true)
grep -q 'pxprune/cuda/sm_90/.*\.ptx' <<<"$native_list" \
  || die "pxprune-native's jar holds no PTX (nvcc was not found by native's build: see -Dpxprune.nvcc); the GPU run needs it"

# dependency jars, stripped of what the run never loads
for j in "$work"/deps/*.jar; do
  name=$(basename "$j")
  case "$name" in
    cuda-*-linux-x86_64.jar)
      # the JNI glue of cudart, cuBLAS and cuDNN only (CudaBackend's), not NPP, cuSOLVER, nvJPEG, ...
      mkdir "$work/cuda" && (cd "$work/cuda" && jar xf "$j")
      find "$work/cuda" -name 'libjni*.so' ! -name libjnicudart.so ! -name libjnicublas.so ! -name libjnicudnn.so -delete
      (cd "$work/cuda" && jar --create --no-manifest --file "$dir/lib/$name" .) ;;
    openblas-*-linux-x86_64.jar)
      # CpuBackend loads org.bytedeco.openblas.global.openblas (libjniopenblas + libopenblas.so.0), never openblas_full
      mkdir "$work/ob" && (cd "$work/ob" && jar xf "$j")
      find "$work/ob" -name 'libjniopenblas_full.so' -delete
      find "$work/ob" -type d -name include -prune -exec rm -rf {} +
      (cd "$work/ob" && jar --create --no-manifest --file "$dir/lib/$name" .) ;;
    *) cp "$j" "$dir/lib/" ;;
  esac
done

# the compiled tests of every module with cuda-tagged tests, and the test data they name
declare -A data=()
for m in "${modules[@]}"; do
  src=$m/src/test/java
  [ -d "$src" ] || continue
  mapfile -t cuda_src < <(grep -rl '@CudaTest' "$src" --include='*.java' || true)
  [ "${#cuda_src[@]}" -gt 0 ] || continue
  [ -d "$m/target/test-classes" ] || die "$m has cuda tests but no target/test-classes"
  cp -r "$m/target/test-classes" "$dir/tests/$m"
  # the files the cuda test sources name, and those named by the module's test classes they use (one level)
  files=("${cuda_src[@]}")
  for f in "${cuda_src[@]}"; do
    for w in $(grep -o '\b[A-Z][A-Za-z0-9_]*\b' "$f" | sort -u); do
      while IFS= read -r g; do files+=("$g"); done < <(find "$src" -name "$w.java")
    done
  done
  for f in $(printf '%s\n' "${files[@]}" | sort -u); do
    for rel in $(grep -oE '"(golden|fixtures|data)/[A-Za-z0-9_./-]+"' "$f" | tr -d '"' | sort -u); do
      # a file, or a folder a test builds names in (e.g. "golden/tv/" + name): all of it
      if [ -f "testdata/$rel" ] || { [ -d "testdata/$rel" ] && [ "${rel%/}" != "$rel" ]; }; then data[$rel]=1; fi
    done
  done
done
[ -n "$(ls "$dir/tests")" ] || die "no module has @CudaTest tests"
for rel in "${!data[@]}"; do mkdir -p "$dir/testdata/$(dirname "$rel")"; cp -r "testdata/${rel%/}" "$dir/testdata/$(dirname "$rel")/"; done

# the runtime: the JDK modules that the jars and tests use
mods=$(jdeps -q --ignore-missing-deps --multi-release 17 --print-module-deps --class-path "$dir/lib/*" \
         "$dir"/lib/*.jar "$dir"/tests/* 2>"$work/jdeps.log") || { cat "$work/jdeps.log" >&2; die "jdeps failed"; }
# JavaCPP reaches sun.misc.Unsafe reflectively; jdk.zipfs for JUnit's classpath scanning of jars
mods="$mods,jdk.unsupported,jdk.zipfs"
# uncompressed modules and stripped native libraries, then the whole runtime as one xz tarball: xz packs
# it to ~16 MB where jlink's own --compress=2 leaves ~39 MB (libjvm.so alone is 20 MB); run.sh unpacks it
jlink --add-modules "$mods" --strip-debug --no-header-files --no-man-pages --compress=0 --output "$work/jre" >/dev/null
rm -rf "$work/jre/legal" "$work/jre/lib/src.zip"
if command -v strip >/dev/null; then find "$work/jre" -name '*.so' -exec strip --strip-unneeded {} +; fi
echo "gpu-bundle: runtime $(du -sb "$work/jre" | awk '{printf "%.1f", $1 / 1e6}') MB unpacked; compressing (xz) ..." >&2
tar -C "$work" -cf - jre | xz -T0 -6 >"$dir/jre.tar.xz"

cp bench/pytorch_gpu_bench.py bench/pytorch_bench.py "$dir/"
cp bench/gpu/run.sh "$dir/run.sh"
chmod +x "$dir/run.sh"
{
  echo "pxprune GPU bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "run: ./run.sh [OUTDIR]   (OUTDIR default ./results; exit status 0 only when every cuda test passed)"
  echo "java modules: $mods"
  echo "test modules: $(ls "$dir/tests" | tr '\n' ' ')"
  echo "test data: ${!data[*]}"
  echo
  (cd "$dir" && find . -type f -printf '%s\t%p\n' | sort -k2)
  echo "jre (unpacked): $(du -sb "$work/jre" | cut -f1) bytes"
} >"$dir/MANIFEST.txt"

size=$(du -sb "$dir" | cut -f1)
mb() { du -sb "$1" | awk '{printf "%.1f", $1 / 1e6}'; }
echo "gpu-bundle: $dir: $(mb "$dir") MB (jre.tar.xz $(mb "$dir/jre.tar.xz"), lib $(mb "$dir/lib"), tests $(mb "$dir/tests"), testdata $(mb "$dir/testdata"))"
if [ "$size" -gt "$limit" ]; then
  die "the bundle is $size bytes, over the limit of $limit (60 MB); see $dir/MANIFEST.txt for what is in it"
fi
echo "gpu-bundle: carry $dir to the GPU machine and run: $(basename "$dir")/run.sh [OUTDIR]" >&2
