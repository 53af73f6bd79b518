#!/usr/bin/env python3
"""PyTorch's side of pxprune's GPU benchmarks (bench GpuBench): the same workloads under the same keys,
FP32 with TF32 off, on one device, printed as one JSON object on stdout (and written with --out).

Workloads (the sizes of GpuBench.FULL; --smoke: GpuBench.SMOKE):
  resnet20_fwd_bwd  CIFAR ResNet-20 (open_lth layout), train mode, cross-entropy forward+backward, batch 128 (ms)
  resnet50_fwd_bwd  ResNet-50 (torchvision's layout, written here: torchvision need not be installed), 224 px, batch 64 (ms)
  px                PX, 100 rounds of the exponential schedule to density 0.01 on ResNet-20 with 100 images (ms),
                    written here from docs/px-method.md#score and #pruning-loop
  train_epoch       one epoch over 50,000 synthetic 3x32x32 images, batch 128, masked SGD (random masks at density 0.1,
                    lr 0.1, momentum 0.9, weight decay 5e-4), then evaluating 500 test images (images/s)
Timing: a warm-up, then repetitions (torch.cuda.synchronize() before the clock starts and before it stops);
the median.

    python3 bench/pytorch_gpu_bench.py [--device cuda|cpu] [--smoke] [--out FILE] [--budget-s S] [--only k1,k2] [--threads N]
"""
import argparse
import json
import math
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# the sizes of GpuBench.FULL and GpuBench.SMOKE (keep the two in step)
FULL = dict(resnet20_batch=128, resnet20_side=32, resnet50_batch=64, resnet50_side=224, px_images=100, px_side=32,
            px_rounds=100, px_density=0.01, train_images=50000, train_side=32, train_batch=128, test_images=500)
SMOKE = dict(resnet20_batch=2, resnet20_side=8, resnet50_batch=2, resnet50_side=32, px_images=4, px_side=8,
             px_rounds=3, px_density=0.5, train_images=32, train_side=8, train_batch=16, test_images=8)


# ---------------------------------------------------------------- models
# the CIFAR ResNet of pxprune's nn/models layout, shared with the CPU side-by-side script beside this one
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from pytorch_bench import CifarResNet  # noqa: E402


def CifarResNet20(width=16, classes=10):
    return CifarResNet(20, width, classes)


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride on the 3x3 convolution."""

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for i in range(n):
                layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = 4 * width
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.fc(F.adaptive_avg_pool2d(self.layers(out), 1).flatten(1))


# ---------------------------------------------------------------- PX (docs/px-method.md#score and #pruning-loop)
def substituted_forward(net, x, weights, norm, relu, with_bias):
    """ResNet-20's forward with its convolution/linear weights, batch norms and ReLUs replaced."""
    def conv(m, z):
        return F.conv2d(z, weights[m], None, m.stride, m.padding)

    out = relu(norm(net.bn, conv(net.conv, x)))
    for b in net.blocks:
        h = relu(norm(b.bn1, conv(b.conv1, out)))
        h = norm(b.bn2, conv(b.conv2, h))
        sc = out if isinstance(b.shortcut, nn.Identity) else norm(b.shortcut[1], conv(b.shortcut[0], out))
        out = relu(h + sc)
    pooled = F.adaptive_avg_pool2d(out, 1).flatten(1)  # a fixed average: left as it is (docs/px-method.md#pooling-resampling-sums)
    return F.linear(pooled, weights[net.fc], net.fc.bias if with_bias else None)


def prunable(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def px_scores(net, masks, x):
    """One PX score: gate pass, activation network A, path-kernel network P, score = p * dR/dp."""
    layers = prunable(net)
    with torch.no_grad():
        # 1. gate pass: the model at theta * m, eval-mode batch norm, g = 1[z > 0] at every ReLU in call order
        gates = []

        def gate_relu(z):
            gates.append((z > 0).to(torch.float64))
            return F.relu(z)

        def eval_norm(bn, z):
            return F.batch_norm(z, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)

        theta_m = {m: m.weight * masks[m] for m in layers}
        substituted_forward(net, x, theta_m, eval_norm, gate_relu, True)
        # 2. A, float64: weights := m, biases 0, batch norm := identity, ReLU := times its gate, input x*x
        it = iter(gates)
        ones = {m: masks[m].to(torch.float64) for m in layers}
        z1 = substituted_forward(net, x.to(torch.float64).square(), ones, lambda bn, z: z, lambda z: z * next(it), False)
        w = z1.sum(0)
        if not torch.isfinite(w).all():
            raise ArithmeticError("PX: A's output is not finite (float64 overflow)")
        w = w / w.max()
    # 3. P, float64: weights p = (theta*m)^2 (the leaves), batch norm := its eval scale squared, ReLU := identity,
    #    input one all-ones sample
    p = {m: (m.weight.detach().to(torch.float64) * masks[m]).square().requires_grad_(True) for m in layers}
    scale2 = {}

    def sq_norm(bn, z):
        if bn not in scale2:
            scale2[bn] = ((bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().to(torch.float64) ** 2).view(1, -1, 1, 1)
        return z * scale2[bn]

    one = torch.ones((1,) + tuple(x.shape[1:]), dtype=torch.float64, device=x.device)
    z2 = substituted_forward(net, one, p, sq_norm, lambda z: z, False)
    r = (z2.reshape(-1) * w).sum()
    grads = torch.autograd.grad(r, [p[m] for m in layers])
    # 4. score = p * dR/dp
    return [(p[m] * g).detach() for m, g in zip(layers, grads)]


def px_prune(net, x, density, rounds):
    """Iterative PX (docs/px-method.md#pruning-loop): round r keeps n_keep = N - floor((1 - d_r) N) of the highest scores among the kept
    weights, d_r = density^((r+1)/rounds), globally, never reviving a pruned weight."""
    layers = prunable(net)
    masks = {m: torch.ones_like(m.weight) for m in layers}
    total = sum(m.weight.numel() for m in layers)
    for r in range(rounds):
        d = density if r == rounds - 1 else density ** ((r + 1) / rounds)
        scores = px_scores(net, masks, x)
        flat = torch.cat([s.reshape(-1) for s in scores])
        kept = torch.cat([masks[m].reshape(-1) for m in layers]) > 0
        flat = torch.where(kept, flat, torch.full_like(flat, -math.inf))
        n_keep = min(total - math.floor((1 - d) * total), int(kept.sum()))
        keep = torch.zeros(total, dtype=torch.bool, device=flat.device)
        keep[torch.topk(flat, n_keep, sorted=False).indices] = True
        keep &= kept
        off = 0
        for m in layers:
            n = m.weight.numel()
            masks[m] = keep[off:off + n].view_as(m.weight).to(m.weight.dtype)
            off += n
    with torch.no_grad():
        for m in layers:
            m.weight.mul_(masks[m])
    return masks


# ---------------------------------------------------------------- timing
def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def median_of(fn, dev, reps, seconds):
    """warm-up call, then up to `reps` timed calls within `seconds`; the median (ms, or fn's own figure)"""
    fn()
    samples, t_start = [], time.perf_counter()
    while len(samples) < reps:
        sync(dev)
        t0 = time.perf_counter()
        v = fn()
        sync(dev)
        samples.append(v if v is not None else 1000 * (time.perf_counter() - t0))
        if time.perf_counter() - t_start > seconds:
            break
    return statistics.median(samples), len(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (GpuBench.SMOKE): checks the plumbing only")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--budget-s", type=float, default=120, help="seconds for all workloads")
    ap.add_argument("--only", help="comma-separated keys")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (CPU ops)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1)
    sz = SMOKE if a.smoke else FULL
    dev = torch.device(a.device)
    deadline = time.perf_counter() + a.budget_s
    only = set(a.only.split(",")) if a.only else None
    tag = " (smoke sizes)" if a.smoke else ""
    result = {"side": "pytorch", "torch": torch.__version__, "python": platform.python_version(),
              "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
              "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if dev.type == "cuda" else None,
              "tf32": False, "smoke": a.smoke, "sizes": sz, "finished": False, "rows": []}

    def emit():
        text = json.dumps(result, indent=1)
        if a.out:
            with open(a.out + ".tmp", "w") as f:
                f.write(text)
            import os
            os.replace(a.out + ".tmp", a.out)
        return text

    def share(fraction):
        return max(1.0, (deadline - time.perf_counter()) * fraction)

    def step_case(make, classes, batch, side, iters, fraction):
        net = make().to(dev).train()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(batch, 3, side, side, generator=g).to(dev)
        y = (torch.arange(batch) % classes).to(dev)
        n = 1 if a.smoke else iters

        def run():
            for _ in range(n):
                F.cross_entropy(net(x), y).backward()
                net.zero_grad(set_to_none=True)
        ms, k = median_of(run, dev, 5, share(fraction))
        return ms / n, f"median of {k}, {n} steps per repetition"

    def px_case(fraction):
        x = torch.randn(sz["px_images"], 3, sz["px_side"], sz["px_side"], generator=torch.Generator().manual_seed(1)).to(dev)

        def fresh():
            torch.manual_seed(1)
            return CifarResNet20().to(dev).eval()
        px_prune(fresh(), x, sz["px_density"] ** (2 / sz["px_rounds"]), 2)  # warm-up
        samples, t_start = [], time.perf_counter()
        while len(samples) < 3:
            net = fresh()
            sync(dev)
            t0 = time.perf_counter()
            px_prune(net, x, sz["px_density"], sz["px_rounds"])
            sync(dev)
            samples.append(1000 * (time.perf_counter() - t0))
            if time.perf_counter() - t_start > share(fraction):
                break
        return statistics.median(samples), f"median of {len(samples)}"

    def train_case():
        n, side, batch = sz["train_images"], sz["train_side"], sz["train_batch"]
        g = torch.Generator().manual_seed(1)
        xs = torch.rand(n, 3, side, side, generator=g)
        ys = torch.arange(n) % 10
        xt = torch.rand(sz["test_images"], 3, side, side, generator=g)
        yt = torch.arange(sz["test_images"]) % 10
        if dev.type == "cuda":
            xs, xt = xs.pin_memory(), xt.pin_memory()
        net = CifarResNet20().to(dev)
        masks = {m.weight: (torch.rand(m.weight.shape, generator=g) < 0.1).to(torch.float32).to(dev) for m in prunable(net)}
        with torch.no_grad():
            for p, m in masks.items():
                p.mul_(m)
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

        def epoch(count):
            net.train()
            order = torch.randperm(count)
            for s in range(0, count - (1 if count % batch == 1 else 0), batch):
                idx = order[s:s + batch]
                x = xs[idx].to(dev, non_blocking=True)
                y = ys[idx].to(dev, non_blocking=True)
                loss = F.cross_entropy(net(x), y)
                loss.backward()
                for p, m in masks.items():
                    p.grad.mul_(m)
                opt.step()
                opt.zero_grad(set_to_none=True)
                with torch.no_grad():
                    for p, m in masks.items():
                        p.mul_(m)
                if not math.isfinite(loss.item()):
                    raise ArithmeticError("training diverged")
            net.eval()
            with torch.no_grad():
                for s in range(0, xt.shape[0], 500):
                    F.cross_entropy(net(xt[s:s + 500].to(dev)), yt[s:s + 500].to(dev)).item()

        epoch(min(n, 10 * batch))  # warm-up
        samples, t_start = [], time.perf_counter()
        budget = share(1.0) - 2
        while len(samples) < 3:
            sync(dev)
            t0 = time.perf_counter()
            epoch(n)
            sync(dev)
            samples.append(n / (time.perf_counter() - t0))
            el = time.perf_counter() - t_start
            if el * (len(samples) + 1) / len(samples) > budget:
                break
        return statistics.median(samples), f"median of {len(samples)} epochs, including evaluating {sz['test_images']} test images"

    cases = [
        ("resnet20_fwd_bwd", "ms", lambda: step_case(CifarResNet20, 10, sz["resnet20_batch"], sz["resnet20_side"], 8, 0.12)),
        ("resnet50_fwd_bwd", "ms", lambda: step_case(lambda: ResNet50(1000), 1000, sz["resnet50_batch"], sz["resnet50_side"], 3, 0.2)),
        ("px", "ms", lambda: px_case(0.3)),
        ("train_epoch", "images/s", train_case),
    ]
    for key, unit, run in cases:
        row = {"key": key, "unit": unit, "what": key + tag, "status": "ok", "value": None, "note": ""}
        result["rows"].append(row)
        t0 = time.perf_counter()
        if only is not None and key not in only:
            row.update(status="skipped", note="not selected (--only)")
        elif deadline - time.perf_counter() < 3:
            row.update(status="skipped", note="skipped: the PyTorch part's time budget ran out")
        else:
            try:
                row["value"], row["note"] = run()
            except Exception as e:  # one workload failing leaves the others
                row.update(status="failed", note=f"failed: {type(e).__name__}: {e}".split("\n")[0])
        print(f"[pytorch] {key:17s} {row['value'] if row['value'] is not None else ''} {unit} {row['note']} "
              f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        emit()
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    result["finished"] = True
    print(emit())


if __name__ == "__main__":
    main()
