#!/usr/bin/env python3
"""PyTorch's figures for pxprune's benchmarks: the same models, shapes and thread count, timed the
way JMH times ours (warm-up, then rounds of calls; the fastest round's mean time per call, as
BenchMain reports JMH's fastest iteration), printed as one JSON object on stdout.

The keys are those of pxprune's JMH results without pxprune-only parameters, e.g.
"ModelBench.forwardBackward batch=100 model=resnet20" or "KernelBench.convForward layer=16-16-32-1",
so that BenchMain can put each figure next to ours. Run by BenchMain (`./pxprune bench`) when a
python3 with torch is found; by hand:

    python3 bench/pytorch_bench.py --threads 2 [--include REGEX] [--seconds 1] [--rounds 3]

With --memory it also measures the peak memory of one training step per image ("MemoryBench.train
batch=B model=M", pxprune's MemoryBench keys), each case in a child process, two ways, after two
warm-up steps:
  * tensors: the peak of the bytes in PyTorch's tensors during the third step above what they held
    before it, from the profiler's memory timeline (profile_memory=True, export_memory_timeline):
    what pxprune's figure counts (its native buffers);
  * RSS: the peak resident set of a fourth step above the RSS before it (/proc/self/clear_refs
    resets the peak; Linux), with glibc's MALLOC_MMAP_THRESHOLD_ fixed at 64 KiB so that every
    tensor buffer is its own mapping, returned when freed (the default threshold adapts and keeps
    freed buffers resident). It also counts PyTorch's scratch, and misses buffers that reuse memory
    freed inside the process.
Both divided by the batch, in MiB.

Install: python3 -m venv V && V/bin/pip install torch==2.13.0+cpu numpy
(--index-url https://download.pytorch.org/whl/cpu for the +cpu wheels).
"""
import argparse
import json
import platform
import re
import sys
import time
import types

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- models (pxprune's nn/models layouts)
class Block(nn.Module):
    """open_lth's CIFAR ResNet block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    def __init__(self, cin, cout, down):
        super().__init__()
        s = 2 if down else 1
        self.conv1 = nn.Conv2d(cin, cout, 3, s, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, 2, 0, bias=False), nn.BatchNorm2d(cout))
                         if down or cin != cout else nn.Identity())

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth=20, width=16, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, cur = [], width
        for stage in range(3):
            f = width << stage
            for b in range(n):
                blocks.append(Block(cur, f, stage > 0 and b == 0))
                cur = f
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cur, classes)

    def forward(self, x):
        out = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


VGG16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512]


class CifarVgg(nn.Module):
    """open_lth's CIFAR VGG with batch norm (0 = 2x2 max pooling), global pooling, fc 512 -> classes."""

    def __init__(self, plan=VGG16, classes=10):
        super().__init__()
        layers, cur = [], 3
        for f in plan:
            if f == 0:
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cur, f, 3, 1, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
                cur = f
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cur, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.layers(x), 1).flatten(1))


def resnet50():
    # torchvision's C extension may not load: its meta registrations are not needed for the model
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision
    return torchvision.models.resnet50(num_classes=1000)


# ---------------------------------------------------------------- timing
def best_ms(fn, seconds, rounds):
    """JMH's AverageTime, reported as BenchMain reads it: warm up for 2 x `seconds`, then `rounds`
    rounds of at least `seconds` (and one call) each; the fastest round's mean time per call (on a
    shared machine the fastest round is the least disturbed one)."""
    end = time.perf_counter() + 2 * seconds
    while time.perf_counter() < end:
        fn()
    best = float("inf")
    for _ in range(rounds):
        calls, t0 = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            t = time.perf_counter() - t0
            if t >= seconds:
                break
        best = min(best, 1000 * t / calls)
    return best


# ResNet-20's convolutions: in-out-size-stride[-kernel] (kernel 3 unless given) and how often each occurs
RESNET20_CONVS = {"3-16-32-1": 1, "16-16-32-1": 6, "16-32-32-2": 1, "16-32-32-2-1": 1, "32-32-16-1": 5,
                  "32-64-16-2": 1, "32-64-16-2-1": 1, "64-64-8-1": 5}


def conv_case(layer, batch=100):
    p = [int(v) for v in layer.split("-")]
    cin, cout, hw, s = p[:4]
    k = p[4] if len(p) > 4 else 3
    x = torch.full((batch, cin, hw, hw), 0.5, requires_grad=True)
    w = torch.full((cout, cin, k, k), 0.01, requires_grad=True)
    o = (hw + 2 * (k // 2) - k) // s + 1
    seed = torch.ones(batch, cout, o, o)
    return x, w, s, k // 2, seed


# MemoryBench's cases (pxprune's bench/MemoryBench.CASES): model, input side, classes, batch
MEMORY_CASES = (("resnet20", 32, 10, 100), ("vgg16_bn", 32, 10, 100), ("resnet50", 224, 1000, 8))


def make_model(name):
    return {"resnet20": CifarResNet, "vgg16_bn": CifarVgg, "resnet50": resnet50}[name]()


def memory_case(name, side, classes, batch):
    """the child process of --memory: MiB per image at the peak of one SGD step above what was held
    before it, from the profiler's tensor timeline and from the RSS"""
    from torch.profiler import profile, ProfilerActivity
    import tempfile
    import warnings
    def rss():
        with open("/proc/self/status") as f:
            d = dict(line.split(":", 1) for line in f if ":" in line)
        return int(d["VmRSS"].split()[0]) * 1024, int(d["VmHWM"].split()[0]) * 1024
    net = make_model(name)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, 3, side, side, generator=g)
    y = torch.randint(0, classes, (batch,), generator=g)
    def step():
        opt.zero_grad()  # gradients set to None: each step makes them, as pxprune's SGD.zeroGrad
        F.cross_entropy(net(x), y).backward()
        opt.step()
    step()
    step()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as p:
        step()
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # export_memory_timeline is marked deprecated (for CUDA); it still serves the CPU
        p.export_memory_timeline(d + "/timeline.json", device="cpu")
        with open(d + "/timeline.json") as f:
            totals = [sum(s) for s in json.load(f)[1]]
    tensors = (max(totals) - totals[0]) / batch / 2 ** 20
    base, _ = rss()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current RSS
    step()
    _, peak = rss()
    return tensors, (peak - base) / batch / 2 ** 20


def memory(inc, threads):
    """MemoryBench key -> {"tensors": MiB per image, "rss": MiB per image}, each case in its own process"""
    import os
    import subprocess
    out = {}
    for name, side, classes, batch in MEMORY_CASES:
        key = f"MemoryBench.train batch={batch} model={name}"
        if not inc.search(key):
            continue
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
        r = subprocess.run([sys.executable, __file__, "--threads", str(threads), "--memory-case", name, str(side), str(classes),
                            str(batch)], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{key}: skipped ({r.stderr.strip().splitlines()[-1:] or r.returncode})", file=sys.stderr)
            continue
        tensors, rss = (float(v) for v in r.stdout.strip().splitlines()[-1].split())
        out[key] = {"tensors": tensors, "rss": rss}
        print(f"{key}: {tensors:.2f} MiB per image in tensors, {rss:.2f} in RSS", file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, required=True, help="torch.set_num_threads (pxprune's thread count)")
    ap.add_argument("--include", default=".*", help="regex over the result keys (like JMH's include)")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds per round (warm-up: two rounds' worth)")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds per case; the fastest is reported")
    ap.add_argument("--memory", action="store_true", help="also the peak memory per image of a training step")
    ap.add_argument("--memory-case", nargs=4, metavar=("MODEL", "SIDE", "CLASSES", "BATCH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.memory_case:
        m, side, classes, batch = a.memory_case
        print(*memory_case(m, int(side), int(classes), int(batch)))
        return
    torch.manual_seed(1)
    inc = re.compile(a.include)
    out = {}

    def case(key, fn):
        if inc.search(key):
            out[key] = best_ms(fn, a.seconds, a.rounds)
            print(f"{key}: {out[key]:.3f} ms", file=sys.stderr)

    for layer in RESNET20_CONVS:
        x, w, s, pad, seed = conv_case(layer)
        def fwd(x=x, w=w, s=s, pad=pad):
            with torch.no_grad():
                F.conv2d(x, w, None, s, pad)
        def fwdbwd(x=x, w=w, s=s, pad=pad, seed=seed):
            F.conv2d(x, w, None, s, pad).backward(seed)
            x.grad = None
            w.grad = None
        case(f"KernelBench.convForward layer={layer}", fwd)
        case(f"KernelBench.convForwardBackward layer={layer}", fwdbwd)

    def models():  # pxprune's ModelBench: its Cifar benchmarks, then its ImageNet ones
        for name, make in (("resnet20", CifarResNet), ("vgg16_bn", CifarVgg)):
            for batch in (1, 100):
                yield name, make, batch, 32, ("forward", "forwardBackward")
        yield "resnet50", resnet50, 16, 224, ("imageNetForward", "imageNetForwardBackward")

    for name, make, batch, size, methods in models():
        keys = [f"ModelBench.{m} batch={batch} model={name}" for m in methods]
        if not any(inc.search(k) for k in keys):
            continue
        try:
            net = make()
        except Exception as e:  # torchvision missing: ResNet-50 is skipped, the rest still runs
            print(f"{name}: skipped ({e})", file=sys.stderr)
            continue
        net.train()
        if batch < 2 and name.startswith("vgg"):
            net.eval()  # 1x1 maps: batch statistics of one sample do not exist (as in pxprune's ModelBench)
        classes = 1000 if name == "resnet50" else 10
        g = torch.Generator().manual_seed(1)
        x = torch.rand(batch, 3, size, size, generator=g)
        y = torch.randint(0, classes, (batch,), generator=g)
        def fwd(net=net, x=x):
            with torch.no_grad():
                net(x)
        def fwdbwd(net=net, x=x, y=y):
            F.cross_entropy(net(x), y).backward()
            net.zero_grad(set_to_none=True)
        case(keys[0], fwd)
        case(keys[1], fwdbwd)

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    mem = memory(inc, a.threads) if a.memory else {}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": cpu,
                      "python": platform.python_version(), "milliseconds": out, "mib_per_image": mem}, indent=1))


if __name__ == "__main__":
    main()
