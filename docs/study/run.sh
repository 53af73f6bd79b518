#!/usr/bin/env bash
# Reproduces docs/study/: 3 dense runs, 105 pruned runs (7 methods x 5 densities x 3 seeds) and 15
# one-shot GraSP runs of ResNet-20 on the embedded digits data, then the NTK of every mask and the
# report. Run from the repository root; runs go to runs/study/ (finished runs are never run again,
# so an interrupted study resumes where it stopped). See docs/study/README.md for the time it takes.
set -euo pipefail
cd "$(dirname "$0")/../.."
for grid in dense grid grasp-oneshot; do
  ./pxprune sweep "docs/study/$grid.json" --threads 2 --parallel 1
done
./pxprune ntk --run runs/study --samples 20 --top 10 --out docs/study/ntk
./pxprune report runs/study --ntk docs/study/ntk/ntk.csv --out docs/study
