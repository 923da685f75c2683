import FloatEngine
import QCTestSupport
import QConvertKit
import XCTest

/// The float engine must reproduce Keras' own `predict` on every fixture.
final class FloatAgreementTests: XCTestCase {
    /// Probabilities: float32 summation order differs from TensorFlow's (oneDNN/Eigen blocking), so
    /// outputs agree to a few ulps of the logits, far below 1e-4 after softmax.
    static let probabilityTolerance: Float = 1e-4
    /// Logits: relative to each sample's largest logit, for the same reason.
    static let logitRelativeTolerance: Float = 1e-3

    func testEveryFixtureMatchesKeras() throws {
        let names = Fixtures.modelNames
        XCTAssertGreaterThanOrEqual(names.count, 5, "expected the committed fixtures under \(Fixtures.root.path)")
        for name in names {
            for threads in [1, 2] {
                Parallel.threadCount = threads
                try checkFixture(name)
            }
        }
        Parallel.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    /// A batch split by samples over two workers, in passes of 8 (what `run` does without observers),
    /// gives bit for bit the floats of one pass of the whole batch with every op split over the
    /// workers (what it does with an observer), on every fixture and zoo model, at batch sizes that
    /// leave uneven shares and a short last pass.
    func testSplittingABatchBySamplesGivesTheSameFloats() throws {
        defer { Parallel.threadCount = ProcessInfo.processInfo.activeProcessorCount }
        for name in Fixtures.modelNames + ZooTests.zoo.map({ "zoo/" + $0 }) {
            let model = try ModelLoader.load(path: Fixtures.path(name, "model.h5"))
            let data = try FixtureData(name)
            let executor = try FloatExecutor(graph: model.graph, maxBatch: 32)
            let perSample = data.inputs.count / data.count
            for batch in [1, 5, 37] where batch <= data.count {
                let input = Array(data.inputs.prefix(batch * perSample))
                Parallel.threadCount = 2
                let observed = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch, observe: { _, _ in }) }
                let split = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch) }
                Parallel.threadCount = 1
                let single = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch) }
                XCTAssertEqual(split, observed, "\(name) batch \(batch): split by samples vs split per op")
                XCTAssertEqual(single, observed, "\(name) batch \(batch): one thread, passes of 8 vs split per op")
            }
        }
    }

    private func checkFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelLoader.load(path: Fixtures.path(name, "model.h5"))
        let data = try FixtureData(name)
        let executor = try FloatExecutor(graph: model.graph, maxBatch: 32)
        let outputs = data.inputs.withUnsafeBufferPointer { executor.run(input: $0, batch: data.count) }[0]
        let width = data.outputShape.dropFirst().reduce(1, *)
        if Fixtures.outputsAreLogits(name) {
            assertRowsClose(outputs, data.outputs, width: width, relative: Self.logitRelativeTolerance,
                            "fixture \(name), \(Parallel.threadCount) threads", file: file, line: line)
        } else {
            assertRowsClose(outputs, data.outputs, width: width, absolute: Self.probabilityTolerance,
                            "fixture \(name), \(Parallel.threadCount) threads", file: file, line: line)
        }
        let agree = zip(argmaxRows(outputs, width: width), argmaxRows(data.outputs, width: width)).filter { $0 == $1 }.count
        XCTAssertEqual(agree, data.count, "fixture \(name): top-1 differs from Keras on \(data.count - agree) inputs", file: file, line: line)
    }
}
