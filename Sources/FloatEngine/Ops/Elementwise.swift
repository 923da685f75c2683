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
        let rows = batch &* perSample / channels
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                Parallel.forEach(Parallel.chunkCount(rows)) { chunk in
                    for row in Parallel.chunkRange(chunk, of: rows) {
                        let base = row &* self.channels
                        for c in 0..<self.channels {
                            output[base &+ c] = input[base &+ c] * scale[c] + shift[c]
                        }
                    }
                }
            }
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
        let count = batch &* perSample
        Parallel.forEach(Parallel.chunkCount(count)) { chunk in
            let range = Parallel.chunkRange(chunk, of: count)
            let first = inputs[0]
            for i in range { output[i] = first[i] }
            for other in inputs.dropFirst() {
                switch self.kind {
                case .add: for i in range { output[i] += other[i] }
                case .subtract: for i in range { output[i] -= other[i] }
                case .multiply: for i in range { output[i] *= other[i] }
                }
            }
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
