/// The static int32 accumulator bound of the weighted ops (`docs/qbin-format.md`, section 5.3).
///
/// Per output channel `c`, with `K` products per output value (`rowLength` of the weights: the
/// `kernelH * kernelW * inChannels / groups` taps of a conv, `kernelH * kernelW` of a depthwise conv,
/// `inFeatures` of a dense layer, 1 for `channelAffine`):
///
///     bound[c] = |bias[c]| + K * max|q_x - z_x| * max_j |q_w[c, j]|
///
/// `max|q_x - z_x|` is taken over the whole range of the input's type, so the bound holds for every
/// input. A file is valid only when `max_c bound[c] <= 2^31 - 1`: every partial sum of every
/// accumulation order then fits int32, and a runtime needs no wider type.
public struct QAccumulatorBound: Sendable, Equatable, Codable {
    public var opIndex: Int
    /// Products per output value.
    public var products: Int
    /// `max_c bound[c]`, saturated at `Int64.max`.
    public var bound: Int64
    /// The output channel with the largest bound.
    public var channel: Int

    /// `31 - bitLength(bound)`: how many more bits the accumulator could grow before it needs more than
    /// int32 (negative: it already does). 31 for a zero bound.
    public var headroomBits: Int { 31 - (64 - bound.leadingZeroBitCount) }

    public static let limit = Int64(Int32.max)
}

extension QOpKind {
    /// Ops that accumulate products of an activation and a constant into int32 (the bound above).
    public var accumulatesProducts: Bool {
        [QOpKind.conv2D, .depthwiseConv2D, .conv2DTranspose, .dense, .channelAffine].contains(self)
    }
}

extension QModel {
    /// The accumulator bound of op `index`; nil for an op that accumulates no products.
    /// Inputs are not shape-checked here: channels are the rows of the weights (axis 0).
    public func accumulatorBound(ofOp index: Int) throws(QBinError) -> QAccumulatorBound? {
        let op = ops[index]
        guard op.kind.accumulatesProducts, op.inputs.count >= 2,
              let weights = try tensors[op.inputs[1]].unpackedValues() else { return nil }
        let x = tensors[op.inputs[0]]
        let w = tensors[op.inputs[1]]
        let (rows, rowLength) = op.kind == .channelAffine ? (w.elementCount, 1) : QType.rowsAndLength(of: w.shape)
        let bias = op.inputs.count >= 3 ? try tensors[op.inputs[2]].unpackedValues() ?? [] : []
        let zero = Int64(x.zeroPoints.first ?? 0)
        let maxX = Swift.max(zero - x.type.minValue, x.type.maxValue - zero)
        var largest = QAccumulatorBound(opIndex: index, products: rowLength, bound: 0, channel: 0)
        for c in 0..<rows {
            var maxW: Int64 = 0
            for j in 0..<rowLength { maxW = Swift.max(maxW, abs(Int64(weights[c * rowLength + j]))) }
            let b = c < bias.count ? abs(Int64(bias[c])) : 0
            let bound = Self.saturating(b, Int64(rowLength), maxX, maxW)
            if bound > largest.bound { largest.bound = bound; largest.channel = c }
        }
        return largest
    }

    /// The bounds of every op that accumulates products, in op order.
    public func accumulatorBounds() throws(QBinError) -> [QAccumulatorBound] {
        var out: [QAccumulatorBound] = []
        for i in ops.indices { if let b = try accumulatorBound(ofOp: i) { out.append(b) } }
        return out
    }

    /// `b + k * x * w` without overflow (saturates at `Int64.max`).
    static func saturating(_ b: Int64, _ k: Int64, _ x: Int64, _ w: Int64) -> Int64 {
        let (kx, o1) = k.multipliedReportingOverflow(by: x)
        let (kxw, o2) = kx.multipliedReportingOverflow(by: w)
        let (sum, o3) = kxw.addingReportingOverflow(b)
        return o1 || o2 || o3 ? Int64.max : sum
    }

    /// Throws `invalidModel` for the first op whose accumulator bound exceeds int32.
    func validateAccumulatorBounds() throws(QBinError) {
        for i in ops.indices {
            guard let b = try accumulatorBound(ofOp: i), b.bound > QAccumulatorBound.limit else { continue }
            let op = ops[i]
            throw .invalidModel(reason: "op \(i) '\(op.name)' (\(op.kind)): the int32 accumulator bound |bias| + K * max|q_x - z_x| * max|q_w| is \(b.bound) > 2^31 - 1 (output channel \(b.channel), K = \(b.products)); a runtime would need more than int32: reconvert the model with this qconvert")
        }
    }
}
