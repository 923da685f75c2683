import CKernels
import QCore

/// `y = act(x * scale[c] + shift[c])` applied by a convolution or dense kernel to blocks of its output
/// while they are still in cache: the BatchNormalization (or Rescaling) and activation nodes that
/// follow it, folded in on the unobserved path (see `FusionPlan`). The same multiply, add and
/// activation as `ChannelAffineLayer` and `ActivationLayer`, in the same order, so the same floats.
final class ChannelTail: @unchecked Sendable {
    /// Scale and shift per channel; nil without an affine step.
    let scale: UnsafeMutablePointer<Float>?, shift: UnsafeMutablePointer<Float>?
    /// Nil without an activation step; never softmax (it mixes a row's values).
    let activation: Activation?
    /// The `qc_f32_tail` activation code when the GEMM micro-kernels apply this tail to their
    /// accumulators before the store (no affine step or one, then none, relu or relu6); nil when
    /// `apply` maps the stored rows instead. The micro-kernel's steps are `apply`'s, so the same floats.
    let kernelActivation: Int32?
    /// True when the micro-kernels apply this tail (see `kernelTail`).
    var appliesInKernel: Bool { kernelActivation != nil }

    init(affine: ChannelAffineLayer?, activation: Activation?) {
        precondition(activation.map { if case .softmax = $0 { return false } else { return true } } ?? true,
                     "ChannelTail: softmax is not elementwise")
        if let affine {
            // A micro-kernel reads a whole 16-column panel of scale and shift: the last one may pass the
            // channels (those columns are never stored), so 16 zeros follow them.
            let count = affine.channels + GEMMTile.nr
            let scale = UnsafeMutablePointer<Float>.allocate(capacity: count)
            let shift = UnsafeMutablePointer<Float>.allocate(capacity: count)
            scale.initialize(repeating: 0, count: count)
            shift.initialize(repeating: 0, count: count)
            scale.update(from: affine.scale, count: affine.channels)
            shift.update(from: affine.shift, count: affine.channels)
            self.scale = scale; self.shift = shift
        } else {
            scale = nil; shift = nil
        }
        self.activation = activation
        switch activation {
        case nil, .linear?: kernelActivation = Int32(QC_TAIL_NONE)
        case .relu?: kernelActivation = Int32(QC_TAIL_RELU)
        case .relu6?: kernelActivation = Int32(QC_TAIL_RELU6)
        default: kernelActivation = nil
        }
    }

    /// The tail the micro-kernels apply for columns `channel0 ..< channel0 + 16`; nil when `apply` must
    /// map the stored rows instead (another activation).
    @inline(__always)
    func kernelTail(channel0: Int) -> qc_f32_tail? {
        guard let kernelActivation else { return nil }
        return qc_f32_tail(scale: scale.map { UnsafePointer($0 + channel0) },
                           shift: shift.map { UnsafePointer($0 + channel0) }, activation: kernelActivation)
    }

    /// `body` with a pointer to `tail`'s `kernelTail(channel0:)`, or with nil where there is none (no tail,
    /// or one that `apply` maps after the store): the argument every micro-kernel call passes.
    @inline(__always)
    static func withKernelTail<R>(_ tail: ChannelTail?, channel0: Int, _ body: (UnsafePointer<qc_f32_tail>?) -> R) -> R {
        guard var kernelTail = tail?.kernelTail(channel0: channel0) else { return body(nil) }
        return withUnsafePointer(to: &kernelTail) { body($0) }
    }

    deinit {
        scale?.deallocate()
        shift?.deallocate()
    }

    /// Rows `0 ..< rows` of `c` (`ldc` floats apart), channels `channel0 ..< channel0 + count` of each.
    @inline(__always)
    func apply(_ c: UnsafeMutablePointer<Float>, rows: Int, ldc: Int, channel0: Int, count: Int) {
        if let scale, let shift {
            let scale = scale + channel0, shift = shift + channel0
            // The affine step and relu or relu6 in one pass over each row.
            switch activation {
            case .relu?:
                for r in 0..<rows { Self.affineClamp(c + r &* ldc, scale, shift, count: count, top: nil) }
                return
            case .relu6?:
                for r in 0..<rows { Self.affineClamp(c + r &* ldc, scale, shift, count: count, top: 6) }
                return
            default:
                for r in 0..<rows {
                    let row = c + r &* ldc
                    ChannelAffineLayer.affine(row, row, scale: scale, shift: shift, count: count)
                }
            }
        }
        guard let activation else { return }
        if ldc == count {
            ActivationKernel.elementwise(activation, c, count: rows &* count)
        } else {
            for r in 0..<rows { ActivationKernel.elementwise(activation, c + r &* ldc, count: count) }
        }
    }

    /// `x[i] = min(max(x[i] * scale[i] + shift[i], 0), top)` (no upper bound when `top` is nil): the
    /// expressions of `ChannelAffineLayer` and `ActivationKernel`'s relu and relu6, as plain loops that
    /// the compiler vectorises (`SIMD8.replace(with:where:)` was left as a lane loop here).
    @inline(__always)
    private static func affineClamp(_ x: UnsafeMutablePointer<Float>, _ scale: UnsafePointer<Float>,
                                    _ shift: UnsafePointer<Float>, count: Int, top: Float?) {
        if let top {
            for i in 0..<count { x[i] = min(max(x[i] * scale[i] + shift[i], 0), top) }
        } else {
            for i in 0..<count { x[i] = max(x[i] * scale[i] + shift[i], 0) }
        }
    }
}
