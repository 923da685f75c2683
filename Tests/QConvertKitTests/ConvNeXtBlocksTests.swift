import FloatEngine
import Foundation
import QCTestSupport
import QConvertKit
import QCore
import Report
import XCTest

/// `fixtures/applications/convnext` (tools/make_convnext_blocks.py): ConvNeXt's nested Sequential stem and
/// downsampling block, a nested Functional model, LayerNormalization over channels (4-D and 1-D), Dense
/// on 4-D tensors and grouped 7x7 convs on 4 x 4 and 2 x 2 maps, from `.h5` and `.keras`: float parity
/// with Keras, and a W8A8 conversion (integer `layerNorm`) whose simulator equals the float emulation.
final class ConvNeXtBlocksTests: XCTestCase {
    static let folder = Fixtures.root.appendingPathComponent("applications").appendingPathComponent("convnext")
    static func path(_ file: String) -> String { folder.appendingPathComponent(file).path }
    /// Logits relative to each row's largest |logit|: float32 summation order and erf ulps only.
    static let relativeTolerance: Float = 1e-4

    func testNestedModelsFlattenToOneGraphFromBothContainers() throws {
        let h5 = try ModelLoader.load(path: Self.path("model.h5"))
        let keras = try ModelLoader.load(path: Self.path("model.keras"))
        XCTAssertEqual(h5.graph, keras.graph)
        let names = h5.graph.nodes.map(\.name)
        // The nested models' own layers, under their Keras names, in call order.
        for name in ["stem_conv", "stem_layernorm", "downsampling_layernorm_0", "downsampling_conv_0", "mixer_conv", "mixer_layernorm"] {
            XCTAssertTrue(names.contains(name), "\(name) missing from \(names)")
        }
        XCTAssertLessThan(try XCTUnwrap(names.firstIndex(of: "stem_layernorm")), try XCTUnwrap(names.firstIndex(of: "stage_0_block_0_depthwise_conv")))
        let norms = h5.graph.nodes.filter { if case .layerNorm = $0.op { return true } else { return false } }
        XCTAssertEqual(norms.count, 6)
        XCTAssertEqual(norms.last?.shape, [24], "the head's LayerNormalization acts on the pooled vector")
        let dense = try XCTUnwrap(h5.graph.nodes.first { $0.name == "stage_0_block_0_pointwise_conv_1" })
        XCTAssertEqual(dense.shape, [4, 4, 64], "Dense on a 4-D tensor keeps the leading axes")
    }

    func testFloatEngineMatchesKeras() throws {
        let data = try FixtureData("applications/convnext")
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
            // Measured 100 % (32 of 32) and 32.7 dB output SQNR: the bar leaves room for calibration changes.
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.evaluation?.top1Agreement), 0.9, file)
            let norms = report.layers.filter { $0.name.contains("layernorm") }
            XCTAssertEqual(norms.count, 6, file)
            for layer in report.layers {
                XCTAssertLessThanOrEqual(layer.simulatorVsEmulation?.maxAbsDifference ?? 0, 1, "\(file) \(layer.name)")
            }
        }
    }
}
