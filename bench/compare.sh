#!/usr/bin/env bash
# Runs tlab's and PyTorch's backbone benchmarks back to back on this machine and prints JSON lines.
#   PYTHON=/path/to/python-with-torch bench/compare.sh [reps] [backbone ...]
# Default backbones: efficientnet_lite0 mobilenet_v2 resnet18 vit_ti16 efficientnet_b0 vgg16 (batch 32,
# VGG-16 batch 8); name resnet50 or vit_b16 to add them (about 2 minutes each per round).
# Needs torch, torchvision, timm and efficientnet-lite-pytorch==0.1.0 in $PYTHON's environment. When
# TCMalloc is installed (Debian: libtcmalloc-minimal4) each PyTorch measurement runs twice: with glibc
# malloc as installed, and with TCMalloc preloaded as PyTorch's CPU tuning guide recommends ("impl":
# "pytorch+tcmalloc"); set TCMALLOC= (empty) to skip the second. MODES="train" (or "forward") runs one mode.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
REPS=${1:-2}
shift || true
BACKBONES=("$@")
if [ ${#BACKBONES[@]} -eq 0 ]; then BACKBONES=(efficientnet_lite0 mobilenet_v2 resnet18 vit_ti16 efficientnet_b0 vgg16); fi
TLAB=.build/release/tlab
TCMALLOC=${TCMALLOC-/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4}
[ -n "$TCMALLOC" ] && [ -e "$TCMALLOC" ] || TCMALLOC=
for backbone in "${BACKBONES[@]}"; do
    batch=32
    case "$backbone" in vgg16*) batch=8 ;; esac
    for mode in ${MODES:-forward train}; do
        "$TLAB" bench "$mode" --backbone "$backbone" --batch "$batch" --reps "$REPS" --json
        "$PYTHON" bench/pytorch_reference.py "$mode" --backbone "$backbone" --batch "$batch" --reps "$REPS" 2>/dev/null
        if [ -n "$TCMALLOC" ]; then
            LD_PRELOAD="$TCMALLOC" "$PYTHON" bench/pytorch_reference.py "$mode" --backbone "$backbone" --batch "$batch" --reps "$REPS" 2>/dev/null
        fi
    done
done
