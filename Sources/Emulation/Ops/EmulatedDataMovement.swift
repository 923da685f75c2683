/// `flatten` / `reshape`: the values unchanged (NHWC order is the row-major order of any shape).
final class EmulatedCopy: EmulatedOp {
    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        _ = output.initialize(from: inputs[0].prefix(output.count))
    }
}

/// `zeroPadding2D`: `[H, W, C]` placed at `(top, left)` in `[outH, outW, C]`, the border filled with `zin`
/// (the quantized real zero).
final class EmulatedZeroPadding2D: EmulatedOp {
    let inH: Int, inW: Int, channels: Int
    let top: Int, left: Int, outH: Int, outW: Int
    let zero: Int32

    init(inH: Int, inW: Int, channels: Int, top: Int, left: Int, outH: Int, outW: Int, zero: Int32) {
        self.inH = inH; self.inW = inW; self.channels = channels
        self.top = top; self.left = left; self.outH = outH; self.outW = outW; self.zero = zero
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        // Row-wise: the input columns that land inside the output (negative padding crops).
        output.update(repeating: zero)
        let firstX = Swift.max(0, -left), lastX = Swift.min(inW, outW - left)
        guard firstX < lastX else { return }
        let count = (lastX - firstX) * channels
        for b in 0..<batch {
            for inY in Swift.max(0, -top)..<Swift.max(Swift.max(0, -top), Swift.min(inH, outH - top)) {
                let from = ((b * inH + inY) * inW + firstX) * channels
                let to = ((b * outH + inY + top) * outW + firstX + left) * channels
                for i in 0..<count { output[to + i] = inputs[0][from + i] }
            }
        }
    }
}

/// `lookupTable`: `q = table[q_x - min(type of x)]`, the table's integers being output values.
final class EmulatedLookupTable: EmulatedOp {
    let inputMin: Int32
    let table: [Int32]

    init(inputMin: Int32, table: [Int32]) { self.inputMin = inputMin; self.table = table }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        for i in 0..<output.count { output[i] = table[Int(inputs[0][i] &- inputMin)] }
    }
}
