/// The op kinds of the format (`docs/qbin-format.md`, section 5.1). On-disk numbers: never renumber
/// a case, retire it. 21 and up are free (planned: graph convolution).
public enum QOpKind: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case conv2D = 1
    case depthwiseConv2D = 2
    case conv2DTranspose = 3
    case dense = 4
    /// A BatchNorm that could not be folded: per-channel integer affine.
    case channelAffine = 5
    case add = 6
    case subtract = 7
    case multiply = 8
    case concatenate = 9
    case maxPool2D = 10
    case averagePool2D = 11
    case globalAveragePool2D = 12
    case globalMaxPool2D = 13
    case flatten = 14
    case reshape = 15
    case zeroPadding2D = 16
    case requantize = 17
    case lookupTable = 18
    /// Total-variation smoothing in fixed point (docs/tv-smoothing.md).
    case tvSmoothing = 19
    /// Layer normalization over the last axis in fixed point (docs/numerics.md, "Layer normalization").
    case layerNorm = 20

    public var description: String {
        switch self {
        case .conv2D: return "conv2D"
        case .depthwiseConv2D: return "depthwiseConv2D"
        case .conv2DTranspose: return "conv2DTranspose"
        case .dense: return "dense"
        case .channelAffine: return "channelAffine"
        case .add: return "add"
        case .subtract: return "subtract"
        case .multiply: return "multiply"
        case .concatenate: return "concatenate"
        case .maxPool2D: return "maxPool2D"
        case .averagePool2D: return "averagePool2D"
        case .globalAveragePool2D: return "globalAveragePool2D"
        case .globalMaxPool2D: return "globalMaxPool2D"
        case .flatten: return "flatten"
        case .reshape: return "reshape"
        case .zeroPadding2D: return "zeroPadding2D"
        case .requantize: return "requantize"
        case .lookupTable: return "lookupTable"
        case .tvSmoothing: return "tvSmoothing"
        case .layerNorm: return "layerNorm"
        }
    }

    /// How many values a required attribute holds.
    public enum Count: Sendable, Equatable {
        case fixed(Int)
        /// 1 (per tensor) or the number of output channels (axis 0 of the weights / constant input 1).
        case perChannel
        /// One per op input.
        case perInput
        case any
    }

    /// Allowed number of inputs.
    public var inputCount: ClosedRange<Int> {
        switch self {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense, .channelAffine: return 2...3
        case .layerNorm: return 3...3
        case .add, .concatenate: return 2...Int(UInt16.max)
        case .subtract, .multiply, .lookupTable: return 2...2
        default: return 1...1
        }
    }

    /// True when input 1 must be a constant (weights, affine scale, lookup table) and inputs 2+ too.
    public var hasConstantInputs: Bool {
        switch self {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense, .channelAffine, .lookupTable, .layerNorm: return true
        default: return false
        }
    }

    /// Attributes every op of this kind must carry.
    public var requiredAttributes: [(key: String, count: Count)] {
        let window: [(String, Count)] = [("kernel", .fixed(2)), ("stride", .fixed(2)), ("dilation", .fixed(2)), ("padding", .fixed(4))]
        let requant: [(String, Count)] = [("multiplier", .perChannel), ("shift", .perChannel), ("clamp", .fixed(2))]
        let rescale: [(String, Count)] = [("left_shift", .fixed(1)), ("input_multiplier", .perInput), ("input_shift", .perInput),
                                          ("output_multiplier", .fixed(1)), ("output_shift", .fixed(1)), ("clamp", .fixed(2))]
        let scalarRequant: [(String, Count)] = [("multiplier", .fixed(1)), ("shift", .fixed(1)), ("clamp", .fixed(2))]
        let pool: [(String, Count)] = [("kernel", .fixed(2)), ("stride", .fixed(2)), ("padding", .fixed(4))]
        switch self {
        case .conv2D: return window + [("groups", .fixed(1))] + requant
        case .depthwiseConv2D: return window + [("depth_multiplier", .fixed(1))] + requant
        case .conv2DTranspose: return window + [("output_size", .fixed(2))] + requant
        case .dense, .channelAffine: return requant
        case .add, .subtract: return rescale
        case .multiply, .requantize: return scalarRequant
        case .concatenate: return [("axis", .fixed(1)), ("input_multiplier", .perInput), ("input_shift", .perInput)]
        case .maxPool2D: return pool
        case .averagePool2D: return pool + [("clamp", .fixed(2))]
        case .globalAveragePool2D: return [("clamp", .fixed(2))]
        case .reshape: return [("shape", .any)]
        case .zeroPadding2D: return [("padding", .fixed(4))]
        case .globalMaxPool2D, .flatten, .lookupTable: return []
        case .layerNorm: return [("fraction_bits", .fixed(1)), ("epsilon", .fixed(2))] + requant
        case .tvSmoothing: return [("steps", .fixed(1)), ("fraction_bits", .fixed(1)), ("gamma", .fixed(1)), ("epsilon", .fixed(2))] + scalarRequant
        }
    }
}
