import Foundation

/// Typed, error-reporting access to one layer's `config` dictionary as JSONSerialization parsed it.
///
/// Missing keys and JSON `null` both read as "absent"; wrong types throw `invalidConfig` naming the
/// layer and the key, so a hand-edited or exotic file fails with a message rather than a crash.
struct LayerConfig {
    let path: String
    /// The Keras layer name (also the name of its weights group).
    let name: String
    let className: String
    let values: [String: Any]

    init(path: String, name: String, className: String, values: [String: Any]) {
        self.path = path; self.name = name; self.className = className; self.values = values
    }

    func has(_ key: String) -> Bool {
        guard let value = values[key] else { return false }
        return !(value is NSNull)
    }

    func raw(_ key: String) -> Any? { has(key) ? values[key] : nil }

    func invalid(_ detail: String) -> KerasImportError {
        .invalidConfig(path: path, detail: "layer '\(name)' (\(className)): \(detail)")
    }

    func unsupported(_ option: String, _ value: String) -> KerasImportError {
        .unsupportedOption(path: path, layer: name, option: option, value: value)
    }

    func int(_ key: String, default fallback: Int? = nil) throws(KerasImportError) -> Int {
        guard let value = raw(key) else {
            if let fallback { return fallback }
            throw invalid("missing '\(key)'")
        }
        guard let int = JSONNumber.int(value) else { throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected an integer") }
        return int
    }

    func double(_ key: String, default fallback: Double? = nil) throws(KerasImportError) -> Double {
        guard let value = raw(key) else {
            if let fallback { return fallback }
            throw invalid("missing '\(key)'")
        }
        guard let double = JSONNumber.double(value) else { throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected a number") }
        return double
    }

    /// A number that may be absent (Keras `max_value=None`).
    func optionalDouble(_ key: String) throws(KerasImportError) -> Double? {
        guard has(key) else { return nil }
        return try double(key)
    }

    func bool(_ key: String, default fallback: Bool) throws(KerasImportError) -> Bool {
        guard let value = raw(key) else { return fallback }
        guard JSONNumber.isBoolean(value), let bool = value as? Bool else {
            throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected true or false")
        }
        return bool
    }

    func string(_ key: String, default fallback: String? = nil) throws(KerasImportError) -> String {
        guard let value = raw(key) else {
            if let fallback { return fallback }
            throw invalid("missing '\(key)'")
        }
        guard let string = value as? String else { throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected a string") }
        return string
    }

    /// A 2-D size given as one integer (`3`) or a pair (`[3, 3]`), as Keras' `kernel_size`/`strides`.
    func pair(_ key: String, default fallback: (Int, Int)? = nil) throws(KerasImportError) -> (Int, Int) {
        guard let value = raw(key) else {
            if let fallback { return fallback }
            throw invalid("missing '\(key)'")
        }
        if let int = JSONNumber.int(value) { return (int, int) }
        if let list = value as? [Any], list.count == 2, let a = JSONNumber.int(list[0]), let b = JSONNumber.int(list[1]) {
            return (a, b)
        }
        throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected an integer or a pair of integers")
    }

    /// A list of integers; a single integer reads as a one-element list.
    func intList(_ key: String) throws(KerasImportError) -> [Int] {
        guard let value = raw(key) else { throw invalid("missing '\(key)'") }
        if let int = JSONNumber.int(value) { return [int] }
        guard let list = value as? [Any] else { throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected a list of integers") }
        var result: [Int] = []
        for item in list {
            guard let int = JSONNumber.int(item) else { throw invalid("'\(key)' holds \(JSONNumber.describe(item)), expected integers") }
            result.append(int)
        }
        return result
    }

    /// A scalar or list of floats (Rescaling's `scale`/`offset`), also in Keras 3's `__numpy__` wrapper.
    func floatList(_ key: String, default fallback: [Float]) throws(KerasImportError) -> [Float] {
        guard var value = raw(key) else { return fallback }
        if let dict = value as? [String: Any], let config = dict["config"] as? [String: Any], let inner = config["value"] {
            value = inner
        }
        if let double = JSONNumber.double(value) { return [Float(double)] }
        if let list = value as? [Any] {
            var result: [Float] = []
            for item in list {
                guard let double = JSONNumber.double(item) else { throw invalid("'\(key)' holds \(JSONNumber.describe(item)), expected numbers") }
                result.append(Float(double))
            }
            return result
        }
        throw invalid("'\(key)' is \(JSONNumber.describe(value)), expected a number or a list of numbers")
    }

    /// Rejects `data_format="channels_first"`: the graph is NHWC throughout.
    func requireChannelsLast() throws(KerasImportError) {
        let format = try string("data_format", default: "channels_last")
        guard format == "channels_last" else { throw unsupported("data_format", format) }
    }
}

/// Number conversions that accept what JSONSerialization produces on every platform
/// (NSNumber, Int, Double) and reject booleans and strings.
enum JSONNumber {
    /// JSON `true`/`false`. On Linux `1 is Bool` holds for a parsed NSNumber, so look at its type code.
    static func isBoolean(_ value: Any) -> Bool {
        if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
        return value is Bool
    }

    static func double(_ value: Any) -> Double? {
        if isBoolean(value) { return nil }
        if let int = value as? Int { return Double(int) }
        if let double = value as? Double { return double }
        if let number = value as? NSNumber { return number.doubleValue }
        return nil
    }

    /// An integer, also from an integral float (`6.0`).
    static func int(_ value: Any) -> Int? {
        if isBoolean(value) { return nil }
        if let int = value as? Int { return int }
        guard let double = double(value), double.rounded() == double, abs(double) < 1e15 else { return nil }
        return Int(double)
    }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let string = value as? String { return "\"\(string)\"" }
        if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed]),
           var text = String(data: data, encoding: .utf8) {
            text.removeFirst(); text.removeLast()
            return text.count > 80 ? String(text.prefix(77)) + "..." : text
        }
        return String(describing: value)
    }
}
