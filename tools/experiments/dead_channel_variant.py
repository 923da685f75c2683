"""A fixture variant with one nearly dead output channel: the channel's kernel scaled by FACTOR (1e-6)
while its bias (after BatchNorm folding) stays, as in trained nets with dead filters. Such a channel's
int32 bias, round(bias / (s_x * s_w[c])), can exceed 2^31 (docs/qbin-format.md section 5.3): the case
the quantizer's weight-scale raise handles. Writes a copy; the source fixture is not changed.

Usage: python tools/experiments/dead_channel_variant.py SRC.h5 DST.h5 LAYER CHANNEL [FACTOR]
"""
import shutil
import sys

import h5py

src, dst, layer, channel = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
factor = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-6
shutil.copyfile(src, dst)
with h5py.File(dst, "r+") as f:
    group = f["model_weights"][layer]
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
    kernel = group[next(n for n in names if n.split("/")[-1].startswith("kernel"))]
    values = kernel[...]
    values[..., channel] *= factor
    kernel[...] = values
    print(f"{layer}: output channel {channel} of kernel {values.shape} scaled by {factor}")
