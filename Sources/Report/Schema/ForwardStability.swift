import Foundation

/// The forward-stability profile of Ben-Yair et al. (2022): how the quantized model's error grows
/// through depth, block by block.
///
/// A block is the stretch of the graph between two points where one tensor carries everything later
/// ops read (a cut): a whole residual block (fork to add), or a single op in a plain chain. Its
/// `amplification` is `outputError / inputError`, both the end-to-end relative errors
/// `‖q − f‖ / ‖f‖` of the cut tensors (`LayerReport.outputRelativeError`). It counts the error the
/// block magnifies and the fresh quantization error its own ops add; a forward-stable block keeps it
/// near 1, a block that amplifies what enters it is well above.
public struct ForwardStability: Codable, Sendable, Equatable {
    public var blocks: [StabilityBlock]
    /// Largest block amplification; nil without blocks.
    public var maxAmplification: Double?
    /// Geometric mean of the block amplifications; nil without blocks.
    public var geometricMeanAmplification: Double?

    public init(blocks: [StabilityBlock]) {
        self.blocks = blocks
        let values = blocks.map(\.amplification).filter { $0.isFinite && $0 > 0 }
        maxAmplification = values.max()
        geometricMeanAmplification = values.isEmpty ? nil : exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
    }
}

/// One block of the forward-stability profile.
public struct StabilityBlock: Codable, Sendable, Equatable {
    /// Name of the first and the last layer of the block (the last one's output is the block's output).
    public var firstLayer: String
    public var lastLayer: String
    /// Layers (report entries) in the block.
    public var layerCount: Int
    /// Relative error of the tensor entering the block and of the block's output.
    public var inputError: Double
    public var outputError: Double
    /// `outputError / inputError`.
    public var amplification: Double

    public init(firstLayer: String, lastLayer: String, layerCount: Int, inputError: Double, outputError: Double) {
        self.firstLayer = firstLayer; self.lastLayer = lastLayer; self.layerCount = layerCount
        self.inputError = inputError; self.outputError = outputError
        self.amplification = inputError > 0 ? outputError / inputError : 0
    }
}
