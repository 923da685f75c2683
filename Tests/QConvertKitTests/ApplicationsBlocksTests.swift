import FloatEngine
import Foundation
import QCTestSupport
import QConvertKit
import Report
import XCTest

/// `fixtures/applications/blocks` (tools/make_app_blocks.py): the Keras Applications layer types the
/// other fixtures lack (keepdims pooling, hard_silu, functional-op hard sigmoid, broadcast squeeze-excite
/// Multiply, Normalization, Cropping2D, GELU), from `.h5` and `.keras`: float parity with Keras, and a
/// W8A8 conversion whose simulator equals the float emulation.
final class ApplicationsBlocksTests: XCTestCase {
    static let folder = Fixtures.root.appendingPathComponent("applications").appendingPathComponent("blocks")
    static func path(_ file: String) -> String { folder.appendingPathComponent(file).path }
    /// Logits relative to each row's largest |logit|: float32 summation order and erf / sigmoid ulps only.
    static let relativeTolerance: Float = 1e-4

    func testBothContainersImportToOneGraph() throws {
        let h5 = try ModelLoader.load(path: Self.path("model.h5"))
        let keras = try ModelLoader.load(path: Self.path("model.keras"))
        XCTAssertEqual(h5.graph, keras.graph)
        let ops = Set(h5.graph.nodes.map(\.op.name))
        for name in ["Activation(hard_swish)", "Activation(gelu)", "Rescaling", "Multiply", "ZeroPadding2D", "Reshape"] {
            XCTAssertTrue(ops.contains(name), "\(name) missing from \(ops.sorted())")
        }
    }

    func testFloatEngineMatchesKeras() throws {
        let data = try FixtureData("applications/blocks")
        for file in ["model.h5", "model.keras"] {
            for threads in [1, 2] {
                Parallel.threadCount = threads
                let executor = try FloatExecutor(graph: try ModelLoader.load(path: Self.path(file)).graph, maxBatch: 16)
                let outputs = data.inputs.withUnsafeBufferPointer { executor.run(input: $0, batch: data.count) }[0]
                assertRowsClose(outputs, data.outputs, width: 10, relative: Self.relativeTolerance, "\(file), \(threads) threads")
                let agree = zip(argmaxRows(outputs, width: 10), argmaxRows(data.outputs, width: 10)).filter { $0 == $1 }.count
                XCTAssertEqual(agree, data.count, "\(file): top-1 differs from Keras")
            }
        }
        Parallel.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    func testW8A8SimulatorEqualsEmulation() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for file in ["model.h5", "model.keras"] {
            var options = ConvertOptions(modelPath: Self.path(file), outputPath: folder.appendingPathComponent("\(file).qbin").path)
            options.recipe.weightBits = 8
            options.recipe.activationBits = 8
            options.calibrationPath = Self.path("calib.h5")
            options.evaluationPath = Self.path("data.h5")
            options.noiseFloorDraws = 0
            let report = try ConvertJob(options: options).run().report.report
            let agreement = try XCTUnwrap(report.evaluation?.top1Agreement)
            // Untrained weights over random pixels: near-tied logits, so agreement is reported, not gated high.
            XCTAssertGreaterThanOrEqual(agreement, 0.75, file)
            for layer in report.layers {
                XCTAssertLessThanOrEqual(layer.simulatorVsEmulation?.maxAbsDifference ?? 0, 1, "\(file) \(layer.name)")
            }
        }
    }
}
