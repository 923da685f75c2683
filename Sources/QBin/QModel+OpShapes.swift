extension QModel {
    /// The shape and type rules of op `op` (docs/qbin-format.md sections 5.1 and 7), its attributes
    /// already present with their counts: why the op cannot run, or nil. The reader and writer run
    /// these, so the simulator and the emulation only build what passed. A registered kind's rules are
    /// its `QOpDefinition.check`.
    func shapeProblem(_ op: QOp) -> String? {
        let x = tensors[op.inputs[0]], out = tensors[op.outputs[0]]
        func ints(_ key: String) -> [Int] { (op.attribute(key) ?? []).map(Int.init) }
        switch op.kind {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose:
            let w = tensors[op.inputs[1]]
            guard let outC = w.shape.first else { return "weights '\(w.name)' have no output-channel axis" }
            return convProblem(op, x, w, out) ?? scalesProblem(w, channels: outC) ?? biasProblem(op, channels: outC)
        case .dense:
            let w = tensors[op.inputs[1]]
            guard w.shape.count == 2, x.shape.last == w.shape[1], out.shape == Array(x.shape.dropLast()) + [w.shape[0]] else {
                return "input \(x.shape), weights \(w.shape) ([C, inFeatures]) and output \(out.shape) do not match"
            }
            return scalesProblem(w, channels: w.shape[0]) ?? biasProblem(op, channels: w.shape[0])
        case .channelAffine, .layerNorm:
            let a = tensors[op.inputs[1]], channels = x.shape.last ?? 1
            let what = op.kind == .layerNorm ? "gamma" : "scale"
            guard a.elementCount == channels, out.shape == x.shape else {
                return "input \(x.shape), \(what) \(a.shape) and output \(out.shape) do not match (\(what) [C], C the last axis)"
            }
            return scalesProblem(a, channels: channels) ?? biasProblem(op, channels: channels)
        case .add, .subtract:
            for i in op.inputs.indices where tensors[op.inputs[i]].shape != out.shape {
                return "input \(i) has shape \(tensors[op.inputs[i]].shape), the output \(out.shape) (no broadcasting)"
            }
            return nil
        case .multiply:
            let shapes = [x.shape, tensors[op.inputs[1]].shape]
            for k in 0..<2 where shapes[k] != out.shape {
                // The other operand has the output's shape; this one is [1, ..., 1, C] (per sample).
                guard shapes[1 - k] == out.shape, shapes[k].count == out.shape.count, shapes[k].last == out.shape.last,
                      shapes[k].dropLast().allSatisfy({ $0 == 1 }) else {
                    return "inputs \(shapes[0]), \(shapes[1]) and output \(out.shape) differ beyond a 1 x 1 x C channel broadcast"
                }
            }
            return nil
        case .concatenate:
            return concatenateProblem(op, out, axis: ints("axis")[0])
        case .maxPool2D, .averagePool2D:
            let kernel = ints("kernel"), stride = ints("stride"), pad = ints("padding")
            guard x.shape.count == 3 else { return "input \(x.shape) must be [H, W, C]" }
            let h = x.shape[0] + pad[0] + pad[1] - kernel[0], w = x.shape[1] + pad[2] + pad[3] - kernel[1]
            let expected = [h / stride[0] + 1, w / stride[1] + 1, x.shape[2]]
            guard h >= 0, w >= 0, out.shape == expected else {
                return "output shape \(out.shape), input \(x.shape) with window \(kernel), stride \(stride), padding \(pad) gives \(h >= 0 && w >= 0 ? "\(expected)" : "nothing")"
            }
            return nil
        case .globalAveragePool2D, .globalMaxPool2D:
            guard x.shape.count == 3, out.shape == [x.shape[2]] else { return "input \(x.shape) (H, W, C) and output \(out.shape) ([C]) do not match" }
            return nil
        case .flatten, .reshape, .requantize:
            guard x.elementCount == out.elementCount else { return "input \(x.shape) and output \(out.shape) hold different element counts" }
            return nil
        case .zeroPadding2D:
            let pad = ints("padding")
            guard x.shape.count == 3, out.shape == [x.shape[0] + pad[0] + pad[1], x.shape[1] + pad[2] + pad[3], x.shape[2]] else {
                return "input \(x.shape) padded by \(pad) does not give the output \(out.shape)"
            }
            return nil
        case .lookupTable:
            let table = tensors[op.inputs[1]]
            guard x.type.bits <= 16 else { return "a lookup table reads inputs of at most 16 bits, this one is \(x.type)" }
            guard table.elementCount == 1 << x.type.bits, x.elementCount == out.elementCount else {
                return "table of \(table.elementCount) entries for a \(x.type) input (needs \(1 << x.type.bits)), input \(x.shape), output \(out.shape)"
            }
            guard let entries = try? table.unpackedValues() else { return "table '\(table.name)' cannot be unpacked" }
            if let bad = entries.first(where: { Int64($0) < out.type.minValue || Int64($0) > out.type.maxValue }) {
                return "table entry \(bad) does not fit the output type \(out.type)"
            }
            return nil
        case .registered:
            return op.kind.definition?.check(op, in: self)
        }
    }

    private func convProblem(_ op: QOp, _ x: QTensor, _ w: QTensor, _ out: QTensor) -> String? {
        guard x.shape.count == 3, out.shape.count == 3 else { return "input \(x.shape) and output \(out.shape) must be [H, W, C]" }
        let kernel = (op.attribute("kernel") ?? []).map(Int.init), stride = (op.attribute("stride") ?? []).map(Int.init)
        let dilation = (op.attribute("dilation") ?? []).map(Int.init), pad = (op.attribute("padding") ?? []).map(Int.init)
        let outC = w.shape[0]
        switch op.kind {
        case .conv2D:
            let groups = Int(op.attribute("groups")?[0] ?? 1)
            guard w.shape.count == 4, x.shape[2] % groups == 0, outC % groups == 0, w.shape[3] * groups == x.shape[2] else {
                return "weights \(w.shape) ([C, kH, kW, inC / groups]) do not fit input \(x.shape) with \(groups) groups"
            }
        case .depthwiseConv2D:
            let multiplier = Int(op.attribute("depth_multiplier")?[0] ?? 1)
            guard w.shape.count == 3, outC == x.shape[2] * multiplier else {
                return "weights \(w.shape) ([inC * depth_multiplier, kH, kW]) do not fit input \(x.shape), depth_multiplier \(multiplier)"
            }
        default:
            guard w.shape.count == 4, w.shape[3] == x.shape[2] else { return "weights \(w.shape) ([C, kH, kW, inC]) do not fit input \(x.shape)" }
        }
        let expected: [Int]
        if op.kind == .conv2DTranspose {
            let size = (op.attribute("output_size") ?? []).map(Int.init)
            expected = [size[0], size[1], outC]
        } else {
            let h = x.shape[0] + pad[0] + pad[1] - ((kernel[0] - 1) * dilation[0] + 1)
            let wd = x.shape[1] + pad[2] + pad[3] - ((kernel[1] - 1) * dilation[1] + 1)
            guard h >= 0, wd >= 0 else { return "input \(x.shape) padded by \(pad) is smaller than the dilated kernel" }
            expected = [h / stride[0] + 1, wd / stride[1] + 1, outC]
        }
        guard out.shape == expected else { return "output shape \(out.shape), the geometry gives \(expected)" }
        return nil
    }

    /// A weight-like constant's scales: one, or one per output channel along axis 0 (section 5.1).
    private func scalesProblem(_ w: QTensor, channels: Int) -> String? {
        guard w.scales.count == 1 || (w.scales.count == channels && (w.quantAxis ?? 0) == 0) else {
            return "'\(w.name)' has \(w.scales.count) scales along axis \(w.quantAxis.map(String.init) ?? "-"); expected 1 or \(channels) along axis 0"
        }
        return nil
    }

    /// The optional int32 bias (input 2): one per output channel.
    private func biasProblem(_ op: QOp, channels: Int) -> String? {
        guard op.inputs.count > 2 else { return nil }
        let b = tensors[op.inputs[2]]
        guard b.type == .int32, b.elementCount == channels else { return "bias '\(b.name)' is \(b.type) x \(b.shape), expected i32 x [\(channels)]" }
        return nil
    }

    private func concatenateProblem(_ op: QOp, _ out: QTensor, axis: Int) -> String? {
        guard out.shape.indices.contains(axis) else { return "axis \(axis) outside the output's rank \(out.shape.count)" }
        var along = 0
        for i in op.inputs.indices {
            var a = tensors[op.inputs[i]].shape, b = out.shape
            guard a.count == b.count else { return "input \(i) has rank \(a.count), the output \(b.count)" }
            along += a[axis]; a[axis] = 0; b[axis] = 0
            guard a == b else { return "input \(i) \(tensors[op.inputs[i]].shape) differs from the output \(out.shape) off axis \(axis)" }
        }
        guard along == out.shape[axis] else { return "inputs add up to \(along) along axis \(axis), the output has \(out.shape[axis])" }
        return nil
    }
}
