import QBin

/// Turns one `QOp` into an emulated op, deriving every real rescale factor from the tensors' scales
/// (never from the `multiplier` / `shift` attributes, which only approximate them). Attributes and
/// shapes were checked by `QModel.validate` (docs/qbin-format.md section 7), which
/// `QuantizedEmulator.init` runs first: this only builds. Weights are unpacked here, once.
struct OpFactory {
    let model: QModel
    /// Round every rescale twice, as the `gemmlowp` profile does (`RealRescale`).
    let doubleRounding: Bool

    func op(for op: QOp, index: Int) throws(EmulationError) -> any EmulatedOp {
        let at = OpSite(op: op, index: index)
        switch op.kind {
        case .conv2D:
            return EmulatedConv2D(try convGeometry(op, at))
        case .depthwiseConv2D:
            let g = try convGeometry(op, at)
            // An emulation limit, not a file error: the twin sums the taps in int32 before rescaling.
            guard Int64(g.kernelH * g.kernelW) * g.maxInputMagnitude * g.maxWeightMagnitude < Int64(Int32.max) else {
                throw .unsupportedOp(op: op.name, kind: "depthwiseConv2D whose \(g.kernelH)x\(g.kernelW) tap sums may overflow int32")
            }
            return EmulatedDepthwiseConv2D(g)
        case .conv2DTranspose:
            return EmulatedConv2DTranspose(try convGeometry(op, at))
        case .dense:
            let x = input(op, 0), w = input(op, 1)
            return EmulatedDense(rowsPerSample: x.shape.dropLast().reduce(1, *), inFeatures: w.shape[1], outFeatures: w.shape[0],
                                 inputZero: try zero(x, at), maxInputMagnitude: maxMagnitude(x),
                                 weights: try values(w), bias: try bias(op, channels: w.shape[0], at),
                                 rescale: try rescale(op, product: w, channels: w.shape[0], at))
        case .channelAffine:
            let x = input(op, 0), a = input(op, 1)
            let channels = x.shape.last ?? 1
            return EmulatedChannelAffine(channels: channels, inputZero: try zero(x, at), scale: try values(a),
                                         offset: try bias(op, channels: channels, at), rescale: try rescale(op, product: a, channels: channels, at))
        case .add, .subtract:
            let out = output(op)
            var zeros: [Int32] = [], factors: [Double] = []
            for i in op.inputs.indices {
                let x = input(op, i)
                zeros.append(try zero(x, at))
                factors.append((op.kind == .subtract && i == 1 ? -1 : 1) * Double(x.scales[0]) / Double(out.scales[0]))
            }
            let clamp = try at.values("clamp", 2)
            return EmulatedAdd(inputZeros: zeros, factors: factors, outputZero: try zero(out, at), lower: clamp[0], upper: clamp[1])
        case .multiply:
            let x0 = input(op, 0), x1 = input(op, 1), out = output(op)
            // One operand may be [1, ..., 1, C] against a [..., C] output (shapes per sample) (squeeze-excite).
            var broadcast: (input: Int, channels: Int, perSample: Int)?
            for (k, x) in [x0, x1].enumerated() where x.shape != out.shape {
                broadcast = (k, out.shape[out.shape.count - 1], out.shape.reduce(1, *))
            }
            return EmulatedMultiply(zero0: try zero(x0, at), zero1: try zero(x1, at),
                                    rescale: try rescale(op, factors: [Double(x0.scales[0]) * Double(x1.scales[0]) / Double(out.scales[0])], at),
                                    broadcast: broadcast)
        case .requantize:
            let x = input(op, 0), out = output(op)
            return EmulatedRequantize(inputZero: try zero(x, at), rescale: try rescale(op, factors: [Double(x.scales[0]) / Double(out.scales[0])], at))
        case .concatenate:
            return try concatenate(op, at)
        case .maxPool2D, .averagePool2D:
            return EmulatedPool2D(try poolGeometry(op, at), isMax: op.kind == .maxPool2D)
        case .globalAveragePool2D, .globalMaxPool2D:
            let x = input(op, 0)
            let isMax = op.kind == .globalMaxPool2D
            let clamp = isMax ? [Int32.min, Int32.max] : try at.values("clamp", 2)
            return EmulatedGlobalPool2D(pixels: x.shape[0] * x.shape[1], channels: x.shape[2], isMax: isMax, lower: clamp[0], upper: clamp[1])
        case .flatten, .reshape:
            return EmulatedCopy()
        case .zeroPadding2D:
            let x = input(op, 0), out = output(op)
            let pad = try at.values("padding", 4).map(Int.init)
            return EmulatedZeroPadding2D(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], top: pad[0], left: pad[2],
                                         outH: out.shape[0], outW: out.shape[1], zero: try zero(x, at))
        case .lookupTable:
            let x = input(op, 0), table = input(op, 1)
            let entries = try values(table)
            return EmulatedLookupTable(inputMin: Int32(x.type.minValue), table: entries)
        case .registered(let code):
            guard let definition = EmulatedOpRegistry.definition(code) else {
                throw .unsupportedOp(op: op.name, kind: "\(op.kind) (registered without an emulated twin; docs/op-registry.md)")
            }
            return try definition.makeEmulatedOp(EmulatedOpContext(factory: self, at: at))
        case .layerNorm:
            return try layerNorm(op, at)
        }
    }

    private func layerNorm(_ op: QOp, _ at: OpSite) throws(EmulationError) -> any EmulatedOp {
        let x = input(op, 0), a = input(op, 1), out = output(op)
        let channels = x.shape.last ?? 1
        let f = try at.values("fraction_bits", 1)[0], e = try at.values("epsilon", 2)
        let unit = 1 / Double(Int64(1) << Int64(f)), sOut = Double(out.scales[0])
        let factors = (0..<channels).map { unit * Double(a.scales[a.scales.count == 1 ? 0 : $0]) / sOut }
        return EmulatedLayerNorm(channels: channels, fractionBits: Int(f), epsilon: LayerNormLimits.epsilon(e), gamma: try values(a),
                                 beta: try bias(op, channels: channels, at), rescale: try rescale(op, factors: factors, at))
    }

    // MARK: Op families

    private func convGeometry(_ op: QOp, _ at: OpSite) throws(EmulationError) -> ConvGeometry {
        let x = input(op, 0), w = input(op, 1), out = output(op)
        let kernel = try at.values("kernel", 2).map(Int.init), stride = try at.values("stride", 2).map(Int.init)
        let dilation = try at.values("dilation", 2).map(Int.init), pad = try at.values("padding", 4).map(Int.init)
        let outC = w.shape[0]
        let groups = op.kind == .conv2D ? Int(try at.values("groups", 1)[0]) : 1
        let depthMultiplier = op.kind == .depthwiseConv2D ? Int(try at.values("depth_multiplier", 1)[0]) : 1
        return ConvGeometry(inH: x.shape[0], inW: x.shape[1], inC: x.shape[2], outH: out.shape[0], outW: out.shape[1], outC: outC,
                            kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                            dilationH: dilation[0], dilationW: dilation[1], padTop: pad[0], padLeft: pad[2],
                            groups: groups, depthMultiplier: depthMultiplier, inputZero: try zero(x, at),
                            maxInputMagnitude: maxMagnitude(x), weights: try values(w), bias: try bias(op, channels: outC, at),
                            rescale: try rescale(op, product: w, channels: outC, at))
    }

    private func poolGeometry(_ op: QOp, _ at: OpSite) throws(EmulationError) -> PoolGeometry {
        let x = input(op, 0), out = output(op)
        let kernel = try at.values("kernel", 2).map(Int.init), stride = try at.values("stride", 2).map(Int.init)
        let pad = try at.values("padding", 4).map(Int.init)
        let clamp = op.kind == .averagePool2D ? try at.values("clamp", 2) : [Int32.min, Int32.max]
        return PoolGeometry(inH: x.shape[0], inW: x.shape[1], channels: x.shape[2], outH: out.shape[0], outW: out.shape[1],
                            kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                            padTop: pad[0], padLeft: pad[2], zero: try zero(x, at), lower: clamp[0], upper: clamp[1])
    }

    private func concatenate(_ op: QOp, _ at: OpSite) throws(EmulationError) -> any EmulatedOp {
        let out = output(op)
        let axis = Int(try at.values("axis", 1)[0])
        var zeros: [Int32] = [], rescales: [RealRescale] = [], innerCounts: [Int] = []
        let after = out.shape[(axis + 1)...].reduce(1, *)
        for i in op.inputs.indices {
            let x = input(op, i)
            zeros.append(try zero(x, at))
            innerCounts.append(x.shape[axis] * after)
            rescales.append(RealRescale(factors: [Double(x.scales[0]) / Double(out.scales[0])], outputZero: try zero(out, at),
                                        lower: Int32(out.type.minValue), upper: Int32(out.type.maxValue), doubleRounding: doubleRounding))
        }
        return EmulatedConcatenate(outerCount: out.shape[..<axis].reduce(1, *), innerCounts: innerCounts, inputZeros: zeros, rescales: rescales)
    }

    // MARK: Parameters

    func input(_ op: QOp, _ i: Int) -> QTensor { model.tensors[op.inputs[i]] }
    func output(_ op: QOp) -> QTensor { model.tensors[op.outputs[0]] }

    func values(_ t: QTensor) throws(EmulationError) -> [Int32] {
        do { return try t.unpackedValues() ?? [] } catch { throw .qbin(error) }
    }

    /// The zero point of a per-tensor activation.
    func zero(_ t: QTensor, _ at: OpSite) throws(EmulationError) -> Int32 {
        guard t.zeroPoints.count == 1, t.scales.count == 1 else {
            throw at.invalid("activation '\(t.name)' has \(t.scales.count) scales; activations must be quantized per tensor")
        }
        return t.zeroPoints[0]
    }

    /// Largest `|q - z|` an activation of `t`'s type and zero point can hold.
    private func maxMagnitude(_ t: QTensor) -> Int64 {
        let z = Int64(t.zeroPoints[0])
        return Swift.max(abs(t.type.minValue - z), abs(t.type.maxValue - z))
    }

    /// The optional int32 bias (input 2), or zeros.
    func bias(_ op: QOp, channels: Int, _ at: OpSite) throws(EmulationError) -> [Int32] {
        guard op.inputs.count > 2 else { return [Int32](repeating: 0, count: channels) }
        return try values(input(op, 2))
    }

    /// The rescale of an op whose accumulator is `(x - zin) * w`: `factors[c] = s_x * s_w[c] / s_out`, with
    /// `w` (weights or affine scale) per channel along axis 0 or per tensor.
    func rescale(_ op: QOp, product w: QTensor, channels: Int, _ at: OpSite) throws(EmulationError) -> RealRescale {
        let sx = Double(input(op, 0).scales[0]), sOut = Double(output(op).scales[0])
        return try rescale(op, factors: (0..<channels).map { sx * Double(w.scales[w.scales.count == 1 ? 0 : $0]) / sOut }, at)
    }

    /// A rescale with the given per-channel factors, the output's zero point and the op's `clamp`.
    func rescale(_ op: QOp, factors: [Double], _ at: OpSite) throws(EmulationError) -> RealRescale {
        guard factors.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw at.invalid("scales give a rescale factor that is not finite") }
        let clamp = try at.values("clamp", 2)
        return RealRescale(factors: factors, outputZero: try zero(output(op), at), lower: clamp[0], upper: clamp[1],
                           doubleRounding: doubleRounding)
    }
}

/// The op being built, for error messages.
struct OpSite {
    let op: QOp
    let index: Int

    func invalid(_ reason: String) -> EmulationError { .invalidModel("op \(index) '\(op.name)' (\(op.kind)): \(reason)") }

    func values(_ key: String, _ count: Int) throws(EmulationError) -> [Int32] {
        guard let v = op.attribute(key), v.count == count else { throw invalid("attribute '\(key)' needs \(count) values") }
        return v
    }
}
