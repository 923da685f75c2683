import QCore

/// Conv2D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose.
extension GraphBuilder {
    /// Kernel, stride, dilation and padding of a 2-D window layer over an `inH x inW` input.
    /// `same` padding is resolved as TensorFlow does: output `ceil(in / stride)`, the odd pixel at the bottom/right.
    func convGeometry(_ layer: LayerConfig, kernelKey: String = "kernel_size", inH: Int, inW: Int) throws(KerasImportError) -> ConvGeometry {
        try layer.requireChannelsLast()
        let (kh, kw) = try layer.pair(kernelKey)
        let (sh, sw) = try layer.pair("strides", default: (1, 1))
        let (dh, dw) = try layer.pair("dilation_rate", default: (1, 1))
        guard kh > 0, kw > 0, sh > 0, sw > 0, dh > 0, dw > 0 else {
            throw layer.invalid("kernel \(kh)x\(kw), strides \(sh)x\(sw) and dilation \(dh)x\(dw) must be positive")
        }
        var geometry = ConvGeometry(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw)
        geometry.padding = try padding(layer, geometry, inH: inH, inW: inW)
        return geometry
    }

    func padding(_ layer: LayerConfig, _ g: ConvGeometry, inH: Int, inW: Int) throws(KerasImportError) -> Padding2D {
        let mode = try layer.string("padding", default: "valid").lowercased()
        switch mode {
        case "valid":
            return .zero
        case "same":
            let v = Padding2D.same(input: inH, kernel: g.kernelH, stride: g.strideH, dilation: g.dilationH)
            let h = Padding2D.same(input: inW, kernel: g.kernelW, stride: g.strideW, dilation: g.dilationW)
            return Padding2D(top: v.before, bottom: v.after, left: h.before, right: h.after)
        default:
            throw layer.unsupported("padding", mode)
        }
    }

    /// The bias if `use_bias`, else nil.
    private func bias(_ tensors: [Tensor], useBias: Bool) -> [Float]? {
        useBias ? tensors.last?.data : nil
    }

    mutating func addConv2D(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        let geometry = try convGeometry(layer, inH: input.h, inW: input.w)
        let filters = try layer.int("filters")
        let groups = try layer.int("groups", default: 1)
        guard groups > 0, input.c % groups == 0, filters % groups == 0 else {
            throw layer.invalid("groups = \(groups) must divide the input channels (\(input.c)) and filters (\(filters))")
        }
        let useBias = try layer.bool("use_bias", default: true)
        var expected = [ExpectedWeight(role: "kernel", shape: [geometry.kernelH, geometry.kernelW, input.c / groups, filters])]
        if useBias { expected.append(ExpectedWeight(role: "bias", shape: [filters])) }
        let tensors = try weights.load(layer, expected: expected)
        let activation = try Activations.parse(layer, context: context)
        let conv = Conv2D(geometry: geometry, groups: groups, weights: tensors[0], bias: bias(tensors, useBias: useBias), activation: activation)
        return try add(name, layer, .conv2D(conv), inputs: [input.node])
    }

    mutating func addDepthwiseConv2D(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        let geometry = try convGeometry(layer, inH: input.h, inW: input.w)
        let multiplier = try layer.int("depth_multiplier", default: 1)
        let useBias = try layer.bool("use_bias", default: true)
        var expected = [ExpectedWeight(role: "depthwise_kernel", shape: [geometry.kernelH, geometry.kernelW, input.c, multiplier])]
        if useBias { expected.append(ExpectedWeight(role: "bias", shape: [input.c * multiplier])) }
        let tensors = try weights.load(layer, expected: expected)
        let activation = try Activations.parse(layer, context: context)
        let conv = DepthwiseConv2D(geometry: geometry, weights: tensors[0], bias: bias(tensors, useBias: useBias), activation: activation)
        return try add(name, layer, .depthwiseConv2D(conv), inputs: [input.node])
    }

    /// SeparableConv2D becomes two nodes: `<name>/depthwise` (no bias, no activation) and `<name>`,
    /// a 1x1 Conv2D with the bias and activation, so the layer's output keeps the layer's name.
    mutating func addSeparableConv2D(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        let geometry = try convGeometry(layer, inH: input.h, inW: input.w)
        let multiplier = try layer.int("depth_multiplier", default: 1)
        let filters = try layer.int("filters")
        let useBias = try layer.bool("use_bias", default: true)
        let middle = input.c * multiplier
        var expected = [ExpectedWeight(role: "depthwise_kernel", shape: [geometry.kernelH, geometry.kernelW, input.c, multiplier]),
                        ExpectedWeight(role: "pointwise_kernel", shape: [1, 1, middle, filters])]
        if useBias { expected.append(ExpectedWeight(role: "bias", shape: [filters])) }
        let tensors = try weights.load(layer, expected: expected)
        let activation = try Activations.parse(layer, context: context)
        let depthwise = DepthwiseConv2D(geometry: geometry, weights: tensors[0], bias: nil)
        let depthwiseNode = try add(name + "/depthwise", layer, .depthwiseConv2D(depthwise), inputs: [input.node])
        let pointwise = Conv2D(geometry: ConvGeometry(kernelH: 1, kernelW: 1), weights: tensors[1],
                               bias: useBias ? tensors[2].data : nil, activation: activation)
        return try add(name, layer, .conv2D(pointwise), inputs: [depthwiseNode])
    }

    /// Conv2DTranspose with Keras' output size (`output_padding` None): `valid` gives
    /// `in * s + max(k_eff - s, 0)`, `same` gives `in * s`. The stored padding is the one of the
    /// forward conv from that output size, which is TensorFlow's `conv2d_transpose` overlap:
    /// for `same`, `Padding2D.same(input: out, ...)`, i.e. `max(k_eff - s, 0)` in total, the odd pixel after.
    mutating func addConv2DTranspose(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        if let outputPadding = layer.raw("output_padding") {
            throw layer.unsupported("output_padding", JSONNumber.describe(outputPadding))
        }
        try layer.requireChannelsLast()
        let (kh, kw) = try layer.pair("kernel_size")
        let (sh, sw) = try layer.pair("strides", default: (1, 1))
        let (dh, dw) = try layer.pair("dilation_rate", default: (1, 1))
        guard kh > 0, kw > 0, sh > 0, sw > 0, dh > 0, dw > 0 else {
            throw layer.invalid("kernel \(kh)x\(kw), strides \(sh)x\(sw) and dilation \(dh)x\(dw) must be positive")
        }
        var geometry = ConvGeometry(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw)
        let mode = try layer.string("padding", default: "valid").lowercased()
        let effH = (kh - 1) * dh + 1, effW = (kw - 1) * dw + 1
        let outH: Int, outW: Int
        switch mode {
        case "valid":
            outH = input.h * sh + max(effH - sh, 0)
            outW = input.w * sw + max(effW - sw, 0)
        case "same":
            outH = input.h * sh
            outW = input.w * sw
        default:
            throw layer.unsupported("padding", mode)
        }
        geometry.padding = try padding(layer, geometry, inH: outH, inW: outW)
        let filters = try layer.int("filters")
        let useBias = try layer.bool("use_bias", default: true)
        var expected = [ExpectedWeight(role: "kernel", shape: [kh, kw, filters, input.c])]
        if useBias { expected.append(ExpectedWeight(role: "bias", shape: [filters])) }
        let tensors = try weights.load(layer, expected: expected)
        let activation = try Activations.parse(layer, context: context)
        let conv = Conv2DTranspose(geometry: geometry, outputH: outH, outputW: outW, weights: tensors[0],
                                   bias: bias(tensors, useBias: useBias), activation: activation)
        return try add(name, layer, .conv2DTranspose(conv), inputs: [input.node])
    }
}
