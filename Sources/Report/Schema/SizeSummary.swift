/// Sizes of the float and quantized models, in bytes.
public struct SizeSummary: Codable, Sendable, Equatable {
    /// Size of the `.qbin` file.
    public var fileBytes: Int
    /// Float32 size of the same parameters: `parameterCount * 4`.
    public var floatBytes: Int
    /// `floatBytes / fileBytes`; `nil` when `fileBytes` is 0. Computed by the initialiser.
    public var compressionRatio: Double?
    /// Weights, biases and other stored parameters of the float model.
    public var parameterCount: Int
    /// Bytes of packed weight tensors in the `.qbin` DATA section (without padding between tensors).
    public var packedWeightBytes: Int
    /// `Σ over weight tensors of elements * bits / 8`: the packing floor. `packedWeightBytes` above it
    /// is row padding and per-row alignment.
    public var idealWeightBytes: Double

    public init(fileBytes: Int, floatBytes: Int, parameterCount: Int, packedWeightBytes: Int, idealWeightBytes: Double) {
        self.fileBytes = fileBytes
        self.floatBytes = floatBytes
        self.compressionRatio = fileBytes > 0 ? Double(floatBytes) / Double(fileBytes) : nil
        self.parameterCount = parameterCount
        self.packedWeightBytes = packedWeightBytes
        self.idealWeightBytes = idealWeightBytes
    }
}
