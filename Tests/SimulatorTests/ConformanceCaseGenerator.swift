import FixedPoint
import Ops
import QBin
@testable import Simulator

/// Builds one conformance model op by op with seeded random parameters that respect every rule of
/// `docs/qbin-format.md` (the accumulator bound included); `finished()` draws the inputs.
struct CaseGenerator {
    let name: String
    let bits: Int
    let profile: RoundingProfile
    var rng: TestRNG
    var model = QModel()
    var last = 0
    var batch = 2

    init(name: String, bits: Int, profile: RoundingProfile) {
        self.name = name; self.bits = bits; self.profile = profile
        // FNV-1a of the name: each case has its own stream, independent of the others.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        rng = TestRNG(seed: hash)
        model.metadata = [QMetadataEntry(QMetadataEntry.producer, "qconvert conformance generator"),
                          QMetadataEntry(QMetadataEntry.rounding, profile.rawValue)]
    }

    func type(signed: Bool) -> QType { signed ? .signed(bits)! : .unsigned(bits)! }

    mutating func zero(_ t: QType) -> Int32 {
        let span = t.maxValue - t.minValue
        return Int32(t.minValue + span / 4 + Int64(rng.int(0...Int(span / 2))))
    }

    mutating func scale() -> Float { Float(rng.int(10...90)) / 1000 }

    private mutating func tensor(_ shape: [Int], _ t: QType, zero z: Int32? = nil, scale s: Float? = nil) -> Int {
        let z = z ?? zero(t)
        let s = s ?? scale()
        return model.addTensor(.activation("t\(model.tensors.count)", shape: shape, type: t, scale: s, zeroPoint: z))
    }

    mutating func input(_ shape: [Int], signed: Bool, zero z: Int32? = nil) -> Int {
        input(shape, type: type(signed: signed), zero: z ?? zero(type(signed: signed)))
    }

    mutating func input(_ shape: [Int], type t: QType, zero z: Int32, scale s: Float = 0.05) -> Int {
        let i = model.addTensor(.activation("input", shape: shape, type: t, scale: s, zeroPoint: z))
        model.inputs = [i]
        last = i
        return i
    }

    /// `M` as the profile's multiplier and shift.
    func fixed(_ m: Double) -> [[Int32]] {
        let q = QuantizedMultiplier(m, for: profile)
        return [[q.multiplier], [q.shift]]
    }

    /// Half the ops clamp to the whole type, the others like a fused ReLU (`[zout, max]`).
    mutating func clamp(_ out: Int) -> [Int32] {
        let t = model.tensors[out]
        return rng.bool() ? [Int32(t.type.minValue), Int32(t.type.maxValue)] : [t.zeroPoints[0], Int32(t.type.maxValue)]
    }

    func maxInput(_ x: Int) -> Double {
        let t = model.tensors[x], z = Int64(t.zeroPoints[0])
        return Double(max(z - t.type.minValue, t.type.maxValue - z))
    }

    /// A requantization factor that spreads `|acc|` up to about `typical` over the output type.
    mutating func spread(_ typical: Double) -> Double {
        Double(1 << (bits - 1)) / max(typical, 1) * Double(rng.int(50...150)) / 100
    }

    mutating func op(_ kind: QOpKind, _ inputs: [Int], _ out: Int, _ attributes: [(String, [Int32])]) {
        model.ops.append(QOp(kind: kind, name: "\(kind)\(model.ops.count)", inputs: inputs, outputs: [out],
                             attributes: attributes.map { QAttribute($0.0, $0.1) }))
        last = out
    }

    /// Weights of the op's width over the whole signed range (the most negative code included), per
    /// channel at even widths, and an i32 bias.
    mutating func weightsAndBias(_ shape: [Int], name: String) -> (weights: Int, bias: Int) {
        let t = QType.signed(bits)!
        let count = shape.reduce(1, *)
        let perChannel = bits % 2 == 0
        let scales = perChannel ? (0..<shape[0]).map { _ in scale() } : [scale()]
        let w = model.addTensor(.constant(name + "/weights", shape: shape, type: t, scales: scales, values: rng.values(count, t)))
        let limit = Int64(1) << (bits + 8)
        let b = model.addTensor(.constant(name + "/bias", shape: [shape[0]], type: .int32, scales: [0.001],
                                          values: (0..<shape[0]).map { _ in rng.int32(-limit...limit) }))
        return (w, b)
    }

    mutating func conv(_ kind: QOpKind, _ x: Int, cout: Int, cinPerGroup: Int?, kernel: (Int, Int), stride: (Int, Int),
                       dilation: (Int, Int), padding: (Int, Int, Int, Int), extra: [String: [Int32]],
                       outputHW: (Int, Int)? = nil) {
        let inShape = model.tensors[x].shape
        let wShape = cinPerGroup.map { [cout, kernel.0, kernel.1, $0] } ?? [cout, kernel.0, kernel.1]
        let (w, b) = weightsAndBias(wShape, name: "\(kind)")
        let hw = outputHW ?? ((inShape[0] + padding.0 + padding.1 - ((kernel.0 - 1) * dilation.0 + 1)) / stride.0 + 1,
                              (inShape[1] + padding.2 + padding.3 - ((kernel.1 - 1) * dilation.1 + 1)) / stride.1 + 1)
        let out = tensor([hw.0, hw.1, cout], type(signed: rng.bool()))
        let k = Double(wShape.dropFirst().reduce(1, *))
        let perChannel = bits % 2 == 0
        let factors = (0..<(perChannel ? cout : 1)).map { _ in spread(k.squareRoot() * maxInput(x) * Double(1 << (bits - 1)) / 2) }
        let requant = factors.map { QuantizedMultiplier($0, for: profile) }
        var attributes: [(String, [Int32])] = [
            ("kernel", [Int32(kernel.0), Int32(kernel.1)]), ("stride", [Int32(stride.0), Int32(stride.1)]),
            ("dilation", [Int32(dilation.0), Int32(dilation.1)]),
            ("padding", [Int32(padding.0), Int32(padding.1), Int32(padding.2), Int32(padding.3)])]
        attributes += extra.keys.sorted().map { ($0, extra[$0]!) }
        attributes += [("multiplier", requant.map(\.multiplier)), ("shift", requant.map(\.shift)), ("clamp", clamp(out))]
        op(kind, [x, w, b], out, attributes)
    }

    mutating func dense(_ x: Int) {
        let inShape = model.tensors[x].shape
        let features = inShape.last!, cout = 4
        let (w, b) = weightsAndBias([cout, features], name: "dense")
        let out = tensor(Array(inShape.dropLast()) + [cout], type(signed: rng.bool()))
        let f = fixed(spread(Double(features).squareRoot() * maxInput(x) * Double(1 << (bits - 1)) / 2))
        op(.dense, [x, w, b], out, [("multiplier", f[0]), ("shift", f[1]), ("clamp", clamp(out))])
    }

    mutating func affine(_ x: Int) {
        let shape = model.tensors[x].shape, channels = shape.last!
        let t = QType.signed(bits)!
        let a = model.addTensor(.constant("affine/scale", shape: [channels], type: t, scales: (0..<channels).map { _ in scale() },
                                          values: rng.values(channels, t)))
        let b = model.addTensor(.constant("affine/offset", shape: [channels], type: .int32, scales: [0.001],
                                          values: (0..<channels).map { _ in rng.int32(-4000...4000) }))
        let out = tensor(shape, type(signed: rng.bool()))
        let requant = (0..<channels).map { _ in QuantizedMultiplier(spread(maxInput(x) * Double(1 << (bits - 1))), for: profile) }
        op(.channelAffine, [x, a, b], out, [("multiplier", requant.map(\.multiplier)), ("shift", requant.map(\.shift)),
                                            ("clamp", clamp(out))])
    }

    /// `add` / `subtract` with TFLite's left shift of 20 and inputs rescaled by factors below 1/2.
    mutating func rescaledSum(_ kind: QOpKind, _ inputs: [Int]) {
        let out = tensor(model.tensors[inputs[0]].shape, type(signed: rng.bool()))
        let m = inputs.map { _ in QuantizedMultiplier(Double(rng.int(10...49)) / 100, for: profile) }
        let total = Double(1 << 20) * inputs.map { maxInput($0) }.reduce(0, +) * 0.3
        let f = fixed(spread(total / 2))
        op(kind, inputs, out, [("left_shift", [20]), ("input_multiplier", m.map(\.multiplier)), ("input_shift", m.map(\.shift)),
                               ("output_multiplier", f[0]), ("output_shift", f[1]), ("clamp", clamp(out))])
    }

    mutating func multiply(_ x: Int, _ y: Int) {
        let out = tensor(model.tensors[x].shape, type(signed: rng.bool()))
        let f = fixed(spread(maxInput(x) * maxInput(y) / 2))
        op(.multiply, [x, y], out, [("multiplier", f[0]), ("shift", f[1]), ("clamp", clamp(out))])
    }

    mutating func concatenate(_ inputs: [Int], axis: Int) {
        var shape = model.tensors[inputs[0]].shape
        shape[axis] = inputs.map { model.tensors[$0].shape[axis] }.reduce(0, +)
        let out = tensor(shape, type(signed: rng.bool()))
        // The first input copies at the same scale; the others rescale by 0.5 ... 1.5 (and saturate).
        let m = inputs.indices.map { $0 == 0 ? QuantizedMultiplier(multiplier: 1 << 30, shift: 1)
                                             : QuantizedMultiplier(Double(rng.int(50...150)) / 100, for: profile) }
        op(.concatenate, inputs, out, [("axis", [Int32(axis)]), ("input_multiplier", m.map(\.multiplier)), ("input_shift", m.map(\.shift))])
    }

    /// A copy op's output: the input's type, scale and zero point.
    mutating func sameParameters(_ x: Int, _ shape: [Int]) -> Int {
        let t = model.tensors[x]
        return tensor(shape, t.type, zero: t.zeroPoints[0], scale: t.scales[0])
    }

    mutating func pool(_ kind: QOpKind, _ x: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int, Int, Int)) {
        let s = model.tensors[x].shape
        let out = sameParameters(x, [(s[0] + padding.0 + padding.1 - kernel.0) / stride.0 + 1,
                                     (s[1] + padding.2 + padding.3 - kernel.1) / stride.1 + 1, s[2]])
        var attributes: [(String, [Int32])] = [("kernel", [Int32(kernel.0), Int32(kernel.1)]), ("stride", [Int32(stride.0), Int32(stride.1)]),
                                               ("padding", [Int32(padding.0), Int32(padding.1), Int32(padding.2), Int32(padding.3)])]
        if kind == .averagePool2D { attributes.append(("clamp", clamp(out))) }
        op(kind, [x], out, attributes)
    }

    mutating func globalPool(_ kind: QOpKind, _ x: Int) {
        let out = sameParameters(x, [model.tensors[x].shape[2]])
        op(kind, [x], out, kind == .globalAveragePool2D ? [("clamp", clamp(out))] : [])
    }

    mutating func copy(_ kind: QOpKind, _ x: Int, to shape: [Int]) {
        let out = sameParameters(x, shape)
        op(kind, [x], out, kind == .reshape ? [("shape", shape.map { Int32($0) })] : [])
    }

    mutating func zeroPadding(_ x: Int, _ p: (Int, Int, Int, Int)) {
        let s = model.tensors[x].shape
        let out = sameParameters(x, [s[0] + p.0 + p.1, s[1] + p.2 + p.3, s[2]])
        op(.zeroPadding2D, [x], out, [("padding", [Int32(p.0), Int32(p.1), Int32(p.2), Int32(p.3)])])
    }

    /// A rescale by 0.2 ... 4 (left shifts included) into the other signedness.
    @discardableResult
    mutating func requantize(_ x: Int, signed: Bool, wide: Bool = false) -> Int {
        let out = tensor(model.tensors[x].shape, type(signed: signed))
        let f = fixed(Double(rng.int(wide ? 20...400 : 30...300)) / 100)
        op(.requantize, [x], out, [("multiplier", f[0]), ("shift", f[1]), ("clamp", clamp(out))])
        return out
    }

    /// `requantize` with the given multiplier and shift into s8 with zero point 0 and no clamp but the type's.
    @discardableResult
    mutating func requantizeExact(_ x: Int, multiplier: Int32, shift: Int32) -> Int {
        let out = tensor(model.tensors[x].shape, .signed(8)!, zero: 0, scale: 0.05)
        op(.requantize, [x], out, [("multiplier", [multiplier]), ("shift", [shift]), ("clamp", [-128, 127])])
        return out
    }

    mutating func concatenateExact(_ inputs: [Int]) {
        let out = tensor([inputs.map { model.tensors[$0].shape[0] }.reduce(0, +)], .signed(8)!, zero: 0, scale: 0.05)
        op(.concatenate, inputs, out, [("axis", [0]), ("input_multiplier", inputs.map { _ in 1 << 30 }),
                                       ("input_shift", inputs.map { _ in 1 })])
    }

    /// `tvSmoothing`: 1...4 steps, gamma 1/4 ... 2 input steps, epsilon 16 gamma^2 (the default rule),
    /// `fraction_bits = 23 - bits(x)`; the output in its own encoding (scale within about 2x of the input's).
    mutating func tvSmoothing(_ x: Int) {
        let inType = model.tensors[x].type
        let out = tensor(model.tensors[x].shape, type(signed: rng.bool()))
        let f = 23 - inType.bits, steps = rng.int(1...4)
        let gamma = Int64(rng.int(1...8)) << (f - 2), epsilon = 16 * gamma * gamma
        let m = fixed(Double(model.tensors[x].scales[0]) / Double(model.tensors[out].scales[0]) / Double(1 << f))
        op(TVSmoothingKind.kind, [x], out, [("steps", [Int32(steps)]), ("fraction_bits", [Int32(f)]), ("gamma", [Int32(gamma)]),
                                    ("epsilon", [Int32(epsilon >> 31), Int32(epsilon & 0x7fff_ffff)]),
                                    ("multiplier", m[0]), ("shift", m[1]), ("clamp", clamp(out))])
    }

    /// `layerNorm` over the last axis: gamma of the op's width per channel, an i32 beta, `F` 8 ... 16,
    /// epsilon 1 ... 2^20 (or the given one), requantized so `|n a|` up to about `2^F 2^(bits-1)` spreads
    /// over the output type.
    mutating func layerNorm(_ x: Int, epsilon fixedEpsilon: Int64? = nil) {
        let shape = model.tensors[x].shape, channels = shape.last!
        let t = QType.signed(bits)!
        let a = model.addTensor(.constant("layerNorm/gamma", shape: [channels], type: t, scales: (0..<channels).map { _ in scale() },
                                          values: rng.values(channels, t)))
        let f = rng.int(8...16)
        let b = model.addTensor(.constant("layerNorm/beta", shape: [channels], type: .int32, scales: [0.001],
                                          values: (0..<channels).map { _ in rng.int32(-(Int64(1) << (f + bits - 1))...(Int64(1) << (f + bits - 1))) }))
        let out = tensor(shape, type(signed: rng.bool()))
        let epsilon = fixedEpsilon ?? Int64(rng.int(1...(1 << 20)))
        let requant = (0..<channels).map { _ in QuantizedMultiplier(spread(Double(1 << f) * Double(1 << (bits - 1))), for: profile) }
        op(.layerNorm, [x, a, b], out, [("fraction_bits", [Int32(f)]), ("epsilon", [Int32(epsilon >> 31), Int32(epsilon & 0x7fff_ffff)]),
                                        ("multiplier", requant.map(\.multiplier)), ("shift", requant.map(\.shift)), ("clamp", clamp(out))])
    }

    /// `multiply` of an `H x W x C` map and a `1 x 1 x C` gate (a requantized global average of it).
    mutating func broadcastMultiply(_ x: Int, gateFirst: Bool) {
        let s = model.tensors[x].shape
        let pooled = sameParameters(x, [s[2]])
        op(.globalAveragePool2D, [x], pooled, [("clamp", clamp(pooled))])
        let gate = sameParameters(pooled, [1, 1, s[2]])
        op(.reshape, [pooled], gate, [("shape", [1, 1, Int32(s[2])])])
        let out = tensor(s, type(signed: rng.bool()))
        let f = fixed(spread(maxInput(x) * maxInput(gate) / 2))
        op(.multiply, gateFirst ? [gate, x] : [x, gate], out, [("multiplier", f[0]), ("shift", f[1]), ("clamp", clamp(out))])
    }

    mutating func lookupTable(_ x: Int, packedTable: Bool) {
        let out = tensor(model.tensors[x].shape, type(signed: rng.bool()))
        let outType = model.tensors[out].type
        let entries = rng.values(1 << model.tensors[x].type.bits, outType)
        let table = model.addTensor(.constant("table", shape: [entries.count], type: packedTable ? outType : .int32,
                                              scales: [1], values: entries))
        op(.lookupTable, [x, table], out, [])
    }

    /// Dense of 16 s8 inputs (zero point 0, `max|q_x - z_x| = 128`) whose accumulator bound is exactly
    /// `2^31 - 1`: rows of -127 and +127 with biases `±(2^31 - 1 - 16 * 128 * 127)`, read out as i32
    /// through a factor just under 1.
    mutating func denseAtTheBound(_ x: Int) {
        let bias = Int32.max - 16 * 128 * 127
        let w = model.addTensor(.constant("dense/weights", shape: [2, 16], type: .signed(8)!, scales: [0.01],
                                          values: [Int32](repeating: -127, count: 16) + [Int32](repeating: 127, count: 16)))
        let b = model.addTensor(.constant("dense/bias", shape: [2], type: .int32, scales: [0.001], values: [bias, -bias]))
        let out = tensor([2], .int32, zero: 0, scale: 1)
        op(.dense, [x, w, b], out, [("multiplier", [Int32.max]), ("shift", [0]), ("clamp", [Int32.min, Int32.max])])
    }

    /// i32 to i32 by 3/4 (no left shift, so no wrap).
    mutating func requantizeWide(_ x: Int) {
        let out = tensor(model.tensors[x].shape, .int32, zero: 0, scale: 1)
        op(.requantize, [x], out, [("multiplier", [3 << 29]), ("shift", [0]), ("clamp", [Int32.min, Int32.max])])
    }

    /// The model with its last op's output as the graph output, and `batch` samples of random inputs.
    mutating func finished() -> ConformanceCase {
        model.outputs = [last]
        let inputTensor = model.tensors[model.inputs[0]]
        return ConformanceCase(name: name, model: model, batch: batch,
                               input: rng.values(batch * inputTensor.elementCount, inputTensor.type))
    }
}
