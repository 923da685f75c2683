import Emulation
import FloatEngine
import Foundation
import QBin
import QCTestSupport
@testable import QConvertKit
import Simulator
import XCTest

/// What keeps a big model's conversion in bounded memory (docs/bench-resnet50.md): executors free each
/// activation after its last reader, and evaluation runs in passes small enough for the per-layer values.
final class BoundedMemoryTests: XCTestCase {
    /// `releasedAfterOp`, checked against a second computation: a tensor is listed at op `i` exactly when
    /// op `i` reads it, no later op does, and it is neither a graph input nor output.
    func testReleasedAfterOpIsTheLastReader() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, _, path) = try ConvertFixtureTests.convert("resnet_bn", bits: 8, in: folder)
        let model = try QBinReader.read(path: path)
        let released = model.releasedAfterOp()
        XCTAssertEqual(released.count, model.ops.count)
        var listed = Set<Int>()
        for (index, tensors) in released.enumerated() {
            for t in tensors {
                XCTAssertTrue(listed.insert(t).inserted, "tensor \(t) released twice")
                XCTAssertTrue(model.ops[index].inputs.contains(t), "op \(index) does not read tensor \(t)")
                XCTAssertFalse(model.ops[(index + 1)...].contains { $0.inputs.contains(t) }, "tensor \(t) is read after op \(index)")
                XCTAssertFalse(model.tensors[t].isConstant)
                XCTAssertFalse(model.inputs.contains(t) || model.outputs.contains(t))
            }
        }
        // Every activation that some op reads, other than the graph's inputs and outputs, is freed once.
        let read = Set(model.ops.flatMap(\.inputs).filter { !model.tensors[$0].isConstant })
        XCTAssertEqual(listed, read.subtracting(model.inputs + model.outputs))
        XCTAssertTrue(model.ops.contains { $0.kind == .add }, "resnet_bn has residual adds: tensors read twice")
    }

    func testPassSize() {
        let mb = 1 << 20
        XCTAssertEqual(Evaluator.passSize(batchSize: 32, floatBytesPerSample: 68 * mb, budget: 256 * mb), 3)
        XCTAssertEqual(Evaluator.passSize(batchSize: 32, floatBytesPerSample: 1 * mb, budget: 256 * mb), 32)
        XCTAssertEqual(Evaluator.passSize(batchSize: 32, floatBytesPerSample: 512 * mb, budget: 256 * mb), 1)
        XCTAssertEqual(Evaluator.passSize(batchSize: 7, floatBytesPerSample: 0, budget: 256 * mb), 7)
    }

    /// Evaluation in passes of one sample measures what whole batches measure: the same LSB counts and
    /// outputs, and the same energies up to the order of their Double sums.
    func testEvaluationInOneSamplePassesMeasuresTheSame() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (outcome, _, path) = try ConvertFixtureTests.convert("resnet_bn", bits: 8, in: folder)
        let simulator = try IntegerSimulator(path: path, rounding: .gemmlowp, maxBatch: 32)
        let emulator = try QuantizedEmulator(model: simulator.model, rounding: .gemmlowp)
        let executor = try FloatExecutor(graph: outcome.canonical, maxBatch: 32)
        let samples = SampleSlice(try SampleFile(path: Fixtures.path("resnet_bn", "data.h5"), dataset: "inputs",
                                                 expectedShape: executor.inputShape), 0..<40)
        func evaluate(budget: Int) throws -> Evaluation {
            var evaluator = Evaluator(simulator: simulator, emulator: emulator, float: (executor, outcome.result.tensorForNode),
                                      outputSoftmax: outcome.result.outputActivation == .softmax)
            evaluator.layerValueBudget = budget
            return try evaluator.evaluate(samples, batchSize: 32) { _, _ in }
        }
        let whole = try evaluate(budget: Evaluator.defaultLayerValueBudget)
        let single = try evaluate(budget: 1)
        XCTAssertEqual(whole.samples, 40)
        XCTAssertEqual(single.samples, 40)
        XCTAssertEqual(whole.quantizedOutputs, single.quantizedOutputs)
        XCTAssertEqual(whole.floatOutputs, single.floatOutputs)
        XCTAssertEqual(whole.endToEnd.lsbCounts, single.endToEnd.lsbCounts)
        for (a, b) in zip(whole.layers, single.layers) {
            XCTAssertEqual(a.lsbCounts, b.lsbCounts)
            XCTAssertEqual(a.maxLSB, b.maxLSB)
            XCTAssertEqual(a.floatEnergy, b.floatEnergy, accuracy: 1e-9 * a.floatEnergy)
            XCTAssertEqual(a.errorEnergy, b.errorEnergy, accuracy: 1e-9 * a.errorEnergy)
            XCTAssertEqual(a.quantizationErrorEnergy, b.quantizationErrorEnergy, accuracy: 1e-9 * a.quantizationErrorEnergy)
        }
    }
}
