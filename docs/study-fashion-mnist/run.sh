#!/usr/bin/env bash
# Reproduces docs/study-fashion-mnist/: ResNet-20 on Fashion-MNIST (the Debian package
# dataset-fashion-mnist, or the four IDX files in data/fashion-mnist/), 2 dense runs and 80 pruned
# runs (8 methods x 5 densities x 2 seeds), one epoch of training each, then the NTK of every
# network and the report. Run from the repository root; runs go to runs/study-fashion-mnist/
# (finished runs are never run again, so an interrupted study resumes where it stopped).
set -euo pipefail
cd "$(dirname "$0")/../.."
for grid in dense grid; do
  ./pxprune sweep "docs/study-fashion-mnist/$grid.json" --threads 2 --parallel 1
done
./pxprune ntk --run runs/study-fashion-mnist --samples 10 --top 10 --out docs/study-fashion-mnist/ntk
./pxprune report runs/study-fashion-mnist --ntk docs/study-fashion-mnist/ntk/ntk.csv --out docs/study-fashion-mnist
