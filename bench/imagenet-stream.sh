#!/usr/bin/env bash
# The ImageNet loader's memory and throughput against a ResNet-50 training step (docs/datasets-imagenet.md):
#   bench/imagenet-stream.sh WORK_DIR [SIZES...]     (default sizes: 2000 20000)
# generates an official-layout folder of each size under WORK_DIR (hard links after 500 distinct JPEGs),
# streams one training epoch of each in a JVM capped at 128 MB of heap (batch 32, 2 decoding threads),
# then times a ResNet-50 training step at 224 px, batch 8.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$1"; shift
[ $# -gt 0 ] && sizes=("$@") || sizes=(2000 20000)
mvn -q -B -f "$root/pom.xml" -DskipTests package dependency:build-classpath -pl bench -am -Dmdep.outputFile="$root/bench/target/classpath.txt"
cp="$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
for n in "${sizes[@]}"; do
  [ -d "$work/$n/imagenet" ] || java -cp "$cp" pxprune.bench.ImageNetStreamBench generate "$work/$n" "$n"
  java -Xmx128m -cp "$cp" pxprune.bench.ImageNetStreamBench stream "$work/$n" 32 2
done
java -cp "$cp" pxprune.bench.ImageNetStreamBench step 8 2
