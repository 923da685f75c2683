#!/usr/bin/env python3
"""An independent reader and integer interpreter for `.qbin` files (format 1.0 / 1.1).

Written from docs/qbin-format.md and docs/numerics.md alone (plus fixtures/conformance/README.md
for the suite's layout), without reading qconvert's Swift sources: it checks that the documents
are a sufficient contract. Needs numpy; the `run` command also needs h5py.

    tools/.venv/bin/python tools/qbin_reference.py conformance [fixtures/conformance]
        runs every case of the conformance suite, prints "N passed, N failed", exit 1 on a failure
    tools/.venv/bin/python tools/qbin_reference.py run MODEL.qbin --input DATA.h5 --output OUT.h5
        quantizes /inputs (format section 5.4), runs the model, writes /outputs_int (the raw
        stored integers, as `qconvert run --raw`) and /outputs (dequantized, output.activation)
    tools/.venv/bin/python tools/qbin_reference.py compare A.h5 B.h5 [--dataset outputs_int]
        share of identical values of a dataset in two files, and top-1 agreement

Section numbers in comments refer to docs/qbin-format.md ("F") and docs/numerics.md ("N").
"""

import argparse
import json
import pathlib
import sys

import numpy as np

from qbin_read import INT32_MAX, INT32_MIN, QBinError, read_qbin  # noqa: F401 (re-exported)


# ---------------------------------------------------------------- fixed point (N 2, N 4)

def wrap32(a):
    """int64 array -> int32 two's-complement value (as int64)."""
    return ((np.asarray(a, dtype=np.int64) + 2 ** 31) & 0xFFFFFFFF) - 2 ** 31


def requant(acc, m, s, profile):
    """x * m * 2^(s - 31) rounded by the profile (N 2); acc int32 values, m/s broadcastable."""
    x = np.asarray(acc, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    if profile == "single":
        r = (x * m + np.left_shift(np.int64(1), 30 - s)) >> (31 - s)
        return wrap32(r)  # F: truncates to the low 32 bits (N 4)
    if profile != "gemmlowp":
        raise QBinError(f"unknown rounding profile {profile}")
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    a = wrap32(x << left)  # int32 multiply wraps (N 4)
    # SRDHM(a, b) = floor((a*b + 2^30) / 2^31), INT32_MIN * INT32_MIN saturates
    prod = a * m
    y = (prod + 2 ** 30) >> 31
    y = np.where((a == INT32_MIN) & (m == INT32_MIN), INT32_MAX, y)
    # RDBPOT(y, r): y / 2^r rounded, ties away from zero
    mask = (np.int64(1) << right) - 1
    rem = y & mask
    threshold = (mask >> 1) + (y < 0)
    return (y >> right) + (rem > threshold)


def per_channel(attr, c):
    """An attribute with 1 value (per tensor) or C values (per channel), broadcast over the
    last axis."""
    v = np.asarray(attr, dtype=np.int64)
    return v if len(v) > 1 else np.full(c, v[0], dtype=np.int64)


def finish(acc, op, zout, profile, c):
    m = per_channel(op.attrs["multiplier"], c)
    s = per_channel(op.attrs["shift"], c)
    q = wrap32(zout + requant(wrap32(acc), m, s, profile))
    lo, hi = op.attrs["clamp"]
    return np.clip(q, lo, hi)


# ---------------------------------------------------------------- ops (F 5.1, F 5.4)

def exact_matmul(a, b):
    """Integer matmul; float64 is exact because F 5.3 bounds every partial sum by 2^31."""
    return np.rint(np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64)).astype(np.int64)


def patches(xc, kh, kw, sh, sw, dh, dw, pad, oh, ow):
    """xc: [B, H, W, C] centred input (q - zin). Padding reads zin, i.e. 0 after centring.
    Returns [B, oh, ow, kh, kw, C]."""
    pt, pb, pl, pr = pad
    b, h, w, cin = xc.shape
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    xp = np.zeros((b, max(need_h, h + pt + pb), max(need_w, w + pl + pr), cin), dtype=np.int64)
    xp[:, pt: pt + h, pl: pl + w, :] = xc
    out = np.empty((b, oh, ow, kh, kw, cin), dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            out[:, :, :, ky, kx, :] = xp[:, y0: y0 + (oh - 1) * sh + 1: sh,
                                         x0: x0 + (ow - 1) * sw + 1: sw, :]
    return out


def conv_out(h, w, kh, kw, sh, sw, dh, dw, pad):
    pt, pb, pl, pr = pad
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if h + pt + pb < eh or w + pl + pr < ew:
        raise QBinError("invalidModel: padded input smaller than the kernel")
    return (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1


def op_conv2d(m, op, xs, prof, out_t):
    x, wt = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    zin, zout = int(x.zero_point[0]), int(out_t.zero_point[0])
    kh, kw = op.attrs["kernel"]
    sh, sw = op.attrs["stride"]
    dh, dw = op.attrs["dilation"]
    pad = op.attrs["padding"]
    xv = xs[0] - zin
    b, h, w_, cin = xv.shape
    wv = wt.value
    c = wv.shape[0]
    oh, ow = conv_out(h, w_, kh, kw, sh, sw, dh, dw, pad)
    p = patches(xv, kh, kw, sh, sw, dh, dw, pad, oh, ow)
    bias = m.tensors[op.inputs[2]].value.reshape(-1) if len(op.inputs) > 2 else np.zeros(c, np.int64)
    if op.kind == "conv2D":
        groups = op.attrs["groups"][0]
        cin_g, cout_g = cin // groups, c // groups
        acc = np.empty((b, oh, ow, c), dtype=np.int64)
        for g in range(groups):
            pg = p[..., g * cin_g: (g + 1) * cin_g].reshape(b * oh * ow, kh * kw * cin_g)
            wg = wv[g * cout_g: (g + 1) * cout_g].reshape(cout_g, kh * kw * cin_g)
            acc[..., g * cout_g: (g + 1) * cout_g] = exact_matmul(pg, wg.T).reshape(b, oh, ow, cout_g)
    else:  # depthwise: output channel c reads input c // depth_multiplier
        dm = op.attrs["depth_multiplier"][0]
        src = np.arange(c) // dm
        acc = (p[..., src] * np.transpose(wv, (1, 2, 0))).sum(axis=(3, 4))
    return finish(acc + bias, op, zout, prof, c)


def op_conv2d_transpose(m, op, xs, prof, out_t):
    x, wt = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    zin, zout = int(x.zero_point[0]), int(out_t.zero_point[0])
    kh, kw = op.attrs["kernel"]
    sh, sw = op.attrs["stride"]
    dh, dw = op.attrs["dilation"]
    pt, _, pl, _ = op.attrs["padding"]
    oh, ow = op.attrs["output_size"]
    xv = xs[0] - zin
    b, h, w_, cin = xv.shape
    wv = wt.value
    c = wv.shape[0]
    # buffer indexed by oy + pt, large enough for every tap; then crop to [0, output_size)
    bh = max(pt + oh, (h - 1) * sh + (kh - 1) * dh + 1)
    bw = max(pl + ow, (w_ - 1) * sw + (kw - 1) * dw + 1)
    buf = np.zeros((b, bh, bw, c), dtype=np.int64)
    flat = xv.reshape(b * h * w_, cin)
    for ky in range(kh):
        for kx in range(kw):
            contrib = exact_matmul(flat, wv[:, ky, kx, :].T).reshape(b, h, w_, c)
            y0, x0 = ky * dh, kx * dw
            buf[:, y0: y0 + (h - 1) * sh + 1: sh, x0: x0 + (w_ - 1) * sw + 1: sw, :] += contrib
    acc = buf[:, pt: pt + oh, pl: pl + ow, :]
    bias = m.tensors[op.inputs[2]].value.reshape(-1) if len(op.inputs) > 2 else np.zeros(c, np.int64)
    return finish(acc + bias, op, zout, prof, c)


def op_dense(m, op, xs, prof, out_t):
    x, wt = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    zin, zout = int(x.zero_point[0]), int(out_t.zero_point[0])
    wv = wt.value
    c = wv.shape[0]
    acc = exact_matmul(xs[0] - zin, wv.T)
    if len(op.inputs) > 2:
        acc = acc + m.tensors[op.inputs[2]].value.reshape(-1)
    return finish(acc, op, zout, prof, c)


def op_channel_affine(m, op, xs, prof, out_t):
    x, a = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    zin, zout = int(x.zero_point[0]), int(out_t.zero_point[0])
    av = a.value.reshape(-1)
    c = xs[0].shape[-1]
    av = av if len(av) == c else np.full(c, av[0])
    acc = (xs[0] - zin) * av
    if len(op.inputs) > 2:
        acc = acc + m.tensors[op.inputs[2]].value.reshape(-1)
    return finish(acc, op, zout, prof, c)


def op_add_sub(m, op, xs, prof, out_t):
    zout = int(out_t.zero_point[0])
    ls = op.attrs["left_shift"][0]
    vs = []
    for i, (idx, xv) in enumerate(zip(op.inputs, xs)):
        z = int(m.tensors[idx].zero_point[0])
        shifted = wrap32(wrap32(xv - z) << ls)
        vs.append(requant(shifted, op.attrs["input_multiplier"][i], op.attrs["input_shift"][i], prof))
    if op.kind == "subtract":
        total = wrap32(vs[0] - vs[1])
    else:
        total = vs[0]
        for v in vs[1:]:
            total = wrap32(total + v)
    q = wrap32(zout + requant(total, op.attrs["output_multiplier"][0], op.attrs["output_shift"][0], prof))
    return np.clip(q, *op.attrs["clamp"])


def op_multiply(m, op, xs, prof, out_t):
    z0 = int(m.tensors[op.inputs[0]].zero_point[0])
    z1 = int(m.tensors[op.inputs[1]].zero_point[0])
    acc = wrap32(wrap32(xs[0] - z0) * wrap32(xs[1] - z1))
    q = wrap32(int(out_t.zero_point[0]) + requant(acc, op.attrs["multiplier"][0], op.attrs["shift"][0], prof))
    return np.clip(q, *op.attrs["clamp"])


def op_requantize(m, op, xs, prof, out_t):
    zin = int(m.tensors[op.inputs[0]].zero_point[0])
    acc = wrap32(xs[0] - zin)
    q = wrap32(int(out_t.zero_point[0]) + requant(acc, op.attrs["multiplier"][0], op.attrs["shift"][0], prof))
    q = np.clip(q, *op.attrs["clamp"])
    return q.reshape((q.shape[0],) + out_t.shape)


def op_concatenate(m, op, xs, prof, out_t):
    zout = int(out_t.zero_point[0])
    axis = op.attrs["axis"][0] + 1  # per-sample axis; +1 for the batch axis
    parts = []
    for i, (idx, xv) in enumerate(zip(op.inputs, xs)):
        z = int(m.tensors[idx].zero_point[0])
        v = requant(wrap32(xv - z), op.attrs["input_multiplier"][i], op.attrs["input_shift"][i], prof)
        parts.append(np.clip(wrap32(zout + v), out_t.type.min, out_t.type.max))
    return np.concatenate(parts, axis=axis)


def pool_windows(xv, kh, kw, sh, sw, pad, fill):
    """[B, oh, ow, kh*kw, C] windows, positions in the padding = fill, plus validity mask."""
    b, h, w_, c = xv.shape
    pt, pb, pl, pr = pad
    if h + pt + pb < kh or w_ + pl + pr < kw:
        raise QBinError("invalidModel: padded input smaller than the pool window")
    oh, ow = (h + pt + pb - kh) // sh + 1, (w_ + pl + pr - kw) // sw + 1
    xp = np.full((b, h + pt + pb, w_ + pl + pr, c), fill, dtype=np.int64)
    xp[:, pt: pt + h, pl: pl + w_, :] = xv
    valid = np.zeros((1, h + pt + pb, w_ + pl + pr, 1), dtype=np.int64)
    valid[:, pt: pt + h, pl: pl + w_, :] = 1
    win = np.empty((b, oh, ow, kh * kw, c), dtype=np.int64)
    vm = np.empty((1, oh, ow, kh * kw, 1), dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            win[:, :, :, ky * kw + kx, :] = xp[:, ky: ky + (oh - 1) * sh + 1: sh, kx: kx + (ow - 1) * sw + 1: sw, :]
            vm[:, :, :, ky * kw + kx, :] = valid[:, ky: ky + (oh - 1) * sh + 1: sh, kx: kx + (ow - 1) * sw + 1: sw, :]
    return win, vm


def rounded_mean(total, n, zin):
    """(sum + n/2) / n for sum >= 0, else (sum - n/2) / n, truncating; n = 0 gives zin."""
    n_safe = np.maximum(n, 1)
    half = n_safe // 2
    num = np.where(total >= 0, total + half, total - half)
    q = np.sign(num) * (np.abs(num) // n_safe)
    return np.where(n == 0, zin, q)


def op_pool(m, op, xs, prof, out_t):
    zin = int(m.tensors[op.inputs[0]].zero_point[0])
    xv = xs[0]
    if op.kind in ("globalAveragePool2D", "globalMaxPool2D"):
        b, h, w_, c = xv.shape
        flat = xv.reshape(b, h * w_, c)
        if op.kind == "globalMaxPool2D":
            return flat.max(axis=1)
        q = rounded_mean(flat.sum(axis=1), np.int64(h * w_), zin)
        return np.clip(q, *op.attrs["clamp"])
    kh, kw = op.attrs["kernel"]
    sh, sw = op.attrs["stride"]
    pad = op.attrs["padding"]
    if op.kind == "maxPool2D":
        win, vm = pool_windows(xv, kh, kw, sh, sw, pad, np.iinfo(np.int64).min)
        q = win.max(axis=3)
        return np.where(q == np.iinfo(np.int64).min, zin, q)
    win, vm = pool_windows(xv, kh, kw, sh, sw, pad, 0)
    q = rounded_mean(win.sum(axis=3), vm.sum(axis=3), zin)
    return np.clip(q, *op.attrs["clamp"])


def op_zero_padding(m, op, xs, prof, out_t):
    zin = int(m.tensors[op.inputs[0]].zero_point[0])
    pt, pb, pl, pr = op.attrs["padding"]
    b, h, w_, c = xs[0].shape
    oh, ow = h + pt + pb, w_ + pl + pr
    out = np.full((b, oh, ow, c), zin, dtype=np.int64)
    # Input pixel (y, x) lands at (y + top, x + left); a negative padding crops (F 5.1).
    ys, xs_ = max(0, -pt), max(0, -pl)
    ye, xe = min(h, oh - pt), min(w_, ow - pl)
    if ys < ye and xs_ < xe:
        out[:, ys + pt: ye + pt, xs_ + pl: xe + pl, :] = xs[0][:, ys:ye, xs_:xe, :]
    return out


def op_reshape(m, op, xs, prof, out_t):
    return xs[0].reshape((xs[0].shape[0],) + out_t.shape)


def op_lookup(m, op, xs, prof, out_t):
    xt, table = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    return table.value.reshape(-1)[xs[0] - xt.type.min]


def isqrt_fixed(n):
    """1/sqrt(n) ~= R * 2^-(30 + e) for an int n in 1 ..< 2^62 (N 7, five Newton steps; Python ints)."""
    e = (n.bit_length() + 1) // 2
    y = n >> (2 * e - 30) if 2 * e >= 30 else n << (30 - 2 * e)
    r = 2505397589 - ((y * 1431655765) >> 30)
    for _ in range(5):
        t = (r * r) >> 30
        t = (y * t) >> 30
        r = (r * (3 * 2 ** 30 - t)) >> 31
    return r, e


def rdbpot64(v, k):
    """v / 2^k rounded to nearest, ties away from zero (Python ints)."""
    mask = (1 << k) - 1
    rem = v & mask
    threshold = (mask >> 1) + (1 if v < 0 else 0)
    return (v >> k) + (1 if rem > threshold else 0)


def op_tv_smoothing(m, op, xs, prof, out_t):
    """F 5.1 tvSmoothing, N 7: explicit TV-flow steps per sample and channel in exact integers."""
    zin = int(m.tensors[op.inputs[0]].zero_point[0])
    f, steps, g = int(op.attrs["fraction_bits"][0]), int(op.attrs["steps"][0]), int(op.attrs["gamma"][0])
    eps = (int(op.attrs["epsilon"][0]) << 31) | int(op.attrs["epsilon"][1])
    b, h, w_, c = xs[0].shape
    out = np.zeros(xs[0].shape, dtype=np.int64)
    for n in range(b):
        for ch in range(c):
            u = [[(int(xs[0][n, y, x, ch]) - zin) << f for x in range(w_)] for y in range(h)]
            for _ in range(steps):
                px = [[0] * w_ for _ in range(h)]
                py = [[0] * w_ for _ in range(h)]
                for y in range(h):
                    for x in range(w_):
                        dx = u[y][x + 1] - u[y][x] if x + 1 < w_ else 0
                        dy = u[y + 1][x] - u[y][x] if y + 1 < h else 0
                        r, e = isqrt_fixed(dx * dx + dy * dy + eps)
                        px[y][x], py[y][x] = rdbpot64(dx * r, e), rdbpot64(dy * r, e)
                for y in range(h):
                    for x in range(w_):
                        div = px[y][x] + py[y][x] - (px[y][x - 1] if x > 0 else 0) - (py[y - 1][x] if y > 0 else 0)
                        u[y][x] += rdbpot64(g * div, 30)
            for y in range(h):
                for x in range(w_):
                    out[n, y, x, ch] = u[y][x]
    return finish(out, op, int(out_t.zero_point[0]), prof, 1)


def op_layer_norm(m, op, xs, prof, out_t):
    """F 5.1 layerNorm, N 8: per row of the last axis, in exact integers."""
    x = xs[0]
    c = x.shape[-1]
    av = m.tensors[op.inputs[1]].value.reshape(-1)
    bv = m.tensors[op.inputs[2]].value.reshape(-1)
    f = int(op.attrs["fraction_bits"][0])
    eps = (int(op.attrs["epsilon"][0]) << 31) | int(op.attrs["epsilon"][1])
    rows = x.reshape(-1, c)
    acc = np.zeros(rows.shape, dtype=np.int64)
    for i, row in enumerate(rows):
        q = [int(v) for v in row]
        s = sum(q)
        total = c * sum(v * v for v in q) - s * s + eps
        r, k = isqrt_fixed(total) if total > 0 else (0, 1)  # a constant row without epsilon: n = 0
        for j in range(c):
            n = rdbpot64((c * q[j] - s) * r, 30 + k - f)
            acc[i, j] = min(max(n * int(av[j]) + int(bv[j]), INT32_MIN), INT32_MAX)
    return finish(acc.reshape(x.shape), op, int(out_t.zero_point[0]), prof, c)


OPS = {
    "conv2D": op_conv2d, "depthwiseConv2D": op_conv2d, "conv2DTranspose": op_conv2d_transpose,
    "dense": op_dense, "channelAffine": op_channel_affine, "add": op_add_sub,
    "subtract": op_add_sub, "multiply": op_multiply, "concatenate": op_concatenate,
    "maxPool2D": op_pool, "averagePool2D": op_pool, "globalAveragePool2D": op_pool,
    "globalMaxPool2D": op_pool, "flatten": op_reshape, "reshape": op_reshape,
    "zeroPadding2D": op_zero_padding, "requantize": op_requantize, "lookupTable": op_lookup,
    "tvSmoothing": op_tv_smoothing, "layerNorm": op_layer_norm,
}


def run_model(m, inputs, batch, profile=None):
    """inputs: list (one per graph input) of stored integers, `batch` samples row-major.
    Returns a list of int64 arrays [batch, *shape], one per graph output."""
    profile = profile or m.rounding
    env = {}
    for idx, vals in zip(m.graph_inputs, inputs):
        t = m.tensors[idx]
        arr = np.asarray(vals, dtype=np.int64).reshape((batch,) + t.shape)
        if arr.min(initial=t.type.min) < t.type.min or arr.max(initial=t.type.max) > t.type.max:
            raise QBinError(f"input of {t.name} outside {t.type}")
        env[idx] = arr
    for op in m.ops:
        out_t = m.tensors[op.outputs[0]]
        xs = [env[i] for i in op.inputs if not m.tensors[i].has_data]
        try:
            y = OPS[op.kind](m, op, xs, profile, out_t)
        except (ValueError, IndexError, KeyError) as e:  # numpy's AxisError is both the first two
            raise QBinError(f"invalidModel: op {op.name} ({op.kind}) does not fit its inputs: {e}")
        if y.shape != (batch,) + out_t.shape:
            raise QBinError(f"invalidModel: op {op.name}: output shape {y.shape[1:]} "
                            f"but tensor {out_t.name} is {out_t.shape}")
        if y.min() < out_t.type.min or y.max() > out_t.type.max:
            raise QBinError(f"op {op.name}: value outside {out_t.type} (interpreter bug)")
        env[op.outputs[0]] = y
    return [env[i] for i in m.graph_outputs]


# ---------------------------------------------------------------- graph edges (F 5.4)

def quantize_edge(x, t):
    """Float32 graph input -> stored integers, exactly as F 5.4 "Graph input"."""
    x = np.asarray(x, dtype=np.float32)
    s, z = np.float32(t.scale[0]), np.float32(t.zero_point[0])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        q_t = x / s                                         # 1. one binary32 division
        t64 = q_t.astype(np.float64)
        big = ~(np.abs(t64) < 2 ** 23)                      # already integral (or inf/nan)
        r = np.where(big, t64, np.sign(t64) * np.floor(np.abs(t64) + 0.5))  # 2. roundf
        q = r.astype(np.float32) + z                        # 3. binary32 addition
        lo, hi = np.float32(t.type.min), np.float32(t.type.max)
        q = np.minimum(np.maximum(q, lo), hi).astype(np.float64)   # 4. clamp (inf -> bounds)
        q = np.minimum(q, t.type.max)                       # i32: 2^31 -> 2^31 - 1
        q = np.where(np.isnan(x), float(t.zero_point[0]), q)
    return q.astype(np.int64)


def dequantize_output(q, t, activation):
    """F 5.4 "Graph output": y = s_out * float32(q - z_out), then output.activation."""
    y = wrap32(q - int(t.zero_point[0])).astype(np.float32) * np.float32(t.scale[0])
    if activation in (None, "linear"):
        return y
    if activation != "softmax":
        raise QBinError(f"output.activation {activation!r} unknown")
    flat = y.reshape(y.shape[0], -1, y.shape[-1])
    out = np.empty_like(flat)
    for i in range(flat.shape[0]):
        for j in range(flat.shape[1]):
            v = flat[i, j]
            e = np.exp((v - v.max()).astype(np.float64)).astype(np.float32)
            ssum = np.float32(0)
            for ev in e:
                ssum = np.float32(ssum + ev)
            out[i, j] = e / ssum
    return out.reshape(y.shape)


# ---------------------------------------------------------------- commands

def cmd_conformance(root):
    root = pathlib.Path(root)
    cases = json.loads((root / "cases.json").read_text())["cases"]
    passed = failed = 0
    for case in cases:
        try:
            m = read_qbin(root / case["model"])
            (got,) = run_model(m, [case["input"]], case["batch"])
            ok = got.reshape(-1).tolist() == case["output"]
            why = "" if ok else f"{int((got.reshape(-1) != np.array(case['output'])).sum())} values differ"
            if ok and "input_float_bits" in case:
                f = np.array(case["input_float_bits"], dtype=np.uint32).view(np.float32)
                qin = quantize_edge(f, m.tensors[m.graph_inputs[0]])
                ok = qin.tolist() == case["input"]
                why = "graph-input quantization differs"
            if m.metadata.get("rounding") != case["rounding"]:
                ok, why = False, "rounding metadata differs from cases.json"
        except QBinError as e:
            ok, why = False, str(e)
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case['name']}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def cmd_run(model_path, input_path, output_path, dataset):
    import h5py
    m = read_qbin(model_path)
    with h5py.File(input_path, "r") as f:
        x = np.asarray(f[dataset], dtype=np.float32)
    t_in = m.tensors[m.graph_inputs[0]]
    batch = x.shape[0]
    q_in = quantize_edge(x.reshape((batch,) + t_in.shape), t_in)
    (q,) = run_model(m, [q_in], batch)
    t_out = m.tensors[m.graph_outputs[0]]
    tmp = pathlib.Path(str(output_path) + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.create_dataset("outputs_int", data=q.astype(np.int32))
        f.create_dataset("outputs", data=dequantize_output(q, t_out, m.metadata.get("output.activation")))
    tmp.rename(output_path)
    print(f"{batch} samples, rounding {m.rounding}, wrote {output_path}")
    return 0


def cmd_compare(a, b, dataset):
    import h5py
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        x, y = np.asarray(fa[dataset]), np.asarray(fb[dataset])
    if x.shape != y.shape:
        print(f"shapes differ: {x.shape} vs {y.shape}")
        return 1
    same = float((x == y).mean())
    top1 = float((x.reshape(x.shape[0], -1).argmax(1) == y.reshape(y.shape[0], -1).argmax(1)).mean())
    print(f"{same * 100:.2f} % identical ({int((x != y).sum())} of {x.size} differ), "
          f"top-1 agreement {top1 * 100:.2f} %, max |diff| {int(np.abs(x.astype(np.int64) - y).max())}")
    return 0 if same == 1.0 else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("conformance", help="run fixtures/conformance/, print 'N passed, N failed'")
    c.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parent.parent
                                                  / "fixtures" / "conformance"))
    r = sub.add_parser("run", help="run a .qbin on /inputs of an HDF5 file")
    r.add_argument("model")
    r.add_argument("--input", required=True)
    r.add_argument("--output", required=True)
    r.add_argument("--dataset", default="inputs")
    k = sub.add_parser("compare", help="compare a dataset of two HDF5 files value by value")
    k.add_argument("a")
    k.add_argument("b")
    k.add_argument("--dataset", default="outputs_int")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "conformance":
            return cmd_conformance(args.root)
        if args.cmd == "run":
            return cmd_run(args.model, args.input, args.output, args.dataset)
        return cmd_compare(args.a, args.b, args.dataset)
    except QBinError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
