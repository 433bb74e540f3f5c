#!/usr/bin/env bash
# Runs tlab's and PyTorch's backbone benchmarks back to back on this machine and prints JSON lines.
#   PYTHON=/path/to/python-with-torch bench/compare.sh [reps]
# Needs torch, torchvision, timm and efficientnet-lite-pytorch==0.1.0 in $PYTHON's environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
REPS=${1:-2}
TLAB=.build/release/tlab
run() {  # backbone batch
    for mode in forward train; do
        "$TLAB" bench "$mode" --backbone "$1" --batch "$2" --reps "$REPS" --json
        "$PYTHON" bench/pytorch_reference.py "$mode" --backbone "$1" --batch "$2" --reps "$REPS" 2>/dev/null
    done
}
run efficientnet_lite0 32
run mobilenet_v2 32
run resnet18 32
run vit_ti16 32
run efficientnet_b0 32
run vgg16 8
