#!/usr/bin/env python3
"""Key-to-redraw latency and frame times of the workbench while a run trains (issue: the TUI never blocks).

Opens `tlab watch RUN` in a tmux session of its own with TLAB_WORKBENCH_TRACE set, sends N keys that switch
screens (l: runs list, Esc: back to the run), and reads the trace the workbench writes: for each key, the
time it was read and how long handling and redrawing took. Latency = (read + frame time) - the moment just
before `tmux send-keys` ran, so it includes tmux delivering the key. Frame times cover every redraw,
including the ones the watcher's updates trigger.

    python3 bench/workbench_latency.py --run RUN_ID [--keys 300] [--interval 0.1]
Start the run first (e.g. `tlab train --preset fine-tune-top --dataset elpv` in another terminal) so both
cores are busy training while this measures.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlab", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "tlab"))
    ap.add_argument("--run", required=True)
    ap.add_argument("--keys", type=int, default=300)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--size", default="120x40")
    a = ap.parse_args()
    sock = f"tlab-latency-{os.getpid()}"
    trace = tempfile.mktemp(suffix=".jsonl")
    w, h = a.size.split("x")
    tmux = lambda *args: subprocess.run(["tmux", "-L", sock, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    tmux("new-session", "-d", "-s", "b", "-x", w, "-y", h, f"env TERM=screen-256color LANG=C.UTF-8 TLAB_WORKBENCH_TRACE={trace} {os.path.abspath(a.tlab)} watch {a.run}; sleep 5")
    try:
        deadline = time.time() + 60
        while "running" not in tmux("capture-pane", "-p", "-t", "b"):
            if time.time() > deadline: sys.exit("the run is not training: start it first")
            time.sleep(0.1)
        time.sleep(1)
        sent, delivered = [], []
        for i in range(a.keys):
            key = "l" if i % 2 == 0 else "Escape"
            sent.append(time.time())
            tmux("send-keys", "-t", "b", key)
            delivered.append(time.time())
            time.sleep(a.interval)
        time.sleep(1)
        tmux("send-keys", "-t", "b", "q"); time.sleep(0.3); tmux("send-keys", "-t", "b", "q")
    finally:
        time.sleep(0.5)
        tmux("kill-server")
    frames = [json.loads(l) for l in open(trace)]
    keyed = [f for f in frames if f["key"]]
    keyed = keyed[:len(sent)]  # the quit keys at the end come after
    latency = [1000 * (f["read"] + f["ms"] / 1000 - s) for f, s in zip(keyed, sent)]
    # From the moment `tmux send-keys` returned (the key is in the pane's input) to the redraw: without the
    # cost of starting a tmux client, which a person typing does not pay.
    after_send = [1000 * (f["read"] + f["ms"] / 1000 - d) for f, d in zip(keyed, delivered)]
    by_key = {k: [x for i, x in enumerate(after_send) if (i % 2 == 0) == (k == "l")] for k in ("l", "Escape")}
    all_ms = [f["ms"] for f in frames]
    print(json.dumps({
        "keys": len(sent), "key_frames": len(keyed), "frames": len(frames),
        "send_to_redraw_ms": {"p50": round(statistics.median(latency), 2), "p99": round(pct(latency, 99), 2), "max": round(max(latency), 2)},
        "key_to_redraw_ms": {"p50": round(statistics.median(after_send), 2), "p99": round(pct(after_send, 99), 2), "max": round(max(after_send), 2)},
        "by_key_p99_ms": {k: round(pct(v, 99), 2) for k, v in by_key.items() if v},
        "frame_ms": {"p50": round(statistics.median(all_ms), 2), "p99": round(pct(all_ms, 99), 2), "max": round(max(all_ms), 2)},
    }))
    os.remove(trace)

if __name__ == "__main__":
    main()
