import FixedPoint
import QBin

/// Turns one `QOp` into an executable layer, checking its attributes and shapes against the tensor
/// table (`docs/qbin-format.md`, section 5). Weights are unpacked here, once.
struct LayerBuilder {
    let model: QModel
    let profile: RoundingProfile
    let reference: Bool

    func layer(for op: QOp, index: Int) throws(SimulatorError) -> any IntegerLayer {
        let at = OpContext(op: op, index: index)
        switch op.kind {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose:
            let p = try convParams(op, at)
            let inputType = input(op, 0).type
            switch op.kind {
            case .conv2D:
                guard !reference, let path = GEMMPath.choose(input: inputType, weights: input(op, 1).type) else { return ReferenceConv2D(p) }
                return FastConv2D(p, path: path, inputMin: Int32(inputType.minValue))
            case .depthwiseConv2D:
                if reference { return ReferenceDepthwiseConv2D(p) }
                return p.depthMultiplier > 1 ? FastDepthwiseMultiplierConv2D(p) : FastDepthwiseConv2D(p)
            default:
                if reference { return ReferenceConv2DTranspose(p) }
                return FastConv2DTranspose(p, gemm: GEMMPath.choose(input: inputType, weights: input(op, 1).type) != nil)
            }
        case .dense:
            let x = input(op, 0), w = try constant(op, 1, at), out = output(op)
            guard w.shape.count == 2, x.shape.last == w.shape[0 + 1], out.shape == Array(x.shape.dropLast()) + [w.shape[0]] else {
                throw at.invalid("input \(x.shape), weights \(w.shape) ([C, inFeatures]) and output \(out.shape) do not match")
            }
            let p = DenseParams(rowsPerSample: x.shape.dropLast().reduce(1, *), inFeatures: w.shape[1], outFeatures: w.shape[0],
                                inputZero: try zero(x, at), weights: try values(w, at), bias: try bias(op, channels: w.shape[0], at),
                                requant: try requantizer(op, channels: w.shape[0], at))
            guard !reference, let path = GEMMPath.choose(input: x.type, weights: w.type) else { return ReferenceDense(p) }
            return FastDense(p, path: path, inputMin: Int32(x.type.minValue))
        case .channelAffine:
            let x = input(op, 0), a = try constant(op, 1, at), out = output(op)
            let channels = x.shape.last ?? 1
            guard a.elementCount == channels, out.shape == x.shape else {
                throw at.invalid("input \(x.shape), scale \(a.shape) and output \(out.shape) do not match (scale [C], C the last axis)")
            }
            let affine = ReferenceChannelAffine(channels: channels, inputZero: try zero(x, at), scale: try values(a, at),
                                                offset: try bias(op, channels: channels, at), requant: try requantizer(op, channels: channels, at))
            return reference ? affine : FastChannelAffine(affine, inputMin: Int32(x.type.minValue), inputBits: x.type.bits)
        case .add, .subtract:
            let out = output(op)
            for i in op.inputs.indices where input(op, i).shape != out.shape {
                throw at.invalid("input \(i) has shape \(input(op, i).shape), the output \(out.shape) (no broadcasting)")
            }
            let leftShift = try at.values("left_shift", 1)[0]
            guard (0...30).contains(leftShift) else { throw at.invalid("left_shift \(leftShift) outside 0...30") }
            let m = try at.values("input_multiplier", op.inputs.count), s = try at.values("input_shift", op.inputs.count)
            var multipliers: [QuantizedMultiplier] = []
            for i in op.inputs.indices { multipliers.append(try multiplier(m[i], s[i], at)) }
            let outputRequant = try requantizer(op, channels: 1, at, multiplierKey: "output_multiplier", shiftKey: "output_shift")
            var zeros: [Int32] = []
            for i in op.inputs.indices { zeros.append(try zero(input(op, i), at)) }
            let add = ReferenceAdd(profile: profile, inputZeros: zeros, inputMultipliers: multipliers, subtract: op.kind == .subtract,
                                   leftShift: leftShift, output: outputRequant)
            return reference ? add : FastAdd(add)
        case .multiply:
            let out = output(op)
            let shapes = [input(op, 0).shape, input(op, 1).shape]
            var broadcast: (input: Int, channels: Int, perSample: Int)?
            for k in 0..<2 where shapes[k] != out.shape {
                // The other operand has the output's shape; this one is [1, ..., 1, C] (per sample).
                guard shapes[1 - k] == out.shape, shapes[k].count == out.shape.count, shapes[k].last == out.shape.last,
                      shapes[k].dropLast().allSatisfy({ $0 == 1 }), let c = out.shape.last else {
                    throw at.invalid("inputs \(shapes[0]), \(shapes[1]) and output \(out.shape) differ beyond a 1 x 1 x C channel broadcast")
                }
                broadcast = (k, c, out.shape.reduce(1, *))
            }
            let multiply = ReferenceMultiply(zero0: try zero(input(op, 0), at), zero1: try zero(input(op, 1), at),
                                             requant: try requantizer(op, channels: 1, at), broadcast: broadcast)
            return reference ? multiply : FastMultiply(multiply)
        case .concatenate:
            return try concatenate(op, at)
        case .maxPool2D, .averagePool2D:
            let p = try poolParams(op, at)
            if !reference { return FastPool2D(p, isMax: op.kind == .maxPool2D, inputBits: input(op, 0).type.bits) }
            return op.kind == .maxPool2D ? ReferenceMaxPool2D(p) : ReferenceAveragePool2D(p)
        case .globalAveragePool2D, .globalMaxPool2D:
            let x = input(op, 0), out = output(op)
            guard x.shape.count == 3, out.shape == [x.shape[2]] else {
                throw at.invalid("input \(x.shape) (H, W, C) and output \(out.shape) ([C]) do not match")
            }
            let isMax = op.kind == .globalMaxPool2D
            let clamp = isMax ? [Int32.min, Int32.max] : try at.values("clamp", 2)
            let pool = ReferenceGlobalPool2D(pixels: x.shape[0] * x.shape[1], channels: x.shape[2], isMax: isMax,
                                             lower: clamp[0], upper: clamp[1])
            return reference ? pool : FastGlobalPool2D(pool)
        case .flatten, .reshape:
            guard input(op, 0).elementCount == output(op).elementCount else {
                throw at.invalid("input \(input(op, 0).shape) and output \(output(op).shape) hold different element counts")
            }
            return ReferenceCopy()
        case .zeroPadding2D:
            let x = input(op, 0), out = output(op)
            let pad = try at.values("padding", 4).map(Int.init)
            guard x.shape.count == 3, out.shape == [x.shape[0] + pad[0] + pad[1], x.shape[1] + pad[2] + pad[3], x.shape[2]] else {
                throw at.invalid("input \(x.shape) padded by \(pad) does not give the output \(out.shape)")
            }
            return ReferenceZeroPadding2D(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], top: pad[0], left: pad[2],
                                          outH: out.shape[0], outW: out.shape[1], zero: try zero(x, at))
        case .requantize:
            guard input(op, 0).elementCount == output(op).elementCount else {
                throw at.invalid("input \(input(op, 0).shape) and output \(output(op).shape) hold different element counts")
            }
            let requantize = ReferenceRequantize(inputZero: try zero(input(op, 0), at), requant: try requantizer(op, channels: 1, at))
            return reference ? requantize : FastRequantize(requantize)
        case .lookupTable:
            let x = input(op, 0), table = try constant(op, 1, at), out = output(op)
            guard x.type.bits <= 16 else { throw .unsupportedOp(op: op.name, kind: "lookupTable on a \(x.type) input") }
            let entries = try values(table, at)
            guard entries.count == 1 << x.type.bits, x.elementCount == out.elementCount else {
                throw at.invalid("table of \(entries.count) entries for a \(x.type) input (needs \(1 << x.type.bits)), input \(x.shape), output \(out.shape)")
            }
            if let bad = entries.first(where: { Int64($0) < out.type.minValue || Int64($0) > out.type.maxValue }) {
                throw at.invalid("table entry \(bad) does not fit the output type \(out.type)")
            }
            return ReferenceLookupTable(inputMin: Int32(x.type.minValue), table: entries)
        case .registered(let code):
            guard let definition = IntegerOpRegistry.definition(code) else {
                throw .unsupportedOp(op: op.name, kind: "\(op.kind) (registered without integer kernels; docs/op-registry.md)")
            }
            let context = IntegerOpContext(builder: self, at: at)
            if !reference, let fast = try definition.makeFastLayer(context) { return fast }
            return try definition.makeReferenceLayer(context)
        case .layerNorm:
            return try layerNorm(op, at)
        }
    }

    private func layerNorm(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> any IntegerLayer {
        let x = input(op, 0), a = try constant(op, 1, at), out = output(op)
        let channels = x.shape.last ?? 1
        guard out.shape == x.shape, a.elementCount == channels else {
            throw at.invalid("input \(x.shape), gamma \(a.shape) and output \(out.shape) do not match (gamma [C], C the last axis)")
        }
        let f = try at.values("fraction_bits", 1)[0], e = try at.values("epsilon", 2)
        if let reason = LayerNormLimits.check(inputBits: x.type.bits, channels: channels, fractionBits: f, epsilon: e) {
            throw at.invalid(reason)
        }
        _ = try zero(x, at)
        return ReferenceLayerNorm(channels: channels, fractionBits: Int(f), epsilon: LayerNormLimits.epsilon(e),
                                  gamma: try values(a, at), beta: try bias(op, channels: channels, at),
                                  requant: try requantizer(op, channels: channels, at))
    }

    // MARK: Op families

    private func convParams(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> ConvParams {
        let x = input(op, 0), w = try constant(op, 1, at), out = output(op)
        let kernel = try at.values("kernel", 2).map(Int.init), stride = try at.values("stride", 2).map(Int.init)
        let dilation = try at.values("dilation", 2).map(Int.init), pad = try at.values("padding", 4).map(Int.init)
        guard x.shape.count == 3, out.shape.count == 3 else { throw at.invalid("input \(x.shape) and output \(out.shape) must be [H, W, C]") }
        let outC = w.shape[0]
        var groups = 1, depthMultiplier = 1
        switch op.kind {
        case .conv2D:
            groups = Int(try at.values("groups", 1)[0])
            guard w.shape.count == 4, x.shape[2] % groups == 0, outC % groups == 0, w.shape[3] * groups == x.shape[2] else {
                throw at.invalid("weights \(w.shape) ([C, kH, kW, inC / groups]) do not fit input \(x.shape) with \(groups) groups")
            }
        case .depthwiseConv2D:
            depthMultiplier = Int(try at.values("depth_multiplier", 1)[0])
            guard w.shape.count == 3, outC == x.shape[2] * depthMultiplier else {
                throw at.invalid("weights \(w.shape) ([inC * depth_multiplier, kH, kW]) do not fit input \(x.shape), depth_multiplier \(depthMultiplier)")
            }
        default:
            guard w.shape.count == 4, w.shape[3] == x.shape[2] else {
                throw at.invalid("weights \(w.shape) ([C, kH, kW, inC]) do not fit input \(x.shape)")
            }
        }
        let expected: [Int]
        if op.kind == .conv2DTranspose {
            let size = try at.values("output_size", 2).map(Int.init)
            expected = [size[0], size[1], outC]
        } else {
            let effH = (kernel[0] - 1) * dilation[0] + 1, effW = (kernel[1] - 1) * dilation[1] + 1
            let h = x.shape[0] + pad[0] + pad[1] - effH, wd = x.shape[1] + pad[2] + pad[3] - effW
            guard h >= 0, wd >= 0 else { throw at.invalid("input \(x.shape) padded by \(pad) is smaller than the dilated kernel") }
            expected = [h / stride[0] + 1, wd / stride[1] + 1, outC]
        }
        guard out.shape == expected else { throw at.invalid("output shape \(out.shape), the geometry gives \(expected)") }
        return ConvParams(inH: x.shape[0], inW: x.shape[1], inC: x.shape[2], outH: out.shape[0], outW: out.shape[1], outC: outC,
                          kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                          dilationH: dilation[0], dilationW: dilation[1], padTop: pad[0], padLeft: pad[2],
                          groups: groups, depthMultiplier: depthMultiplier, inputZero: try zero(x, at),
                          weights: try values(w, at), bias: try bias(op, channels: outC, at),
                          requant: try requantizer(op, channels: outC, at))
    }

    private func poolParams(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> PoolParams {
        let x = input(op, 0), out = output(op)
        let kernel = try at.values("kernel", 2).map(Int.init), stride = try at.values("stride", 2).map(Int.init)
        let pad = try at.values("padding", 4).map(Int.init)
        guard x.shape.count == 3 else { throw at.invalid("input \(x.shape) must be [H, W, C]") }
        let h = x.shape[0] + pad[0] + pad[1] - kernel[0], w = x.shape[1] + pad[2] + pad[3] - kernel[1]
        let expected = [h / stride[0] + 1, w / stride[1] + 1, x.shape[2]]
        guard h >= 0, w >= 0, out.shape == expected else {
            throw at.invalid("output shape \(out.shape), input \(x.shape) with window \(kernel), stride \(stride), padding \(pad) gives \(h >= 0 && w >= 0 ? "\(expected)" : "nothing")")
        }
        let clamp = op.kind == .averagePool2D ? try at.values("clamp", 2) : [Int32.min, Int32.max]
        return PoolParams(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], outH: out.shape[0], outW: out.shape[1],
                          kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                          padTop: pad[0], padLeft: pad[2], zero: try zero(x, at), lower: clamp[0], upper: clamp[1])
    }

    private func concatenate(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> any IntegerLayer {
        let out = output(op)
        let axis = Int(try at.values("axis", 1)[0])
        guard out.shape.indices.contains(axis) else { throw at.invalid("axis \(axis) outside the output's rank \(out.shape.count)") }
        var along = 0
        for i in op.inputs.indices {
            var a = input(op, i).shape, b = out.shape
            guard a.count == b.count else { throw at.invalid("input \(i) has rank \(a.count), the output \(b.count)") }
            along += a[axis]; a[axis] = 0; b[axis] = 0
            guard a == b else { throw at.invalid("input \(i) \(input(op, i).shape) differs from the output \(out.shape) off axis \(axis)") }
        }
        guard along == out.shape[axis] else { throw at.invalid("inputs add up to \(along) along axis \(axis), the output has \(out.shape[axis])") }
        let m = try at.values("input_multiplier", op.inputs.count), s = try at.values("input_shift", op.inputs.count)
        let zout = try zero(out, at)
        var requants: [ChannelRequantizer] = [], zeros: [Int32] = []
        for i in op.inputs.indices {
            requants.append(ChannelRequantizer(profile: profile, multipliers: [try multiplier(m[i], s[i], at)], outputZero: zout,
                                               lower: Int32(out.type.minValue), upper: Int32(out.type.maxValue)))
            zeros.append(try zero(input(op, i), at))
        }
        let after = out.shape[(axis + 1)...].reduce(1, *)
        let concat = ReferenceConcatenate(outerCount: out.shape[..<axis].reduce(1, *),
                                          innerCounts: op.inputs.indices.map { input(op, $0).shape[axis] * after },
                                          inputZeros: zeros, requants: requants)
        return reference ? concat : FastConcatenate(concat)
    }

    // MARK: Parameters

    func input(_ op: QOp, _ i: Int) -> QTensor { model.tensors[op.inputs[i]] }
    func output(_ op: QOp) -> QTensor { model.tensors[op.outputs[0]] }

    func constant(_ op: QOp, _ i: Int, _ at: OpContext) throws(SimulatorError) -> QTensor {
        let t = input(op, i)
        guard t.isConstant else { throw at.invalid("input \(i) '\(t.name)' must be a constant") }
        return t
    }

    func values(_ t: QTensor, _ at: OpContext) throws(SimulatorError) -> [Int32] {
        do { return try t.unpackedValues() ?? [] } catch { throw .qbin(error) }
    }

    /// The zero point of a per-tensor activation.
    func zero(_ t: QTensor, _ at: OpContext) throws(SimulatorError) -> Int32 {
        guard t.zeroPoints.count == 1 else {
            throw at.invalid("activation '\(t.name)' has \(t.zeroPoints.count) zero points; activations must be quantized per tensor")
        }
        return t.zeroPoints[0]
    }

    /// The optional int32 bias (input 2), or zeros.
    func bias(_ op: QOp, channels: Int, _ at: OpContext) throws(SimulatorError) -> [Int32] {
        guard op.inputs.count > 2 else { return [Int32](repeating: 0, count: channels) }
        let b = try constant(op, 2, at)
        guard b.type == .int32, b.elementCount == channels else {
            throw at.invalid("bias '\(b.name)' is \(b.type) x \(b.shape), expected i32 x [\(channels)]")
        }
        return try values(b, at)
    }

    func multiplier(_ m: Int32, _ s: Int32, _ at: OpContext) throws(SimulatorError) -> QuantizedMultiplier {
        guard m >= 0, QuantizedMultiplier.supportedShifts.contains(s) else {
            throw at.invalid("multiplier \(m) with shift \(s): the multiplier must be >= 0 and the shift within \(QuantizedMultiplier.supportedShifts)")
        }
        return QuantizedMultiplier(multiplier: m, shift: s)
    }

    func requantizer(_ op: QOp, channels: Int, _ at: OpContext, multiplierKey: String = "multiplier",
                             shiftKey: String = "shift") throws(SimulatorError) -> ChannelRequantizer {
        guard let m = op.attribute(multiplierKey), let s = op.attribute(shiftKey), m.count == s.count,
              m.count == 1 || m.count == channels else {
            throw at.invalid("'\(multiplierKey)' / '\(shiftKey)' need 1 or \(channels) values each")
        }
        var multipliers: [QuantizedMultiplier] = []
        for c in 0..<channels { multipliers.append(try multiplier(m[m.count == 1 ? 0 : c], s[s.count == 1 ? 0 : c], at)) }
        let clamp = try at.values("clamp", 2)
        return ChannelRequantizer(profile: profile, multipliers: multipliers, outputZero: try zero(output(op), at),
                                  lower: clamp[0], upper: clamp[1])
    }
}

/// The op being built, for error messages.
struct OpContext {
    let op: QOp
    let index: Int

    func invalid(_ reason: String) -> SimulatorError {
        .invalidModel("op \(index) '\(op.name)' (\(op.kind)): \(reason)")
    }

    func values(_ key: String, _ count: Int) throws(SimulatorError) -> [Int32] {
        guard let v = op.attribute(key), v.count == count else { throw invalid("attribute '\(key)' needs \(count) values") }
        return v
    }
}
