import Calibration
import Emulation
import FixedPoint
import FloatEngine
import KerasImport
import Ops
import QBin
import QCore
import QCTestSupport
import Quantizer
import Simulator
import XCTest

/// Every registered op has every part (docs/op-registry.md), and each part works end to end on the
/// registration's example: float kernel -> calibration -> quantized form -> `.qbin` bytes and the
/// reader's checks -> reference and fast integer kernels -> emulated twin.
final class OpRegistryTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    /// Integer kernel against its emulated twin: one output step, as for every built-in op (docs/numerics.md).
    static let maxTwinSteps: Int32 = 1
    /// Integer model against the float op at W8A8 on smooth maps: within a few output steps (8-bit input
    /// and output grids plus the op's own fixed-point error).
    static let maxFloatSteps: Float = 3

    func testEveryRegisteredOpHasEveryPart() {
        XCTAssertFalse(OpRegistry.all.isEmpty)
        var codes = Set<UInt16>(), names = Set<String>()
        for r in OpRegistry.all {
            XCTAssertEqual(r.missingParts, [], "\(r.example.name) lacks parts")
            if let code = r.kind?.code { XCTAssertTrue(codes.insert(code).inserted, "op code \(code) registered twice") }
            XCTAssertTrue(names.insert(r.example.name).inserted, "op \(r.example.name) registered twice")
            XCTAssertNotNil(r.kind.flatMap { QOpKind(rawValue: $0.code) }, "\(r.example.name): kind not installed")
            for name in r.keras?.kerasClassNames ?? [] where !name.contains(">") {
                XCTAssertTrue(KerasImporter.supportedLayerClasses.contains(name), "\(name) missing from the supported classes")
            }
        }
    }

    /// The check itself can fail: a registration without parts is reported part by part.
    func testAnIncompleteRegistrationIsReported() {
        let bare = OpRegistration(example: BareOp(), exampleInputShape: [2, 2, 1], kind: nil, integer: nil, emulated: nil, keras: nil)
        XCTAssertEqual(bare.missingParts.count, 6, "\(bare.missingParts)")
        XCTAssertTrue(bare.missingParts.contains { $0.hasPrefix("float kernel") })
        XCTAssertTrue(bare.missingParts.contains { $0.hasPrefix("emulated twin") })
        let tv = TVSmoothing.registration
        let noTwin = OpRegistration(example: tv.example, exampleInputShape: tv.exampleInputShape, kind: tv.kind, integer: tv.integer,
                                    emulated: nil, keras: tv.keras)
        XCTAssertEqual(noTwin.missingParts, ["emulated twin (EmulatedOpDefinition)"])
    }

    func testEveryRegisteredOpConvertsAndRunsInEveryEngine() throws {
        for r in OpRegistry.all {
            try exercise(r)
        }
    }

    private func exercise(_ r: OpRegistration, file: StaticString = #filePath, line: UInt = #line) throws {
        let shape = r.exampleInputShape
        let outShape = try r.example.outputShape([shape]).get()
        let graph = Graph(nodes: [Node(name: "x", sourceClass: "InputLayer", op: .input, inputs: [], shape: shape),
                                  Node(name: "op", sourceClass: r.example.name, op: .registered(r.example), inputs: [0], shape: outShape)],
                          inputs: [0], outputs: [1])
        let count = shape.reduce(1, *), samples = 64
        // Smooth maps with noise and one outlier per sample: what feature maps look like.
        var rng = SplitMix64(seed: 7)
        var data = [Float](repeating: 0, count: samples * count)
        for n in 0..<samples {
            for i in 0..<count { data[n * count + i] = Float(sin(Double(i) * 0.3 + Double(n)) + 0.2 * rng.symmetric()) }
            data[n * count + n % count] = 4
        }
        let executor = try FloatExecutor(graph: graph, maxBatch: 16)
        let float = data.withUnsafeBufferPointer { executor.run(input: $0, batch: samples)[0] }
        let statistics = try Calibrator.collect(executor: executor, sampleCount: samples, batchSize: 16) { start, n, buffer in
            for k in 0..<n * count { buffer[k] = data[start * count + k] }
        }
        var quantized = try Quantizer(graph: graph, statistics: statistics, recipe: QuantizationRecipe()).quantize().model
        quantized.metadata.append(QMetadataEntry(QMetadataEntry.rounding, RoundingProfile.gemmlowp.rawValue))
        let model = try QBinReader.decode(try QBinWriter.encode(quantized))
        XCTAssertTrue(model.ops.contains { $0.kind.definition?.code == r.kind?.code }, "\(r.example.name): no op of its kind", file: file, line: line)
        let reference = try IntegerSimulator(model: model, rounding: .gemmlowp, maxBatch: samples, reference: true)
        let fast = try IntegerSimulator(model: model, rounding: .gemmlowp, maxBatch: samples)
        let twin = try QuantizedEmulator(model: model, maxBatch: samples, rounding: .gemmlowp)
        let input = data.map { model.tensors[model.inputs[0]].quantizeEdge($0) }
        let q = reference.runQuantized(input: input, batch: samples, observe: nil)[0]
        XCTAssertEqual(fast.runQuantized(input: input, batch: samples, observe: nil)[0], q, "\(r.example.name): fast != reference", file: file, line: line)
        let e = twin.runQuantized(input: input, batch: samples, observe: nil)[0]
        let twinSteps = zip(q, e).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(twinSteps, Self.maxTwinSteps, "\(r.example.name): simulator vs emulation", file: file, line: line)
        let out = model.tensors[model.outputs[0]]
        let floatSteps = zip(q, float).map { abs(out.scales[0] * Float($0 - out.zeroPoints[0]) - $1) / out.scales[0] }.max() ?? 0
        XCTAssertLessThanOrEqual(floatSteps, Self.maxFloatSteps, "\(r.example.name): integer vs float op, in output steps", file: file, line: line)
    }
}

/// A graph op with no other part.
private struct BareOp: GraphOp, Equatable {
    var name: String { "Bare" }
    func outputShape(_ inputShapes: [[Int]]) -> Result<[Int], ShapeRuleFailure> { .success(inputShapes[0]) }
    var copiesInputEncoding: Bool { false }
}

/// `GraphOp.copiesInputEncoding` reaches the quantizer: its first/last-layer rule looks through an op
/// that keeps its input's encoding, as through a max pool.
final class CopiesInputEncodingTests: XCTestCase {
    func testTheLastLayerRuleLooksThroughAnEncodingCopy() throws {
        func activationBits(copies: Bool) throws -> Int? {
            var rng = SplitMix64(seed: 3)
            func dense(_ inputs: Int, _ outputs: Int) -> Op {
                .dense(Dense(weights: Tensor(shape: [inputs, outputs], data: (0..<inputs * outputs).map { _ in Float(rng.symmetric()) }),
                             bias: nil))
            }
            let graph = Graph(nodes: [Node(name: "x", sourceClass: "InputLayer", op: .input, inputs: [], shape: [6]),
                                      Node(name: "d1", sourceClass: "Dense", op: dense(6, 6), inputs: [0], shape: [6]),
                                      Node(name: "d2", sourceClass: "Dense", op: dense(6, 6), inputs: [1], shape: [6]),
                                      Node(name: "copy", sourceClass: "Copy", op: .registered(CopyOp(copies: copies)), inputs: [2], shape: [6]),
                                      Node(name: "d3", sourceClass: "Dense", op: dense(6, 3), inputs: [3], shape: [3])],
                              inputs: [0], outputs: [4])
            let executor = try FloatExecutor(graph: graph, maxBatch: 16)
            let statistics = try Calibrator.collect(executor: executor, sampleCount: 32, batchSize: 16) { _, n, buffer in
                for k in 0..<n * 6 { buffer[k] = Float(rng.symmetric()) }
            }
            var recipe = QuantizationRecipe()
            recipe.weightBits = 4; recipe.activationBits = 4
            let result = try Quantizer(graph: graph, statistics: statistics, recipe: recipe).quantize()
            return result.layers.first { $0.name == "d2" }?.activationBits
        }
        XCTAssertEqual(try activationBits(copies: true), 8, "d2's value reaches the last layer through the copy")
        XCTAssertEqual(try activationBits(copies: false), 4, "an op with its own encoding is the last layer's input, not d2")
    }
}

/// A value-preserving op for the test: the float kernel copies, the quantized form is a `reshape`.
private struct CopyOp: FloatOp, QuantizedFormOp, Equatable {
    let copies: Bool
    var name: String { "Copy" }
    func outputShape(_ inputShapes: [[Int]]) -> Result<[Int], ShapeRuleFailure> { .success(inputShapes[0]) }
    var copiesInputEncoding: Bool { copies }
    func makeFloatLayer(inputShapes: [[Int]], outputShape: [Int]) -> any FloatLayer { CopyLayer(count: outputShape.reduce(1, *)) }
    func lower(_ lowering: inout OpLowering) throws(QuantizerError) {
        lowering.emitPassThrough(kind: .reshape, attributes: [QAttribute("shape", [6])])
    }
}

private final class CopyLayer: FloatLayer {
    let count: Int
    init(count: Int) { self.count = count }
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int, workspace: UnsafeMutablePointer<Float>) {
        output.update(from: inputs[0], count: batch * count)
    }
}
