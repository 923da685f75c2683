import CKernels
import FixedPoint

/// The fast kernels' requantization, one C implementation per layout and instruction-set level (CKernels.h): per-channel rows of
/// GEMM results (`qc_requant_rows`) and flat arrays under one per-tensor multiplier (`qc_requant_flat`,
/// through `PerTensorRequantizer`).
/// Both are `apply(_:channel:)`'s int32 steps, eight lanes at a time with AVX2 and scalar otherwise,
/// tested lane for lane against `RoundingProfile.multiply` (`RequantRowsTests`) and end to end against
/// the reference kernels.
extension RoundingProfile {
    /// This profile as the C kernels take it: 0 gemmlowp, 1 single.
    var kernelCode: Int32 { self == .gemmlowp ? 0 : 1 }
}

extension ChannelRequantizer {
    /// Requantizes `rows` rows of GEMM results: `out[r * outStride + j] = apply(c[r * ldc + j] + bias[j], firstChannel + j)`.
    @inline(__always)
    func requantizeRows(_ c: UnsafePointer<Int32>, ldc: Int, rows: Int, channels: Int, bias: UnsafePointer<Int32>,
                        firstChannel: Int, into out: UnsafeMutablePointer<Int32>, outStride: Int) {
        precondition(firstChannel >= 0 && firstChannel + channels <= significands.count, "requantizeRows: channels out of range")
        significands.withUnsafeBufferPointer { m in
            shifts.withUnsafeBufferPointer { s in
                qc_requant_rows(c, ldc, rows, channels, bias, m.baseAddress! + firstChannel, s.baseAddress! + firstChannel,
                                outputZero, lower, upper, out, outStride, profile.kernelCode)
            }
        }
    }

    /// This requantizer's first (per-tensor) multiplier as plain values, to hoist out of a kernel's loops.
    var perTensor: PerTensorRequantizer {
        PerTensorRequantizer(multiplier: multipliers[0], outputZero: outputZero, lower: lower, upper: upper,
                             profile: profile.kernelCode)
    }
}

/// A per-tensor `ChannelRequantizer` as plain values: copying it retains no array, so element-wise kernels
/// can call it once per short slice (a concatenation's per-pixel inputs) at no cost beyond the call.
struct PerTensorRequantizer {
    let multiplier: QuantizedMultiplier
    let outputZero: Int32, lower: Int32, upper: Int32
    let profile: Int32

    /// `values[i] = apply(values[i], channel: 0)` for `count` values, in place.
    @inline(__always)
    func requantizeInPlace(_ values: UnsafeMutablePointer<Int32>, count: Int) {
        qc_requant_flat(values, count, multiplier.multiplier, multiplier.shift, outputZero, lower, upper, values, profile)
    }
}
