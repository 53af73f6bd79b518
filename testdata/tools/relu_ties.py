"""Records PyTorch's ReLU gates at the near-ties of the golden ResNet-20's training forward.

Among the ~19M ReLU inputs of that forward (100 images, train-mode batch norm) a few hundred lie
within 1e-4 of zero. Two float32 evaluations that sum in different orders (another library,
another processor's SIMD width) can round such an input to the other side of zero, and one flipped
gate moves every gradient upstream of it by ~1e-3 in relative L2. The tests therefore take
PyTorch's side at exactly these units (nn GoldenResNet20Test, px GoldenScoresTest) and compute
everything else themselves. Output: testdata/golden/resnet20_relu_ties.safetensors with, per ReLU
site s (0 the stem, 1 + 2b and 2 + 2b the two ReLUs of block b), `site.<s>.index` (I64 flat
indices into that site's [N, C, H, W] input), `site.<s>.gate` (U8, 1 where PyTorch's input was
> 0) and `site.<s>.z` (F32, PyTorch's input there).

Run from the repository root:  python3 testdata/tools/relu_ties.py
(needs torch; it checks that its logits, loss and gradients equal the golden file's first).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_io import read, write  # noqa: E402

THRESHOLD = 1e-4
GOLDEN = "testdata/golden/resnet20_seed1.safetensors"
OUT = "testdata/golden/resnet20_relu_ties.safetensors"

def forward(g, p, pins):
    """train-mode forward and backward; pins: {site: (index tensor, gate tensor)}; returns
    (logits, loss, parameter dict with grads, per-site pre-activations, per-site output grads)"""
    params = {k: v.detach().clone().requires_grad_() if (v.dtype == torch.float32 and "running" not in k) else v.clone()
              for k, v in p.items()}
    sites, outs = [], []

    def relu(z):
        s = len(sites)
        sites.append(z.detach())
        gate = (z.detach() > 0).to(z.dtype).reshape(-1)
        if s in pins:
            idx, gt = pins[s]
            gate[idx] = gt.to(z.dtype)
        y = z * gate.reshape(z.shape)
        y.retain_grad()
        outs.append(y)
        return y

    def bn(x, name):
        return F.batch_norm(x, params[name + ".running_mean"], params[name + ".running_var"], params[name + ".weight"],
                            params[name + ".bias"], training=True, momentum=0.1, eps=1e-5)

    out = relu(bn(F.conv2d(g["x"], params["conv.weight"], padding=1), "bn"))
    b = 0
    while "blocks.%d.conv1.weight" % b in params:
        pre = "blocks.%d." % b
        stride = 2 if (pre + "shortcut.0.weight") in params else 1
        h = relu(bn(F.conv2d(out, params[pre + "conv1.weight"], stride=stride, padding=1), pre + "bn1"))
        h = bn(F.conv2d(h, params[pre + "conv2.weight"], padding=1), pre + "bn2")
        sc = bn(F.conv2d(out, params[pre + "shortcut.0.weight"], stride=2), pre + "shortcut.1") if stride == 2 else out
        out = relu(h + sc)
        b += 1
    logits = F.linear(out.mean((2, 3)), params["fc.weight"], params["fc.bias"])
    loss = F.cross_entropy(logits, g["y"])
    loss.backward()
    return logits, loss, params, sites, [o.grad for o in outs]


def bn_before(s):
    """the batch norm whose output is site s's ReLU input"""
    if s == 0:
        return "bn"
    return "blocks.%d.%s" % ((s - 1) // 2, "bn1" if s % 2 == 1 else "bn2")


def rel(a, b):
    return float((a.detach().double() - b.double()).norm() / b.double().norm())


def main():
    g = read(GOLDEN)
    p = {k[len("weight."):]: v for k, v in g.items() if k.startswith("weight.")}
    # near-ties of this PyTorch's forward, with its own gates
    _, _, _, sites, _ = forward(g, p, {})
    pins = {}
    for s, z in enumerate(sites):
        flat = z.reshape(-1)
        idx = torch.nonzero(flat.abs() < THRESHOLD).reshape(-1)
        pins[s] = (idx, (flat[idx] > 0).to(torch.uint8))
    # The golden file's gradients were made on another processor, whose float32 sums may have put
    # some of these near-ties on the other side. Find them from the gradients alone, walking from
    # the output back: the bias gradient of the batch norm feeding site s sums, per channel, the
    # gated output gradient of s, so a flipped unit u of channel c leaves a residual of
    # +-dL/dy_u in channel c (and the later sites, fixed first, decide dL/dy exactly).
    flips = 0
    for s in reversed(range(len(sites))):
        while True:
            _, _, params, sites_now, ygrad = forward(g, p, pins)
            name = bn_before(s) + ".bias"
            r = g["grad." + name].double() - params[name].grad.double()
            scale = g["grad." + name].double().norm()
            c = int(r.abs().argmax())
            if float(r[c].abs()) < 1e-5 * float(scale):
                break
            idx, gate = pins[s]
            shape = sites_now[s].shape
            per_c = shape[2] * shape[3]
            chan = (idx // per_c) % shape[1]
            cand = torch.nonzero(chan == c).reshape(-1)
            dy = ygrad[s].reshape(-1)[idx[cand]].double()
            effect = (1 - 2 * gate[cand].double()) * dy  # change of the bias gradient if u flips
            best = int((r[c] - effect).abs().argmin())
            if float((r[c] - effect[best]).abs()) > 0.1 * float(r[c].abs()):
                sys.exit("site %d channel %d: residual %.3e matches no single near-tie (%d candidates)" % (s, c, float(r[c]), cand.numel()))
            k = int(cand[best])
            gate = gate.clone()
            gate[k] = 1 - gate[k]
            pins[s] = (idx, gate)
            flips += 1
            print("site %2d: flipped unit %d (z = %.3e here) to gate %d" % (s, int(idx[k]), float(sites_now[s].reshape(-1)[idx[k]]), int(gate[k])))
    logits, loss, params, sites, _ = forward(g, p, pins)
    print("logits_train rel %.2e, loss rel %.2e" % (rel(logits, g["logits_train"]), rel(loss.reshape(1), g["loss_train"].reshape(1))))
    worst = max(rel(params[k].grad, g["grad." + k]) for k in params if params[k].grad is not None)
    print("with the golden file's gates at the near-ties: worst gradient rel %.2e (%d of them flipped from this machine's)" % (worst, flips))
    if worst > 1e-5:
        sys.exit("no consistent set of gates found; not writing")
    out_t, total = {}, 0
    for s, z in enumerate(sites):
        idx, gate = pins[s]
        out_t["site.%d.index" % s] = idx.to(torch.int64)
        out_t["site.%d.gate" % s] = gate.to(torch.uint8)
        out_t["site.%d.z" % s] = z.reshape(-1)[idx].to(torch.float32)
        total += idx.numel()
    write(OUT, out_t, {"threshold": repr(THRESHOLD), "sites": str(len(sites)), "producer": "PyTorch " + torch.__version__})
    print("wrote %s: %d units with |z| < %g over %d sites" % (OUT, total, THRESHOLD, len(sites)))


if __name__ == "__main__":
    main()
