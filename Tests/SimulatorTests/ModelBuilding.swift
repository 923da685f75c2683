import FixedPoint
import QBin
import XCTest
@testable import Simulator

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
    mutating func values(_ count: Int, _ type: QType) -> [Int32] {
        (0..<count).map { _ in int32(type.minValue...type.maxValue) }
    }
    mutating func bool() -> Bool { next() & 1 == 1 }
}

let u8 = QType.unsigned(8)!, s8 = QType.signed(8)!

/// Builds a small model by hand: `x = b.input(...)`, ops appended in order, `b.model(outputs:)`.
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

    mutating func constant(_ name: String, _ shape: [Int], _ type: QType, _ values: [Int32], perChannel: Bool = false) -> Int {
        let scales = perChannel ? [Float](repeating: 0.01, count: shape[0]) : [0.01]
        return model.addTensor(.constant(name, shape: shape, type: type, scales: scales, values: values))
    }

    mutating func op(_ kind: QOpKind, _ inputs: [Int], _ output: Int, _ attributes: [String: [Int32]]) {
        let attrs = attributes.keys.sorted().map { QAttribute($0, attributes[$0]!) }
        model.ops.append(QOp(kind: kind, name: "\(kind)\(model.ops.count)", inputs: inputs, outputs: [output], attributes: attrs))
    }

    func finished(outputs: [Int]) -> QModel {
        var m = model
        m.outputs = outputs
        return m
    }
}

/// `2^30` with shift 1: exactly 1.0.
let identityMultiplier: [String: [Int32]] = ["multiplier": [1 << 30], "shift": [1]]

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

/// Runs `model` on `input` with the scalar reference kernels and returns the single output.
func runReference(_ model: QModel, _ input: [Int32], batch: Int = 1, profile: RoundingProfile = .gemmlowp,
                  file: StaticString = #filePath, line: UInt = #line) throws -> [Int32] {
    let sim = try IntegerSimulator(model: model, rounding: profile, reference: true)
    return sim.runQuantized(input: input, batch: batch, observe: nil)[0]
}

/// Every op output of `model` on `input`, in op order, by the given simulator.
func allOutputs(_ sim: IntegerSimulator, _ input: [Int32], batch: Int) -> [[Int32]] {
    var seen: [[Int32]] = []
    _ = sim.runQuantized(input: input, batch: batch) { _, _, values in seen.append(Array(values)) }
    return seen
}

/// Checks that the fast kernels give the reference's integers for every op output, on 1 and 2 threads,
/// on random input values of the input type (from `seed`).
func assertFastMatchesReference(_ model: QModel, profile: RoundingProfile, batch: Int, seed: UInt64, context: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
    var rng = TestRNG(seed: seed)
    let inputTensor = model.tensors[model.inputs[0]]
    let input = rng.values(batch * inputTensor.elementCount, inputTensor.type)
    try assertFastMatchesReference(model, profile: profile, input: input, batch: batch, context: context, file: file, line: line)
}

/// Checks that the fast kernels give the reference's integers for every op output on `input`, on 1 and
/// 2 threads, and fails at the first op whose output differs; then that the model outputs of a plain
/// `runQuantized` (no observer: the batch split by samples over the threads, `samplesPerPass` at a time)
/// are the reference's too.
func assertFastMatchesReference(_ model: QModel, profile: RoundingProfile, input: [Int32], batch: Int, context: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
    let reference = try IntegerSimulator(model: model, rounding: profile, reference: true)
    let fast = try IntegerSimulator(model: model, rounding: profile)
    let expected = allOutputs(reference, input, batch: batch)
    for threads in [1, 2] {
        fast.threads = threads
        let got = allOutputs(fast, input, batch: batch)
        XCTAssertEqual(got.count, expected.count, context, file: file, line: line)
        for (i, (g, e)) in zip(got, expected).enumerated() where g != e {
            let firstBad = zip(g, e).enumerated().first { $0.element.0 != $0.element.1 }
            XCTFail("\(context), \(profile), threads \(threads): op \(i) (\(model.ops[i].kind)) differs, first at \(firstBad.map { "\($0.offset): fast \($0.element.0) vs reference \($0.element.1)" } ?? "count \(g.count) vs \(e.count)")",
                    file: file, line: line)
            return
        }
    }
    let expectedOutputs = reference.runQuantized(input: input, batch: batch, observe: nil)
    for (threads, samplesPerPass) in [(1, 1), (2, 1), (2, 8)] {
        fast.threads = threads
        fast.samplesPerPass = samplesPerPass
        XCTAssertEqual(fast.runQuantized(input: input, batch: batch, observe: nil), expectedOutputs,
                       "\(context), \(profile), threads \(threads), \(samplesPerPass) samples per pass: model outputs differ",
                       file: file, line: line)
    }
}
