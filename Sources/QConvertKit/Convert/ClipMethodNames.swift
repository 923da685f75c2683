import Calibration

/// The CLI spellings of the calibration methods (Calibration's `ClipMethod`).
public enum ClipMethodNames {
    public static var all: [String] { ClipMethod.allNames }
    public static func parse(_ text: String, percentile: Double) -> ClipMethod? { ClipMethod.parse(text, percentile: percentile) }
}

import Quantizer

extension ConvertOptions {
    /// The model's layer names and its weighted layers (for checking `--layer-bits` before any work);
    /// nil when the model cannot be read (the conversion itself then reports why).
    public static func layerNames(modelPath: String) -> (all: Set<String>, weighted: [String])? {
        guard let model = try? ModelLoader.load(path: modelPath) else { return nil }
        return (Set(model.graph.nodes.map(\.name)), Quantizer.weightedLayers(of: model.graph))
    }
}
