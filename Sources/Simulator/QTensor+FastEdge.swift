import CKernels
import QBin

extension QTensor {
    /// `quantizeEdge(_:into:)` through the active kernel level (`qc_quantize_edge_f32`, 16 lanes at
    /// avx512 instead of the Swift loop's SSE width), bit for bit the same, where that loop's fast form
    /// applies (at most 16 bits, the zero point inside the type); elsewhere `quantizeEdge` itself.
    func quantizeEdgeFast(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Int32>) {
        precondition(source.count == destination.count, "quantizeEdgeFast: \(source.count) floats into \(destination.count) values")
        let zero = zeroPoints[0]
        guard type.bits <= 16, (type.minValue...type.maxValue).contains(Int64(zero)),
              let x = source.baseAddress, let q = destination.baseAddress else {
            quantizeEdge(source, into: destination)
            return
        }
        qc_quantize_edge_f32(x, source.count, scales[0], zero, Float(type.minValue - Int64(zero)),
                             Float(type.maxValue - Int64(zero)), q)
    }
}
