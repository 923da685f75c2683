import Foundation
import QCore
import XCTest
@testable import KerasImport

/// The JSON-to-graph half of the importer on small inline configs with in-memory weights.
final class ConfigParsingTests: XCTestCase {
    func testKeras2FunctionalListFormInboundNodes() throws {
        var weights = TestWeights(keras3: false)
        weights.add("conv2d", [("kernel", [3, 3, 3, 4]), ("bias", [4])])
        weights.add("dense", [("kernel", [64, 10]), ("bias", [10])])
        let json = Config.functional([
            Config.input("input_1", [8, 8, 3], keras3: false),
            Config.k2("Conv2D", "conv2d", ["filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                           "activation": "relu", "use_bias": true], inputs: [["input_1"]]),
            Config.k2("Flatten", "flatten", [:], inputs: [["conv2d"]]),
            Config.k2("Dense", "dense", ["units": 10, "activation": "softmax"], inputs: [["flatten"]]),
        ], inputs: ["input_1"], outputs: ["dense"], keras3: false)
        let model = try weights.load(json, version: "2.15.0")
        XCTAssertEqual(model.format, .keras2)
        let graph = model.graph
        XCTAssertEqual(graph.nodes.map(\.name), ["input_1", "conv2d", "flatten", "dense"])
        XCTAssertEqual(graph.nodes.map(\.shape), [[8, 8, 3], [4, 4, 4], [64], [10]])
        XCTAssertEqual(graph.inputs, [0])
        XCTAssertEqual(graph.outputs, [3])
        guard case .conv2D(let conv) = graph.nodes[1].op else { return XCTFail("conv2d is \(graph.nodes[1].op.name)") }
        // 8 inputs, kernel 3, stride 2: output 4, total padding (4-1)*2+3-8 = 1, the extra pixel after.
        XCTAssertEqual(conv.geometry.padding, Padding2D(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(conv.activation, .relu)
        XCTAssertEqual(conv.weights.data, weights.store.layers["conv2d"]![0].tensor.data)
        guard case .dense(let dense) = graph.nodes[3].op else { return XCTFail() }
        XCTAssertEqual(dense.activation, .softmax)
    }

    func testKeras3DictFormInboundNodesWithMergeAndSharedLayer() throws {
        var weights = TestWeights()
        weights.add("shared", [("kernel", [1, 1, 2, 2]), ("bias", [2])])
        let json = Config.functional([
            Config.input("image", [5, 5, 2]),
            Config.k3("Conv2D", "shared", ["filters": 2, "kernel_size": [1, 1]], inputs: [["image"], ["relu"]]),
            Config.k3("ReLU", "relu", [:], inputs: [["shared"]]),
            Config.k3("Add", "add", [:], inputs: [["shared", "shared#1"]]),
        ], inputs: ["image"], outputs: ["add"])
        let graph = try weights.load(json).graph
        // The second call of the shared conv depends on a layer listed after it.
        XCTAssertEqual(graph.nodes.map(\.name), ["image", "shared", "relu", "shared#1", "add"])
        XCTAssertEqual(graph.nodes[3].inputs, [2])
        XCTAssertEqual(graph.nodes[4].inputs, [1, 3])
        XCTAssertEqual(graph.nodes[4].op, .add)
        XCTAssertEqual(graph.nodes[4].shape, [5, 5, 2])
        XCTAssertEqual(graph.nodes[1].op, graph.nodes[3].op, "both calls share the weights")
    }

    func testSequentialWithoutInputLayerTakesTheFirstLayersBatchInputShape() throws {
        var weights = TestWeights(keras3: false)
        weights.add("dense_1", [("kernel", [6, 3]), ("bias", [3])])
        let json = Config.sequential([
            ["class_name": "Flatten", "config": ["name": "flatten_1", "batch_input_shape": [NSNull(), 2, 3]]],
            ["class_name": "Dense", "config": ["name": "dense_1", "units": 3, "activation": "linear"]],
        ])
        let graph = try weights.load(json, version: "2.4.0").graph
        XCTAssertEqual(graph.nodes.map(\.name), ["flatten_1_input", "flatten_1", "dense_1"])
        XCTAssertEqual(graph.nodes.map(\.shape), [[2, 3], [6], [3]])
        XCTAssertEqual(graph.outputs, [2])
    }

    func testKeras20SequentialConfigIsABareList() throws {
        let json = Config.json(["class_name": "Sequential", "config": [
            ["class_name": "Activation", "config": ["name": "act", "activation": "tanh", "batch_input_shape": [NSNull(), 4]]],
        ]])
        let graph = try TestWeights().load(json, version: "2.0.8").graph
        XCTAssertEqual(graph.nodes.map(\.op), [.input, .activation(.tanh)])
    }

    func testSequentialWithKeras3InputLayer() throws {
        let json = Config.sequential([Config.input("image", [4, 4, 1]),
                                      ["class_name": "MaxPooling2D", "config": ["name": "pool", "pool_size": [2, 2], "strides": NSNull()]]])
        let graph = try TestWeights().load(json).graph
        XCTAssertEqual(graph.nodes.map(\.shape), [[4, 4, 1], [2, 2, 1]])
    }

    func testSamePaddingArithmeticMatchesTensorFlow() throws {
        // (input, kernel, stride) -> (before, after): output ceil(in/s), total (out-1)*s + k - in.
        let cases: [(Int, Int, Int, Int, Int)] = [(28, 3, 2, 0, 1), (7, 3, 2, 1, 1), (14, 3, 1, 1, 1), (6, 1, 2, 0, 0), (7, 2, 2, 0, 1)]
        for (size, kernel, stride, before, after) in cases {
            var weights = TestWeights()
            weights.add("conv", [("kernel", [kernel, kernel, 1, 1]), ("bias", [1])])
            let json = Config.functional([
                Config.input("x", [size, size, 1]),
                Config.k3("Conv2D", "conv", ["filters": 1, "kernel_size": kernel, "strides": stride, "padding": "same"], inputs: [["x"]]),
            ], inputs: ["x"], outputs: ["conv"])
            let graph = try weights.load(json).graph
            guard case .conv2D(let conv) = graph.nodes[1].op else { return XCTFail() }
            XCTAssertEqual(conv.geometry.padding, Padding2D(top: before, bottom: after, left: before, right: after), "\(size) k\(kernel) s\(stride)")
            let expected = (size + stride - 1) / stride
            XCTAssertEqual(graph.nodes[1].shape, [expected, expected, 1])
        }
    }

    func testConv2DTransposeOutputSizeAndPadding() throws {
        for (padding, outSize, pad) in [("same", 14, Padding2D(top: 0, bottom: 1, left: 0, right: 1)), ("valid", 15, Padding2D.zero)] {
            var weights = TestWeights()
            weights.add("up", [("kernel", [3, 3, 2, 4]), ("bias", [2])])
            let json = Config.functional([
                Config.input("x", [7, 7, 4]),
                Config.k3("Conv2DTranspose", "up", ["filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": padding,
                                                     "output_padding": NSNull()], inputs: [["x"]]),
            ], inputs: ["x"], outputs: ["up"])
            let graph = try weights.load(json).graph
            guard case .conv2DTranspose(let conv) = graph.nodes[1].op else { return XCTFail() }
            XCTAssertEqual(graph.nodes[1].shape, [outSize, outSize, 2], padding)
            XCTAssertEqual(conv.geometry.padding, pad, padding)
            // The forward conv of the output gives back the input size.
            XCTAssertTrue(conv.geometry.outputSize(inH: outSize, inW: outSize) == (7, 7), padding)
        }
    }

    func testUnknownLayerListsTheSupportedClasses() {
        let json = Config.functional([Config.input("x", [4]), Config.k3("Lambda", "my_lambda", [:], inputs: [["x"]])],
                                     inputs: ["x"], outputs: ["my_lambda"])
        XCTAssertThrowsError(try TestWeights().load(json)) { error in
            guard case KerasImportError.unsupportedLayer(_, let layer, let className, let supported)? = error as? KerasImportError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(layer, "my_lambda")
            XCTAssertEqual(className, "Lambda")
            XCTAssertTrue(supported.contains("SeparableConv2D"))
            let message = "\(error)"
            XCTAssertTrue(message.contains("test.h5") && message.contains("my_lambda") && message.contains("Lambda"), message)
            XCTAssertTrue(message.contains("Conv2D, DepthwiseConv2D"), message)
        }
    }

    func testChannelsFirstIsAnUnsupportedOption() {
        var weights = TestWeights()
        weights.add("conv", [("kernel", [3, 3, 3, 2]), ("bias", [2])])
        let json = Config.functional([
            Config.input("x", [3, 8, 8]),
            Config.k3("Conv2D", "conv", ["filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"], inputs: [["x"]]),
        ], inputs: ["x"], outputs: ["conv"])
        XCTAssertThrowsError(try weights.load(json)) { error in
            guard case KerasImportError.unsupportedOption(_, "conv", "data_format", "channels_first")? = error as? KerasImportError else {
                return XCTFail("\(error)")
            }
        }
    }

    func testUnknownInputDimensionIsInvalidConfig() {
        let json = Config.json(["class_name": "Functional", "config": [
            "layers": [["class_name": "InputLayer", "config": ["name": "x", "batch_shape": [NSNull(), NSNull(), NSNull(), 3]], "inbound_nodes": []]],
            "input_layers": ["x", 0, 0], "output_layers": ["x", 0, 0]]])
        XCTAssertThrowsError(try TestWeights().load(json)) { error in
            guard case KerasImportError.invalidConfig(_, let detail)? = error as? KerasImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("[None, None, None, 3]"), detail)
        }
    }

    /// Nested models are flattened (fixtures/applications/convnext); one that is empty or called twice
    /// is an invalid config naming it.
    func testEmptyOrSharedNestedModelIsInvalidConfig() {
        let empty = Config.functional([Config.input("x", [4]), Config.k3("Sequential", "inner", ["layers": []], inputs: [["x"]])],
                                      inputs: ["x"], outputs: ["inner"])
        let relu: [String: Any] = ["class_name": "ReLU", "config": ["name": "r"]]
        let twice = Config.functional([Config.input("x", [4]),
                                       Config.k3("Sequential", "inner", ["layers": [Config.input("i", [4]), relu]], inputs: [["x"], ["x"]])],
                                      inputs: ["x"], outputs: ["inner"])
        for (json, expected) in [(empty, "nested Sequential model 'inner'"), (twice, "is called 2 times")] {
            XCTAssertThrowsError(try TestWeights().load(json)) { error in
                guard case KerasImportError.invalidConfig(_, let detail)? = error as? KerasImportError else { return XCTFail("\(error)") }
                XCTAssertTrue(detail.contains(expected), detail)
            }
        }
    }

    func testWeightShapeAndCountAreChecked() {
        var weights = TestWeights()
        weights.add("dense", [("kernel", [5, 3]), ("bias", [3])])
        let json = Config.functional([Config.input("x", [4]), Config.k3("Dense", "dense", ["units": 3], inputs: [["x"]])],
                                     inputs: ["x"], outputs: ["dense"])
        XCTAssertThrowsError(try weights.load(json)) { error in
            guard case KerasImportError.weightShapeMismatch(_, "dense", "dense/kernel", [4, 3], [5, 3])? = error as? KerasImportError else {
                return XCTFail("\(error)")
            }
        }
        weights.add("dense", [("kernel", [4, 3])])
        XCTAssertThrowsError(try weights.load(json)) { error in
            guard case KerasImportError.missingWeights(_, "dense", let detail)? = error as? KerasImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("expected 2 weights (kernel, bias)"), detail)
        }
        weights.store.layers["dense"] = nil
        XCTAssertThrowsError(try weights.load(json)) { error in
            guard case KerasImportError.missingWeights(_, "dense", _)? = error as? KerasImportError else { return XCTFail("\(error)") }
        }
    }

    func testBatchNormWithoutScaleReadsBetaMeanVariance() throws {
        var weights = TestWeights(keras3: false)
        weights.add("bn", [("beta", [3]), ("moving_mean", [3]), ("moving_variance", [3])])
        let json = Config.functional([
            Config.input("x", [2, 2, 3], keras3: false),
            Config.k2("BatchNormalization", "bn", ["axis": [3], "scale": false, "center": true, "epsilon": 0.01], inputs: [["x"]]),
        ], inputs: ["x"], outputs: ["bn"], keras3: false)
        let graph = try weights.load(json, version: "2.15.0").graph
        guard case .batchNorm(let bn) = graph.nodes[1].op else { return XCTFail() }
        let stored = weights.store.layers["bn"]!.map(\.tensor.data)
        XCTAssertEqual(bn.gamma, [1, 1, 1])
        XCTAssertEqual(bn.beta, stored[0])
        XCTAssertEqual(bn.mean, stored[1])
        XCTAssertEqual(bn.variance, stored[2])
        XCTAssertEqual(bn.epsilon, 0.01)
    }

    func testBatchNormOnAnInnerAxisIsRejected() {
        var weights = TestWeights()
        weights.add("bn", [("gamma", [2]), ("beta", [2]), ("moving_mean", [2]), ("moving_variance", [2])])
        let json = Config.functional([Config.input("x", [2, 2, 3]), Config.k3("BatchNormalization", "bn", ["axis": 1], inputs: [["x"]])],
                                     inputs: ["x"], outputs: ["bn"])
        XCTAssertThrowsError(try weights.load(json)) { error in
            guard case KerasImportError.unsupportedOption(_, "bn", "axis", _)? = error as? KerasImportError else { return XCTFail("\(error)") }
        }
    }

    func testSeparableConvBecomesDepthwiseThenPointwise() throws {
        var weights = TestWeights()
        weights.add("sep", [("depthwise_kernel", [3, 3, 4, 2]), ("pointwise_kernel", [1, 1, 8, 5]), ("bias", [5])])
        let json = Config.functional([
            Config.input("x", [6, 6, 4]),
            Config.k3("SeparableConv2D", "sep", ["filters": 5, "kernel_size": [3, 3], "depth_multiplier": 2, "padding": "same",
                                                 "activation": "relu6"], inputs: [["x"]]),
        ], inputs: ["x"], outputs: ["sep"])
        let graph = try weights.load(json).graph
        XCTAssertEqual(graph.nodes.map(\.name), ["x", "sep/depthwise", "sep"])
        XCTAssertEqual(graph.nodes.map(\.shape), [[6, 6, 4], [6, 6, 8], [6, 6, 5]])
        XCTAssertEqual(graph.outputs, [2])
        guard case .depthwiseConv2D(let dw) = graph.nodes[1].op, case .conv2D(let pw) = graph.nodes[2].op else { return XCTFail() }
        XCTAssertEqual(dw.activation, .linear)
        XCTAssertEqual(dw.bias, [Float](repeating: 0, count: 8))
        XCTAssertEqual(pw.activation, .relu6)
        XCTAssertEqual(pw.bias, weights.store.layers["sep"]![2].tensor.data)
        XCTAssertEqual(graph.nodes.map(\.sourceClass), ["InputLayer", "SeparableConv2D", "SeparableConv2D"])
    }

    func testConcatenateAxisIsNormalisedToThePerSampleShape() throws {
        for (axis, expected) in [(-1, 2), (3, 2), (1, 0), (-3, 0)] {
            let json = Config.functional([Config.input("a", [2, 2, 3]), Config.input("b", [2, 2, 3]),
                                          Config.k3("Concatenate", "cat", ["axis": axis], inputs: [["a", "b"]])],
                                         inputs: ["a", "b"], outputs: ["cat"], keras3: false)
            let graph = try TestWeights().load(json).graph
            XCTAssertEqual(graph.nodes[2].op, .concatenate(axis: expected), "axis \(axis)")
            XCTAssertEqual(graph.inputs, [0, 1])
        }
        let json = Config.functional([Config.input("a", [2]), Config.input("b", [2]),
                                      Config.k3("Concatenate", "cat", ["axis": 0], inputs: [["a", "b"]])],
                                     inputs: ["a", "b"], outputs: ["cat"], keras3: false)
        XCTAssertThrowsError(try TestWeights().load(json))
    }

    func testZeroPaddingForms() throws {
        let forms: [(Any, Padding2D)] = [(1, Padding2D(top: 1, bottom: 1, left: 1, right: 1)),
                                         ([1, 2], Padding2D(top: 1, bottom: 1, left: 2, right: 2)),
                                         ([[1, 0], [0, 1]], Padding2D(top: 1, bottom: 0, left: 0, right: 1))]
        for (value, expected) in forms {
            let json = Config.functional([Config.input("x", [3, 3, 1]), Config.k3("ZeroPadding2D", "pad", ["padding": value], inputs: [["x"]])],
                                         inputs: ["x"], outputs: ["pad"])
            XCTAssertEqual(try TestWeights().load(json).graph.nodes[1].op, .zeroPadding2D(expected))
        }
    }

    /// Builds `x -> <layer>` and returns the layer's op.
    private func singleLayerOp(_ className: String, _ config: [String: Any], version: String = "3.4.1") throws -> Op {
        let json = Config.functional([Config.input("x", [4, 4, 2]), Config.k3(className, "layer", config, inputs: [["x"]])],
                                     inputs: ["x"], outputs: ["layer"])
        return try TestWeights().load(json, version: version).graph.nodes[1].op
    }

    func testActivationNamesAreNormalised() throws {
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "keras.activations.relu"]), .activation(.relu))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": ["module": "keras.activations", "class_name": "function",
                                                                       "config": "relu6", "registered_name": "function"]]), .activation(.relu6))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "silu"]), .activation(.swish))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "linear"]), .identity)
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "hard_sigmoid"], version: "2.15.0"),
                       .activation(.hardSigmoid(slope: 0.2, offset: 0.5)))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "hard_sigmoid"], version: "3.4.1"),
                       .activation(.hardSigmoid(slope: 1.0 / 6.0, offset: 0.5)))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "gelu"]), .activation(.gelu))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "hard_silu"]), .activation(.hardSwish))
        XCTAssertEqual(try singleLayerOp("Activation", ["activation": "hard_swish"]), .activation(.hardSwish))
        for name in ["elu", "selu", "mish"] {
            XCTAssertThrowsError(try singleLayerOp("Activation", ["activation": name])) { error in
                guard case KerasImportError.unsupportedOption(_, "layer", "activation", name)? = error as? KerasImportError else {
                    return XCTFail("\(error)")
                }
            }
        }
    }

    func testReLUVariants() throws {
        XCTAssertEqual(try singleLayerOp("ReLU", ["max_value": NSNull(), "negative_slope": 0.0, "threshold": 0.0]), .activation(.relu))
        XCTAssertEqual(try singleLayerOp("ReLU", ["max_value": 6.0]), .activation(.relu6))
        XCTAssertEqual(try singleLayerOp("ReLU", ["negative_slope": 0.1]), .activation(.leakyRelu(alpha: 0.1)))
        XCTAssertEqual(try singleLayerOp("ReLU", ["max_value": 4, "negative_slope": 0.05, "threshold": 0.1]),
                       .activation(.generalRelu(maxValue: 4, negativeSlope: 0.05, threshold: 0.1)))
        XCTAssertEqual(try singleLayerOp("LeakyReLU", ["alpha": 0.3]), .activation(.leakyRelu(alpha: 0.3)))
        XCTAssertEqual(try singleLayerOp("LeakyReLU", ["negative_slope": 0.2]), .activation(.leakyRelu(alpha: 0.2)))
    }

    func testIdentityAndMiscLayers() throws {
        for name in ["Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"] {
            XCTAssertEqual(try singleLayerOp(name, ["rate": 0.5]), .identity, name)
        }
        XCTAssertEqual(try singleLayerOp("Rescaling", ["scale": 0.5, "offset": [1.0, 2.0]]), .rescaling(scale: [0.5], offset: [1, 2]))
        XCTAssertEqual(try singleLayerOp("Reshape", ["target_shape": [16, 2]]), .reshape([16, 2]))
        XCTAssertEqual(try singleLayerOp("Softmax", ["axis": -1]), .activation(.softmax))
        XCTAssertEqual(try singleLayerOp("GlobalMaxPooling2D", ["keepdims": false]), .globalMaxPool2D)
        // keepdims=True: the pool, then a reshape to 1 x 1 x C under the layer's name.
        XCTAssertEqual(try singleLayerOp("GlobalAveragePooling2D", ["keepdims": true]), .globalAveragePool2D)
        XCTAssertThrowsError(try singleLayerOp("LayerNormalization", ["axis": [-1]]))
        XCTAssertThrowsError(try singleLayerOp("Softmax", ["axis": 1]))
        XCTAssertThrowsError(try singleLayerOp("Conv2DTranspose", ["filters": 1, "kernel_size": 1, "output_padding": [1, 1]]))
    }

    func testPoolingStridesDefaultToPoolSize() throws {
        guard case .averagePool2D(let pool) = try singleLayerOp("AveragePooling2D", ["pool_size": [2, 2], "padding": "same"]) else {
            return XCTFail()
        }
        XCTAssertEqual(pool.geometry.strideH, 2)
        XCTAssertEqual(pool.geometry.padding, .zero)
    }

    func testUnknownReferenceIsInvalidConfig() {
        let json = Config.functional([Config.input("x", [4]), Config.k3("Activation", "act", ["activation": "relu"], inputs: [["nope"]])],
                                     inputs: ["x"], outputs: ["act"])
        XCTAssertThrowsError(try TestWeights().load(json)) { error in
            guard case KerasImportError.invalidConfig(_, let detail)? = error as? KerasImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("'nope'"), detail)
        }
    }

    func testFormatFallsBackToTheConfigDialect() throws {
        let json = Config.functional([Config.input("x", [4])], inputs: ["x"], outputs: ["x"])
        XCTAssertEqual(try TestWeights().load(json, version: nil).format, .keras3)
        let json2 = Config.functional([Config.input("x", [4], keras3: false)], inputs: ["x"], outputs: ["x"], keras3: false)
        XCTAssertEqual(try TestWeights().load(json2, version: nil).format, .keras2)
    }
}
