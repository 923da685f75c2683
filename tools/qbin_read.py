"""The reader half of tools/qbin_reference.py: decodes and checks a `.qbin` file (format 1.0 / 1.1).

Written from docs/qbin-format.md ("F") alone, like the interpreter; see tools/qbin_reference.py.
"""

import pathlib
import struct
import zlib

import numpy as np

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1

SECTION_NAMES = {1: "METADATA", 2: "TENSORS", 3: "OPS", 4: "DATA"}
OP_KINDS = {
    1: "conv2D", 2: "depthwiseConv2D", 3: "conv2DTranspose", 4: "dense", 5: "channelAffine",
    6: "add", 7: "subtract", 8: "multiply", 9: "concatenate", 10: "maxPool2D",
    11: "averagePool2D", 12: "globalAveragePool2D", 13: "globalMaxPool2D", 14: "flatten",
    15: "reshape", 16: "zeroPadding2D", 17: "requantize", 18: "lookupTable", 19: "tvSmoothing", 20: "layerNorm",
}
ACCUMULATING = {"conv2D", "depthwiseConv2D", "conv2DTranspose", "dense", "channelAffine"}


class QBinError(Exception):
    pass


# ---------------------------------------------------------------- element types (F 4.1)

class QType:
    def __init__(self, code):
        if code == 0x20:
            self.bits, self.signed = 32, True
        elif (code & 0xEF) in range(2, 9) and code & 0xE0 == 0:
            self.bits, self.signed = code & 0x0F, bool(code & 0x10)
        else:
            raise QBinError(f"unknownType: element type code 0x{code:02x}")
        self.code = code
        if self.signed:
            self.min, self.max = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        else:
            self.min, self.max = 0, 2 ** self.bits - 1

    def __repr__(self):
        if self.bits == 32:
            return "i32"
        return ("s" if self.signed else "u") + str(self.bits)


def row_geometry(shape):
    """F 4.2: rows = shape[0], rowLength = the rest (rank 1: one row; rank 0: one value)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return 1, shape[0]
    return shape[0], int(np.prod(shape[1:], dtype=np.int64))


def packed_size(qtype, shape):
    rows, n = row_geometry(shape)
    return rows * ((n * qtype.bits + 7) // 8)


def unpack(qtype, shape, blob):
    """Stored integers of a constant (F 4.2), as int64 in `shape`."""
    rows, n = row_geometry(shape)
    if qtype.bits == 32:
        return np.frombuffer(blob, dtype="<i4").astype(np.int64).reshape(shape)
    b = qtype.bits
    bpr = (n * b + 7) // 8
    raw = np.frombuffer(blob, dtype=np.uint8).reshape(rows, bpr)
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, : n * b].reshape(rows, n, b)
    vals = (bits.astype(np.int64) << np.arange(b, dtype=np.int64)).sum(axis=2)
    if qtype.signed:
        vals = np.where(vals >= 2 ** (b - 1), vals - 2 ** b, vals)
    return vals.reshape(shape)


# ---------------------------------------------------------------- cursor

class Cursor:
    def __init__(self, data, section):
        self.d, self.p, self.section = data, 0, section

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise QBinError(f"truncated({self.section})")
        out = self.d[self.p: self.p + n]
        self.p += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i32(self):
        return struct.unpack("<i", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def count(self, elem_size):
        c = self.u32()
        if c * elem_size > len(self.d) - self.p:  # checked before allocating (F 7 step 3)
            raise QBinError(f"truncated({self.section})")
        return c

    def string(self):
        n = self.count(1)
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise QBinError(f"invalidEncoding({self.section}): invalid UTF-8")

    def done(self):
        if self.p != len(self.d):
            raise QBinError(f"invalidEncoding({self.section}): bytes left over")


# ---------------------------------------------------------------- model

class Tensor:
    pass


class Op:
    pass


class Model:
    def __init__(self):
        self.metadata, self.tensors, self.ops = {}, [], []
        self.graph_inputs, self.graph_outputs = [], []
        self.version = (1, 1)

    @property
    def rounding(self):
        """F 3 / F 2.3: the profile every requant of the file uses."""
        return self.metadata.get("rounding", "gemmlowp")


def align32(x):
    return (x + 31) // 32 * 32


def read_qbin(path):
    data = pathlib.Path(path).read_bytes()
    return decode_qbin(data)


def decode_qbin(data):
    # step 1: header and directory (F 2.1, F 7)
    if len(data) < 4 and b"QBIN".startswith(data):
        raise QBinError("truncated(header)")
    if data[:4] != b"QBIN"[: min(4, len(data))] or len(data) < 4:
        raise QBinError("badMagic")
    if len(data) >= 6 and struct.unpack_from("<H", data, 4)[0] != 1:
        raise QBinError("unsupportedVersion")
    if len(data) < 32:
        raise QBinError("truncated(header)")
    major, minor, flags, count, file_size, header_crc, reserved = struct.unpack_from(
        "<HHIIQII", data, 4)
    if reserved != 0:
        raise QBinError("invalidEncoding(header): reserved")
    if file_size > len(data):
        raise QBinError("truncated(file)")
    if file_size < len(data):
        raise QBinError("invalidEncoding(header): trailing bytes")
    if count == 0 or count > 64:
        raise QBinError("invalidEncoding(header): sectionCount")
    dir_end = 32 + 24 * count
    if dir_end > len(data):
        raise QBinError("truncated(header)")
    crc = zlib.crc32(data[32:dir_end], zlib.crc32(data[:24], 0))
    if crc != header_crc:
        raise QBinError("checksumMismatch(header)")

    # step 2: directory entries
    sections, pos = {}, dir_end
    for i in range(count):
        stype, scrc, off, length = struct.unpack_from("<IIQQ", data, 32 + 24 * i)
        name = SECTION_NAMES.get(stype, f"section {stype}")
        if off != align32(pos):
            raise QBinError("offsetOutOfRange(directory)")
        if off + length > len(data):
            raise QBinError(f"truncated({name})")
        if any(data[pos:off]):
            raise QBinError("invalidEncoding(padding)")
        if stype in sections:
            raise QBinError("invalidEncoding(directory): duplicate section")
        body = data[off: off + length]
        if zlib.crc32(body, 0) != scrc:
            raise QBinError(f"checksumMismatch({name})")
        sections[stype] = body
        pos = off + length
    if pos != len(data):
        raise QBinError("invalidEncoding(file)")
    for t in (1, 2, 3, 4):
        if t not in sections:
            raise QBinError(f"missingSection({SECTION_NAMES[t]})")

    m = Model()
    m.version = (major, minor)
    # step 3: sections
    c = Cursor(sections[1], "METADATA")
    keys = []
    for _ in range(c.count(8)):
        k = c.string()
        keys.append(k)
        m.metadata[k] = c.string()
    c.done()

    c = Cursor(sections[2], "TENSORS")
    blob_end = 0
    data_len = len(sections[4])
    for _ in range(c.count(1)):
        t = Tensor()
        t.name = c.string()
        t.type = QType(c.u8())
        t.has_data = c.u8()
        rank = c.u8()
        if c.u8() != 0:
            raise QBinError("invalidEncoding(TENSORS): reserved")
        if t.has_data > 1:
            raise QBinError("invalidEncoding(TENSORS): hasData")
        if rank > 8:
            raise QBinError("invalidModel: rank above 8")
        t.shape = tuple(c.u32() for _ in range(rank))
        t.quant_axis = c.i32()
        pc = c.count(8)
        t.scale = np.frombuffer(c.take(4 * pc), dtype="<f4").copy()
        t.zero_point = np.frombuffer(c.take(4 * pc), dtype="<i4").astype(np.int64)
        t.data_offset, t.data_length = c.u64(), c.u64()
        if not t.has_data:
            if t.data_offset or t.data_length:
                raise QBinError("invalidEncoding(TENSORS): activation with data")
            t.value = None
        else:
            if t.data_offset % 32 or t.data_offset < blob_end or \
                    t.data_offset + t.data_length > data_len:
                raise QBinError("offsetOutOfRange(TENSORS)")
            blob_end = t.data_offset + t.data_length
            t.blob = sections[4][t.data_offset: blob_end]
        m.tensors.append(t)
    c.done()

    c = Cursor(sections[3], "OPS")
    for _ in range(c.count(1)):
        op = Op()
        kind = c.u16()
        if kind not in OP_KINDS:
            raise QBinError(f"unknownOp: {kind}")
        op.kind = OP_KINDS[kind]
        if c.u16() != 0:
            raise QBinError("invalidEncoding(OPS): reserved")
        op.name = c.string()
        op.inputs = [c.u32() for _ in range(c.count(4))]
        op.outputs = [c.u32() for _ in range(c.count(4))]
        op.attrs = {}
        for _ in range(c.count(8)):
            k = c.string()
            if k in op.attrs:
                raise QBinError(f"invalidModel: op {op.name}: attribute {k} repeated")
            op.attrs[k] = [c.i32() for _ in range(c.count(4))]
        m.ops.append(op)
    m.graph_inputs = [c.u32() for _ in range(c.count(4))]
    m.graph_outputs = [c.u32() for _ in range(c.count(4))]
    c.done()

    validate(m, keys)
    return m


def validate(m, keys):
    """F 7 steps 4 and 5 (the checks a runtime needs; not every sentence of step 4)."""
    def bad(msg):
        raise QBinError("invalidModel: " + msg)

    names = [t.name for t in m.tensors]
    if any(not n for n in names) or len(set(names)) != len(names):
        bad("tensor names empty or repeated")
    if any(not k for k in keys) or len(set(keys)) != len(keys):
        bad("metadata keys empty or repeated")
    for t in m.tensors:
        if any(d < 1 for d in t.shape) or int(np.prod(t.shape, dtype=object)) > 2 ** 40:
            bad(f"tensor {t.name}: shape {t.shape}")
        if not np.all(np.isfinite(t.scale)) or not np.all(t.scale > 0):
            bad(f"tensor {t.name}: scale")
        if np.any(t.zero_point < t.type.min) or np.any(t.zero_point > t.type.max):
            bad(f"tensor {t.name}: zero point outside {t.type}")
        pc = len(t.scale)
        if t.quant_axis == -1:
            if pc != 1:
                bad(f"tensor {t.name}: per tensor with {pc} parameters")
        elif not (0 <= t.quant_axis < len(t.shape)) or t.shape[t.quant_axis] != pc:
            bad(f"tensor {t.name}: quantAxis {t.quant_axis}")
        if not t.has_data and pc != 1:
            bad(f"tensor {t.name}: per-channel activation")
        if t.has_data:
            if t.data_length != packed_size(t.type, t.shape):
                bad(f"tensor {t.name}: data length")
            t.value = unpack(t.type, t.shape, t.blob)
    if "rounding" in m.metadata and m.metadata["rounding"] not in ("gemmlowp", "single"):
        bad(f"rounding {m.metadata['rounding']!r}")
    nt = len(m.tensors)
    produced = set()
    for i in m.graph_inputs + m.graph_outputs:
        if i >= nt or m.tensors[i].has_data:
            bad(f"graph input/output {i}")
    available = set(m.graph_inputs)
    for op in m.ops:
        for i in op.inputs:
            if i >= nt or not (m.tensors[i].has_data or i in available):
                bad(f"op {op.name}: input {i} not available (topological order)")
        if len(op.outputs) != 1:
            bad(f"op {op.name}: {len(op.outputs)} outputs")
        for o in op.outputs:
            if o >= nt or o in produced or o in m.graph_inputs or m.tensors[o].has_data:
                bad(f"op {op.name}: output {o}")
            produced.add(o)
            available.add(o)
        for k, v in op.attrs.items():
            if "multiplier" in k and any(not (0 <= x <= INT32_MAX) for x in v):
                bad(f"op {op.name}: {k} out of range")
            if k in ("shift", "input_shift", "output_shift") and any(not (-31 <= x <= 30) for x in v):
                bad(f"op {op.name}: {k} out of range")
            if k == "left_shift" and any(not (0 <= x <= 30) for x in v):
                bad(f"op {op.name}: left_shift {v} outside 0 ... 30")
        if op.kind in ACCUMULATING:
            check_bound(m, op)
    if m.version >= (1, 1) and "rounding" not in m.metadata:
        bad("metadata rounding missing (format 1.1)")


def check_bound(m, op):
    """F 5.3: |bias[c]| + K * max|q_x - z_x| * max_j |q_w[c, j]| <= 2^31 - 1."""
    x, w = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    if np.any(w.zero_point != 0):
        raise QBinError(f"invalidModel: op {op.name}: constant zero point not 0")
    zx = int(x.zero_point[0])
    span = max(zx - x.type.min, x.type.max - zx)
    wv = w.value
    if op.kind == "channelAffine":
        k, wmax = 1, np.abs(wv.reshape(-1))
    else:
        rows, k = row_geometry(w.shape)
        wmax = np.abs(wv.reshape(rows, k)).max(axis=1)
    bias = np.zeros_like(wmax)
    if len(op.inputs) > 2:
        bt = m.tensors[op.inputs[2]]
        if np.any(bt.zero_point != 0):
            raise QBinError(f"invalidModel: op {op.name}: bias zero point not 0")
        bias = np.abs(bt.value.reshape(-1))
    bound = bias.astype(object) + k * span * wmax.astype(object)
    worst = max(bound)
    if worst > INT32_MAX:
        raise QBinError(f"invalidModel: op {op.name}: accumulator bound {worst} > 2^31 - 1 (K {k})")
