#!/usr/bin/env bash
# Packs kernels-cuda's tests into kernels-cuda/target/device-bundle (about 40 MB: classes,
# dependency jars with the PTX, the golden ResNet-20 file, run.sh) for a GPU machine that has
# Java 17 and an NVIDIA driver but no Maven or network. Run the bundle there with
#   kernels-cuda/target/device-bundle/run.sh            (exit status 0: nothing failed)
# With CUDA12_LIBS=/dir/with/libcudart.so.12[,libcublas.so.12,...] those libraries are packed
# too (lib folder of pip's nvidia-cuda-runtime-cu12 / nvidia-cublas-cu12, or a CUDA 12 toolkit)
# and put on LD_LIBRARY_PATH by run.sh: the CUDA presets need libcudart.so.12; cuBLAS is optional.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
b=$root/kernels-cuda/target/device-bundle
cd "$root"
mvn -q install -DskipTests
rm -rf "$b"
mkdir -p "$b/lib" "$b/cudalib" "$b/testdata/golden"
mvn -q -pl kernels-cuda dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$b/lib"
cp -r kernels-cuda/target/classes "$b/classes"
cp -r kernels-cuda/target/test-classes "$b/test-classes"
cp testdata/golden/resnet20_seed1.safetensors "$b/testdata/golden/"
if [ -n "${CUDA12_LIBS:-}" ]; then cp -P "$CUDA12_LIBS"/lib*.so* "$b/cudalib/"; fi
cat > "$b/run.sh" <<'RUN'
#!/usr/bin/env bash
# kernels-cuda's tests without Maven; extra arguments go to java (e.g. -Dpxprune.cuda.sync=true)
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/cudalib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
exec java -Xss8m -Dpxprune.testdata="$here/testdata" "$@" -cp "$here/test-classes:$here/classes:$here/lib/*" \
  pxprune.kernels.cuda.DeviceTestMain
RUN
chmod +x "$b/run.sh"
du -sh "$b"
