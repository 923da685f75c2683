/// Flattens nested models (a Sequential or Functional called as a layer, as ConvNeXt's stem and
/// downsampling blocks are) into the enclosing model's layer list while it is parsed.
///
/// The inner model's layers join the outer list under their own Keras names (Keras names are unique
/// across a model, and a clash is refused); the inner InputLayers become the tensors the outer call
/// passes in, and every outer reference to the nested model's output becomes its inner output layer.
/// Weights stay where Keras put them: in a legacy `.h5` under the nested model's own group
/// (`model_weights/<outer>` with `weight_names` such as `<outer>/<inner>/kernel`), in a Keras 3
/// weights file under `layers/<slot>/layers/...` (the `children` of its `Keras3LayerEntry`).
struct NestedModels {
    private(set) var entries: [Keras3LayerEntry] = []
    /// Flattened layer -> the top-level nested model that owns its `.h5` weights group.
    private(set) var owners: [String: String] = [:]
    /// Nested model name -> the tensor its (single) call produces.
    private(set) var aliases: [String: TensorRef] = [:]

    /// Records a plain layer of this level for the Keras 3 weights layout.
    mutating func addEntry(_ spec: LayerConfig) {
        guard !spec.className.hasPrefix("ops.") else { return }
        entries.append(Keras3LayerEntry(key: spec.name, name: spec.name, className: spec.className))
    }

    /// Appends the layers of nested model `name`, called once on `calls[0]`, to `layers`; returns the
    /// tensor that stands for its output.
    @discardableResult
    mutating func splice(_ layer: [String: Any], name: String, className: String, calls: [[TensorRef]],
                         into layers: inout [LayerSpec], seen: inout Set<String>,
                         path: String, keras3: Bool) throws(KerasImportError) -> TensorRef {
        guard calls.count == 1, let call = calls.first else {
            throw .invalidConfig(path: path, detail: "nested \(className) model '\(name)' is called \(calls.count) times; "
                + "only a model called once can be flattened (call its layers directly and save it again)")
        }
        let inner: ModelTopology
        do {
            inner = try ModelTopology.parse(object: ["class_name": className, "config": layer["config"] ?? [:]], path: path, keras3: keras3)
        } catch .invalidConfig(let path, let detail) {
            throw .invalidConfig(path: path, detail: "nested \(className) model '\(name)': \(detail)")
        }
        guard inner.inputs.count == call.count else {
            throw .invalidConfig(path: path, detail: "nested \(className) model '\(name)' takes \(inner.inputs.count) input(s) "
                + "but is called with \(call.count)")
        }
        guard inner.outputs.count == 1, let innerOutput = inner.outputs.first else {
            throw .invalidConfig(path: path, detail: "nested \(className) model '\(name)' has \(inner.outputs.count) outputs; "
                + "only single-output nested models are supported")
        }
        var inputs: [String: TensorRef] = [:]
        for (ref, outer) in zip(inner.inputs, call) { inputs[ref.layer] = outer }
        func rewrite(_ ref: TensorRef) -> TensorRef { inputs[ref.layer] ?? ref }
        for spec in inner.layers where inputs[spec.config.name] == nil {
            guard seen.insert(spec.config.name).inserted else {
                throw .invalidConfig(path: path, detail: "layer '\(spec.config.name)' of nested model '\(name)' has the name of "
                    + "another layer of the model; rename one and save it again")
            }
            layers.append(LayerSpec(config: spec.config, calls: spec.calls.map { $0.map(rewrite) }))
            owners[spec.config.name] = name
        }
        let output = rewrite(innerOutput)
        aliases[name] = output
        entries.append(Keras3LayerEntry(key: name, name: name, className: className, children: inner.keras3Entries))
        return output
    }

    /// Points every reference to a nested model at its output tensor and stores the weights layout.
    func apply(to topology: inout ModelTopology) {
        func resolve(_ ref: TensorRef) -> TensorRef {
            var ref = ref
            while ref.node == 0, ref.tensor == 0, let target = aliases[ref.layer] { ref = target }
            return ref
        }
        for l in topology.layers.indices {
            topology.layers[l].calls = topology.layers[l].calls.map { $0.map(resolve) }
        }
        topology.outputs = topology.outputs.map(resolve)
        topology.keras3Entries = entries
        topology.nestedOwners = owners
    }
}
