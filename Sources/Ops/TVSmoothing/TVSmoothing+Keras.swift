import KerasImport
import QCore

/// The custom Keras layer `TVSmoothing` of `tools/qconvert_layers.py` (a model trained with TV
/// smoothing): config `gamma` (>= 0, in the units of the values), `steps` (>= 0) and `eps` (> 0;
/// absent or null means `16 gamma^2`, docs/tv-smoothing.md). No weights. Keras 3 writes it as
/// "qconvert>TVSmoothing" in a legacy `.h5` (the layer is registered under package "qconvert").
public struct TVSmoothingKeras: KerasOpImporter {
    public init() {}
    public var kerasClassNames: [String] { ["TVSmoothing", "qconvert>TVSmoothing"] }

    public func makeOp(_ layer: KerasLayerReader) throws(KerasImportError) -> any GraphOp {
        try layer.requireChannelsLast()
        let gamma = try layer.double("gamma")
        let steps = try layer.int("steps", default: 1)
        let eps = try layer.optionalDouble("eps")
        let tv = TVSmoothing(gamma: Float(gamma), steps: steps, epsilon: eps.map(Float.init))
        if let reason = tv.invalidReason { throw layer.invalid(reason) }
        return tv
    }
}
