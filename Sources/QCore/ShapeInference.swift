/// Per-sample output shapes of every op (NHWC, batch excluded).
public enum ShapeInference {
    public static func outputShape(of node: Node, inputShapes: [[Int]]) throws(GraphError) -> [Int] {
        func mismatch(_ expected: String) -> GraphError {
            .shapeMismatch(node: node.name, op: node.op.name, expected: expected, found: inputShapes)
        }
        func single(rank: Int? = nil) throws(GraphError) -> [Int] {
            guard inputShapes.count == 1 else { throw mismatch("exactly one input") }
            if let rank, inputShapes[0].count != rank { throw mismatch("a rank-\(rank) input (per sample)") }
            return inputShapes[0]
        }
        switch node.op {
        case .input:
            return node.shape
        case .conv2D(let conv):
            let s = try single(rank: 3)
            guard s[2] == conv.inChannels, conv.outChannels % conv.groups == 0 else {
                throw mismatch("H x W x \(conv.inChannels) (groups \(conv.groups))")
            }
            let (h, w) = conv.geometry.outputSize(inH: s[0], inW: s[1])
            guard h > 0, w > 0 else { throw mismatch("an input at least as large as the kernel") }
            return [h, w, conv.outChannels]
        case .depthwiseConv2D(let conv):
            let s = try single(rank: 3)
            guard s[2] == conv.inChannels else { throw mismatch("H x W x \(conv.inChannels)") }
            let (h, w) = conv.geometry.outputSize(inH: s[0], inW: s[1])
            guard h > 0, w > 0 else { throw mismatch("an input at least as large as the kernel") }
            return [h, w, conv.outChannels]
        case .conv2DTranspose(let conv):
            let s = try single(rank: 3)
            guard s[2] == conv.inChannels else { throw mismatch("H x W x \(conv.inChannels)") }
            // The forward conv of the output size must give back the input size.
            let (h, w) = conv.geometry.outputSize(inH: conv.outputH, inW: conv.outputW)
            guard h == s[0], w == s[1] else { throw mismatch("\(h) x \(w) x \(conv.inChannels)") }
            return [conv.outputH, conv.outputW, conv.outChannels]
        case .dense(let dense):
            let s = try single()
            guard s.last == dense.inFeatures else { throw mismatch("last axis \(dense.inFeatures)") }
            return Array(s.dropLast()) + [dense.outFeatures]
        case .batchNorm(let bn):
            let s = try single()
            guard s.last == bn.channels else { throw mismatch("last axis \(bn.channels)") }
            return s
        case .layerNorm(let ln):
            let s = try single()
            guard s.last == ln.channels, ln.beta.count == ln.channels else { throw mismatch("last axis \(ln.channels)") }
            return s
        case .activation, .identity:
            return try single()
        case .rescaling(let scale, let offset):
            let s = try single()
            for v in [scale, offset] where v.count != 1 && v.count != s.last {
                throw mismatch("last axis \(v.count)")
            }
            return s
        case .maxPool2D(let pool), .averagePool2D(let pool):
            let s = try single(rank: 3)
            let (h, w) = pool.geometry.outputSize(inH: s[0], inW: s[1])
            guard h > 0, w > 0 else { throw mismatch("an input at least as large as the pool window") }
            return [h, w, s[2]]
        case .globalAveragePool2D, .globalMaxPool2D:
            let s = try single(rank: 3)
            return [s[2]]
        case .multiply where inputShapes.count == 2 && inputShapes[0] != inputShapes[1]:
            // Channel broadcast (squeeze-excite: H x W x C times 1 x 1 x C), either operand.
            let (a, b) = (inputShapes[0], inputShapes[1])
            guard let out = ChannelBroadcast.output(a, b) else {
                throw mismatch("two inputs of one shape, or H x W x C and 1 x 1 x C")
            }
            return out
        case .add, .subtract, .multiply:
            guard inputShapes.count >= 2, inputShapes.allSatisfy({ $0 == inputShapes[0] }) else {
                throw mismatch("two or more inputs of one shape")
            }
            if case .subtract = node.op, inputShapes.count != 2 { throw mismatch("exactly two inputs") }
            return inputShapes[0]
        case .concatenate(let axis):
            guard let first = inputShapes.first, axis >= 0, axis < first.count else { throw mismatch("inputs with axis \(axis)") }
            var out = first
            out[axis] = 0
            for s in inputShapes {
                var a = s, b = first
                guard s.count == first.count else { throw mismatch("inputs of equal rank") }
                a[axis] = 0; b[axis] = 0
                guard a == b else { throw mismatch("inputs equal except along axis \(axis)") }
                out[axis] += s[axis]
            }
            return out
        case .flatten:
            return [try single().reduce(1, *)]
        case .reshape(let target):
            let s = try single()
            let known = target.filter { $0 != -1 }.reduce(1, *)
            let total = s.reduce(1, *)
            if target.contains(-1) {
                guard known > 0, total % known == 0 else { throw mismatch("a size divisible by \(known)") }
                return target.map { $0 == -1 ? total / known : $0 }
            }
            guard known == total else { throw mismatch("\(known) values per sample") }
            return target
        case .registered(let r):
            switch r.op.outputShape(inputShapes) {
            case .success(let shape): return shape
            case .failure(let f): throw mismatch(f.expected)
            }
        case .zeroPadding2D(let p):
            // Negative padding crops (Keras Cropping2D).
            let s = try single(rank: 3)
            let h = s[0] + p.top + p.bottom, w = s[1] + p.left + p.right
            guard h > 0, w > 0 else { throw mismatch("an input larger than its cropping \(p)") }
            return [h, w, s[2]]
        }
    }
}
