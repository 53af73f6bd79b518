#!/usr/bin/env python3
"""Times the reference implementations of PX and SynFlow, unmodified, on pxprune's PxBench workload:
CIFAR ResNet-20 (their own definition of it), 100 images of 3x32x32, 100 rounds of the exponential
schedule to density 0.018 with global selection, torch.set_num_threads(pxprune's threads). Prints
one JSON object on stdout; BenchMain (`./pxprune bench`) runs it and puts the time next to
pxprune's px100Rounds / synflow100Rounds of the same run.

    python3 bench/authors_bench.py px DIR --threads 2       # DIR: a checkout of the PX authors' code
    python3 bench/authors_bench.py synflow DIR --threads 2  # DIR: a checkout of Synaptic-Flow

This file is ours: it imports their modules from DIR and calls them; nothing of theirs is copied or
changed. What it calls:

  px       the PX authors' repository (github.com/iurada/px-ntk-pruning): lib.models.lottery_resnet
           .resnet20, lib.generator.masked_parameters and lib.pruners.PX. Their prune loop lives in
           train_classification.Experiment (which needs wandb, pandas, torchmetrics and the data
           sets), so the loop is ours, as their Experiment runs it: model.eval(), then per round
           r = 0..T-1 PX.score(...) and PX.mask(d ** ((r + 1) / T), 'global'). PX.score reads the
           images from dataloader.dataset (10 examples of each class: examples_per_class = 10,
           batch_size = 100, so one batch per round), as with CIFAR-10.
  synflow  Synaptic-Flow (github.com/ganguli-lab/Synaptic-Flow): Models.lottery_resnet.resnet20,
           Utils.generator.masked_parameters, Pruners.pruners.SynFlow and their own loop,
           prune.prune_loop(..., schedule='exponential', scope='global', epochs=T).

The PX authors' repository ships a SynFlow of its own, adapted from Synaptic-Flow's; the one timed
here is Synaptic-Flow's.

Only tqdm is needed beyond torch and numpy (both wrap a loop in a progress bar). The bars are
turned off (TQDM_DISABLE=1); where tqdm is not installed, the script registers a stand-in module
tqdm (sys.modules) whose tqdm(iterable) returns the iterable, and the JSON says so ("stand_ins").
OMP_WAIT_POLICY defaults to PASSIVE, as `./pxprune bench` sets it for pxprune and PyTorch.

Before timing, the script checks that their ResNet-20 is pxprune's (--expect-params: the trainable
parameters, their generator.parameters; --expect-prunable: exit 3 if not) and warms torch up on a throwaway model (px: 2 rounds to density
0.5, synflow: 20 rounds to 0.1, as PxBench warms pxprune's JIT); the timed run starts from a fresh
model and times the rounds only (not building the model), one run, as JMH's single shot times
pxprune's. After it, the number of weights kept is reported (pxprune keeps N - floor((1 - d) N)).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import types

CLASSES = 10


def stand_in_tqdm():
    """tqdm when it imports, else a module whose tqdm(iterable) is the iterable; returns what was stood in"""
    os.environ.setdefault("TQDM_DISABLE", "1")  # tqdm >= 4.66 reads it: no bars on stderr
    try:
        import tqdm  # noqa: F401
        return []
    except ImportError:
        m = types.ModuleType("tqdm")
        m.tqdm = lambda iterable=None, *args, **kwargs: iterable
        sys.modules["tqdm"] = m
        return ["tqdm (not installed: tqdm(iterable) returns the iterable)"]


def commit(repo):
    try:
        return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def data(torch, images):
    """images standard-normal 3x32x32 images, labels i % 10, as a dataset with CIFAR-10's `targets` list"""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(images, 3, 32, 32, generator=g)
    y = torch.arange(images) % CLASSES

    class Images(torch.utils.data.TensorDataset):
        def __init__(self):
            super().__init__(x, y)
            self.targets = y.tolist()

    return torch.utils.data.DataLoader(Images(), batch_size=images, shuffle=False)


def px_runner(torch, loader, images):
    from globals import CONFIG
    from lib.generator import masked_parameters, parameters
    from lib.models.lottery_resnet import resnet20
    from lib.pruners import PX
    CONFIG.dataset = "CIFAR10"
    CONFIG.batch_size = images
    CONFIG.experiment_args = {"examples_per_class": images // CLASSES}
    loss = torch.nn.CrossEntropyLoss()

    def run(model, density, rounds, progress=False):
        pruner = PX(masked_parameters(model))
        model.eval()
        for r in range(rounds):
            pruner.score(model, loss, loader, "cpu")
            pruner.mask(density ** ((r + 1) / rounds), "global")
            if progress and (r + 1) % 10 == 0:
                print(f"  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
        return pruner

    return lambda: resnet20(num_classes=CLASSES), parameters, masked_parameters, run


def synflow_runner(torch, loader, images):
    from Models.lottery_resnet import resnet20
    from Pruners.pruners import SynFlow
    from Utils.generator import masked_parameters, parameters
    from prune import prune_loop
    loss = torch.nn.CrossEntropyLoss()

    def run(model, density, rounds, progress=False):
        pruner = SynFlow(masked_parameters(model))
        try:
            prune_loop(model, loss, pruner, loader, "cpu", density, "exponential", "global", rounds)
        except SystemExit:  # prune_loop quit()s when the final density is off by 5 weights or more
            raise SystemExit(f"Synaptic-Flow's prune_loop stopped: the final density is not {density}")
        return pruner

    return lambda: resnet20((3, 32, 32), CLASSES), parameters, masked_parameters, run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("target", choices=("px", "synflow"), help="px: the PX authors' code; synflow: Synaptic-Flow's SynFlow")
    ap.add_argument("repo", help="the checkout's folder")
    ap.add_argument("--threads", type=int, required=True, help="torch.set_num_threads (pxprune's thread count)")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--density", type=float, default=0.018)
    ap.add_argument("--images", type=int, default=100, help="a multiple of 10 (10 classes, as many examples of each)")
    ap.add_argument("--expect-params", type=int, help="pxprune's ResNet-20 parameter count: exit 3 if theirs differs")
    ap.add_argument("--expect-prunable", type=int, help="pxprune's prunable weight count: exit 3 if theirs differs")
    a = ap.parse_args()
    if a.images < CLASSES or a.images % CLASSES:
        ap.error(f"--images {a.images}: give a multiple of {CLASSES}")
    repo = os.path.abspath(a.repo)
    stand_ins = stand_in_tqdm()
    # idle OpenMP threads sleep instead of spinning, as `./pxprune bench` sets for pxprune and PyTorch
    # (with other processes on the cores, spinning threads made 10 SynFlow rounds 24x slower: 8.6 s against 0.36 s)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.path.insert(0, repo)
    import torch
    torch.set_num_threads(a.threads)
    loader = data(torch, a.images)
    make, parameters, masked_parameters, run = (px_runner if a.target == "px" else synflow_runner)(torch, loader, a.images)

    model = make()
    # their generator.parameters: the trainable ones, without the identity shortcuts' fixed scales of 1
    # (layers.Identity2d.weight: 240 more values in ResNet-20, which pxprune's model does not have)
    params = sum(p.numel() for p in parameters(model))
    fixed = sum(p.numel() for p in model.parameters()) - params
    prunable = sum(p.numel() for _, p in masked_parameters(model))
    ours = f"{a.expect_params}, {a.expect_prunable}"
    print(f"{a.target}: their ResNet-20 has {params} trainable parameters (and {fixed} fixed identity scales), {prunable} prunable "
          f"(pxprune's: {ours})", file=sys.stderr)
    if a.expect_params not in (None, params) or a.expect_prunable not in (None, prunable):
        print(f"their ResNet-20 ({params} parameters, {prunable} prunable) is not pxprune's ({ours}); not timed", file=sys.stderr)
        sys.exit(3)

    warm = (2, 0.5) if a.target == "px" else (20, 0.1)
    run(make(), warm[1], warm[0])
    print(f"{a.target}: warmed up ({warm[0]} rounds); timing {a.rounds} rounds to density {a.density} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    pruner = run(model, a.density, a.rounds, progress=True)
    seconds = time.perf_counter() - t0
    kept, total = (int(v) for v in pruner.stats())
    print(f"{a.target}: {seconds:.2f} s, {kept:,} of {total:,} weights kept", file=sys.stderr)
    print(json.dumps({"target": a.target, "repo": repo, "commit": commit(repo), "seconds": seconds, "rounds": a.rounds,
                      "density": a.density, "images": a.images, "params": params, "fixed_identity_scales": fixed, "prunable": prunable, "kept": kept,
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version(),
                      "stand_ins": stand_ins}, indent=1))


if __name__ == "__main__":
    main()
