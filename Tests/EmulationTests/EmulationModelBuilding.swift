import Emulation
import FixedPoint
import QBin
import Simulator
import XCTest

/// Deterministic generator for test data (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func int32(_ range: ClosedRange<Int64>) -> Int32 {
        Int32(range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1)))
    }
    /// Uniform in `[lower, upper)`.
    mutating func double(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func values(_ count: Int, _ type: QType) -> [Int32] {
        (0..<count).map { _ in int32(type.minValue...type.maxValue) }
    }
    /// Symmetric weights in `-(2^(b-1) - 1) ... 2^(b-1) - 1`, as the quantizer writes them.
    mutating func weights(_ count: Int, _ type: QType) -> [Int32] {
        (0..<count).map { _ in int32((-type.maxValue)...type.maxValue) }
    }
    mutating func bool() -> Bool { next() & 1 == 1 }
}

let u8 = QType.unsigned(8)!, s8 = QType.signed(8)!

/// Builds a small model by hand whose fixed-point attributes are derived from its scales, as the
/// quantizer derives them (`QuantizedMultiplier` of the Double ratio), so that the simulator and the
/// emulator compute the same real model and may differ only by the runtime's rounding.
struct ModelBuilder {
    var model = QModel()

    mutating func activation(_ name: String, _ shape: [Int], _ type: QType = u8, scale: Float = 0.05, zero: Int32 = 0) -> Int {
        model.addTensor(.activation(name, shape: shape, type: type, scale: scale, zeroPoint: zero))
    }

    mutating func input(_ shape: [Int], _ type: QType = u8, scale: Float = 0.05, zero: Int32 = 0) -> Int {
        let i = activation("input", shape, type, scale: scale, zero: zero)
        model.inputs = [i]
        return i
    }

    /// A constant with per-channel scales (one per row) or one per-tensor scale.
    mutating func constant(_ name: String, _ shape: [Int], _ type: QType, _ values: [Int32], scales: [Float] = [0.01]) -> Int {
        model.addTensor(.constant(name, shape: shape, type: type, scales: scales, values: values))
    }

    mutating func op(_ kind: QOpKind, _ inputs: [Int], _ output: Int, _ attributes: [String: [Int32]]) {
        let attrs = attributes.keys.sorted().map { QAttribute($0, attributes[$0]!) }
        model.ops.append(QOp(kind: kind, name: "\(kind)\(model.ops.count)", inputs: inputs, outputs: [output], attributes: attrs))
    }

    func scale(_ tensor: Int) -> Double { Double(model.tensors[tensor].scales[0]) }
    func scales(_ tensor: Int) -> [Double] { model.tensors[tensor].scales.map(Double.init) }
    func type(_ tensor: Int) -> QType { model.tensors[tensor].type }

    /// `multiplier` / `shift` for per-channel reals, and the clamp (the output type's range by default).
    func requant(_ reals: [Double], clamp: [Int32]? = nil, output: Int) -> [String: [Int32]] {
        let ms = reals.map { QuantizedMultiplier($0) }
        let t = type(output)
        return ["multiplier": ms.map(\.multiplier), "shift": ms.map(\.shift),
                "clamp": clamp ?? [Int32(t.minValue), Int32(t.maxValue)]]
    }

    /// `multiplier` / `shift` / clamp of a weighted op: `M[c] = s_x * s_w[c] / s_out`.
    func weightedRequant(input: Int, weights: Int, output: Int, clamp: [Int32]? = nil) -> [String: [Int32]] {
        requant(scales(weights).map { scale(input) * $0 / scale(output) }, clamp: clamp, output: output)
    }

    /// TFLite's add / subtract scheme: `left_shift` 20, inputs rescaled by `s_i / (2 max s)`, the sum
    /// by `2 max s / (2^20 s_out)`.
    func addRequant(inputs: [Int], output: Int) -> [String: [Int32]] {
        let twiceMax = 2 * inputs.map(scale).max()!
        let ins = inputs.map { QuantizedMultiplier(scale($0) / twiceMax) }
        let out = QuantizedMultiplier(twiceMax / (Double(1 << 20) * scale(output)))
        let t = type(output)
        return ["left_shift": [20], "input_multiplier": ins.map(\.multiplier), "input_shift": ins.map(\.shift),
                "output_multiplier": [out.multiplier], "output_shift": [out.shift], "clamp": [Int32(t.minValue), Int32(t.maxValue)]]
    }

    func finished(outputs: [Int]) -> QModel {
        var m = model
        m.outputs = outputs
        return m
    }
}

/// Window attributes of the conv-like ops.
func window(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
            padding: (Int, Int, Int, Int) = (0, 0, 0, 0)) -> [String: [Int32]] {
    ["kernel": [Int32(kernel.0), Int32(kernel.1)], "stride": [Int32(stride.0), Int32(stride.1)],
     "dilation": [Int32(dilation.0), Int32(dilation.1)],
     "padding": [Int32(padding.0), Int32(padding.1), Int32(padding.2), Int32(padding.3)]]
}

extension Dictionary where Key == String, Value == [Int32] {
    func merging(_ other: [String: [Int32]]) -> [String: [Int32]] { merging(other) { _, new in new } }
}

/// How two integer outputs compare: values equal, values compared, largest difference.
struct Agreement: CustomStringConvertible {
    var equal = 0, total = 0
    var maxDifference: Int64 = 0

    init() {}
    init(_ a: [Int32], _ b: [Int32]) { add(a, b) }

    mutating func add(_ a: [Int32], _ b: [Int32]) {
        precondition(a.count == b.count, "compared outputs have \(a.count) and \(b.count) values")
        for (x, y) in zip(a, b) {
            if x == y { equal += 1 }
            maxDifference = Swift.max(maxDifference, abs(Int64(x) - Int64(y)))
        }
        total += a.count
    }
    mutating func add(_ other: Agreement) {
        equal += other.equal; total += other.total; maxDifference = Swift.max(maxDifference, other.maxDifference)
    }

    var fraction: Double { total == 0 ? 1 : Double(equal) / Double(total) }
    var description: String {
        String(format: "%.4f %% equal of %d, max |diff| %lld", 100 * fraction, total, maxDifference)
    }
}

/// The emulator may differ from the `single` rounding profile only where a rescaled value lies within
/// ~2^-31 relative of a rounding boundary, or on exact negative ties (single rounds them up, the
/// emulator away from zero): essentially never on random data. 99.9 % leaves room for those.
let singleAgreementFloor = 0.999
/// Any executor's rescale is within half an LSB of the real one plus its own rounding error (< 1/2 LSB),
/// so one op never differs by more than 1.
let maxOpDifference: Int64 = 1
