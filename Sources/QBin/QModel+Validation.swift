extension QModel {
    /// Checks every semantic rule of `docs/qbin-format.md` (sections 4 and 5); throws `invalidModel`
    /// naming the tensor or op at fault. Runs on every read and before every write.
    public func validate() throws(QBinError) {
        var names = Set<String>()
        for t in tensors {
            try t.validate()
            guard names.insert(t.name).inserted else { throw .invalidModel(reason: "two tensors are named '\(t.name)'") }
        }
        var keys = Set<String>()
        for entry in metadata {
            guard !entry.key.isEmpty else { throw .invalidModel(reason: "a metadata key is empty") }
            guard keys.insert(entry.key).inserted else { throw .invalidModel(reason: "metadata key '\(entry.key)' appears twice") }
        }
        try validateRounding(required: false)
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw .invalidModel(reason: "the graph needs at least one input and one output tensor")
        }
        for i in inputs + outputs where !tensors.indices.contains(i) {
            throw .invalidModel(reason: "graph input/output tensor index \(i) is out of range (\(tensors.count) tensors)")
        }
        // Available tensors: graph inputs and constants first, then each op's outputs in order.
        var available = [Bool](repeating: false, count: tensors.count)
        for i in inputs {
            guard !tensors[i].isConstant else { throw .invalidModel(reason: "graph input '\(tensors[i].name)' is a constant") }
            available[i] = true
        }
        for (i, t) in tensors.enumerated() where t.isConstant { available[i] = true }
        for (index, op) in ops.enumerated() {
            try validate(op, index: index)
            for i in op.inputs where !available[i] {
                throw .invalidModel(reason: "op \(index) '\(op.name)' reads tensor '\(tensors[i].name)' before any op produces it")
            }
            for o in op.outputs {
                guard !available[o] else {
                    throw .invalidModel(reason: "op \(index) '\(op.name)' writes tensor '\(tensors[o].name)', which is already a graph input, constant or op output")
                }
                available[o] = true
            }
        }
        for o in outputs where tensors[o].isConstant {
            throw .invalidModel(reason: "graph output '\(tensors[o].name)' is a constant tensor; graph outputs must be activations produced by an op")
        }
        for o in outputs where !available[o] {
            throw .invalidModel(reason: "graph output '\(tensors[o].name)' is never produced")
        }
        // Shapes last: they read tensors the structural checks above proved present and well formed.
        for (index, op) in ops.enumerated() {
            if let reason = shapeProblem(op) { throw .invalidModel(reason: "op \(index) '\(op.name)' (\(op.kind)): \(reason)") }
        }
        try validateAccumulatorBounds()
    }

    private func validate(_ op: QOp, index: Int) throws(QBinError) {
        let at = "op \(index) '\(op.name)' (\(op.kind))"
        for i in op.inputs + op.outputs where !tensors.indices.contains(i) {
            throw .invalidModel(reason: "\(at): tensor index \(i) is out of range (\(tensors.count) tensors)")
        }
        guard op.kind.inputCount.contains(op.inputs.count) else {
            throw .invalidModel(reason: "\(at) has \(op.inputs.count) inputs, expected \(op.kind.inputCount.lowerBound)...\(op.kind.inputCount.upperBound)")
        }
        guard op.outputs.count == 1 else { throw .invalidModel(reason: "\(at) has \(op.outputs.count) outputs, expected 1") }
        guard !tensors[op.inputs[0]].isConstant, !tensors[op.outputs[0]].isConstant else {
            throw .invalidModel(reason: "\(at): its first input and its output must be activations, not constants")
        }
        if op.kind.hasConstantInputs {
            for i in op.inputs.dropFirst() where !tensors[i].isConstant {
                throw .invalidModel(reason: "\(at): input '\(tensors[i].name)' must be a constant")
            }
        }
        var keys = Set<String>()
        for a in op.attributes where !keys.insert(a.key).inserted {
            throw .invalidModel(reason: "\(at): attribute '\(a.key)' appears twice")
        }
        let channels = op.kind.hasConstantInputs ? tensors[op.inputs[1]].shape.first ?? 1 : 1
        for (key, count) in op.kind.requiredAttributes {
            guard let values = op.attribute(key) else {
                throw .invalidModel(reason: "\(at) lacks the required attribute '\(key)'")
            }
            let ok: Bool
            switch count {
            case .fixed(let n): ok = values.count == n
            case .perChannel: ok = values.count == 1 || values.count == channels
            case .perInput: ok = values.count == op.inputs.count
            case .any: ok = true
            }
            guard ok else {
                throw .invalidModel(reason: "\(at): attribute '\(key)' has \(values.count) values, expected \(count)")
            }
        }
        // Fixed-point factors (section 5.1): multipliers 0 ... 2^31 - 1, shifts -31 ... 30, left_shift 0 ... 30.
        for (key, _) in op.kind.requiredAttributes {
            guard let values = op.attribute(key) else { continue }
            let range: ClosedRange<Int32>
            switch key {
            case "multiplier", "input_multiplier", "output_multiplier": range = 0...Int32.max
            case "shift", "input_shift", "output_shift": range = -31...30
            case "left_shift": range = 0...30
            default: continue
            }
            if let bad = values.first(where: { !range.contains($0) }) {
                throw .invalidModel(reason: "\(at): attribute '\(key)' holds \(bad), outside \(range.lowerBound) ... \(range.upperBound)")
            }
        }
        if op.kind == .layerNorm, let reason = LayerNormLimits.check(op, in: self) {
            throw .invalidModel(reason: "\(at): \(reason)")
        }
        if let m = op.attribute("multiplier"), let s = op.attribute("shift"), m.count != s.count {
            throw .invalidModel(reason: "\(at): \(m.count) multipliers but \(s.count) shifts")
        }
        for key in ["kernel", "stride", "dilation", "groups", "depth_multiplier", "output_size"] {
            if let v = op.attribute(key), v.contains(where: { $0 < 1 }) {
                throw .invalidModel(reason: "\(at): attribute '\(key)' is \(v), every value must be >= 1")
            }
        }
        // zeroPadding2D's negative padding crops (Keras Cropping2D); its output shape is checked by the runtimes.
        if op.kind != .zeroPadding2D, let p = op.attribute("padding"), p.contains(where: { $0 < 0 }) {
            throw .invalidModel(reason: "\(at): attribute 'padding' is \(p), every value must be >= 0")
        }
        if let c = op.attribute("clamp"), c.count == 2 {
            let type = tensors[op.outputs[0]].type
            guard c[0] <= c[1], Int64(c[0]) >= type.minValue, Int64(c[1]) <= type.maxValue else {
                throw .invalidModel(reason: "\(at): clamp \(c) must be ordered and within the output type \(type) (\(type.minValue)...\(type.maxValue))")
            }
        }
        if op.kind.accumulatesProducts {
            // Weights, channelAffine's scale and biases are read as stored integers (section 5.1).
            for i in op.inputs.dropFirst() where tensors[i].zeroPoints.contains(where: { $0 != 0 }) {
                throw .invalidModel(reason: "\(at): constant '\(tensors[i].name)' has a non-zero zero point; weights, scales and biases are symmetric (zero point 0)")
            }
        }
        if [.conv2D, .depthwiseConv2D, .conv2DTranspose].contains(op.kind), let k = op.attribute("kernel"), k.count == 2 {
            let w = tensors[op.inputs[1]].shape
            guard w.count >= 3, w[1] == Int(k[0]), w[2] == Int(k[1]) else {
                throw .invalidModel(reason: "\(at): weights of shape \(w) do not match kernel \(k) (layout [C, kernelH, kernelW, ...])")
            }
        }
    }
}

extension QTensor {
    /// Checks shape, parameters and data length against the type registry.
    func validate() throws(QBinError) {
        let at = "tensor '\(name)'"
        guard !name.isEmpty else { throw .invalidModel(reason: "a tensor has an empty name") }
        guard shape.count <= QBinFormat.maxRank else {
            throw .invalidModel(reason: "\(at) has rank \(shape.count), at most \(QBinFormat.maxRank) allowed")
        }
        var count = 1
        for d in shape {
            guard d >= 1, d <= Int(UInt32.max) else {
                throw .invalidModel(reason: "\(at) has shape \(shape): every dimension must be in 1...\(UInt32.max)")
            }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= QBinFormat.maxElements else {
                throw .invalidModel(reason: "\(at) has shape \(shape): more than 2^40 elements")
            }
            count = p
        }
        guard !scales.isEmpty, scales.count == zeroPoints.count else {
            throw .invalidModel(reason: "\(at) has \(scales.count) scales and \(zeroPoints.count) zero points: need the same count, at least 1")
        }
        if let axis = quantAxis {
            guard shape.indices.contains(axis), shape[axis] == scales.count else {
                throw .invalidModel(reason: "\(at): per-channel axis \(axis) of shape \(shape) does not have \(scales.count) channels")
            }
        } else if scales.count != 1 {
            throw .invalidModel(reason: "\(at) has \(scales.count) scales but no per-channel axis")
        }
        guard data != nil || quantAxis == nil else {
            throw .invalidModel(reason: "\(at) is an activation with per-channel parameters (axis \(quantAxis!)); activations are quantized per tensor (quantAxis -1)")
        }
        for s in scales where !(s.isFinite && s > 0) {
            throw .invalidModel(reason: "\(at) has scale \(s): scales must be finite and > 0")
        }
        for z in zeroPoints where Int64(z) < type.minValue || Int64(z) > type.maxValue {
            throw .invalidModel(reason: "\(at) has zero point \(z) outside the range of \(type) (\(type.minValue)...\(type.maxValue))")
        }
        if let data {
            let expected = type.packedSize(shape: shape) ?? -1
            guard data.count == expected else {
                throw .invalidModel(reason: "\(at) holds \(data.count) data bytes, \(type) x \(shape) packs into \(expected)")
            }
        }
    }
}
