import Foundation
import HDF5

/// One layer of a Keras 3 model as its weights file addresses it: the name the graph builder asks
/// for, the Keras layer name and class, and, for a nested model, its own layers.
struct Keras3LayerEntry {
    /// The key `WeightSource` calls use (the flattened name: `outer/inner` inside a nested model).
    var key: String
    /// The Keras layer name (what Keras 3.6+ records in `vars.attrs["name"]`).
    var name: String
    var className: String
    var children: [Keras3LayerEntry] = []
}

/// Weights in Keras 3's own layout (`model.weights.h5` inside a `.keras`, or a `.weights.h5`):
/// `layers/<slot>/vars/0, 1, ...`, where `<slot>` is the snake-cased class name made unique in
/// layer order (`conv2d`, `conv2d_1`, ...; Keras' `saving_lib._save_container_state`), and a
/// nested model's layers sit under `layers/<slot>/layers/...`. Keras 3.6 and later also record the
/// layer name as the `name` attribute of each `vars` group; where it is present it decides the
/// match, otherwise the class order does (Keras 3.0-3.5).
struct Keras3Weights: WeightSource {
    let file: HDF5File
    let path: String
    /// Layer key -> its group (`layers/conv2d_1`).
    private(set) var groups: [String: String] = [:]

    init(file: HDF5File, path: String, layers: [Keras3LayerEntry]) throws(KerasImportError) {
        self.file = file
        self.path = path
        do {
            guard file.root.contains("layers") else {
                throw KerasImportError.missingWeights(path: path, layer: "(model)",
                    detail: "the weights file has no 'layers' group; it is not a Keras 3 weights file (model.weights.h5)")
            }
            try assign(layers, under: "layers")
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .missingWeights(path: path, layer: "(model)", detail: "\(error)")
        }
    }

    /// Matches the layers of one model level to the child groups of `folder` (`layers`).
    private mutating func assign(_ layers: [Keras3LayerEntry], under folder: String) throws {
        let group = try file.root.group(folder)
        // Keras 3.6+: vars.attrs["name"] names the layer.
        var byName: [String: String] = [:]
        for child in try group.childNames() {
            let vars = "\(folder)/\(child)/vars"
            guard file.root.contains(folder + "/" + child), (try? file.root.group(vars)) != nil else { continue }
            let varsGroup = try file.root.group(vars)
            if varsGroup.hasAttribute("name"), let name = try? varsGroup.stringAttribute("name") {
                byName[name] = "\(folder)/\(child)"
            }
        }
        var used: [String: Int] = [:]
        for layer in layers {
            let base = Self.snakeCase(layer.className)
            let slot: String
            if let count = used[base] {
                used[base] = count + 1
                slot = "\(base)_\(count + 1)"
            } else {
                used[base] = 0
                slot = base
            }
            let location = byName[layer.name] ?? "\(folder)/\(slot)"
            groups[layer.key] = location
            if !layer.children.isEmpty {
                guard file.root.contains(location + "/layers") else {
                    throw KerasImportError.missingWeights(path: path, layer: layer.key,
                        detail: "the nested model's weights should be at \(location), which the file does not have")
                }
                try assign(layer.children, under: location + "/layers")
            }
        }
    }

    /// Keras' `naming.to_snake_case`: `Conv2D` -> `conv2d`, `BatchNormalization` -> `batch_normalization`,
    /// `ReLU` -> `re_lu`, `GlobalAveragePooling2D` -> `global_average_pooling2d`.
    static func snakeCase(_ name: String) -> String {
        var chars = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
        func isUpper(_ c: Character) -> Bool { c.isASCII && c.isUppercase }
        func isLower(_ c: Character) -> Bool { c.isASCII && c.isLowercase }
        // re.sub("(.)([A-Z][a-z]+)", r"\1_\2"): left to right, non-overlapping matches.
        var out: [Character] = []
        var i = 0
        while i < chars.count {
            if i + 2 < chars.count, isUpper(chars[i + 1]), isLower(chars[i + 2]) {
                var j = i + 2
                while j < chars.count, isLower(chars[j]) { j += 1 }
                out.append(chars[i])
                out.append("_")
                out.append(contentsOf: chars[(i + 1)..<j])
                i = j
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        chars = out
        // re.sub("([a-z])([A-Z])", r"\1_\2").
        out = []
        for (k, c) in chars.enumerated() {
            out.append(c)
            if k + 1 < chars.count, isLower(c), isUpper(chars[k + 1]) { out.append("_") }
        }
        return String(out).lowercased()
    }

    func location(layer: String) -> String {
        groups[layer].map { "\($0)/vars" } ?? "layers/<\(layer)>/vars"
    }

    func weightList(layer: String) throws(KerasImportError) -> [(name: String, shape: [Int])]? {
        guard let location = groups[layer] else { return nil }
        do {
            guard file.root.contains(location), try file.root.group(location).contains("vars") else { return nil }
            let vars = try file.root.group(location + "/vars")
            let names = try vars.childNames()
            let indices = names.compactMap { Int($0) }.sorted()
            guard indices.count == names.count, indices == Array(0..<indices.count) else {
                throw KerasImportError.missingWeights(path: path, layer: layer,
                    detail: "\(location)/vars holds \(names.sorted()), expected datasets named 0, 1, 2, ...")
            }
            return try indices.map { index throws -> (name: String, shape: [Int]) in
                ("vars/\(index)", try vars.dataset(String(index)).shape)
            }
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .missingWeights(path: path, layer: layer, detail: "\(error)")
        }
    }

    func read(layer: String, weight: String) throws(KerasImportError) -> [Float] {
        guard let location = groups[layer] else { throw .missingWeights(path: path, layer: layer, detail: "no weights group") }
        do {
            return try file.root.group(location).dataset(weight).readFloats()
        } catch {
            throw .hdf5(error)
        }
    }
}
