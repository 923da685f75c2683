/// `flatten` / `reshape`: the values unchanged (NHWC order is the row-major order of any shape).
final class ReferenceCopy: IntegerLayer {
    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count { output[i] = inputs[0][i] }
    }
}
