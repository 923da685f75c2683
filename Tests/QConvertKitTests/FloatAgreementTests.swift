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
