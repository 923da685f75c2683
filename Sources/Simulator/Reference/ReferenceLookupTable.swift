/// `lookupTable`: `q = table[q_x - min(type of x)]`, the table's stored integers taken as output values
/// (a table holds `2^bits(x)` entries, one per input value).
final class ReferenceLookupTable: IntegerLayer {
    let inputMin: Int32
    let table: [Int32]

    init(inputMin: Int32, table: [Int32]) { self.inputMin = inputMin; self.table = table }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count { output[i] = table[Int(inputs[0][i] &- inputMin)] }
    }
}
