#!/usr/bin/env python3
"""Checks the PyTorch PX of bench/pytorch_gpu_bench.py (the reference the GPU benchmark compares pxprune
with) against the golden PX scores of testdata/golden/resnet20_seed1.safetensors (docs/px-method.md#score,
an independent float64 implementation, whose w is not divided by its maximum): both sets
divided by their total (a common factor, which no ranking depends on), relative L2 per layer, 1e-6 at
most. CPU is enough:

    python3 bench/gpu/check_px_reference.py
"""
import os
import sys

import torch

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "bench"))
sys.path.insert(0, os.path.join(root, "testdata", "tools"))
import pytorch_gpu_bench as b  # noqa: E402
import st_io  # noqa: E402

g = st_io.read(os.path.join(root, "testdata", "golden", "resnet20_seed1.safetensors"))
net = b.CifarResNet20()
state = {k[len("weight."):]: v for k, v in g.items() if k.startswith("weight.")}
net.load_state_dict(state)
net.eval()
x = g["x"].to(torch.float32)
masks = {m: torch.ones_like(m.weight) for m in b.prunable(net)}
scores = b.px_scores(net, masks, x)
names = {m: n for n, m in net.named_modules()}
refs = [g["score.px." + names[m] + ".weight"].to(torch.float64) for m in b.prunable(net)]
total, ref_total = sum(float(s.sum()) for s in scores), sum(float(r.sum()) for r in refs)
worst = 0.0
for s, ref in zip(scores, refs):
    s, ref = s / total, ref / ref_total
    rel = float((s - ref).norm() / ref.norm())
    worst = max(worst, rel)
print(f"PyTorch PX vs golden PX scores: worst relative L2 over {len(scores)} layers = {worst:.2e}")
sys.exit(0 if worst < 1e-6 else 1)
