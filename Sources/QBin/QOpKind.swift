/// The op kinds of the format (`docs/qbin-format.md`, section 5.1). On-disk numbers: never renumber
/// a case, retire it. Kinds of the op registry (`Sources/Ops`, docs/op-registry.md) are `.registered`
/// with their code (TV smoothing: 19); 21 and up are free (planned: graph convolution).
public enum QOpKind: Sendable, Hashable, CustomStringConvertible {
    case conv2D
    case depthwiseConv2D
    case conv2DTranspose
    case dense
    /// A BatchNorm that could not be folded: per-channel integer affine.
    case channelAffine
    case add
    case subtract
    case multiply
    case concatenate
    case maxPool2D
    case averagePool2D
    case globalAveragePool2D
    case globalMaxPool2D
    case flatten
    case reshape
    case zeroPadding2D
    case requantize
    case lookupTable
    /// Layer normalization over the last axis in fixed point (docs/numerics.md, "Layer normalization").
    case layerNorm
    /// An op of the op registry, by its on-disk code (`QOpRegistry`).
    case registered(UInt16)

    /// The built-in kinds with their on-disk codes.
    public static let builtIn: [(kind: QOpKind, code: UInt16)] = [
        (.conv2D, 1), (.depthwiseConv2D, 2), (.conv2DTranspose, 3), (.dense, 4), (.channelAffine, 5), (.add, 6),
        (.subtract, 7), (.multiply, 8), (.concatenate, 9), (.maxPool2D, 10), (.averagePool2D, 11),
        (.globalAveragePool2D, 12), (.globalMaxPool2D, 13), (.flatten, 14), (.reshape, 15), (.zeroPadding2D, 16),
        (.requantize, 17), (.lookupTable, 18), (.layerNorm, 20),
    ]

    /// The on-disk code.
    public var rawValue: UInt16 {
        if case .registered(let code) = self { return code }
        return Self.builtIn.first { $0.kind == self }!.code
    }

    /// The kind of an on-disk code: built in, or installed in `QOpRegistry`; nil for an unknown code.
    public init?(rawValue: UInt16) {
        if let b = Self.builtIn.first(where: { $0.code == rawValue }) {
            self = b.kind
        } else if QOpRegistry.definition(rawValue) != nil {
            self = .registered(rawValue)
        } else {
            return nil
        }
    }

    /// Every kind this build reads, by code: the built-in ones and those installed in `QOpRegistry`.
    public static var allCases: [QOpKind] {
        (builtIn.map(\.kind) + QOpRegistry.codes.map { .registered($0) }).sorted { $0.rawValue < $1.rawValue }
    }

    /// The registry's definition of a registered kind.
    public var definition: (any QOpDefinition)? {
        if case .registered(let code) = self { return QOpRegistry.definition(code) }
        return nil
    }

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
        case .layerNorm: return "layerNorm"
        case .registered(let code): return QOpRegistry.definition(code)?.name ?? "kind\(code)"
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
        case .registered: return definition?.inputCount ?? 1...1
        default: return 1...1
        }
    }

    /// True when input 1 must be a constant (weights, affine scale, lookup table) and inputs 2+ too.
    public var hasConstantInputs: Bool {
        switch self {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense, .channelAffine, .lookupTable, .layerNorm: return true
        case .registered: return definition?.hasConstantInputs ?? false
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
        case .registered: return definition?.requiredAttributes ?? []
        }
    }
}
