import Foundation

/// One layer of `model_config` with the inputs of each of its calls.
struct LayerSpec {
    var config: LayerConfig
    /// Input tensors per call; InputLayer has one call with no inputs.
    var calls: [[TensorRef]]
}

/// The layer graph of a Sequential or Functional `model_config`, before any op is built.
struct ModelTopology {
    var modelClass: String
    var layers: [LayerSpec]
    var inputs: [TensorRef]
    var outputs: [TensorRef]
    /// True when the config uses Keras 3 conventions (`batch_shape`, dict-form inbound nodes).
    var looksLikeKeras3: Bool
    /// The layers as Keras 3's weights layout addresses them, in config order, a nested model with its
    /// own layers as children (functional ops such as `ops.Add` are operations, not layers: the weights
    /// file has no slot for them).
    var keras3Entries: [Keras3LayerEntry] = []
    /// Layer of a flattened nested model -> the top-level nested model whose `.h5` group holds its weights.
    var nestedOwners: [String: String] = [:]

    static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]

    /// Config keys under which a functional op's number operand is recorded (`x + 3.0`).
    static let opConstantKey = "__qconvert_constant"
    static let opConstantFirstKey = "__qconvert_constant_first"

    /// Whether a layer entry is a Keras 3 functional op rather than a layer: its module is
    /// `keras.src.ops.*`, or (legacy `.h5` drops the module) an Add / Subtract / Multiply / TrueDivide
    /// whose call takes a tensor or number as a direct argument, where the merge layers take one list.
    private static func isOpCall(_ spec: LayerConfig, _ layer: [String: Any]) -> Bool {
        if let module = layer["module"] as? String { return module.hasPrefix("keras.src.ops") || module.hasPrefix("keras.ops") }
        guard ["Add", "Subtract", "Multiply", "TrueDivide", "Divide"].contains(spec.className),
              let nodes = layer["inbound_nodes"] as? [Any], let node = nodes.first as? [String: Any],
              let args = node["args"] as? [Any], let first = args.first else { return false }
        return !(first is [Any])
    }

    /// A Keras 3 functional op (module `keras.src.ops.*`, e.g. `x + 3.0` in MobileNetV3) becomes class
    /// `ops.<Class>`, with its number operand (if any) and whether it came first recorded in the config.
    private static func opLayer(_ spec: LayerConfig, _ layer: [String: Any], path: String) throws(KerasImportError) -> LayerConfig {
        var values = spec.values
        if let nodes = layer["inbound_nodes"] as? [Any], let node = nodes.first as? [String: Any], let args = node["args"] as? [Any] {
            guard nodes.count == 1 else {
                throw .invalidConfig(path: path, detail: "op '\(spec.name)' is called \(nodes.count) times; only single calls are supported")
            }
            for (position, arg) in args.enumerated() where !(arg is [String: Any]) && !(arg is [Any]) {
                guard !JSONNumber.isBoolean(arg), let number = JSONNumber.double(arg) else { continue }
                values[opConstantKey] = number
                values[opConstantFirstKey] = position == 0
            }
        }
        return LayerConfig(path: path, name: spec.name, className: "ops." + spec.className, values: values)
    }

    /// Parses the JSON text of the root `model_config` attribute.
    static func parse(json: String, path: String) throws(KerasImportError) -> ModelTopology {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw .invalidConfig(path: path, detail: "model_config is not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else {
            throw .invalidConfig(path: path, detail: "model_config has no 'class_name'")
        }
        let keras3 = json.contains("\"__keras_tensor__\"") || json.contains("\"batch_shape\"")
        return try parse(object: root, path: path, keras3: keras3)
    }

    /// Parses one model object (`{"class_name": ..., "config": ...}`), the root or a nested model.
    static func parse(object root: [String: Any], path: String, keras3: Bool) throws(KerasImportError) -> ModelTopology {
        guard let className = root["class_name"] as? String else {
            throw .invalidConfig(path: path, detail: "model_config has no 'class_name'")
        }
        switch className {
        case "Sequential":
            return try sequential(root["config"], path: path, keras3: keras3)
        case "Functional", "Model":
            return try functional(root["config"], className: className, path: path, keras3: keras3)
        default:
            throw .invalidConfig(path: path, detail: "model class '\(className)' is not Sequential, Functional or Model "
                + "(subclassed models cannot be saved to .h5 with their architecture; rebuild it functionally)")
        }
    }

    private static func layerList(_ value: Any?, path: String) throws(KerasImportError) -> [[String: Any]] {
        guard let list = value as? [Any] else { throw .invalidConfig(path: path, detail: "'config.layers' is missing") }
        var layers: [[String: Any]] = []
        for item in list {
            guard let layer = item as? [String: Any] else {
                throw .invalidConfig(path: path, detail: "an entry of 'config.layers' is \(JSONNumber.describe(item)), expected an object")
            }
            layers.append(layer)
        }
        return layers
    }

    private static func layerConfig(_ layer: [String: Any], path: String) throws(KerasImportError) -> LayerConfig {
        guard let className = layer["class_name"] as? String else {
            throw .invalidConfig(path: path, detail: "a layer has no 'class_name'")
        }
        let values = layer["config"] as? [String: Any] ?? [:]
        guard let name = values["name"] as? String ?? layer["name"] as? String else {
            throw .invalidConfig(path: path, detail: "a \(className) layer has no name")
        }
        return LayerConfig(path: path, name: name, className: className, values: values)
    }

    /// Functional: layers with explicit inbound nodes, `input_layers`, `output_layers`.
    static func functional(_ value: Any?, className: String, path: String, keras3: Bool) throws(KerasImportError) -> ModelTopology {
        guard let config = value as? [String: Any] else { throw .invalidConfig(path: path, detail: "'config' is missing") }
        var layers: [LayerSpec] = []
        var seen = Set<String>()
        var nested = NestedModels()
        for layer in try layerList(config["layers"], path: path) {
            var spec = try layerConfig(layer, path: path)
            if modelClasses.contains(spec.className) {
                let calls = try InboundNodes.parse(layer["inbound_nodes"], layer: spec.name, path: path)
                try nested.splice(layer, name: spec.name, className: spec.className, calls: calls,
                                  into: &layers, seen: &seen, path: path, keras3: keras3)
                continue
            }
            if isOpCall(spec, layer) { spec = try opLayer(spec, layer, path: path) }
            guard seen.insert(spec.name).inserted else {
                throw .invalidConfig(path: path, detail: "two layers are named '\(spec.name)'")
            }
            let calls = spec.className == "InputLayer"
                ? [[]] : try InboundNodes.parse(layer["inbound_nodes"], layer: spec.name, path: path)
            layers.append(LayerSpec(config: spec, calls: calls))
            nested.addEntry(spec)
        }
        var topology = ModelTopology(
            modelClass: className, layers: layers,
            inputs: try InboundNodes.tensorList(config["input_layers"], key: "input_layers", path: path),
            outputs: try InboundNodes.tensorList(config["output_layers"], key: "output_layers", path: path),
            looksLikeKeras3: keras3)
        nested.apply(to: &topology)
        return topology
    }

    /// Sequential: layers in order, each called once on the previous one's output. The input is an
    /// explicit InputLayer, else the first layer's `batch_input_shape` (Keras 2) / `batch_shape`
    /// (Keras 3), else the model's `build_input_shape`. Keras 2.0/2.1 wrote `config` as the bare list.
    static func sequential(_ value: Any?, path: String, keras3: Bool) throws(KerasImportError) -> ModelTopology {
        let config = value as? [String: Any] ?? [:]
        let rawLayers = try layerList(value is [Any] ? value : config["layers"], path: path)
        var specs: [(config: LayerConfig, raw: [String: Any])] = []
        for layer in rawLayers { specs.append((try layerConfig(layer, path: path), layer)) }
        guard let first = specs.first?.config else { throw .invalidConfig(path: path, detail: "the Sequential model has no layers") }

        var layers: [LayerSpec] = []
        var previous: TensorRef
        if first.className == "InputLayer" {
            layers.append(LayerSpec(config: first, calls: [[]]))
            specs.removeFirst()
            previous = TensorRef(layer: first.name, node: 0, tensor: 0)
        } else {
            let shapeKey = ["batch_input_shape", "batch_shape"].first { first.has($0) }
            let shape: Any
            if let shapeKey {
                shape = first.values[shapeKey]!
            } else if let build = config["build_input_shape"], !(build is NSNull) {
                shape = build
            } else {
                throw .invalidConfig(path: path, detail: "the Sequential model has no InputLayer and its first layer '\(first.name)' "
                    + "has no batch_input_shape: build the model with keras.Input((H, W, C)) as its first layer and save it again")
            }
            let inputName = first.name + "_input"
            let input = LayerConfig(path: path, name: inputName, className: "InputLayer", values: ["name": inputName, "batch_shape": shape])
            layers.append(LayerSpec(config: input, calls: [[]]))
            previous = TensorRef(layer: inputName, node: 0, tensor: 0)
        }
        let input = previous
        var seen: Set<String> = [input.layer]
        var nested = NestedModels()
        nested.addEntry(layers[0].config)
        for (spec, raw) in specs {
            if modelClasses.contains(spec.className) {
                previous = try nested.splice(raw, name: spec.name, className: spec.className, calls: [[previous]],
                                             into: &layers, seen: &seen, path: path, keras3: keras3)
                continue
            }
            guard seen.insert(spec.name).inserted else {
                throw .invalidConfig(path: path, detail: "two layers are named '\(spec.name)'")
            }
            guard spec.className != "InputLayer" else {
                throw .invalidConfig(path: path, detail: "InputLayer '\(spec.name)' is not the first layer of the Sequential model")
            }
            layers.append(LayerSpec(config: spec, calls: [[previous]]))
            nested.addEntry(spec)
            previous = TensorRef(layer: spec.name, node: 0, tensor: 0)
        }
        var topology = ModelTopology(modelClass: "Sequential", layers: layers, inputs: [input], outputs: [previous], looksLikeKeras3: keras3)
        nested.apply(to: &topology)
        return topology
    }
}
