import HDF5

/// Weights of a legacy `.h5` file: `model_weights/<layer>` with its `weight_names` attribute,
/// each name a path relative to that group (`conv2d/kernel:0`, `batch_normalization_1_1/gamma:0`).
/// A layer of a flattened nested model reads from the nested model's group, taking the names whose
/// folders include the layer's name (`convnext_tiny_stem/convnext_tiny_stem_conv/kernel`).
struct HDF5Weights: WeightSource {
    /// The `model_weights` group; nil when the file has none.
    let group: HDF5Group?
    let path: String
    /// Layer of a flattened nested model -> the group (top-level nested model) holding its weights.
    var owners: [String: String] = [:]

    func location(layer: String) -> String { "model_weights/\(owners[layer].map { "\($0)/.../" } ?? "")\(layer)" }

    func weightList(layer: String) throws(KerasImportError) -> [(name: String, shape: [Int])]? {
        let groupName = owners[layer] ?? layer
        guard let group, group.contains(groupName) else { return nil }
        do {
            let layerGroup = try group.group(groupName)
            // Layers without weights store `weight_names` as an empty float64 array, which reads as [].
            guard layerGroup.hasAttribute("weight_names") else { return [] }
            var list: [(name: String, shape: [Int])] = []
            for name in try layerGroup.stringArrayAttribute("weight_names") {
                if owners[layer] != nil, !name.split(separator: "/").dropLast().contains(Substring(layer)) { continue }
                list.append((name, try dataset(layerGroup, name, layer: layer).shape))
            }
            return list
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .missingWeights(path: path, layer: layer, detail: "\(error)")
        }
    }

    func read(layer: String, weight: String) throws(KerasImportError) -> [Float] {
        guard let group else { throw .missingWeights(path: path, layer: layer, detail: "the file has no model_weights group") }
        do {
            return try dataset(try group.group(owners[layer] ?? layer), weight, layer: layer).readFloats()
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .missingWeights(path: path, layer: layer, detail: "\(error)")
        }
    }

    /// Follows a `/`-separated name through nested groups to its dataset.
    private func dataset(_ start: HDF5Group, _ name: String, layer: String) throws -> HDF5Dataset {
        var components = name.split(separator: "/").map(String.init)
        guard let last = components.popLast() else {
            throw KerasImportError.missingWeights(path: path, layer: layer, detail: "weight_names holds an empty name")
        }
        var current = start
        for component in components {
            guard current.contains(component) else {
                throw KerasImportError.missingWeights(path: path, layer: layer,
                    detail: "weight_names lists '\(name)', but \(current.path) has no '\(component)'")
            }
            current = try current.group(component)
        }
        guard current.contains(last) else {
            throw KerasImportError.missingWeights(path: path, layer: layer,
                detail: "weight_names lists '\(name)', but \(current.path) has no dataset '\(last)'")
        }
        return try current.dataset(last)
    }
}
