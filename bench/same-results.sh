#!/usr/bin/env bash
# Checks that a change leaves the numbers alone: the weights, masks and scores computed by commit REF and
# by this working tree (committed or not) must be byte-identical. For a refactoring, which must not move a bit.
#
#   bench/same-results.sh [--keep] REF        (REF: a commit, branch or tag, e.g. main or HEAD~3)
#
# Each side is built by its own ./pxprune (REF in a temporary git worktree, removed at the end) and runs:
#   1. the main job, `./pxprune run --runs DIR` (ResNet-20 on the embedded digits: dense, px, synflow and
#      random at density 0.01, 20 epochs): each run folder's weights, masks and checkpoint;
#   2. the golden scoring case of px's GoldenScoresTest through `./pxprune score`: the ResNet-20 of
#      testdata/golden/resnet20_seed1.safetensors (its weight.* entries, copied once into a weights file
#      both sides read) on that file's batch x, y, for every method in its default precision and, for
#      those that have a precision, in float32 and in float64: one score file each;
#   3. `./pxprune prune` of the seeded ResNet-20 on digits for every method, density 0.05 in 10 rounds:
#      one masks file each.
# Then it prints the sha256 of every weights, masks, checkpoint and score file on both sides in a table
# (file, same/different) and exits 0 when all are the same, 1 when any differs or is missing on one side,
# 2 when it could not run. Both sides run with PXPRUNE_THREADS (default 2 here) and the environment's
# PXPRUNE_ISA (set PXPRUNE_ISA=avx2 to check the AVX2 kernels). --keep leaves the temporary folder (both
# sides' outputs) in place and prints its path. Takes about a quarter of an hour on 2 cores (two builds,
# two main jobs); too long for CI, run by hand before merging a refactoring.
set -euo pipefail
keep=false
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  --keep) keep=true; shift ;;
esac
[ $# -eq 1 ] || { echo "usage: bench/same-results.sh [--keep] REF (a commit to compare this working tree with; --help for more)" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ref=$(git -C "$root" rev-parse --verify --quiet "$1^{commit}") \
  || { echo "same-results: REF $1 is not a commit of $root; give a commit, branch or tag (git log shows them)" >&2; exit 2; }
export PXPRUNE_THREADS=${PXPRUNE_THREADS:-2}
methods=(magnitude random snip grasp synflow synflow_l2 px px_datafree)
precision_methods=(snip grasp synflow synflow_l2 px px_datafree)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/same-results.XXXXXX")
cleanup() {
  git -C "$root" worktree remove --force "$tmp/ref-tree" >/dev/null 2>&1 || true
  if $keep; then echo "same-results: outputs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
start=$SECONDS

# the golden file's weight.* entries under their own names (what `score --weights` reads), by the JDK alone
cat >"$tmp/GoldenWeights.java" <<'EOF'
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class GoldenWeights {
    public static void main(String[] args) throws Exception {
        byte[] in = Files.readAllBytes(Path.of(args[0]));
        int n = (int) ByteBuffer.wrap(in, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(in, 8, n, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"weight\\.([^\"]+)\":\\{\"dtype\":\"(\\w+)\",\"shape\":\\[([0-9,]*)\\],"
                + "\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}").matcher(header);
        StringBuilder h = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (m.find()) {
            int begin = Integer.parseInt(m.group(4)), end = Integer.parseInt(m.group(5));
            if (h.length() > 1) h.append(',');
            h.append(String.format("\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%d,%d]}",
                    m.group(1), m.group(2), m.group(3), data.size(), data.size() + end - begin));
            data.write(in, 8 + n + begin, end - begin);
        }
        if (data.size() == 0) throw new IllegalStateException(args[0] + " has no weight.* entries");
        h.append('}');
        while (h.length() % 8 != 0) h.append(' ');
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length).array());
        out.write(hb);
        data.writeTo(out);
        Files.write(Path.of(args[1]), out.toByteArray());
    }
}
EOF
golden=$root/testdata/golden/resnet20_seed1.safetensors
java "$tmp/GoldenWeights.java" "$golden" "$tmp/golden-weights.safetensors"

git -C "$root" worktree add --detach --quiet "$tmp/ref-tree" "$ref"

# runs everything on the checkout $1 into the folder $2
side() {
  local tree=$1 out=$2 m
  mkdir -p "$out/score" "$out/prune"
  cd "$tree" || return 1
  echo "same-results: $3: the main job" >&2
  ./pxprune run --runs "$out/runs" >"$out/run.log" 2>&1 || { cat "$out/run.log" >&2; return 1; }
  for m in "${methods[@]}"; do
    echo "same-results: $3: score and prune with $m" >&2
    ./pxprune score --model resnet20 --weights "$tmp/golden-weights.safetensors" --batch "$golden" --method "$m" \
      --out "$out/score/$m.safetensors" >>"$out/score.log" 2>&1 || { cat "$out/score.log" >&2; return 1; }
    ./pxprune prune --model resnet20 --dataset digits --method "$m" --density 0.05 --rounds 10 --seed 1 \
      --out "$out/prune/$m" >>"$out/prune.log" 2>&1 || { cat "$out/prune.log" >&2; return 1; }
  done
  for m in "${precision_methods[@]}"; do
    for p in float32 float64; do
      echo "same-results: $3: score with $m in $p" >&2
      ./pxprune score --model resnet20 --weights "$tmp/golden-weights.safetensors" --batch "$golden" --method "$m" \
        --precision "$p" --out "$out/score/${m}_$p.safetensors" >>"$out/score.log" 2>&1 \
        || { cat "$out/score.log" >&2; return 1; }
    done
  done
}

echo "same-results: REF $1 ($ref) in $tmp/ref-tree; PXPRUNE_THREADS=$PXPRUNE_THREADS PXPRUNE_ISA=${PXPRUNE_ISA:-}" >&2
side "$tmp/ref-tree" "$tmp/ref" "REF" || { echo "same-results: REF failed (log above)" >&2; exit 2; }
side "$root" "$tmp/tree" "working tree" || { echo "same-results: the working tree failed (log above)" >&2; exit 2; }

# the files compared, relative to each side's output folder, from both sides (one missing on a side differs)
files=$( (cd "$tmp/ref" && find . -name '*.safetensors'; cd "$tmp/tree" && find . -name '*.safetensors') | sed 's|^\./||' | sort -u)
digest() { if [ -f "$1" ]; then sha256sum "$1" | cut -c1-16; else echo missing; fi; }
differ=0
printf '%-58s %-16s %-16s %s\n' file REF "working tree" verdict
while read -r f; do
  a=$(digest "$tmp/ref/$f") b=$(digest "$tmp/tree/$f")
  if [ "$a" = "$b" ] && [ "$a" != missing ]; then v=same; else v=DIFFERENT; differ=$((differ + 1)); fi
  printf '%-58s %-16s %-16s %s\n' "$f" "$a" "$b" "$v"
done <<<"$files"
echo "same-results: $(wc -l <<<"$files") files, $differ different; REF $1 ($ref) against the working tree of $(git -C "$root" rev-parse --short HEAD), $((SECONDS - start)) s"
[ "$differ" -eq 0 ]
