import FixedPoint
import QBin

/// Turns one `QOp` into an executable layer. Its attributes and shapes were checked by
/// `QModel.validate` (`docs/qbin-format.md`, sections 5 and 7), which `IntegerSimulator.init` runs
/// first: this only builds. Weights are unpacked here, once.
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
                let inputRange = Int64(inputType.minValue)...Int64(inputType.maxValue)
                if p.depthMultiplier > 1 { return FastDepthwiseMultiplierConv2D(p, inputRange: inputRange) }
                return FastDepthwiseConv2D(p, inputRange: inputRange)
            default:
                if reference { return ReferenceConv2DTranspose(p) }
                return FastConv2DTranspose(p, gemm: GEMMPath.choose(input: inputType, weights: input(op, 1).type) != nil)
            }
        case .dense:
            let x = input(op, 0), w = input(op, 1)
            let p = DenseParams(rowsPerSample: x.shape.dropLast().reduce(1, *), inFeatures: w.shape[1], outFeatures: w.shape[0],
                                inputZero: try zero(x, at), weights: try values(w, at), bias: try bias(op, channels: w.shape[0], at),
                                requant: try requantizer(op, channels: w.shape[0], at))
            guard !reference, let path = GEMMPath.choose(input: x.type, weights: w.type) else { return ReferenceDense(p) }
            return FastDense(p, path: path, inputMin: Int32(x.type.minValue))
        case .channelAffine:
            let x = input(op, 0), a = input(op, 1)
            let channels = x.shape.last ?? 1
            let affine = ReferenceChannelAffine(channels: channels, inputZero: try zero(x, at), scale: try values(a, at),
                                                offset: try bias(op, channels: channels, at), requant: try requantizer(op, channels: channels, at))
            return reference ? affine : FastChannelAffine(affine, inputMin: Int32(x.type.minValue), inputBits: x.type.bits)
        case .add, .subtract:
            let leftShift = try at.values("left_shift", 1)[0]
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
            // One operand may be [1, ..., 1, C] against the output's [..., C] (checked by the reader).
            for k in 0..<2 where shapes[k] != out.shape { broadcast = (k, out.shape[out.shape.count - 1], out.shape.reduce(1, *)) }
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
            let x = input(op, 0)
            let isMax = op.kind == .globalMaxPool2D
            let clamp = isMax ? [Int32.min, Int32.max] : try at.values("clamp", 2)
            let pool = ReferenceGlobalPool2D(pixels: x.shape[0] * x.shape[1], channels: x.shape[2], isMax: isMax,
                                             lower: clamp[0], upper: clamp[1])
            return reference ? pool : FastGlobalPool2D(pool, inputBits: x.type.bits)
        case .flatten, .reshape:
            return ReferenceCopy()
        case .zeroPadding2D:
            let x = input(op, 0), out = output(op)
            let pad = try at.values("padding", 4).map(Int.init)
            let padding = ReferenceZeroPadding2D(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], top: pad[0], left: pad[2],
                                                 outH: out.shape[0], outW: out.shape[1], zero: try zero(x, at))
            return reference ? padding : FastZeroPadding2D(padding)
        case .requantize:
            let requantize = ReferenceRequantize(inputZero: try zero(input(op, 0), at), requant: try requantizer(op, channels: 1, at))
            return reference ? requantize : FastRequantize(requantize)
        case .lookupTable:
            let x = input(op, 0)
            let lookUp = ReferenceLookupTable(inputMin: Int32(x.type.minValue), table: try values(input(op, 1), at))
            return reference ? lookUp : FastLookupTable(lookUp)
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
        let x = input(op, 0), a = input(op, 1)
        let channels = x.shape.last ?? 1
        let f = try at.values("fraction_bits", 1)[0], e = try at.values("epsilon", 2)
        return ReferenceLayerNorm(channels: channels, fractionBits: Int(f), epsilon: LayerNormLimits.epsilon(e),
                                  gamma: try values(a, at), beta: try bias(op, channels: channels, at),
                                  requant: try requantizer(op, channels: channels, at))
    }

    // MARK: Op families

    private func convParams(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> ConvParams {
        let x = input(op, 0), w = input(op, 1), out = output(op)
        let kernel = try at.values("kernel", 2).map(Int.init), stride = try at.values("stride", 2).map(Int.init)
        let dilation = try at.values("dilation", 2).map(Int.init), pad = try at.values("padding", 4).map(Int.init)
        let outC = w.shape[0]
        let groups = op.kind == .conv2D ? Int(try at.values("groups", 1)[0]) : 1
        let depthMultiplier = op.kind == .depthwiseConv2D ? Int(try at.values("depth_multiplier", 1)[0]) : 1
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
        let clamp = op.kind == .averagePool2D ? try at.values("clamp", 2) : [Int32.min, Int32.max]
        return PoolParams(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], outH: out.shape[0], outW: out.shape[1],
                          kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                          padTop: pad[0], padLeft: pad[2], zero: try zero(x, at), lower: clamp[0], upper: clamp[1])
    }

    private func concatenate(_ op: QOp, _ at: OpContext) throws(SimulatorError) -> any IntegerLayer {
        let out = output(op)
        let axis = Int(try at.values("axis", 1)[0])
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
        return try values(input(op, 2), at)
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
