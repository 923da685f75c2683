/// The limits of a `layerNorm` op (docs/qbin-format.md 5.1): they keep every intermediate of the
/// fixed-point normalization inside Int64 (docs/numerics.md, "Layer normalization").
public enum LayerNormLimits {
    /// Largest row length `C` (the last axis).
    public static let maxChannels = 1 << 14
    /// Largest input width in bits (`|q| < 2^16`).
    public static let maxInputBits = 16
    /// `fraction_bits` range: `n` carries `F` bits below one standard deviation.
    public static let fractionBits: ClosedRange<Int32> = 0...24
    /// Largest `epsilon` (`E`), so that `V + E < 2^61`.
    public static let maxEpsilon: Int64 = 1 << 60

    /// `E` from its attribute's two non-negative 31-bit halves `[E >> 31, E & (2^31 - 1)]`.
    public static func epsilon(_ halves: [Int32]) -> Int64 { Int64(halves[0]) << 31 | Int64(halves[1]) }

    /// `E` as the attribute's two halves.
    public static func halves(_ epsilon: Int64) -> [Int32] { [Int32(epsilon >> 31), Int32(epsilon & 0x7fff_ffff)] }

    /// Why the values break the limits, or nil.
    public static func check(inputBits: Int, channels: Int, fractionBits: Int32, epsilon: [Int32]) -> String? {
        guard inputBits <= maxInputBits else { return "a \(inputBits)-bit input is wider than \(maxInputBits) bits" }
        guard (1...maxChannels).contains(channels) else { return "last axis \(channels) outside 1...\(maxChannels)" }
        guard fractionBits >= LayerNormLimits.fractionBits.lowerBound, fractionBits <= LayerNormLimits.fractionBits.upperBound else {
            return "fraction_bits \(fractionBits) outside \(LayerNormLimits.fractionBits)"
        }
        guard epsilon.count == 2, epsilon[0] >= 0, epsilon[1] >= 0 else { return "epsilon needs two non-negative 31-bit halves" }
        let e = Self.epsilon(epsilon)
        guard e <= maxEpsilon else { return "epsilon \(e) outside 0...2^60" }
        return nil
    }

    /// The check for op `op` of `model` (attributes present and of the right counts; shapes).
    static func check(_ op: QOp, in model: QModel) -> String? {
        guard let f = op.attribute("fraction_bits"), let e = op.attribute("epsilon"), f.count == 1, op.inputs.count == 3 else { return nil }
        let x = model.tensors[op.inputs[0]], out = model.tensors[op.outputs[0]]
        let gamma = model.tensors[op.inputs[1]], beta = model.tensors[op.inputs[2]]
        guard let channels = x.shape.last, out.shape == x.shape else { return "input \(x.shape) and output \(out.shape) must be one shape" }
        guard gamma.elementCount == channels, beta.elementCount == channels, beta.type == .int32 else {
            return "gamma \(gamma.shape) and beta \(beta.type) x \(beta.shape) must be [\(channels)] (beta i32)"
        }
        return check(inputBits: x.type.bits, channels: channels, fractionBits: f[0], epsilon: e)
    }
}
