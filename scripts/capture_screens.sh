#!/usr/bin/env bash
# Captures the workbench's screens as text into docs/screens/ (tmux capture-pane), at 80x24 and 120x40 and
# under NO_COLOR. Needs runs in experiments/runs: a finished feature-extraction run and, for the live run
# screen, a fine-tune-top run training (e.g. `tlab train --preset fine-tune-top --dataset elpv`).
set -euo pipefail
cd "$(dirname "$0")/.."
TLAB=$PWD/.build/release/tlab
OUT=docs/screens
SOCK=tlab-capture-$$
mkdir -p "$OUT"
t() { tmux -L "$SOCK" "$@"; }
open() {  # name width height env command...
    local w=$2 h=$3; shift 3
    t kill-server 2>/dev/null && sleep 0.5 || true
    t new-session -d -s c -x "$w" -y "$h" "env TERM=screen-256color LANG=C.UTF-8 $* ; sleep 60"
    for _ in $(seq 50); do t capture-pane -p -t c | grep -q "tlab" && break; sleep 0.1; done
    sleep 0.7
}
shot() { t capture-pane -p -t c > "$OUT/$1.txt"; echo "captured $OUT/$1.txt"; }
# With the colour escapes kept, and drawn as a PNG when $PNG_PYTHON names a Python with Pillow.
shot_colour() {
    t capture-pane -e -p -t c > "$OUT/$1.ansi"; echo "captured $OUT/$1.ansi"
    [ -n "${PNG_PYTHON:-}" ] && "$PNG_PYTHON" scripts/ansi_to_png.py "$OUT/$1.ansi" "$OUT/$1.png" || true
}
keys() { t send-keys -t c "$@"; sleep 0.6; }

fe=$(ls experiments/runs | grep feature-extraction | tail -1)
ft=$(ls experiments/runs | grep fine-tune-top | tail -1)

for size in 80x24 120x40; do
    w=${size%x*}; h=${size#*x}
    open setup "$w" "$h" "$TLAB"
    shot "setup-$size"
    keys s; shot "setup-fine-tune-top-$size"
    keys j; keys j; keys e; keys C-u; t send-keys -t c -l "fast"; keys Enter; shot "setup-invalid-lr-$size"
    keys Escape; keys '?'; shot "help-setup-$size"
    keys Escape; keys l; shot "runs-$size"
    [ -n "$fe" ] && { open run "$w" "$h" "$TLAB" watch "$fe"; shot "run-feature-extraction-$size"; keys r; shot "results-$size"; keys n; keys f; keys f; shot "results-normalised-filtered-$size"; }
    [ -n "$fe" ] && [ -n "$ft" ] && { open runs "$w" "$h" "$TLAB"; keys l; keys c; shot "compare-$size"; keys t; keys m; shot "compare-time-axis-val-loss-$size"; }
    [ -n "$ft" ] && { open run "$w" "$h" "$TLAB" watch "$ft"; shot "run-fine-tune-top-$size"; keys q; shot "quit-confirm-$size"; }
done
open nocolor 120 40 NO_COLOR=1 "$TLAB" watch "${ft:-$fe}"; shot "run-no-color-120x40"
[ -n "$fe" ] && { open nocolor 120 40 NO_COLOR=1 "$TLAB" watch "$fe"; keys r; shot "results-no-color-120x40"; }
[ -n "$fe" ] && [ -n "$ft" ] && { open nocolor 120 40 NO_COLOR=1 "$TLAB"; keys l; keys c; shot "compare-no-color-120x40"; }
# The worst mistake's image through each cell protocol tmux shows (kitty and sixel are checked in the tmux test).
for mode in truecolor 256; do
    [ -n "$fe" ] && { open images 120 40 "$TLAB" watch "$fe" --images $mode; keys r; shot_colour "results-images-$mode-120x40"; }
done
# Seed groups: the feature-extraction runs (filtered; three seeds of one config) marked and grouped.
[ -n "$fe" ] && { open groups 120 40 "$TLAB"; keys l; keys /; t send-keys -t c -l "feature-extraction"; keys Enter
    for _ in 1 2; do keys Space; keys j; done; keys Space; keys c; keys g; shot "compare-seed-groups-120x40"; shot_colour "compare-seed-groups-120x40"; }
open small 60 20 "$TLAB"; shot "too-small-60x20"
t kill-server
