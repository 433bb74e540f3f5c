#!/usr/bin/env python3
"""PyTorch side of tlab's benchmarks. Needs torch (tlab itself never does); run by hand:

    python bench/pytorch_reference.py gemm
    python bench/pytorch_reference.py conv [--batch 32]

Prints the same JSON lines as `tlab bench ... --json`, so the two can be put side by side.
"""
import argparse, json, time
import torch

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
    print(json.dumps({"bench": "gemm", "impl": "pytorch", "n": n, "gflops": round(2 * n ** 3 / t / 1e9, 1)}))


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
        print(json.dumps({"bench": "conv", "impl": "pytorch", "net": net, "layer": name, "batch": args.batch,
                          "forward_gflops": round(flops / tf / 1e9, 1), "backward_gflops": round(2 * flops / tb / 1e9, 1),
                          "forward_ms": round(tf * 1000, 2), "backward_ms": round(tb * 1000, 2)}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["gemm", "conv"])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    {"gemm": bench_gemm, "conv": bench_conv}[args.kind](args)
