import QCore

extension GraphBuilder {
    /// Keras layer classes the importer turns into graph nodes.
    static let supportedClasses = [
        "InputLayer",
        "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense",
        "BatchNormalization", "LayerNormalization",
        "Activation", "ReLU", "LeakyReLU", "Softmax",
        "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
        "Add", "Subtract", "Multiply", "Concatenate",
        "Flatten", "Reshape", "ZeroPadding2D", "Cropping2D", "Rescaling", "Normalization", "LayerScale", "StochasticDepth",
        "ops.Add", "ops.Subtract", "ops.Multiply", "ops.TrueDivide", "ops.Divide",
        "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization",
    ]

    /// The built-in classes and those of the op registry.
    static var allSupportedClasses: [String] { supportedClasses + KerasOpRegistry.classNames.filter { !$0.contains(">") } }

    /// Aliases older Keras versions wrote for the same layers.
    static let classAliases = ["Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
                               "AveragePool2D": "AveragePooling2D",
                               "Deconvolution2D": "Conv2DTranspose", "Deconv2D": "Conv2DTranspose",
                               "SeparableConvolution2D": "SeparableConv2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                               "GlobalMaxPool2D": "GlobalMaxPooling2D"]

    /// Adds the node(s) of one call of `layer`; returns the node holding the call's output.
    mutating func build(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        switch Self.classAliases[layer.className] ?? layer.className {
        case "InputLayer": return try addInput(layer, name: name)
        case "Conv2D": return try addConv2D(layer, name: name, inputs: inputs)
        case "DepthwiseConv2D": return try addDepthwiseConv2D(layer, name: name, inputs: inputs)
        case "SeparableConv2D": return try addSeparableConv2D(layer, name: name, inputs: inputs)
        case "Conv2DTranspose": return try addConv2DTranspose(layer, name: name, inputs: inputs)
        case "Dense": return try addDense(layer, name: name, inputs: inputs)
        case "BatchNormalization": return try addBatchNorm(layer, name: name, inputs: inputs)
        case "LayerNormalization": return try addLayerNormalization(layer, name: name, inputs: inputs)
        case "Activation": return try addActivationLayer(layer, name: name, inputs: inputs)
        case "ReLU":
            return try add(name, layer, .activation(try Activations.relu(layer)), inputs: [single(inputs, name, layer)])
        case "LeakyReLU":
            return try add(name, layer, .activation(try Activations.leakyRelu(layer)), inputs: [single(inputs, name, layer)])
        case "Softmax": return try addSoftmax(layer, name: name, inputs: inputs)
        case "MaxPooling2D": return try addPool(layer, name: name, inputs: inputs, max: true)
        case "AveragePooling2D": return try addPool(layer, name: name, inputs: inputs, max: false)
        case "GlobalAveragePooling2D": return try addGlobalPool(layer, name: name, inputs: inputs, max: false)
        case "GlobalMaxPooling2D": return try addGlobalPool(layer, name: name, inputs: inputs, max: true)
        case "Add": return try addMerge(layer, name: name, inputs: inputs, op: .add)
        case "Subtract": return try addMerge(layer, name: name, inputs: inputs, op: .subtract)
        case "Multiply": return try addMerge(layer, name: name, inputs: inputs, op: .multiply)
        case "Concatenate": return try addConcatenate(layer, name: name, inputs: inputs)
        case "Flatten": return try addFlatten(layer, name: name, inputs: inputs)
        case "Reshape": return try addReshape(layer, name: name, inputs: inputs)
        case "ZeroPadding2D": return try addZeroPadding(layer, name: name, inputs: inputs)
        case "Cropping2D": return try addCropping(layer, name: name, inputs: inputs)
        case "Rescaling": return try addRescaling(layer, name: name, inputs: inputs)
        case "Normalization": return try addNormalization(layer, name: name, inputs: inputs)
        case "LayerScale": return try addLayerScale(layer, name: name, inputs: inputs)
        case "ops.Add", "ops.Subtract", "ops.Multiply", "ops.TrueDivide", "ops.Divide":
            return try addScalarOp(layer, name: name, inputs: inputs, op: String(layer.className.dropFirst(4)))
        case "StochasticDepth", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization":
            // Training-time only: identity at inference.
            return try add(name, layer, .identity, inputs: [single(inputs, name, layer)])
        case let className:
            guard let importer = KerasOpRegistry.importer(className) else {
                throw .unsupportedLayer(path: path, layer: layer.name, className: layer.className, supported: Self.allSupportedClasses)
            }
            let input = try single(inputs, name, layer)
            return try add(name, layer, .registered(try importer.makeOp(KerasLayerReader(config: layer))), inputs: [input])
        }
    }
}
