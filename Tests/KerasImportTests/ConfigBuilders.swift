import Foundation
import QCore
@testable import KerasImport

/// Small builders of `model_config` JSON in both Keras dialects, and of matching in-memory weights.
enum Config {
    /// Keras 3 layer entry: inbound node args hold `__keras_tensor__` objects (a list for merges).
    static func k3(_ className: String, _ name: String, _ config: [String: Any] = [:], inputs: [[String]] = []) -> [String: Any] {
        var values = config
        values["name"] = name
        func tensor(_ ref: String) -> [String: Any] {
            // "layer" or "layer#k" (call k of a shared layer).
            let parts = ref.split(separator: "#")
            let node = parts.count > 1 ? Int(parts[1])! : 0
            return ["class_name": "__keras_tensor__",
                    "config": ["shape": NSNull(), "dtype": "float32", "keras_history": [String(parts[0]), node, 0]]]
        }
        let nodes: [[String: Any]] = inputs.map { call in
            let args: [Any] = call.count == 1 ? [tensor(call[0])] : [call.map(tensor)]
            return ["args": args, "kwargs": [String: Any]()]
        }
        return ["class_name": className, "config": values, "name": name, "inbound_nodes": nodes]
    }

    /// Keras 2 layer entry: `inbound_nodes = [[["input_1", 0, 0, {}], ...]]`.
    static func k2(_ className: String, _ name: String, _ config: [String: Any] = [:], inputs: [[String]] = []) -> [String: Any] {
        var values = config
        values["name"] = name
        let nodes: [[[Any]]] = inputs.map { call in
            call.map { ref -> [Any] in
                let parts = ref.split(separator: "#")
                return [String(parts[0]), parts.count > 1 ? Int(parts[1])! : 0, 0, [String: Any]()]
            }
        }
        return ["class_name": className, "config": values, "name": name, "inbound_nodes": nodes]
    }

    static func functional(_ layers: [[String: Any]], inputs: [String], outputs: [String], keras3: Bool = true) -> String {
        let refs: ([String]) -> Any = { names in
            if keras3 && names.count == 1 { return [names[0], 0, 0] as [Any] }
            return names.map { [$0, 0, 0] as [Any] }
        }
        return json(["class_name": keras3 ? "Functional" : "Model",
                     "config": ["name": "model", "layers": layers, "input_layers": refs(inputs), "output_layers": refs(outputs)]])
    }

    static func sequential(_ layers: [[String: Any]]) -> String {
        json(["class_name": "Sequential", "config": ["name": "sequential", "layers": layers]])
    }

    static func json(_ object: Any) -> String {
        String(data: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), encoding: .utf8)!
    }

    static func input(_ name: String, _ shape: [Int], keras3: Bool = true) -> [String: Any] {
        let batch: [Any] = [NSNull()] + shape
        return ["class_name": "InputLayer", "name": name, "inbound_nodes": [Any](),
                "config": ["name": name, keras3 ? "batch_shape" : "batch_input_shape": batch, "dtype": "float32"]]
    }
}

/// Deterministic weights keyed by layer, named as Keras 2 (`layer/kernel:0`) or Keras 3 (`layer/kernel`).
struct TestWeights {
    var store = InMemoryWeights()
    var keras3 = true

    mutating func add(_ layer: String, _ weights: [(String, [Int])]) {
        store.layers[layer] = weights.enumerated().map { index, weight in
            let count = weight.1.reduce(1, *)
            let data = (0..<count).map { Float(($0 + 3 * index) % 11) * 0.05 - 0.2 }
            return (name: "\(layer)/\(weight.0)\(keras3 ? "" : ":0")", tensor: Tensor(shape: weight.1, data: data))
        }
    }

    func load(_ json: String, version: String? = "3.4.1") throws(KerasImportError) -> ImportedModel {
        try KerasImporter.importModel(json: json, path: "test.h5", kerasVersion: version, backend: "tensorflow", weights: store)
    }
}

extension Graph {
    func node(_ name: String) -> Node? { index(of: name).map { nodes[$0] } }
}
