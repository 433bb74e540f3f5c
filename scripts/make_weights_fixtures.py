#!/usr/bin/env python3
"""Writes the small checkpoint fixtures in Tests/WeightsIOTests/Fixtures. Needs torch; tests never do.

    python scripts/make_weights_fixtures.py
"""
import collections, io, os, pickle, zipfile
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "WeightsIOTests", "Fixtures")


def state_dict():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.linspace(-1, 1, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    sd["conv.bias"] = torch.tensor([0.5, -0.25])
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.long)
    sd["half"] = torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16)
    sd["transposed"] = base.t()                  # a non-contiguous view: strides (1, 4)
    sd["row"] = base[1]                          # shares base's storage at offset 4
    return sd


def evil_pickle():
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch /tmp/tlab-pwned",))
    return pickle.dumps({"weight": Evil()}, protocol=2)


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict()
    torch.save(sd, os.path.join(OUT, "tiny_zip.pth"))
    torch.save(sd, os.path.join(OUT, "tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"state_dict": sd, "epoch": 3}, os.path.join(OUT, "wrapped_zip.pth"))
    with open(os.path.join(OUT, "evil.pkl"), "wb") as f:
        f.write(evil_pickle())
    # The same payload where torch would look for the state dict inside a zip checkpoint.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", evil_pickle())
        z.writestr("archive/version", "3\n")
    with open(os.path.join(OUT, "evil_zip.pth"), "wb") as f:
        f.write(buf.getvalue())
    print("fixtures written to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
