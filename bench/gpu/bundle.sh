#!/usr/bin/env bash
# Builds the GPU bundle: a small folder to carry, with the checkout it lies in, to an offline GPU machine
# that has an NVIDIA driver and python3 with torch (whose pip wheels hold the CUDA runtime, cuBLAS and
# cuDNN 9) but no Java, no Maven and no network. There `DIR/run.sh OUTDIR` runs every cuda-tagged test
# of every module, the GPU benchmarks (pxprune.bench.GpuBench) and the same workloads in PyTorch
# (pytorch_gpu_bench.py), and leaves at most 6 files in OUTDIR (bench/README.md, "The GPU bundle").
#
#   ./pxprune gpu-bundle [DIR]           (the same as bench/gpu/bundle.sh [DIR]; DIR default target/gpu-bundle)
#
# Needs a JDK 17 (jlink, jdeps, jar), Maven, xz and binutils (objdump); MVN_FLAGS adds Maven options (e.g. -o).
# What goes in:
#   payload.tar.xz  one xz tarball (run.sh unpacks it into a scratch folder) of
#                     jre/    a jlink'd runtime with only the modules jdeps finds (no debug data, man pages or
#                             headers, stripped native libraries), less the native libraries that need the
#                             machine's X11, fonts, sound or image codecs (charts draw their text themselves,
#                             experiments.plot.Text), plus the build machine's libz.so.1 and libgomp.so.1
#                     lib/    pxprune's modules and the jars they need, stored uncompressed so that xz packs
#                             them (the CUDA presets' JNI jar with only libjnicudart/libjnicublas/libjnicudnn;
#                             OpenBLAS's without its _full JNI library and headers), JUnit's platform and engine
#                     tests/M the compiled tests of every module M that has @CudaTest tests, and of kernels and
#                             nn (the test helpers the others use)
#   run.sh, pytorch_gpu_bench.py (+ pytorch_bench.py, whose models it imports), MANIFEST.txt
# The test data are not copied: run.sh reads testdata/ of the checkout the bundle lies in, which travels
# with it (every file the cuda tests name must be tracked by git, or the build fails).
#
# Checks, each failing the build with the reason:
#   - size: the checkout's files that travel (tracked, and untracked but not ignored) plus the bundle at most
#     PXPRUNE_BUNDLE_LIMIT_MIB (default 50) MiB; both terms are printed
#   - native libraries: every library a bundled ELF file needs is bundled, or glibc's, or libstdc++/libgcc_s
#     (which every PyTorch install needs), or the driver's / CUDA's / cuDNN's; the newest GLIBC symbol
#     version needed is printed and must be at most PXPRUNE_MAX_GLIBC (default 2.35)
#   - CUDA code: every PTX file's ISA version at most PXPRUNE_MAX_PTX (default 9.0, what a CUDA 13.0 driver
#     compiles), an sm_90 cubin of every module, and no register spills in ptxas's report of the cubins
# PXPRUNE_BUNDLE_CLASSPATH: assemble from this class path (jars and module folders, e.g. a test's) instead
# of building with Maven; PXPRUNE_BUNDLE_XZ: the xz preset (default 6).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;; -*) echo "$(basename "$0"): unknown option $1 (valid: --help, a folder)" >&2; exit 2 ;; esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${1:-$root/target/gpu-bundle}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
limit_mib=${PXPRUNE_BUNDLE_LIMIT_MIB:-50}
max_glibc=${PXPRUNE_MAX_GLIBC:-2.35}
max_ptx=${PXPRUNE_MAX_PTX:-9.0}
die() { echo "gpu-bundle: $*" >&2; exit 2; }
for tool in jlink jdeps jar objdump xz git; do command -v "$tool" >/dev/null || die "$tool is not on the PATH; install a JDK 17, xz, binutils and git"; done
[ -n "${PXPRUNE_BUNDLE_CLASSPATH:-}" ] || command -v mvn >/dev/null || die "mvn is not on the PATH; install Maven"
[ "$dir" != "/" ] && [ "$dir" != "$root" ] || die "refusing to use $dir as the bundle folder"

modules=(native kernels kernels-cuda core nn datasets px experiments bench)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/deps"
if [ -z "${PXPRUNE_BUNDLE_CLASSPATH:-}" ]; then
  echo "gpu-bundle: building (mvn package -DskipTests -pl bench,kernels-cuda -am) ..." >&2
  # one Maven run: the reactor's classes and test classes, and every module's test-scope dependencies (not pxprune's)
  if ! mvn -q -B ${MVN_FLAGS:-} -DskipTests package org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=test -DexcludeGroupIds=dev.pxprune \
        -DexcludeArtifactIds=jmh-generator-annprocess,jopt-simple,commons-math3 \
        -DoutputDirectory="$work/deps" -pl bench,kernels-cuda -am >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    die "the build failed (log above)"
  fi
else
  IFS=: read -r -a entries <<<"$PXPRUNE_BUNDLE_CLASSPATH"
  for e in "${entries[@]}"; do
    case "$(basename "$e")" in
      jmh-generator-*|jopt-simple-*|commons-math3-*|surefire*|*-tests.jar|pxprune-*) continue ;;
      *.jar) [ -f "$e" ] && cp "$e" "$work/deps/" ;;
    esac
  done
fi

# ---- the CUDA code: PTX version, the sm_90 cubins, no register spills (pxprune-native's kernels and px's own)
cudas=(native/target/classes/pxprune/cuda px/target/classes/pxprune/px/cuda)
for cuda in "${cudas[@]}"; do
  mod=${cuda%%/*}
  grep -q '^status=built' "$cuda/ptx-build.properties" 2>/dev/null \
    || die "pxprune-$mod holds no PTX ($(grep '^reason=' "$cuda/ptx-build.properties" 2>/dev/null || echo 'not built')): nvcc must be found by $mod's build (-Dpxprune.nvcc)"
  for name in $(sed -n 's/^modules=//p' "$cuda/ptx-build.properties" | tr ',' ' '); do
    [ -s "$cuda/sm_90/$name.cubin" ] || die "no sm_90 cubin of $name in $cuda/sm_90 (an H100/H200 would have to compile the PTX)"
    [ -s "$cuda/sm_90/$name.ptxas.log" ] || die "no ptxas report $cuda/sm_90/$name.ptxas.log (rebuild $mod: mvn -pl $mod -am package)"
    spills=$(grep -E -B1 ' [1-9][0-9]* bytes spill (stores|loads)' "$cuda/sm_90/$name.ptxas.log" | tr -s ' ' | paste -sd' ' || true)
    [ -z "$spills" ] || die "register spills in $name for sm_90 (ptxas -v): $spills"
  done
  for ptx in "$cuda"/sm_*/*.ptx; do
    v=$(awk '/^\.version/ {print $2; exit}' "$ptx")
    [ "$(printf '%s\n%s\n' "$v" "$max_ptx" | sort -V | tail -1)" = "$max_ptx" ] \
      || die "$ptx is PTX ISA $v, newer than $max_ptx (what the GPU machine's driver compiles; PXPRUNE_MAX_PTX)"
  done
done
ptx_versions=$(for cuda in "${cudas[@]}"; do awk '/^\.version/ {print $2; exit}' "$cuda"/sm_*/*.ptx; done | sort -u | paste -sd,)
echo "gpu-bundle: CUDA code: PTX ISA $ptx_versions (at most $max_ptx), sm_90 cubins, no register spills" >&2

# ---- lib/: every jar stored uncompressed (xz packs the payload as a whole), stripped of what the run never loads
stage=$work/payload
mkdir -p "$stage/lib" "$stage/tests"
repack() {  # repack SRC(jar or folder) DEST.jar: extracts, filters, stores without compression
  local src=$1 dest=$2 x=$work/x
  rm -rf "$x" && mkdir -p "$x"
  if [ -d "$src" ]; then cp -r "$src"/. "$x"/; else (cd "$x" && jar xf "$src"); fi
  case "$(basename "$src")" in
    cuda-*-linux-x86_64.jar)  # the JNI glue of cudart, cuBLAS and cuDNN only (CudaBackend's), not NPP, cuSOLVER, nvJPEG, ...
      find "$x" -name 'libjni*.so' ! -name libjnicudart.so ! -name libjnicublas.so ! -name libjnicudnn.so -delete ;;
    openblas-*-linux-x86_64.jar)  # CpuBackend loads org.bytedeco.openblas.global.openblas (and its openblas_nolapack), never openblas_full
      find "$x" -name 'libjniopenblas_full.so' -delete
      find "$x" -type d -name include -prune -exec rm -rf {} + ;;
  esac
  rm -f "$x/META-INF/MANIFEST.MF"
  (cd "$x" && jar --create --no-manifest --no-compress --file "$dest" .)
  find "$x" -name '*.so*' -type f -exec cp {} "$work/natives/" \;
}
mkdir -p "$work/natives"
for m in "${modules[@]}"; do
  [ -d "$m/target/classes" ] || die "$m/target/classes is missing: build first (mvn -DskipTests package)"
  repack "$root/$m/target/classes" "$stage/lib/pxprune-$m.jar"
done
for j in "$work"/deps/*.jar; do repack "$j" "$stage/lib/$(basename "$j")"; done

# ---- tests/: the compiled tests of every module with cuda-tagged tests, and the helpers of kernels and nn
declare -A data=()
test_modules=()
for m in "${modules[@]}"; do
  src=$m/src/test/java
  [ -d "$src" ] || continue
  mapfile -t cuda_src < <(grep -rlE '@(pxprune\.kernels\.)?CudaTest\b' "$src" --include='*.java' || true)
  if [ "${#cuda_src[@]}" -eq 0 ] && [ "$m" != kernels ] && [ "$m" != nn ]; then continue; fi
  [ -d "$m/target/test-classes" ] || die "$m has tests the bundle needs but no $m/target/test-classes: build first"
  cp -r "$m/target/test-classes" "$stage/tests/$m"
  test_modules+=("$m")
  # the test data the cuda test sources name, and those named by the module's test classes they use (one level)
  files=("${cuda_src[@]}")
  for f in "${cuda_src[@]}"; do
    for w in $(grep -o '\b[A-Z][A-Za-z0-9_]*\b' "$f" | sort -u); do
      while IFS= read -r g; do files+=("$g"); done < <(find "$src" -name "$w.java")
    done
  done
  for f in $(printf '%s\n' "${files[@]}" | sort -u); do
    [ -n "$f" ] || continue
    for rel in $(grep -oE '"(golden|fixtures|data)/[A-Za-z0-9_./-]+"' "$f" | tr -d '"' | sort -u); do
      if [ -e "testdata/$rel" ]; then data[$rel]=1; fi
    done
  done
done
# the data travel with the checkout: each must be tracked
for rel in "${!data[@]}"; do
  [ -n "$(git ls-files -- "testdata/$rel" | head -1)" ] || die "testdata/$rel, which a cuda test reads, is not tracked by git: it would not travel with the checkout"
done

# ---- jre/: the JDK modules that the jars and tests use
mods=$(jdeps -q --ignore-missing-deps --multi-release 17 --print-module-deps --class-path "$stage/lib/*" \
         "$stage"/lib/*.jar "$stage"/tests/* 2>"$work/jdeps.log") || { cat "$work/jdeps.log" >&2; die "jdeps failed"; }
# JavaCPP reaches sun.misc.Unsafe reflectively; jdk.zipfs for JUnit's classpath scanning of jars
mods="$mods,jdk.unsupported,jdk.zipfs"
jlink --add-modules "$mods" --strip-debug --no-header-files --no-man-pages --compress=0 --output "$stage/jre" >/dev/null
rm -rf "$stage/jre/legal" "$stage/jre/lib/src.zip"
# the native libraries that need the machine's X11, freetype/harfbuzz/fontconfig, ALSA, libjpeg, lcms2 or giflib/libpng:
# headless charts (experiments.plot.Text draws their text) and PNG writing need none of them
for so in libawt_xawt.so libjawt.so libfontmanager.so libjsound.so libsplashscreen.so libjavajpeg.so liblcms.so; do
  rm -f "$stage/jre/lib/$so"
done
# what the runtime and pxprune's kernels need beyond glibc and the C++ runtime: libz (java's RPATH finds it in
# jre/lib) and OpenMP's libgomp (run.sh puts jre/lib on LD_LIBRARY_PATH), the build machine's copies
copy_need() {  # copy_need ELF SONAME: this machine's copy of a library the ELF file needs, into jre/lib
  local p
  p=$(ldd "$1" 2>/dev/null | awk -v l="$2" '$1 == l {print $3}')
  [ -n "$p" ] && [ -f "$p" ] || die "cannot find $2, which $(basename "$1") needs, on this machine"
  cp -L "$p" "$stage/jre/lib/$2"
}
copy_need "$stage/jre/bin/java" libz.so.1
copy_need "$work/natives/libjniPxNative.so" libgomp.so.1
if command -v strip >/dev/null; then find "$stage/jre" -name '*.so*' -type f -exec strip --strip-unneeded {} +; fi

# ---- every bundled ELF file's needs: bundled, glibc, the C++ runtime, or the driver / CUDA / cuDNN
find "$stage/jre" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec cp {} "$work/natives/" \;
allowed='^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libutil\.so\.1|ld-linux-x86-64\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libcuda\.so\.1|libcudart\.so\.13|libcublas(Lt)?\.so\.13|libcudnn(_[a-z_]+)?\.so\.9|libnvrtc\.so\.13)$'
needs=$work/needs.txt
: >"$needs"
bad=()
for f in "$work"/natives/*; do
  objdump -p "$f" >/dev/null 2>&1 || continue
  n=$(objdump -p "$f" | awk '/NEEDED/ {print $2}')
  echo "$(basename "$f"): $(echo $n)" >>"$needs"
  for lib in $n; do
    [ -e "$work/natives/$lib" ] && continue
    [[ "$lib" =~ $allowed ]] && continue
    # libjvm.so: the runtime's own (jre/lib/server); libopenblas_nolapack.so.0: JavaCPP links it to the bundled libopenblas.so.0
    case "$lib" in libjvm.so|libopenblas_nolapack.so.0) continue ;; esac
    bad+=("$(basename "$f") needs $lib")
  done
done
newest() { for f in "$work"/natives/*; do objdump -p "$f" 2>/dev/null | grep -o "$1_[0-9.]*" || true; done | sed "s/$1_//" | sort -uV | tail -1; }
glibc=$(newest GLIBC)
glibcxx=$(newest GLIBCXX)
outside=$(cut -d: -f2 "$needs" | tr ' ' '\n' | sort -u | while read -r l; do [ -z "$l" ] || [ -e "$work/natives/$l" ] || echo "$l"; done | paste -sd' ')
echo "gpu-bundle: native libraries need, beyond themselves: $outside" >&2
echo "gpu-bundle: newest symbol versions needed: GLIBC_$glibc, GLIBCXX_$glibcxx (at most GLIBC_$max_glibc)" >&2
[ "${#bad[@]}" -eq 0 ] || die "native libraries need what the GPU machine may lack: ${bad[*]}"
[ "$(printf '%s\n%s\n' "$glibc" "$max_glibc" | sort -V | tail -1)" = "$max_glibc" ] \
  || die "the native libraries need GLIBC_$glibc, newer than GLIBC_$max_glibc (PXPRUNE_MAX_GLIBC)"

# ---- the bundle
rm -rf "$dir"
mkdir -p "$dir"
echo "gpu-bundle: runtime $(du -sb "$stage/jre" | awk '{printf "%.1f", $1 / 1e6}') MB unpacked, payload $(du -sb "$stage" | awk '{printf "%.1f", $1 / 1e6}') MB; compressing (xz -${PXPRUNE_BUNDLE_XZ:-6}) ..." >&2
tar -C "$stage" -cf - jre lib tests | xz -T0 "-${PXPRUNE_BUNDLE_XZ:-6}" >"$dir/payload.tar.xz"
cp bench/pytorch_gpu_bench.py bench/pytorch_bench.py "$dir/"
cp bench/gpu/run.sh "$dir/run.sh"
chmod +x "$dir/run.sh"
{
  echo "pxprune GPU bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "run: ./run.sh [--quick|--smoke] [OUTDIR]   (OUTDIR default ./results; exit status 0 only when every cuda test passed)"
  echo "java modules: $mods"
  echo "test modules: ${test_modules[*]}"
  echo "test data (read from the checkout): ${!data[*]}"
  echo "newest symbol versions: GLIBC_$glibc GLIBCXX_$glibcxx; PTX ISA $ptx_versions"
  echo
  echo "native libraries and what they need:"
  sort "$needs"
  echo
  (cd "$stage" && find . -type f -printf '%s\t%p\n' | sort -k2)
} >"$dir/MANIFEST.txt"

# ---- the size of what travels: the checkout's files that are not ignored, plus the bundle
tracked=$( { git ls-files -z; git ls-files -z -o --exclude-standard; } | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
size=$(du -sb "$dir" | cut -f1)
limit=$((limit_mib * 1024 * 1024))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "gpu-bundle: $dir: $(mib "$size") (payload.tar.xz $(mib "$(stat -c %s "$dir/payload.tar.xz")"))"
echo "gpu-bundle: checkout files that travel $(mib "$tracked") + bundle $(mib "$size") = $(mib $((tracked + size))) (limit $limit_mib MiB)"
[ $((tracked + size)) -le "$limit" ] \
  || die "checkout $tracked + bundle $size = $((tracked + size)) bytes, over the limit of $limit ($limit_mib MiB); see $dir/MANIFEST.txt"
case "$dir/" in "$root"/*) ;; *) echo "gpu-bundle: note: $dir is outside the checkout; on the GPU machine set PXPRUNE_TESTDATA to the checkout's testdata/" >&2 ;; esac
echo "gpu-bundle: carry $dir to the GPU machine with the checkout and run: $(basename "$dir")/run.sh OUTDIR" >&2
