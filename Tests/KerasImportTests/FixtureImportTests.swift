import Foundation
import HDF5
import Ops
import QCore
import XCTest
@testable import KerasImport

/// Imports the committed Keras fixtures (`fixtures/<name>/model.h5`, written by tools/make_fixtures.py)
/// and checks structure, shapes and parameter counts against what Keras recorded in `meta.json`.
final class FixtureImportTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")

    static func modelPath(_ name: String) -> String {
        fixtures.appendingPathComponent(name).appendingPathComponent("model.h5").path
    }

    static var fixtureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: modelPath($0)) }.sorted()
    }

    func meta(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name).appendingPathComponent("meta.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func load(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> ImportedModel {
        let path = Self.modelPath(name)
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("fixture \(name) not generated yet") }
        do {
            return try KerasImporter.load(path: path)
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
            throw error
        }
    }

    /// Values stored in the file's `model_weights`, counted independently of the importer's checks.
    func storedParameterCount(_ name: String) throws -> Int {
        let weights = try HDF5File.open(Self.modelPath(name)).root.group("model_weights")
        var total = 0
        for layer in try weights.childNames() where weights.contains(layer) {
            let group = try weights.group(layer)
            guard group.hasAttribute("weight_names") else { continue }
            for weightName in try group.stringArrayAttribute("weight_names") {
                var current = group
                let parts = weightName.split(separator: "/").map(String.init)
                for part in parts.dropLast() { current = try current.group(part) }
                total += try current.dataset(parts.last!).shape.reduce(1, *)
            }
        }
        return total
    }

    func op(_ graph: Graph, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Op {
        try XCTUnwrap(graph.node(name), "no node \(name)", file: file, line: line).op
    }

    // MARK: every fixture

    func testEveryFixtureImportsWithKerasLayerClassesAndParameterCount() throws {
        let names = Self.fixtureNames
        XCTAssertGreaterThanOrEqual(names.count, 4, "fixtures missing under \(Self.fixtures.path)")
        for name in names {
            let model = try load(name)
            let meta = try meta(name)
            let graph = model.graph
            XCTAssertEqual(graph.inputs.count, 1, name)
            XCTAssertEqual(graph.outputs.count, 1, name)
            XCTAssertEqual(graph.nodes[graph.outputs[0]].shape, [10], name)
            XCTAssertEqual(graph.nodes[graph.inputs[0]].shape, [28, 28, 1], name)
            // One node per Keras layer, except SeparableConv2D (two); Sequential's meta omits its InputLayer.
            var collapsed: [String] = []
            // A registered custom layer keeps its file name "package>Class" (tv_cnn's "qconvert>TVSmoothing");
            // the meta lists Python class names.
            for node in graph.nodes where !node.name.hasSuffix("/depthwise") {
                collapsed.append(String(node.sourceClass.split(separator: ">").last ?? ""))
            }
            var expected = try XCTUnwrap(meta["layer_classes"] as? [String], name)
            if expected.first != "InputLayer" { expected.insert("InputLayer", at: 0) }
            XCTAssertEqual(collapsed, expected, name)
            if let version = meta["keras_version"] as? String {
                XCTAssertEqual(model.kerasVersion, version, name)
                XCTAssertEqual(model.format, version.hasPrefix("3") ? .keras3 : .keras2, name)
            }
            let params = try XCTUnwrap(meta["params"] as? Int, name)
            XCTAssertEqual(try storedParameterCount(name), params, "\(name): values in model_weights vs Keras count_params()")
            XCTAssertEqual(importedParameterCount(graph), params, "\(name): values held by the graph vs Keras count_params()")
        }
    }

    /// Parameters the graph holds, counted as Keras does: Rescaling constants not at all (Keras keeps
    /// them in the config), and biases only where the layer has them. The graph stores a zero bias for
    /// `use_bias=False`; a trained bias that is exactly zero everywhere does not occur in the fixtures.
    func importedParameterCount(_ graph: Graph) -> Int {
        graph.nodes.reduce(0) { total, node in
            switch node.op {
            case .conv2D(let c): return total + c.weights.count + (c.bias.allSatisfy { $0 == 0 } ? 0 : c.bias.count)
            case .depthwiseConv2D(let c): return total + c.weights.count + (c.bias.allSatisfy { $0 == 0 } ? 0 : c.bias.count)
            case .conv2DTranspose(let c): return total + c.weights.count + (c.bias.allSatisfy { $0 == 0 } ? 0 : c.bias.count)
            case .dense(let d): return total + d.weights.count + (d.bias.allSatisfy { $0 == 0 } ? 0 : d.bias.count)
            case .batchNorm(let b): return total + 4 * b.channels
            default: return total
            }
        }
    }

    // MARK: per fixture

    func testResnetBn() throws {
        let graph = try load("resnet_bn").graph
        guard case .conv2D(let stem) = try op(graph, "stem_conv") else { return XCTFail() }
        // 28 -> 14 with kernel 3, stride 2, same: total padding 1, after.
        XCTAssertEqual(stem.geometry.padding, Padding2D(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(stem.bias, [Float](repeating: 0, count: stem.outChannels), "use_bias=False")
        guard case .conv2D(let proj) = try op(graph, "b2_proj_conv") else { return XCTFail() }
        XCTAssertEqual(proj.geometry.padding, .zero, "1x1 stride 2 same on 14: no padding")
        let add = try XCTUnwrap(graph.node("b2_add"))
        XCTAssertEqual(add.inputs.map { graph.nodes[$0].name }, ["b2_proj_bn", "b2_b_bn"])
        XCTAssertEqual(graph.nodes.filter { $0.op.name == "BatchNorm" }.count, 6, "six BatchNormalization layers in meta.json")
        guard case .dense(let classifier) = try op(graph, "classifier") else { return XCTFail() }
        XCTAssertEqual(classifier.activation, .softmax)
    }

    func testDwsepRelu6() throws {
        let graph = try load("dwsep_relu6").graph
        XCTAssertEqual(try op(graph, "stem_relu6"), .activation(.relu6), "ReLU(max_value=6)")
        guard case .depthwiseConv2D(let dw1) = try op(graph, "dw1") else { return XCTFail() }
        XCTAssertEqual(dw1.multiplier, 2)
        XCTAssertEqual(dw1.activation, .relu6, "activation=\"relu6\"")
        guard case .depthwiseConv2D(let sepDepthwise) = try op(graph, "sep3/depthwise"),
              case .conv2D(let sepPointwise) = try op(graph, "sep3") else { return XCTFail() }
        XCTAssertEqual(sepDepthwise.activation, .linear)
        XCTAssertEqual(sepPointwise.activation, .relu6)
        XCTAssertEqual(sepPointwise.geometry.kernelH, 1)
        XCTAssertEqual(graph.node("sep3_bn")?.inputs, [graph.index(of: "sep3")!])
        XCTAssertEqual(try op(graph, "dropout"), .identity)
    }

    func testSeqBnAfterActIsSequential() throws {
        let graph = try load("seq_bn_after_act").graph
        XCTAssertEqual(graph.nodes.map(\.name), ["image", "conv1", "bn1", "pool1", "conv2", "bn2", "flatten", "fc1", "bn3", "classifier"])
        XCTAssertEqual(graph.nodes.map(\.shape).prefix(4), [[28, 28, 1], [26, 26, 16], [26, 26, 16], [13, 13, 16]])
        guard case .conv2D(let conv1) = try op(graph, "conv1") else { return XCTFail() }
        XCTAssertEqual(conv1.activation, .relu, "BN follows the activation, which stays fused in the conv")
        XCTAssertEqual(graph.node("bn3")?.shape, [32], "BN after Dense normalises the last axis")
    }

    func testConcatPoolLeaky() throws {
        let graph = try load("concat_pool_leaky").graph
        XCTAssertEqual(try op(graph, "rescale"), .rescaling(scale: [Float(1.0 / 255)], offset: [0]))
        XCTAssertEqual(try op(graph, "stem_leaky"), .activation(.leakyRelu(alpha: 0.1)))
        XCTAssertEqual(try op(graph, "branch_a_leaky"), .activation(.leakyRelu(alpha: 0.2)))
        XCTAssertEqual(try op(graph, "concat"), .concatenate(axis: 2))
        XCTAssertEqual(try op(graph, "zero_pad"), .zeroPadding2D(Padding2D(top: 1, bottom: 0, left: 0, right: 1)))
        guard case .averagePool2D(let same) = try op(graph, "avg_pool_same"),
              case .averagePool2D(let branch) = try op(graph, "branch_b_avg") else { return XCTFail() }
        XCTAssertEqual(same.geometry.padding, Padding2D(top: 0, bottom: 1, left: 0, right: 1), "7 -> 4, window 2 stride 2")
        XCTAssertEqual(branch.geometry.padding, Padding2D(top: 1, bottom: 1, left: 1, right: 1))
        XCTAssertEqual(graph.node("avg_pool_same")?.shape, [4, 4, 32])
        XCTAssertEqual(graph.node("flatten")?.shape, [512])
    }

    func testOpsZoo() throws {
        let model = try load("ops_zoo")
        let graph = model.graph
        guard case .conv2D(let dilated) = try op(graph, "dilated_conv"), case .conv2D(let grouped) = try op(graph, "grouped_conv") else {
            return XCTFail()
        }
        XCTAssertEqual(dilated.geometry.dilationH, 2)
        XCTAssertEqual(dilated.geometry.padding, Padding2D(top: 2, bottom: 2, left: 2, right: 2))
        XCTAssertEqual(grouped.groups, 2)
        XCTAssertEqual(graph.node("add3")?.inputs.count, 3)
        XCTAssertEqual(try op(graph, "swish"), .activation(.swish))
        XCTAssertEqual(try op(graph, "hard_sigmoid"), .activation(.hardSigmoid(slope: 1.0 / 6.0, offset: 0.5)), "Keras 3 hard_sigmoid")
        XCTAssertEqual(try op(graph, "relu_thresh"), .activation(.generalRelu(maxValue: 4, negativeSlope: 0.05, threshold: 0.1)))
        XCTAssertEqual(try op(graph, "gaussian_noise"), .identity)
        XCTAssertEqual(try op(graph, "spatial_dropout"), .identity)
        guard case .conv2DTranspose(let up) = try op(graph, "up") else { return XCTFail() }
        XCTAssertEqual(graph.node("up")?.shape, [14, 14, 16])
        // Forward conv 14 -> 7 with kernel 3, stride 2, same: total padding 1, after (TF's conv2d_transpose overlap).
        XCTAssertEqual(up.geometry.padding, Padding2D(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(try op(graph, "reshape"), .reshape([196]))
        XCTAssertEqual(try op(graph, "softmax"), .activation(.softmax))
        XCTAssertEqual(graph.nodes[graph.outputs[0]].name, "softmax")
    }

    func testKeras2AndKeras20DialectsGiveTheSameGraph() throws {
        let keras2 = try load("keras2_cnn")
        let keras20 = try load("keras20_cnn")
        XCTAssertEqual(keras2.format, .keras2)
        XCTAssertEqual(keras20.format, .keras2)
        XCTAssertEqual(keras20.kerasVersion, "2.0.8")
        XCTAssertEqual(keras20.backend, "tensorflow")
        XCTAssertEqual(keras2.graph.nodes.map(\.name),
                       ["input_1", "conv2d", "batch_normalization", "max_pooling2d", "conv2d_1", "flatten", "dense", "dropout", "dense_1"])
        // Same weights, rewritten config (BN axis [3] vs -1, no groups, fixed-length strings): same graph.
        XCTAssertEqual(keras2.graph, keras20.graph)
    }

    func testImportedWeightsEqualTheStoredDatasets() throws {
        let graph = try load("concat_pool_leaky").graph
        let group = try HDF5File.open(Self.modelPath("concat_pool_leaky")).root.group("model_weights").group("stem_conv")
        let names = try group.stringArrayAttribute("weight_names")
        XCTAssertEqual(names.count, 2)
        var kernelGroup = group
        let parts = names[0].split(separator: "/").map(String.init)
        for part in parts.dropLast() { kernelGroup = try kernelGroup.group(part) }
        let kernel = try kernelGroup.dataset(parts.last!)
        guard case .conv2D(let conv) = try op(graph, "stem_conv") else { return XCTFail() }
        XCTAssertEqual(conv.weights.shape, kernel.shape)
        XCTAssertEqual(conv.weights.data, try kernel.readFloats())
    }
}
