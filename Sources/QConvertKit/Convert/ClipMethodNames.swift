import Calibration

/// The CLI spellings of the calibration methods (Calibration's `ClipMethod`).
public enum ClipMethodNames {
    public static var all: [String] { ClipMethod.allNames }
    public static func parse(_ text: String, percentile: Double) -> ClipMethod? { ClipMethod.parse(text, percentile: percentile) }
}

import QCore
import Quantizer

extension ConvertOptions {
    /// Why `--layer-bits` cannot name `name`, when it cannot (checked before any work): not a layer of
    /// the model, or a layer the conversion merges into another (a BatchNorm folded into a conv, an
    /// activation fused into it, a Dropout removed), in which case the sentence names the layer that
    /// carries it. nil when every name is fine or the model cannot be read (the conversion then says why).
    public static func layerBitsProblem(modelPath: String, configPath: String? = nil, names: [String]) -> String? {
        guard let model = try? ModelLoader.load(path: modelPath, configPath: configPath) else { return nil }
        let graph = model.graph
        let canonical = try? GraphCanonicalizer.canonicalize(graph)
        let kept = Set(canonical?.graph.nodes.map(\.name) ?? graph.nodes.map(\.name))
        for name in names.sorted() where !kept.contains(name) {
            guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
                return "--layer-bits names '\(name)', which is not a layer of \(modelPath); weighted layers: "
                    + Quantizer.weightedLayers(of: graph).joined(separator: ", ")
            }
            let node = graph.nodes[index]
            guard let canonical, canonical.nodeMap.indices.contains(index),
                  canonical.graph.nodes.indices.contains(canonical.nodeMap[index]) else { continue }
            let target = canonical.graph.nodes[canonical.nodeMap[index]].name
            let what: String
            switch node.op {
            case .batchNorm: what = "a \(node.sourceClass) folded into '\(target)' (its scale and shift became \(target)'s weights and bias)"
            case .activation: what = "an activation fused into '\(target)' (it is applied by \(target)'s requantization)"
            case .identity: what = "a \(node.sourceClass) that does nothing at inference and is removed (its output is '\(target)')"
            default: what = "merged into '\(target)' by the conversion"
            }
            return "--layer-bits names '\(name)', \(what), so it has no bits of its own; name '\(target)' instead: --layer-bits \(target)=N"
        }
        return nil
    }
}
