#!/usr/bin/env bash
# The issue-12 headline, back to back: ELPV fine-tune-top for 2 epochs in tlab, then the same recipe in
# bench/pytorch_reference.py elpv-ft on tlab's split (with glibc malloc, then with TCMalloc preloaded when
# installed). Prints each program's summary line (JSON) prefixed with its name.
#   PYTHON=/path/to/python-with-torch bench/headline.sh [pairs]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PAIRS=${1:-1}
TCMALLOC=${TCMALLOC-/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4}
[ -n "$TCMALLOC" ] && [ -e "$TCMALLOC" ] || TCMALLOC=
WEIGHTS=$(find .cache/efficientnet-lite0 -name 'efficientnet-lite0-*.pth' | head -1)
[ -n "$WEIGHTS" ] || { echo "no Lite0 .pth under .cache/efficientnet-lite0 (run make setup)" >&2; exit 1; }
for pair in $(seq "$PAIRS"); do
    name="headline-$(date -u +%H%M%S)"
    summary=$(.build/release/tlab train --preset fine-tune-top --dataset elpv --epochs 2 --name "$name" --json | tail -1)
    echo "tlab $summary"
    run=$(echo "$summary" | sed -n 's/.*"run":"\([^"]*\)".*/\1/p')
    split=experiments/runs/$run/split.json
    echo "pytorch $("$PYTHON" bench/pytorch_reference.py elpv-ft --split "$split" --weights "$WEIGHTS" --epochs 2 2>/dev/null | tail -1)"
    if [ -n "$TCMALLOC" ]; then
        echo "pytorch+tcmalloc $(LD_PRELOAD="$TCMALLOC" "$PYTHON" bench/pytorch_reference.py elpv-ft --split "$split" --weights "$WEIGHTS" --epochs 2 2>/dev/null | tail -1)"
    fi
done
