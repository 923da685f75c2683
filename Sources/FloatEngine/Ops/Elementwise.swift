import CKernels
import QCore

/// `y = x * scale[c] + shift[c]` over the last axis: inference BatchNormalization and Rescaling.
final class ChannelAffineLayer: FloatLayer {
    let scale: [Float], shift: [Float]
    let channels: Int, perSample: Int

    init(scale: [Float], shift: [Float], inputShape: [Int]) {
        channels = inputShape.last ?? 1
        perSample = inputShape.reduce(1, *)
        // Broadcast length-1 parameters (Rescaling with a scalar) to every channel.
        self.scale = scale.count == 1 ? [Float](repeating: scale[0], count: channels) : scale
        self.shift = shift.count == 1 ? [Float](repeating: shift[0], count: channels) : shift
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0]
        let channels = self.channels
        let rows = batch &* perSample / channels
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                let scale = scale.baseAddress!, shift = shift.baseAddress!
                let chunks = Parallel.chunkCount(rows &* channels)
                Parallel.forEach(chunks) { chunk in
                    for row in Parallel.alignedRange(chunk, chunks: chunks, count: rows, alignment: 1) {
                        let base = row &* channels
                        Self.affine(input + base, output + base, scale: scale, shift: shift, count: channels)
                    }
                }
            }
        }
    }

    /// `affine` on `pixels` consecutive pixels of `channels` values (one loop over them all when there
    /// is one channel, e.g. a Rescaling of a grey image): the same expression, so the same floats.
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pixels: Int) {
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                let scale = scale.baseAddress!, shift = shift.baseAddress!
                if channels == 1 {
                    let s = scale[0], t = shift[0]
                    for i in 0..<pixels { y[i] = x[i] * s + t }
                } else {
                    for p in 0..<pixels {
                        Self.affine(x + p &* channels, y + p &* channels, scale: scale, shift: shift, count: channels)
                    }
                }
            }
        }
    }

    /// `y[c] = x[c] * scale[c] + shift[c]`, a multiply then an add (two roundings, as the scalar
    /// form), eight lanes at a time. `y` may be `x`.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>,
                       shift: UnsafePointer<Float>, count: Int) {
        var c = 0
        while c &+ 8 <= count {
            store8(load8(x + c) * load8(scale + c) + load8(shift + c), y + c)
            c &+= 8
        }
        while c < count {
            y[c] = x[c] * scale[c] + shift[c]
            c &+= 1
        }
    }
}

/// Elementwise merge of same-shaped inputs: Add (any number), Subtract (two), Multiply (any number).
final class MergeLayer: FloatLayer {
    enum Kind { case add, subtract, multiply }
    let kind: Kind
    let perSample: Int

    init(kind: Kind, inputShape: [Int]) {
        self.kind = kind
        perSample = inputShape.reduce(1, *)
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        run(inputs: inputs, output: output, batch: batch, activation: nil)
    }

    /// The merge, then `activation` (elementwise, not softmax) on each chunk while it is in cache.
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int, activation: Activation?) {
        let count = batch &* perSample
        let kind = kind
        if kind == .add, inputs.count == 2, let tail = Self.addTail(activation) {
            // A residual Add and its ReLU in one C pass at the level's width (the Swift merge and
            // clamp below run at SSE2 width: 3 % of resnet_bn). The same floats: one rounding per sum.
            let a = inputs[0], b = inputs[1]
            Parallel.forEach(Parallel.chunkCount(count)) { chunk in
                let range = Parallel.chunkRange(chunk, of: count)
                qc_add_f32(a + range.lowerBound, b + range.lowerBound, output + range.lowerBound, range.count, tail)
            }
            return
        }
        inputs.withUnsafeBufferPointer { inputs in
            Parallel.forEach(Parallel.chunkCount(count)) { chunk in
                let range = Parallel.chunkRange(chunk, of: count)
                switch kind {
                case .add: Self.merge(inputs, into: output, range: range) { $0 + $1 } _: { $0 + $1 }
                case .subtract: Self.merge(inputs, into: output, range: range) { $0 - $1 } _: { $0 - $1 }
                case .multiply: Self.merge(inputs, into: output, range: range) { $0 * $1 } _: { $0 * $1 }
                }
                if let activation { ActivationKernel.elementwise(activation, output + range.lowerBound, count: range.count) }
            }
        }
    }

    /// `qc_add_f32`'s activation for `activation` after an Add, or nil when it is another one.
    private static func addTail(_ activation: Activation?) -> Int32? {
        switch activation {
        case nil, .linear?: return Int32(QC_TAIL_NONE)
        case .relu?: return Int32(QC_TAIL_RELU)
        case .relu6?: return Int32(QC_TAIL_RELU6)
        default: return nil
        }
    }

    /// `output[i] = ((inputs[0][i] op inputs[1][i]) op inputs[2][i]) ...` over `range`, left to right
    /// as the element-at-a-time form, eight lanes at a time. `output` may be one of the inputs.
    @inline(__always)
    private static func merge(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, into output: UnsafeMutablePointer<Float>,
                              range: Range<Int>, _ vector: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>,
                              _ scalar: (Float, Float) -> Float) {
        let first = inputs[0]
        var i = range.lowerBound
        while i &+ 8 <= range.upperBound {
            var v = load8(first + i)
            for input in 1..<inputs.count { v = vector(v, load8(inputs[input] + i)) }
            store8(v, output + i)
            i &+= 8
        }
        while i < range.upperBound {
            var v = first[i]
            for input in 1..<inputs.count { v = scalar(v, inputs[input][i]) }
            output[i] = v
            i &+= 1
        }
    }
}

/// `out = a * b` where one operand is `1 x 1 x C` per sample (`ChannelBroadcast`): squeeze-excite.
final class BroadcastMultiplyLayer: FloatLayer {
    let perSample: Int, channels: Int
    /// Which input (0 or 1) holds the `1 x 1 x C` operand.
    let smallInput: Int

    init(outputShape: [Int], smallInput: Int) {
        perSample = outputShape.reduce(1, *)
        channels = outputShape.last ?? 1
        self.smallInput = smallInput
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let full = inputs[1 - smallInput], small = inputs[smallInput]
        let pixels = perSample / max(channels, 1), channels = self.channels, perSample = self.perSample
        let chunks = Parallel.chunkCount(batch &* perSample)
        Parallel.forEach(chunks) { chunk in
            let range = Parallel.alignedRange(chunk, chunks: chunks, count: batch &* pixels, alignment: 1)
            for pixel in range {
                let base = pixel &* channels, scales = small + (pixel / pixels) &* channels
                for c in 0..<channels { output[base &+ c] = full[base &+ c] * scales[c] }
            }
        }
    }
}

/// An activation as its own layer (Activation, ReLU, LeakyReLU, Softmax classes).
final class ActivationLayer: FloatLayer {
    let activation: Activation
    let perSample: Int, channels: Int

    init(activation: Activation, inputShape: [Int]) {
        self.activation = activation
        perSample = inputShape.reduce(1, *)
        channels = inputShape.last ?? 1
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let count = batch &* perSample
        if UnsafePointer(output) != inputs[0] { output.update(from: inputs[0], count: count) }
        ActivationKernel.apply(activation, to: output, count: count, channels: channels)
    }
}

/// `LayerNorm` over the last axis, one row (every leading position) at a time.
final class LayerNormLayer: FloatLayer {
    let norm: LayerNorm
    let channels: Int, perSample: Int

    init(_ norm: LayerNorm, inputShape: [Int]) {
        self.norm = norm
        channels = inputShape.last ?? 1
        perSample = inputShape.reduce(1, *)
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0]
        let rows = batch &* perSample / channels
        Parallel.forEach(Parallel.chunkCount(rows)) { chunk in
            for row in Parallel.chunkRange(chunk, of: rows) {
                let base = row &* self.channels
                (output + base).update(from: input + base, count: self.channels)
                self.norm.apply(UnsafeMutableBufferPointer(start: output + base, count: self.channels))
            }
        }
    }
}
