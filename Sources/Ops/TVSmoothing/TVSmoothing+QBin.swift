import QBin

/// The `.qbin` kind of `TVSmoothing` (docs/qbin-format.md 5.1, code 19): one `[H, W, C]` activation in,
/// the flow's fixed-point attributes and a per-tensor requantize.
public struct TVSmoothingKind: QOpDefinition {
    public init() {}
    public var code: UInt16 { 19 }
    public var name: String { "tvSmoothing" }
    public var inputCount: ClosedRange<Int> { 1...1 }
    public var hasConstantInputs: Bool { false }
    public var requiredAttributes: [(key: String, count: QOpKind.Count)] {
        [("steps", .fixed(1)), ("fraction_bits", .fixed(1)), ("gamma", .fixed(1)), ("epsilon", .fixed(2)),
         ("multiplier", .fixed(1)), ("shift", .fixed(1)), ("clamp", .fixed(2))]
    }
    public func check(_ op: QOp, in model: QModel) -> String? { TVSmoothingLimits.check(op, in: model) }
    /// The `.qbin` op kind.
    public static let kind = QOpKind.registered(19)
}

/// The attribute limits of a `tvSmoothing` op (docs/qbin-format.md 5.1): they keep every intermediate of
/// the fixed-point flow inside Int64 and `u` inside Int32 (docs/numerics.md, "TV smoothing").
public enum TVSmoothingLimits {
    /// Largest `steps * gamma` (so `|u|` stays below `2^(bits + F) + 4 steps G + steps <= 2^23 + 2^28 + 64`).
    public static let maxGammaTotal: Int64 = 1 << 26
    /// Largest `epsilon` (so `dx^2 + dy^2 + E < 2^61`).
    public static let maxEpsilon: Int64 = 1 << 60
    /// Largest `bits(x) + fraction_bits`.
    public static let maxInputBits = 23
    public static let maxSteps: Int32 = 64

    /// `epsilon` from its attribute's two non-negative 31-bit halves `[E >> 31, E & (2^31 - 1)]`.
    public static func epsilon(_ halves: [Int32]) -> Int64 { Int64(halves[0]) << 31 | Int64(halves[1]) }

    /// `E` as the attribute's two halves.
    public static func halves(_ epsilon: Int64) -> [Int32] { [Int32(epsilon >> 31), Int32(epsilon & 0x7fff_ffff)] }

    /// Why the values break the limits, or nil.
    public static func check(inputBits: Int, steps: Int32, fractionBits: Int32, gamma: Int32, epsilon: [Int32]) -> String? {
        guard (0...maxSteps).contains(steps) else { return "steps \(steps) outside 0...\(maxSteps)" }
        guard fractionBits >= 0, Int(fractionBits) + inputBits <= maxInputBits else {
            return "fraction_bits \(fractionBits) with a \(inputBits)-bit input exceeds \(maxInputBits) bits"
        }
        guard gamma >= 0, Int64(steps) * Int64(gamma) <= maxGammaTotal else {
            return "steps * gamma = \(Int64(steps) * Int64(gamma)) outside 0...2^26"
        }
        guard epsilon.count == 2, epsilon[0] >= 0, epsilon[1] >= 0 else { return "epsilon needs two non-negative 31-bit halves" }
        let e = Self.epsilon(epsilon)
        guard e >= 1, e <= maxEpsilon else { return "epsilon \(e) outside 1...2^60" }
        return nil
    }

    /// The check for op `op` of `model` (attributes present and of the right counts).
    public static func check(_ op: QOp, in model: QModel) -> String? {
        guard let steps = op.attribute("steps"), let f = op.attribute("fraction_bits"), let g = op.attribute("gamma"),
              let e = op.attribute("epsilon"), steps.count == 1, f.count == 1, g.count == 1 else { return nil }
        let x = model.tensors[op.inputs[0]], out = model.tensors[op.outputs[0]]
        guard x.shape.count == 3, out.shape == x.shape else { return "input \(x.shape) and output \(out.shape) must be one [H, W, C] shape" }
        return check(inputBits: x.type.bits, steps: steps[0], fractionBits: f[0], gamma: g[0], epsilon: e)
    }
}
