#!/usr/bin/env python3
"""PyTorch side of tlab's benchmarks. Needs torch (tlab itself never does); run by hand:

    python bench/pytorch_reference.py gemm
    python bench/pytorch_reference.py conv [--batch 32]
    python bench/pytorch_reference.py forward|train --backbone NAME [--res 224] [--batch 32]
    python bench/pytorch_reference.py elpv-fe --split RUN/split.json --weights LITE0.pth
        (the feature-extraction recipe of `tlab train --preset feature-extraction` on the split that run used)
    python bench/pytorch_reference.py elpv-ft --split RUN/split.json --weights LITE0.pth [--epochs 8]
        (the fine-tune-top recipe of `tlab train --preset fine-tune-top`, likewise)

Prints the same JSON lines as `tlab bench ... --json`, so the two can be put side by side.
"""
import argparse, json, os, resource, time
import torch

# PyTorch's CPU tuning guide recommends TCMalloc (or jemalloc) over glibc malloc; on this VM glibc hands
# large tensors back to the kernel and every pass pays the page faults again (Lite0 forward ~3x slower).
# compare.sh runs each measurement both ways; the allocator is part of the implementation's name.
IMPL = "pytorch+tcmalloc" if "tcmalloc" in os.environ.get("LD_PRELOAD", "") else "pytorch"

CONV_CASES = [  # net, layer, cin, cout, k, stride, hw, groups, padding ("same" = TF SAME)
    ("resnet18", "conv1 7x7/2", 3, 64, 7, 2, 224, 1, 3),
    ("resnet18", "layer1 3x3", 64, 64, 3, 1, 56, 1, 1),
    ("resnet18", "layer2 3x3", 128, 128, 3, 1, 28, 1, 1),
    ("resnet18", "layer3 3x3", 256, 256, 3, 1, 14, 1, 1),
    ("resnet18", "layer4 3x3", 512, 512, 3, 1, 7, 1, 1),
    ("resnet18", "layer2 3x3/2", 64, 128, 3, 2, 56, 1, 1),
    ("efficientnet_lite0", "stem 3x3/2", 3, 32, 3, 2, 224, 1, "same"),
    ("efficientnet_lite0", "dw 3x3 @112", 32, 32, 3, 1, 112, 32, "same"),
    ("efficientnet_lite0", "expand 1x1 @112", 16, 96, 1, 1, 112, 1, 0),
    ("efficientnet_lite0", "dw 3x3/2 @112", 96, 96, 3, 2, 112, 96, "same"),
    ("efficientnet_lite0", "project 1x1 @56", 144, 24, 1, 1, 56, 1, 0),
    ("efficientnet_lite0", "dw 5x5 @28", 240, 240, 5, 1, 28, 240, "same"),
    ("efficientnet_lite0", "expand 1x1 @14", 80, 480, 1, 1, 14, 1, 0),
    ("efficientnet_lite0", "head 1x1 @7", 320, 1280, 1, 1, 7, 1, 0),
]


def best_time(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
    return best


def same_pad(hw, k, s):
    out = (hw + s - 1) // s
    total = max((out - 1) * s + k - hw, 0)
    return (total // 2, total - total // 2)


def bench_gemm(args):
    n = args.n
    a, b = torch.rand(n, n), torch.rand(n, n)
    t = best_time(lambda: torch.mm(a, b), args.reps)
    print(json.dumps({"bench": "gemm", "impl": IMPL, "n": n, "gflops": round(2 * n ** 3 / t / 1e9, 1)}))


def bench_conv(args):
    torch.manual_seed(0)
    for net, name, cin, cout, k, s, hw, groups, pad in CONV_CASES:
        x = torch.randn(args.batch, cin, hw, hw, requires_grad=True)
        conv = torch.nn.Conv2d(cin, cout, k, s, padding=0 if pad == "same" else pad, groups=groups, bias=False)
        if pad == "same":
            ph, pw = same_pad(hw, k, s), same_pad(hw, k, s)
            run = lambda: conv(torch.nn.functional.pad(x, (pw[0], pw[1], ph[0], ph[1])))
        else:
            run = lambda: conv(x)
        with torch.no_grad():
            y = run()
        oh = y.shape[2]
        flops = 2 * args.batch * cout * oh * oh * (cin // groups) * k * k
        with torch.no_grad():
            tf = best_time(run, args.reps)
        out = run(); g = torch.randn_like(out)
        tb = best_time(lambda: torch.autograd.grad(out, [x, conv.weight], g, retain_graph=True), args.reps)
        print(json.dumps({"bench": "conv", "impl": IMPL, "net": net, "layer": name, "batch": args.batch,
                          "forward_gflops": round(flops / tf / 1e9, 1), "backward_gflops": round(2 * flops / tb / 1e9, 1),
                          "forward_ms": round(tf * 1000, 2), "backward_ms": round(tb * 1000, 2)}))


def elpv_feature_extraction(args):
    """Lite0 features once (batch 32, inference), then dropout(0.2) + linear head, AdamW lr 1e-3 wd 1e-4,
    100 epochs, batch 32, seed 0 — tlab's feature-extraction preset, timed end to end."""
    import torchvision.transforms.functional as F
    from torchvision.io import read_image, ImageReadMode
    from efficientnet_lite_pytorch import EfficientNet
    t0 = time.perf_counter()
    split = json.load(open(args.split))
    files, labels = split["files"], torch.tensor(split["labels"])
    model = EfficientNet.from_name("efficientnet-lite0").eval()
    model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    feats = []
    with torch.no_grad():
        for i in range(0, len(files), 32):
            x = torch.stack([F.resize(read_image(f, ImageReadMode.RGB).float(), [224], antialias=True) for f in files[i:i + 32]])
            x = (x - 127) / 128
            feats.append(model._avg_pooling(model.extract_features(x)).flatten(1))
    feats = torch.cat(feats)
    t_feat = time.perf_counter() - t0
    tr, va = torch.tensor(split["train"]), torch.tensor(split["validation"])
    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(feats.shape[1], 4))
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(100):
        head.train()
        perm = tr[torch.randperm(len(tr))]
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            opt.zero_grad(); torch.nn.functional.cross_entropy(head(feats[idx]), labels[idx]).backward(); opt.step()
    head.eval()
    with torch.no_grad():
        pred = head(feats[va]).argmax(1)
    truth = labels[va]
    acc = float((pred == truth).float().mean())
    binary = float(((pred >= 2) == (truth >= 2)).float().mean())
    print(json.dumps({"bench": "elpv-feature-extraction", "impl": IMPL, "features_s": round(t_feat, 1),
                      "wall_s": round(time.perf_counter() - t0, 1), "val_acc": round(acc, 4), "val_acc_binary": round(binary, 4)}))


def elpv_fine_tune_top(args):
    """tlab's fine-tune-top preset: stem + blocks 0-4 frozen (BatchNorm in inference mode), blocks 5-10 at
    lr 1e-5, blocks 11-15 + head conv at 1e-4, new dropout(0.2) + linear head at 1e-3; AdamW wd 1e-4, constant
    lr, batch 32 (last partial batch dropped), random horizontal and vertical flips, 8 epochs, seed 0.
    Prints one line per epoch and a summary line."""
    import torchvision.transforms.functional as F
    from torchvision.io import read_image, ImageReadMode
    from efficientnet_lite_pytorch import EfficientNet
    t0 = time.perf_counter()
    torch.manual_seed(0)
    split = json.load(open(args.split))
    files, labels = split["files"], torch.tensor(split["labels"])
    images = torch.stack([F.resize(read_image(f, ImageReadMode.RGB).float(), [224], antialias=True) for f in files])
    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model._fc = torch.nn.Linear(1280, 4)
    early = [model._conv_stem, model._bn0] + list(model._blocks[:5])
    intermediate = list(model._blocks[5:11])
    final = list(model._blocks[11:]) + [model._conv_head, model._bn1]
    for m in early:
        for q in m.parameters():
            q.requires_grad_(False)
    params = lambda ms: [q for m in ms for q in m.parameters()]
    opt = torch.optim.AdamW([{"params": params(intermediate), "lr": 1e-5}, {"params": params(final), "lr": 1e-4},
                             {"params": model._fc.parameters(), "lr": 1e-3}], weight_decay=1e-4)
    tr, va = torch.tensor(split["train"]), torch.tensor(split["validation"])
    norm = lambda x: (x - 127) / 128
    best = None
    for epoch in range(1, args.epochs + 1):
        model.train()
        for m in early:
            m.eval()
        perm = tr[torch.randperm(len(tr))]
        total = 0.0
        steps = len(perm) // 32
        for i in range(steps):
            idx = perm[i * 32:(i + 1) * 32]
            x = images[idx].clone()
            hf, vf = torch.rand(len(idx)) < 0.5, torch.rand(len(idx)) < 0.5
            x[hf] = x[hf].flip(3)
            x[vf] = x[vf].flip(2)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(norm(x)), labels[idx])
            loss.backward()
            opt.step()
            total += float(loss)
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(norm(images[va[i:i + 32]])) for i in range(0, len(va), 32)])
        truth = labels[va]
        val_loss = float(torch.nn.functional.cross_entropy(logits, truth))
        pred = logits.argmax(1)
        acc = float((pred == truth).float().mean())
        binary = float(((pred >= 2) == (truth >= 2)).float().mean())
        row = {"bench": "elpv-fine-tune-top", "impl": IMPL, "epoch": epoch, "train_loss": round(total / steps, 4),
               "val_loss": round(val_loss, 4), "val_acc": round(acc, 4), "val_acc_binary": round(binary, 4),
               "elapsed_s": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)
        if best is None or val_loss < best["val_loss"]:
            best = row
    print(json.dumps({"bench": "elpv-fine-tune-top", "impl": IMPL, "final_val_acc": acc, "final_val_acc_binary": binary,
                      "best_epoch": best["epoch"], "best_val_acc": best["val_acc"], "best_val_acc_binary": best["val_acc_binary"],
                      "wall_s": round(time.perf_counter() - t0, 1)}), flush=True)


def make_backbone(name):
    import torchvision.models as tvm
    if name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet  # pip install efficientnet-lite-pytorch==0.1.0
        return EfficientNet.from_name("efficientnet-lite0")
    if name == "vit_ti16":
        import timm
        return timm.create_model("vit_tiny_patch16_224", pretrained=False)
    return {"efficientnet_b0": tvm.efficientnet_b0, "resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "vgg16": tvm.vgg16,
            "vgg16_bn": tvm.vgg16_bn, "mobilenet_v2": tvm.mobilenet_v2, "vit_b16": tvm.vit_b_16}[name]()


def bench_backbone(args, train):
    torch.manual_seed(0)
    model = make_backbone(args.backbone)
    x = torch.randn(args.batch, 3, args.res, args.res)
    if train:
        # What `tlab bench train` times: forward in training mode, cross-entropy, backward, AdamW step, every layer trainable.
        model.train()
        if args.freeze:
            # `tlab bench train --freeze early`: the fine-tune-top step (early group frozen, BatchNorm on running statistics).
            if args.freeze != "early" or args.backbone != "efficientnet_lite0":
                raise SystemExit("--freeze supports 'early' of efficientnet_lite0 (the ELPV fine-tune-top recipe) only")
            for m in [model._conv_stem, model._bn0] + list(model._blocks[:5]):
                m.eval()
                for q in m.parameters():
                    q.requires_grad_(False)
        opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-4)
        target = torch.arange(args.batch) % 1000
        def step():
            opt.zero_grad(set_to_none=False)
            torch.nn.functional.cross_entropy(model(x), target).backward()
            opt.step()
        t = best_time(step, args.reps)
    else:
        # Frozen feature extraction: inference mode, no autograd, features only (no ImageNet head).
        model.eval()
        features = feature_extractor(model, args.backbone)
        with torch.no_grad():
            t = best_time(lambda: features(x), args.reps)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"backbone": args.backbone, "mode": "train" if train else "forward", "res": args.res, "batch": args.batch,
                      "frozen": [args.freeze] if args.freeze else [], "img_per_s": round(args.batch / t, 2), "peak_rss_mb": round(rss), "impl": IMPL,
                      "threads": torch.get_num_threads()}))


def feature_extractor(model, name):
    """The network minus its ImageNet classifier, as tlab's `features`."""
    import torch.nn as nn
    if name == "efficientnet_lite0":
        return lambda x: model._avg_pooling(model.extract_features(x)).flatten(1)
    if name.startswith("resnet"):
        model.fc = nn.Identity(); return model
    if name.startswith("vgg"):
        model.classifier[6] = nn.Identity(); return model
    if name in ("efficientnet_b0", "mobilenet_v2"):
        model.classifier = nn.Identity(); return model
    if name == "vit_b16":
        model.heads = nn.Identity(); return model
    if name == "vit_ti16":
        model.reset_classifier(0); return model
    raise ValueError(name)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["gemm", "conv", "forward", "train", "elpv-fe", "elpv-ft"])
    p.add_argument("--split")
    p.add_argument("--weights")
    p.add_argument("--backbone", default="efficientnet_lite0")
    p.add_argument("--res", type=int, default=224)
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--freeze", default="", help="train: 'early' freezes EfficientNet-Lite0's early group, as tlab bench train --freeze early")
    args = p.parse_args()
    torch.set_num_threads(2)
    if args.kind == "elpv-fe":
        elpv_feature_extraction(args)
    elif args.kind == "elpv-ft":
        elpv_fine_tune_top(args)
    elif args.kind in ("forward", "train"):
        bench_backbone(args, args.kind == "train")
    else:
        {"gemm": bench_gemm, "conv": bench_conv}[args.kind](args)
