"""Writes testdata/golden/seg_ops.safetensors: PyTorch's numbers for the operations segmentation
models add (dilated convolution, bilinear upsampling in both align_corners modes, adaptive average
pooling, concatenation, per-pixel cross-entropy with an ignore index), each as inputs, a random
upstream gradient dy, the output y and the inputs' gradients. Float32 throughout.
Run from the checkout's root: python3 testdata/tools/seg_ops.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import st_io  # noqa: E402

OUT = "testdata/golden/seg_ops.safetensors"
torch.manual_seed(12)
out = {}


def case(name, f, inputs):
    xs = {k: v.clone().requires_grad_(v.dtype.is_floating_point) for k, v in inputs.items()}
    y = f(**xs)
    dy = torch.randn_like(y) if y.dim() > 0 else torch.tensor(1.0)
    y.backward(dy)
    for k, v in inputs.items():
        out[f"{name}.{k}"] = v
        if v.dtype.is_floating_point:
            out[f"{name}.d{k}"] = xs[k].grad
    out[f"{name}.y"] = y.detach().reshape(y.shape if y.dim() > 0 else [1])
    out[f"{name}.dy"] = dy.reshape(dy.shape if dy.dim() > 0 else [1])


case("dilconv", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=2, dilation=2),
     {"x": torch.randn(2, 3, 9, 8), "w": torch.randn(4, 3, 3, 3), "b": torch.randn(4)})
case("dilconv_s2", lambda x, w: F.conv2d(x, w, None, stride=2, padding=3, dilation=3),
     {"x": torch.randn(2, 4, 11, 10), "w": torch.randn(5, 4, 3, 3)})
for ac in (False, True):
    tag = "ac" if ac else "noac"
    case(f"up_{tag}", lambda x: F.interpolate(x, size=(13, 17), mode="bilinear", align_corners=ac),
         {"x": torch.randn(2, 3, 5, 4)})
    case(f"down_{tag}", lambda x: F.interpolate(x, size=(4, 3), mode="bilinear", align_corners=ac),
         {"x": torch.randn(1, 2, 9, 10)})
    case(f"one_{tag}", lambda x: F.interpolate(x, size=(6, 7), mode="bilinear", align_corners=ac),
         {"x": torch.randn(2, 3, 1, 1)})
case("adapt_down", lambda x: F.adaptive_avg_pool2d(x, (3, 5)), {"x": torch.randn(2, 3, 7, 11)})
case("adapt_up", lambda x: F.adaptive_avg_pool2d(x, (7, 7)), {"x": torch.randn(1, 2, 5, 3)})
case("adapt_one", lambda x: F.adaptive_avg_pool2d(x, 1), {"x": torch.randn(2, 4, 6, 5)})
case("cat", lambda a, b, c: torch.cat([a, b, c], 1),
     {"a": torch.randn(2, 3, 4, 5), "b": torch.randn(2, 1, 4, 5), "c": torch.randn(2, 2, 4, 5)})
labels = torch.randint(0, 5, (2, 6, 7))
labels[0, :2, :] = 255
labels[1, 3, 4] = 255
out["ce2d.labels"] = labels.to(torch.int32)
case("ce2d", lambda logits: F.cross_entropy(logits, labels, ignore_index=255), {"logits": torch.randn(2, 5, 6, 7)})
del out["ce2d.dy"]
st_io.write(OUT, out, {"generator": "testdata/tools/seg_ops.py", "torch": torch.__version__})
print(OUT, len(out), "tensors")
