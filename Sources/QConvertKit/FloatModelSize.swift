import QBin
import QCore

/// The float model's size, one definition for `inspect`, `convert` and `validate`: every parameter of
/// the model as imported (weights, biases and BatchNorm's four per-channel statistics, what Keras'
/// `count_params()` counts) at 4 bytes each. `convert` records the count in the `.qbin` metadata
/// (`source.parameters`), so `validate` and `inspect` of the `.qbin` report the same figure.
public enum FloatModelSize {
    public static let bytesPerParameter = 4

    /// Parameters of the imported float graph (before BatchNorm folding).
    public static func parameters(_ graph: Graph) -> Int {
        graph.nodes.reduce(0) { $0 + GraphStatistics.parameterCount($1) }
    }

    /// Parameters of the float model a `.qbin` was converted from: its `source.parameters` metadata,
    /// or, for files written before that key existed, the `.qbin`'s own constant elements (after
    /// folding: BatchNorm statistics are not counted then).
    public static func parameters(_ model: QModel) -> Int {
        if let text = model.metadataValue(QMetadataEntry.sourceParameters), let n = Int(text), n >= 0 { return n }
        return model.tensors.filter(\.isConstant).reduce(0) { $0 + $1.elementCount }
    }

    public static func bytes(parameters: Int) -> Int { bytesPerParameter * parameters }
}
