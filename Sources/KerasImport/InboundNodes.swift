import Foundation

/// One tensor of the Keras graph: output `tensor` of call `node` of layer `layer`
/// (Keras' `keras_history` / `[layer, node_index, tensor_index]`).
struct TensorRef: Hashable, CustomStringConvertible {
    var layer: String
    var node: Int
    var tensor: Int

    var description: String { "\(layer)[\(node)][\(tensor)]" }
}

/// Parsing of `inbound_nodes`, `input_layers` and `output_layers` in both dialects.
///
/// Keras 2: `inbound_nodes = [[["conv", 0, 0, {}], ...], ...]`, one list of entries per call.
/// Keras 3: `inbound_nodes = [{"args": [...], "kwargs": {...}}, ...]`, where `args` holds
/// `{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 0]}}` objects,
/// alone or inside lists (merge layers take one list argument).
enum InboundNodes {
    /// The input tensors of each call of a layer, in call order.
    static func parse(_ value: Any?, layer: String, path: String) throws(KerasImportError) -> [[TensorRef]] {
        guard let value, !(value is NSNull) else { return [] }
        guard let nodes = value as? [Any] else {
            throw invalid(path, layer, "'inbound_nodes' is \(JSONNumber.describe(value)), expected a list")
        }
        var calls: [[TensorRef]] = []
        for node in nodes {
            if let dict = node as? [String: Any] {
                calls.append(try keras3Node(dict, layer: layer, path: path))
            } else if let entries = node as? [Any] {
                calls.append(try keras2Node(entries, layer: layer, path: path))
            } else {
                throw invalid(path, layer, "inbound node \(JSONNumber.describe(node)) is neither a list (Keras 2) nor an object (Keras 3)")
            }
        }
        return calls
    }

    /// Keras 3 node: every `__keras_tensor__` in `args`, depth first; `kwargs` only when `args` holds none
    /// (a layer called as `layer(inputs=x)`).
    static func keras3Node(_ node: [String: Any], layer: String, path: String) throws(KerasImportError) -> [TensorRef] {
        var refs: [TensorRef] = []
        try collectTensors(node["args"] ?? [], into: &refs, layer: layer, path: path)
        if refs.isEmpty, let kwargs = node["kwargs"] as? [String: Any] {
            for key in kwargs.keys.sorted() where key != "mask" && key != "training" {
                try collectTensors(kwargs[key]!, into: &refs, layer: layer, path: path)
            }
        }
        guard !refs.isEmpty else { throw invalid(path, layer, "an inbound node has no input tensor") }
        return refs
    }

    private static func collectTensors(_ value: Any, into refs: inout [TensorRef], layer: String, path: String) throws(KerasImportError) {
        if let list = value as? [Any] {
            for item in list { try collectTensors(item, into: &refs, layer: layer, path: path) }
        } else if let dict = value as? [String: Any], dict["class_name"] as? String == "__keras_tensor__" {
            guard let config = dict["config"] as? [String: Any], let history = config["keras_history"] else {
                throw invalid(path, layer, "a __keras_tensor__ argument has no keras_history")
            }
            refs.append(try tensorRef(history, layer: layer, path: path))
        }
        // Other values (constants, None, dicts of options) are not graph inputs.
    }

    /// Keras 2 node: a list of `[layer, node_index, tensor_index, kwargs]` entries.
    static func keras2Node(_ entries: [Any], layer: String, path: String) throws(KerasImportError) -> [TensorRef] {
        guard !entries.isEmpty else { throw invalid(path, layer, "an inbound node has no input tensor") }
        var refs: [TensorRef] = []
        for entry in entries {
            if let kwargs = (entry as? [Any])?.dropFirst(3).first as? [String: Any], !kwargs.isEmpty,
               kwargs.keys.contains(where: { $0 != "training" && $0 != "mask" }) {
                throw invalid(path, layer, "an inbound node passes call arguments \(JSONNumber.describe(kwargs)), which are not supported")
            }
            refs.append(try tensorRef(entry, layer: layer, path: path))
        }
        return refs
    }

    /// `["name", node_index, tensor_index, ...]`.
    static func tensorRef(_ value: Any, layer: String, path: String) throws(KerasImportError) -> TensorRef {
        guard let list = value as? [Any], list.count >= 3, let name = list[0] as? String,
              let node = JSONNumber.int(list[1]), let tensor = JSONNumber.int(list[2]) else {
            throw invalid(path, layer, "tensor reference \(JSONNumber.describe(value)) is not [layer, node_index, tensor_index]")
        }
        return TensorRef(layer: name, node: node, tensor: tensor)
    }

    /// `input_layers`/`output_layers`: one reference `["x", 0, 0]` (Keras 3, single tensor) or a list of them.
    static func tensorList(_ value: Any?, key: String, path: String) throws(KerasImportError) -> [TensorRef] {
        if let dict = value as? [String: Any], !dict.isEmpty {
            var refs: [TensorRef] = []
            for name in dict.keys.sorted() { refs += try tensorList(dict[name], key: key, path: path) }
            return refs
        }
        guard let list = value as? [Any], !list.isEmpty else {
            throw KerasImportError.invalidConfig(path: path, detail: "'\(key)' is missing or empty")
        }
        if list.first is String { return [try tensorRef(list, layer: "<\(key)>", path: path)] }
        var refs: [TensorRef] = []
        for item in list {
            // Keras 3 may nest a structure (dict or list of lists) of outputs: flatten it in order.
            if let nested = item as? [Any], !(nested.first is String) {
                refs += try tensorList(nested, key: key, path: path)
            } else if let dict = item as? [String: Any] {
                for name in dict.keys.sorted() { refs += try tensorList(dict[name], key: key, path: path) }
            } else {
                refs.append(try tensorRef(item, layer: "<\(key)>", path: path))
            }
        }
        return refs
    }

    private static func invalid(_ path: String, _ layer: String, _ detail: String) -> KerasImportError {
        .invalidConfig(path: path, detail: "layer '\(layer)': \(detail)")
    }
}
