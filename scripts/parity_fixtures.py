#!/usr/bin/env python3
"""Generates the backbone parity fixtures in Tests/BackbonesTests/Fixtures. Needs torch, torchvision, timm
and efficientnet-lite-pytorch==0.1.0; tests never do.

    python scripts/parity_fixtures.py                 # synthetic-weight fixtures for every backbone
    python scripts/parity_fixtures.py --real-lite0 W  # + reference logits of the real Lite0 weights (W = .pth)

Synthetic weights follow the integer-hash rule in Sources/Backbones/WeightLoading.swift (SyntheticWeights),
so only the rule, the expected logits and one parameter gradient are stored, never the weights.
"""
import argparse, json, math, os
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "BackbonesTests", "Fixtures")
M32 = 0xFFFFFFFF


def name_hash(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & M32
    return h


def unit(seed, n):
    x = (np.uint64(seed) + (np.arange(n, dtype=np.uint64) * np.uint64(2654435761))) & np.uint64(M32)
    x ^= x >> np.uint64(15); x = (x * np.uint64(0x2C1B3C6D)) & np.uint64(M32)
    x ^= x >> np.uint64(12); x = (x * np.uint64(0x297A2D39)) & np.uint64(M32)
    x ^= x >> np.uint64(15)
    return x.astype(np.float64) / 4294967296.0


def rule(name, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    u = unit(name_hash(name), n)
    if name.endswith("num_batches_tracked"):
        v = np.zeros(n)
    elif name.endswith("running_var"):
        v = 0.5 + u
    elif name.endswith("running_mean"):
        v = (2 * u - 1) * 0.1
    elif name.endswith("bias"):
        v = (2 * u - 1) * 0.1
    elif len(shape) == 1:
        v = 1 + (2 * u - 1) * 0.2
    elif "token" in name or "pos_embed" in name:
        v = (2 * u - 1) * 0.02
    else:
        fan_in = max(1, n // shape[0]) if len(shape) >= 2 else 1
        v = (2 * u - 1) * math.sqrt(3.0 / fan_in)
    return v.astype(np.float32).reshape(shape)


def models():
    import torchvision.models as tvm, timm
    from efficientnet_lite_pytorch import EfficientNet
    return {
        "efficientnet_lite0": (lambda: EfficientNet.from_name("efficientnet-lite0"), "_conv_stem.weight", 2),
        "efficientnet_b0": (lambda: tvm.efficientnet_b0(), "features.0.0.weight", 2),
        "resnet18": (lambda: tvm.resnet18(), "conv1.weight", 2),
        "resnet50": (lambda: tvm.resnet50(), "conv1.weight", 2),
        "vgg16": (lambda: tvm.vgg16(), "features.0.weight", 1),
        "vgg16_bn": (lambda: tvm.vgg16_bn(), "features.0.weight", 1),
        "mobilenet_v2": (lambda: tvm.mobilenet_v2(), "features.0.0.weight", 2),
        "vit_b16": (lambda: tvm.vit_b_16(), "class_token", 1),
        "vit_ti16": (lambda: timm.create_model("vit_tiny_patch16_224", pretrained=False), "cls_token", 1),
    }


def run(make, x_label, batch, grad_name, dtype, watch_kinks=False):
    """Logits and d(Σ logits ⊙ probe)/d(grad_name) with the synthetic weights, in `dtype`; with watch_kinks,
    also the smallest distance of any ReLU/ReLU6 input to a kink (0, and 6 for ReLU6)."""
    torch.manual_seed(0)
    model = make().eval()
    sd = model.state_dict()
    model.load_state_dict({k: torch.from_numpy(rule(k, tuple(v.shape))).to(v.dtype) for k, v in sd.items()})
    model = model.to(dtype)
    closest = [float("inf")]
    def hook(mod, inputs):
        a = inputs[0].detach()
        d = a.abs()
        if isinstance(mod, (torch.nn.ReLU6, torch.nn.Hardtanh)):
            d = torch.minimum(d, (a - 6).abs())
        closest[0] = min(closest[0], float(d.min()))
    if watch_kinks:
        for mod in model.modules():
            if isinstance(mod, (torch.nn.ReLU, torch.nn.ReLU6, torch.nn.Hardtanh)):
                mod.register_forward_pre_hook(hook)
    x = torch.from_numpy(rule_input(x_label, (batch, 3, 224, 224))).to(dtype)
    probe = torch.from_numpy(rule_input("probe", (batch, 1000))).to(dtype)
    logits = model(x)
    (logits * probe).sum().backward()
    grad = dict(model.named_parameters())[grad_name].grad
    return sd, logits.detach().double(), grad.double(), closest[0]


def synthetic_fixture(name, make, grad_name, batch):
    # The reference is float64. `closest_kink` records how near a ReLU input came to 0 (or 6): with millions
    # of activations some always lie within float32 rounding of a kink, where the gradient mask is arbitrary;
    # together with `torch_f32_grad_error` it explains the gradient tolerance the tests use.
    label = "input"
    sd, logits, grad, closest = run(make, label, batch, grad_name, torch.float64, watch_kinks=True)
    _, logits32, grad32, _ = run(make, label, batch, grad_name, torch.float32)
    rel = lambda a, b: float((a - b).abs().max() / b.abs().max())
    fixture = {
        "arch": name, "batch": batch, "resolution": 224, "input_label": label, "torch": torch.__version__,
        "reference": "float64", "closest_kink": closest if math.isfinite(closest) else None,
        "torch_f32_logit_error": rel(logits32, logits), "torch_f32_grad_error": rel(grad32, grad),
        "state_dict": [[k, list(v.shape)] for k, v in sd.items()],
        "logits": [float("%.9g" % v) for v in logits.flatten()],
        "grad_name": grad_name, "grad_shape": list(grad.shape),
        "grad": [float("%.9g" % v) for v in grad.flatten()],
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(name, label, "closest kink %.1e" % closest, "torch f32 errors: logits %.1e grad %.1e" %
          (fixture["torch_f32_logit_error"], fixture["torch_f32_grad_error"]))


def rule_input(label, shape):
    return (2 * unit(name_hash(label), int(np.prod(shape))) - 1).astype(np.float32).reshape(shape)


def preprocess(path, resize, crop, mean, std):
    """The eval transform tlab implements: decode, gray → RGB, antialiased bilinear resize of the shorter side,
    centre crop, (x/255 − mean)/std — on float tensors, like torchvision's functional API."""
    import torchvision.transforms.functional as F
    from torchvision.io import read_image, ImageReadMode
    img = read_image(path, ImageReadMode.RGB).float()
    img = F.resize(img, [resize], interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    img = F.center_crop(img, [crop, crop])
    m = torch.tensor(mean).view(3, 1, 1) * 255
    s = torch.tensor(std).view(3, 1, 1) * 255
    return (img - m) / s


def real_lite0(weights, images, out_name, resize):
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name("efficientnet-lite0").eval()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    x = torch.stack([preprocess(p, resize, 224, [127 / 255] * 3, [128 / 255] * 3) for p in images])
    with torch.no_grad():
        logits = model(x)
    fixture = {"weights": os.path.basename(weights), "resize": resize, "images": [os.path.basename(p) for p in images],
               "logits": [[round(float(v), 6) for v in row] for row in logits],
               "top5": [row.topk(5).indices.tolist() for row in logits]}
    with open(os.path.join(OUT, out_name), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(out_name, [row.topk(1).indices.item() for row in logits])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", nargs="*")
    p.add_argument("--real-lite0", metavar="PTH")
    p.add_argument("--elpv", metavar="DIR", help="ELPV images folder for the real-weights fixture")
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    if args.real_lite0:
        photos = sorted(os.path.join(OUT, "photos", f) for f in os.listdir(os.path.join(OUT, "photos")) if f.endswith(".png"))
        real_lite0(args.real_lite0, photos, "lite0_photos.json", 256)
        if args.elpv:
            cells = [os.path.join(args.elpv, f"cell{n:04d}.png") for n in (1, 2, 700, 1900, 2400, 2624)]
            real_lite0(args.real_lite0, cells, "lite0_elpv.json", 224)
        return
    for name, (make, grad_name, batch) in models().items():
        if args.only and name not in args.only:
            continue
        synthetic_fixture(name, make, grad_name, batch)


if __name__ == "__main__":
    main()
