#!/usr/bin/env bash
# Compares JPEG decoders on the JPEGs under a folder, single-threaded, files read into memory first:
#   bench/decoders/run.sh FOLDER [IMAGES]
# The decoders come from Maven (this folder's pom.xml, not part of the build): the JDK's javax.imageio
# reader, TwelveMonkeys imageio-jpeg, and OpenCV's imdecode through the JavaCPP presets (about 33 MB).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cp="$here/target/classpath.txt"
mkdir -p "$here/target"
[ -s "$cp" ] || mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp"
exec java -cp "$(cat "$cp")" "$here/DecoderBench.java" "$@"
