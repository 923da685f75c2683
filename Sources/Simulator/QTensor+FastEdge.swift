import CKernels
import QBin

extension QTensor {
    /// `quantizeEdge(_:into:)` through the active kernel level (`qc_quantize_edge_f32`, 16 lanes at
    /// avx512 instead of the Swift loop's SSE width), bit for bit the same, where that loop's fast form
    /// applies (`edgeQuotientBounds`); elsewhere `quantizeEdge` itself.
    public func quantizeEdgeFast(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Int32>) {
        precondition(source.count == destination.count, "quantizeEdgeFast: \(source.count) floats into \(destination.count) values")
        guard let (below, above) = edgeQuotientBounds, let x = source.baseAddress, let q = destination.baseAddress else {
            quantizeEdge(source, into: destination)
            return
        }
        qc_quantize_edge_f32(x, source.count, scales[0], zeroPoints[0], below, above, q)
    }
}
