import QCore

/// Pooling, merging and reshaping layers.
extension GraphBuilder {
    /// MaxPooling2D / AveragePooling2D: `strides` default to `pool_size`.
    mutating func addPool(_ layer: LayerConfig, name: String, inputs: [Int], max: Bool) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        try layer.requireChannelsLast()
        let (ph, pw) = try layer.pair("pool_size", default: (2, 2))
        let (sh, sw) = try layer.pair("strides", default: (ph, pw))
        guard ph > 0, pw > 0, sh > 0, sw > 0 else { throw layer.invalid("pool_size \(ph)x\(pw) and strides \(sh)x\(sw) must be positive") }
        var geometry = ConvGeometry(kernelH: ph, kernelW: pw, strideH: sh, strideW: sw)
        geometry.padding = try padding(layer, geometry, inH: input.h, inW: input.w)
        let pool = Pool2D(geometry: geometry)
        return try add(name, layer, max ? .maxPool2D(pool) : .averagePool2D(pool), inputs: [input.node])
    }

    mutating func addGlobalPool(_ layer: LayerConfig, name: String, inputs: [Int], max: Bool) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        try layer.requireChannelsLast()
        let op: Op = max ? .globalMaxPool2D : .globalAveragePool2D
        guard try layer.bool("keepdims", default: false) else { return try add(name, layer, op, inputs: [input.node]) }
        // keepdims=True: the pool, then a reshape to 1 x 1 x C that carries the layer's name.
        let pooled = try add(name + "/pool", layer, op, inputs: [input.node])
        return try add(name, layer, .reshape([1, 1, input.c]), inputs: [pooled])
    }

    /// Add / Subtract / Multiply of equally shaped inputs (no broadcasting).
    mutating func addMerge(_ layer: LayerConfig, name: String, inputs: [Int], op: Op) throws(KerasImportError) -> Int {
        guard inputs.count >= 2 else { throw shapeError(name, layer, expected: "two or more inputs", inputs: inputs) }
        return try add(name, layer, op, inputs: inputs)
    }

    /// Concatenate: Keras' axis counts the batch axis; negative axes count from the end.
    mutating func addConcatenate(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        guard inputs.count >= 2 else { throw shapeError(name, layer, expected: "two or more inputs", inputs: inputs) }
        let rank = shape(inputs[0]).count
        let axis = try layer.int("axis", default: -1)
        let sampleAxis = axis < 0 ? rank + axis : axis - 1
        guard sampleAxis >= 0, sampleAxis < rank else {
            throw layer.unsupported("axis", "\(axis) (inputs have \(rank) axes besides the batch; the batch axis cannot be concatenated)")
        }
        return try add(name, layer, .concatenate(axis: sampleAxis), inputs: inputs)
    }

    mutating func addFlatten(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        try layer.requireChannelsLast()
        return try add(name, layer, .flatten, inputs: [input])
    }

    mutating func addReshape(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let target = try layer.intList("target_shape")
        guard !target.isEmpty, target.allSatisfy({ $0 > 0 || $0 == -1 }), target.filter({ $0 == -1 }).count <= 1 else {
            throw layer.invalid("target_shape \(target) must hold positive sizes and at most one -1")
        }
        return try add(name, layer, .reshape(target), inputs: [input])
    }

    /// Cropping2D: `zeroPadding2D` with negative padding (`cropping` is read like ZeroPadding2D's `padding`).
    mutating func addCropping(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        try layer.requireChannelsLast()
        let c = try paddingValue(layer, key: "cropping")
        guard c.top + c.bottom < input.h, c.left + c.right < input.w else {
            throw layer.invalid("cropping \(c) leaves nothing of the \(input.h) x \(input.w) input")
        }
        let crop = Padding2D(top: -c.top, bottom: -c.bottom, left: -c.left, right: -c.right)
        return try add(name, layer, .zeroPadding2D(crop), inputs: [input.node])
    }

    /// ZeroPadding2D: `padding` is `p`, `[ph, pw]` (symmetric) or `[[top, bottom], [left, right]]`.
    mutating func addZeroPadding(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        try layer.requireChannelsLast()
        return try add(name, layer, .zeroPadding2D(try paddingValue(layer, key: "padding")), inputs: [input.node])
    }

    /// `p`, `[ph, pw]` or `[[top, bottom], [left, right]]`, all >= 0.
    func paddingValue(_ layer: LayerConfig, key: String) throws(KerasImportError) -> Padding2D {
        let padding: Padding2D
        let value = layer.raw(key) ?? 1
        if let p = JSONNumber.int(value) {
            padding = Padding2D(top: p, bottom: p, left: p, right: p)
        } else if let list = value as? [Any], list.count == 2 {
            if let ph = JSONNumber.int(list[0]), let pw = JSONNumber.int(list[1]) {
                padding = Padding2D(top: ph, bottom: ph, left: pw, right: pw)
            } else if let rows = list[0] as? [Any], let cols = list[1] as? [Any], rows.count == 2, cols.count == 2,
                      let t = JSONNumber.int(rows[0]), let b = JSONNumber.int(rows[1]),
                      let l = JSONNumber.int(cols[0]), let r = JSONNumber.int(cols[1]) {
                padding = Padding2D(top: t, bottom: b, left: l, right: r)
            } else {
                throw layer.invalid("'\(key)' is \(JSONNumber.describe(value)), expected p, [ph, pw] or [[top, bottom], [left, right]]")
            }
        } else {
            throw layer.invalid("'\(key)' is \(JSONNumber.describe(value)), expected p, [ph, pw] or [[top, bottom], [left, right]]")
        }
        guard padding.top >= 0, padding.bottom >= 0, padding.left >= 0, padding.right >= 0 else {
            throw layer.invalid("negative \(key) \(padding)")
        }
        return padding
    }
}
