"""Golden fixtures for nn's torchvision-layout models (testdata/golden/tv/).

For every model it builds the PyTorch reference (torchvision's own builder where torchvision has
the model; DeepLabV3+ in the layout of VainF's DeepLabV3Plus-Pytorch and the small
deeplabv3_resnet20 are written out below from torchvision's pieces), fills EVERY state-dict tensor
from the deterministic formula of testdata/README.md ("Formula weights") -- the Java test helper
nn/src/test/java/pxprune/nn/FormulaWeights.java computes the same float32 values bit for bit --
and records, per model, for the input test_input(S) (from the same formula, not stored), in
testdata/golden/tv/<name>.safetensors:
  eval         float32 logits in eval mode (running statistics)
  train        float32 logits in training mode (batch statistics; dropout modules in eval mode)
  train_f64    float64 logits in training mode, the same model and inputs converted to float64
  aux_eval, aux_train, aux_train_f64   (models with an aux classifier) the aux head's output, upsampled like "out"
  after_train.<key>     the first batch norm's running statistics after the training forward
metadata pytorch_f32_train_error: PyTorch's own float32 training-mode logits' relative L2 distance
from its float64 ones (training-mode batch norm over a few values per channel makes deep networks
ill-conditioned: ~4e-4 for the ResNet-101s at these sizes); and in testdata/golden/tv/<name>.json the torchvision state_dict layout: {"model": name,
"input": S, "classes": K, "keys": [[key, dtype, shape], ...]} in state_dict order.

Run from the repository root:  python3 testdata/tools/tv_models.py [name ...]
(torch and torchvision; torchvision's C extension is not needed).
"""
import copy
import json
import math
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models import resnet as tvr  # noqa: E402
from torchvision.models import vgg as tvv  # noqa: E402
from torchvision.models._utils import IntermediateLayerGetter  # noqa: E402
from torchvision.models.segmentation import deeplabv3 as tvd  # noqa: E402

OUT = "testdata/golden/tv"
M64 = (1 << 64) - 1

# ---------------------------------------------------------------- formula weights


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return h


def uniform(name, n):
    """u in [0, 1) with 24 bits: splitmix64(fnv1a64(name) + i) >> 40, / 2^24, for i = 0 .. n-1 (uint64 wrap-around)"""
    out = np.empty(n, dtype=np.float64)
    base = np.uint64(fnv1a64(name))
    chunk = 1 << 22
    with np.errstate(over="ignore"):
        for s in range(0, n, chunk):
            z = np.arange(s, min(n, s + chunk), dtype=np.uint64) + base
            z = z + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            out[s:s + len(z)] = (z >> np.uint64(40)).astype(np.float64) * (1.0 / (1 << 24))
    return out


def formula(name, shape):
    """the value of state-dict tensor `name` (see testdata/README.md), float64 before the cast to float32"""
    n = int(np.prod(shape)) if len(shape) else 1
    if name.endswith("num_batches_tracked"):
        return np.zeros(n)
    u = uniform(name, n)
    if name.endswith("running_mean"):
        return 0.1 * (u - 0.5)
    if name.endswith("running_var"):
        return 0.5 + u
    if name.endswith("bias"):
        return 0.2 * (u - 0.5)
    if name.endswith("weight") and len(shape) == 1:  # batch norm
        return 0.5 + u
    if name.endswith("weight"):
        fan_in = int(np.prod(shape[1:]))
        return (u - 0.5) * 2.0 * math.sqrt(3.0 / fan_in)
    raise ValueError("no formula for " + name)


def fill(model):
    with torch.no_grad():
        for k, t in model.state_dict().items():
            v = formula(k, list(t.shape))
            t.copy_(torch.from_numpy(v.astype(np.float32) if t.is_floating_point() else v.astype(np.int64)).reshape(t.shape))


# ---------------------------------------------------------------- models not in torchvision


class DeepLabHeadV3Plus(nn.Module):
    """VainF DeepLabV3Plus-Pytorch's head: project (low-level 256 -> 48), aspp, classifier (304 -> 256 -> K)"""

    def __init__(self, in_channels, low_level_channels, num_classes, rates):
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(low_level_channels, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU())
        self.aspp = tvd.ASPP(in_channels, rates)
        self.aspp.project[3] = nn.Dropout(0.1)
        self.classifier = nn.Sequential(nn.Conv2d(304, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
                                        nn.Conv2d(256, num_classes, 1))

    def forward(self, f):
        low = self.project(f["low_level"])
        out = self.aspp(f["out"])
        out = F.interpolate(out, size=low.shape[2:], mode="bilinear", align_corners=False)
        return self.classifier(torch.cat([low, out], dim=1))


class SegModel(nn.Module):
    """backbone (a dict of features) -> classifier -> bilinear upsampling to the input size"""

    def __init__(self, backbone, classifier):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier

    def forward(self, x):
        f = self.backbone(x)
        y = self.classifier(f if isinstance(self.classifier, DeepLabHeadV3Plus) else f["out"])
        return {"out": F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)}


def deeplabv3plus(depth, num_classes):
    builder = tvr.resnet50 if depth == 50 else tvr.resnet101
    r = builder(weights=None, replace_stride_with_dilation=[False, False, True])
    backbone = IntermediateLayerGetter(r, return_layers={"layer1": "low_level", "layer4": "out"})
    return SegModel(backbone, DeepLabHeadV3Plus(2048, 256, num_classes, (6, 12, 18)))


class CifarBlock(nn.Module):
    """open_lth's CIFAR ResNet block with a stride and a dilation of its two 3x3 convolutions"""

    def __init__(self, cin, cout, stride, dilation):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Sequential())

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarBackbone(nn.Module):
    """ResNet-20 (open_lth layout: conv, bn, blocks.0..8), stage 3 dilated (2) instead of strided; no fc"""

    def __init__(self, depth=20, width=16):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, cin, dilation = [], width, 1
        for stage in range(3):
            cout = width << stage
            for b in range(n):
                if stage == 2 and b == 0:  # torchvision's _make_layer: the first block keeps the previous dilation
                    blocks.append(CifarBlock(cin, cout, 1, dilation))
                    dilation = 2
                else:
                    blocks.append(CifarBlock(cin, cout, 2 if stage == 1 and b == 0 else 1, dilation))
                cin = cout
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return {"out": self.blocks(F.relu(self.bn(self.conv(x))))}


def deeplabv3_resnet20(num_classes):
    aspp = tvd.ASPP(64, (1, 2, 3), out_channels=32)
    aspp.project[3] = nn.Dropout(0.1)
    return SegModel(CifarBackbone(), nn.Sequential(aspp, nn.Conv2d(32, num_classes, 1)))


# ---------------------------------------------------------------- fixtures

# name: (builder(num_classes), input side, classes, aux outputs)
MODELS = {
    "tv_resnet18": (lambda k: tvr.resnet18(weights=None, num_classes=k), 67, 7, False),
    "tv_resnet34": (lambda k: tvr.resnet34(weights=None, num_classes=k), 65, 7, False),
    "tv_resnet50": (lambda k: tvr.resnet50(weights=None, num_classes=k), 65, 7, False),
    "tv_resnet101": (lambda k: tvr.resnet101(weights=None, num_classes=k), 64, 7, False),
    "tv_vgg11": (lambda k: tvv.vgg11(weights=None, num_classes=k), 64, 7, False),
    "tv_vgg11_bn": (lambda k: tvv.vgg11_bn(weights=None, num_classes=k), 67, 7, False),
    "tv_vgg16": (lambda k: tvv.vgg16(weights=None, num_classes=k), 65, 7, False),
    "tv_vgg16_bn": (lambda k: tvv.vgg16_bn(weights=None, num_classes=k), 64, 7, False),
    "deeplabv3_resnet50": (lambda k: tvd.deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=k,
                                                            aux_loss=True), 65, 5, True),
    "deeplabv3_resnet101": (lambda k: tvd.deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=k,
                                                              aux_loss=True), 65, 5, True),
    "deeplabv3plus_resnet50": (lambda k: deeplabv3plus(50, k), 81, 5, False),
    "deeplabv3plus_resnet101": (lambda k: deeplabv3plus(101, k), 65, 5, False),
    "deeplabv3_resnet20": (lambda k: deeplabv3_resnet20(k), 32, 5, False),
}

DT = {torch.float32: "F32", torch.int64: "I64"}
WELL_CONDITIONED = 2e-5


def layout(model):
    return [[k, DT[t.dtype], list(t.shape)] for k, t in model.state_dict().items()]


def write_safetensors(path, tensors, metadata):
    """float64 tensors as F64, every other one as F32"""
    st_io.write(path, {k: t if t.dtype == torch.float64 else t.float() for k, t in tensors.items()}, metadata)


def outputs(model, x):
    y = model(x)
    if isinstance(y, dict):
        return y["out"], y.get("aux")
    return y, None


def test_input(side):
    """[2, 3, side, side] float32: (u - 0.5) * 2 * sqrt(3) for the formula's uniform values of the name
    "input" (zero mean, unit variance; FormulaWeights.input computes the same, so no input is stored)"""
    n = 2 * 3 * side * side
    return torch.tensor(((uniform("input", n) - 0.5) * 2.0 * math.sqrt(3.0)).reshape(2, 3, side, side), dtype=torch.float32)


def make(name):
    builder, side, classes, aux = MODELS[name]
    torch.manual_seed(0)
    model = builder(classes)
    fill(model)
    x = test_input(side)
    t = {}
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        model.eval()
        t["eval"], a = outputs(model, x)
        if aux:
            t["aux_eval"] = a
        for m in (model, model64):
            m.train()
            for d in m.modules():
                if isinstance(d, nn.Dropout):
                    d.eval()
        t["train"], a = outputs(model, x)
        if aux:
            t["aux_train"] = a
        t["train_f64"], a = outputs(model64, x.double())
        if aux:
            t["aux_train_f64"] = a
    # training-mode batch norm over few values per channel makes deep networks ill-conditioned:
    # PyTorch's own float32 result is this far from its float64 one (relative L2)
    err32 = ((t["train"].double() - t["train_f64"]).norm() / t["train_f64"].norm()).item()
    train_max, train_std = t["train"].abs().max(), t["train"].std()
    # the test compares with PyTorch's float32 outputs where they are this close to its float64 ones
    # (GoldenTorchvisionModelsTest.WELL_CONDITIONED), else with the float64 ones: keep only those
    for k in (["train_f64", "aux_train_f64"] if err32 <= WELL_CONDITIONED else ["train", "aux_train"]):
        t.pop(k, None)
    first_bn = next((k for k, v in model.named_modules() if isinstance(v, nn.BatchNorm2d)), None)
    sd = model.state_dict()
    for s in ("running_mean", "running_var") if first_bn else ():
        t["after_train." + first_bn + "." + s] = sd[first_bn + "." + s]
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, name + ".safetensors"), t,
                      {"made_by": "testdata/tools/tv_models.py", "torch": torch.__version__,
                       "torchvision": torchvision.__version__, "pytorch_f32_train_error": repr(err32)})
    doc = {"model": name, "input": side, "classes": classes, "keys": layout(model)}
    if aux:  # the same model without its aux classifier (aux_loss=False)
        doc["keys_without_aux"] = [e for e in doc["keys"] if not e[0].startswith("aux_classifier.")]
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write("{\n" + ",\n".join("  " + json.dumps(k) + ": " + (
            "[\n" + ",\n".join("    " + json.dumps(e) for e in v) + "\n  ]" if isinstance(v, list) else json.dumps(v))
            for k, v in doc.items()) + "\n}\n")
    o = t["eval"]
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, {len(sd)} state entries, "
          f"out {list(o.shape)}, eval |y| max {o.abs().max():.4g} std {o.std():.4g}, "
          f"train |y| max {train_max:.4g} std {train_std:.4g}, PyTorch float32 train error {err32:.3g}",
          flush=True)


def selftest():
    # the formula against the values the Java helper prints for the same names (FormulaWeightsTest)
    u = uniform("conv1.weight", 3)
    assert fnv1a64("") == 0xCBF29CE484222325 and fnv1a64("a") == 0xAF63DC4C8601EC8C, "FNV-1a 64"
    print("u(conv1.weight, 0..2) =", [float(v) for v in u])


if __name__ == "__main__":
    selftest()
    for n in sys.argv[1:] or MODELS:
        make(n)
