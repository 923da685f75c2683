/// Packed size of one op's weights, for `qconvert inspect` (`docs/qbin-format.md`, section 9).
public struct QWeightSummary: Sendable, Equatable {
    public var opIndex: Int
    public var opName: String
    public var kind: QOpKind
    /// Element type of the weights (constant input 1).
    public var type: QType
    /// Number of weights.
    public var params: Int
    /// Bytes of the packed weights in the file (rows padded to whole bytes).
    public var packedBytes: Int
    /// Bytes of the per-channel parameters: weight scales and zero points (f32 + i32), bias and
    /// other constants after the weights, requantization multipliers and shifts (i32 each).
    public var perChannelBytes: Int

    /// `params * bits / 8`, the size without any padding.
    public var idealBytes: Double { Double(params) * Double(type.bits) / 8 }
    /// `packedBytes / idealBytes - 1`: the cost of padding rows to whole bytes.
    public var paddingOverhead: Double { idealBytes > 0 ? Double(packedBytes) / idealBytes - 1 : 0 }
}

/// Totals over a model's weighted ops.
public struct QWeightTotals: Sendable, Equatable {
    public var params = 0
    public var packedBytes = 0
    public var idealBytes: Double = 0
    public var perChannelBytes = 0
    /// `packedBytes / (idealBytes + perChannelBytes)`, the ratio the 1 % size goal is about, compared
    /// with the stored `packedBytes + perChannelBytes`.
    public var overheadVersusIdeal: Double {
        let ideal = idealBytes + Double(perChannelBytes)
        return ideal > 0 ? Double(packedBytes + perChannelBytes) / ideal - 1 : 0
    }
}

extension QModel {
    /// One entry per op whose input 1 is a constant (conv, dense, depthwise, transposed, affine, table).
    public func weightSummary() -> [QWeightSummary] {
        var rows: [QWeightSummary] = []
        for (index, op) in ops.enumerated() where op.kind.hasConstantInputs && op.inputs.count >= 2 {
            guard tensors.indices.contains(op.inputs[1]), let data = tensors[op.inputs[1]].data else { continue }
            let w = tensors[op.inputs[1]]
            var perChannel = w.scales.count * 4 + w.zeroPoints.count * 4
            for i in op.inputs.dropFirst(2) where tensors.indices.contains(i) { perChannel += tensors[i].data?.count ?? 0 }
            perChannel += 4 * ((op.attribute("multiplier")?.count ?? 0) + (op.attribute("shift")?.count ?? 0))
            rows.append(QWeightSummary(opIndex: index, opName: op.name, kind: op.kind, type: w.type,
                                       params: w.shape.reduce(1, *), packedBytes: data.count, perChannelBytes: perChannel))
        }
        return rows
    }

    /// Sums of `weightSummary()`.
    public func weightTotals() -> QWeightTotals {
        var t = QWeightTotals()
        for row in weightSummary() {
            t.params += row.params
            t.packedBytes += row.packedBytes
            t.idealBytes += row.idealBytes
            t.perChannelBytes += row.perChannelBytes
        }
        return t
    }
}
