/// A quantized model as stored in a `.qbin` file: metadata, tensors, ops in topological order, and
/// the graph's input/output tensors (`docs/qbin-format.md`).
///
/// Tensors are referenced by index everywhere. `QModel.validate()` checks everything the format
/// requires; the writer calls it before writing and the reader after reading.
public struct QModel: Sendable, Equatable {
    /// Ordered key/value pairs (`producer`, `source.sha256`, `option.*`, `calibration.<tensor>`).
    public var metadata: [QMetadataEntry]
    public var tensors: [QTensor]
    public var ops: [QOp]
    public var inputs: [Int]
    public var outputs: [Int]

    public init(metadata: [QMetadataEntry] = [], tensors: [QTensor] = [], ops: [QOp] = [],
                inputs: [Int] = [], outputs: [Int] = []) {
        self.metadata = metadata; self.tensors = tensors; self.ops = ops
        self.inputs = inputs; self.outputs = outputs
    }

    /// The value of the first metadata entry with `key`.
    public func metadataValue(_ key: String) -> String? { metadata.first { $0.key == key }?.value }

    /// The calibration method recorded for activation tensor `tensorName` (`calibration.<name>`).
    public func calibrationMethod(forTensor tensorName: String) -> String? {
        metadataValue(QMetadataEntry.calibrationPrefix + tensorName)
    }

    /// Index of the tensor named `name`.
    public func tensorIndex(named name: String) -> Int? { tensors.firstIndex { $0.name == name } }

    /// Appends `tensor` and returns its index (a convenience for builders).
    @discardableResult
    public mutating func addTensor(_ tensor: QTensor) -> Int {
        tensors.append(tensor)
        return tensors.count - 1
    }
}

/// One metadata pair.
public struct QMetadataEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }

    public static let producer = "producer"
    public static let sourceSHA256 = "source.sha256"
    /// Parameters of the source float model (decimal), the base of every "float size" figure.
    public static let sourceParameters = "source.parameters"
    public static let optionPrefix = "option."
    public static let calibrationPrefix = "calibration."
}

/// A tensor: an activation (no data) or a constant (packed weights, int32 biases, tables).
///
/// Real value `r = scales[c] * (q - zeroPoints[c])`, `c` the index along `quantAxis` (per channel) or
/// 0 (per tensor, `quantAxis == nil`, one scale).
public struct QTensor: Sendable, Equatable {
    public var name: String
    /// Per sample (no batch axis) for activations; the full shape for constants (weights: axis 0 is
    /// the output channel, see the spec's weight layouts).
    public var shape: [Int]
    public var type: QType
    public var scales: [Float]
    public var zeroPoints: [Int32]
    /// The axis the per-channel parameters run along; nil for per-tensor parameters.
    public var quantAxis: Int?
    /// The packed bytes of a constant (`BitPacking.pack`), `type.packedSize(shape:)` long; nil for activations.
    public var data: [UInt8]?

    public init(name: String, shape: [Int], type: QType, scales: [Float], zeroPoints: [Int32],
                quantAxis: Int? = nil, data: [UInt8]? = nil) {
        self.name = name; self.shape = shape; self.type = type
        self.scales = scales; self.zeroPoints = zeroPoints; self.quantAxis = quantAxis; self.data = data
    }

    /// A per-tensor activation.
    public static func activation(_ name: String, shape: [Int], type: QType, scale: Float, zeroPoint: Int32) -> QTensor {
        QTensor(name: name, shape: shape, type: type, scales: [scale], zeroPoints: [zeroPoint])
    }

    /// A constant packed from `values` (row-major over `shape`, rows along axis 0).
    /// Parameters per channel along axis 0 when `scales.count > 1`.
    public static func constant(_ name: String, shape: [Int], type: QType, scales: [Float], zeroPoints: [Int32]? = nil,
                                values: [Int32]) -> QTensor {
        let rowLength = QType.rowsAndLength(of: shape).rowLength
        return QTensor(name: name, shape: shape, type: type, scales: scales,
                       zeroPoints: zeroPoints ?? [Int32](repeating: 0, count: scales.count),
                       quantAxis: scales.count > 1 ? 0 : nil,
                       data: BitPacking.pack(values, as: type, rowLength: rowLength))
    }

    public var isConstant: Bool { data != nil }
    public var elementCount: Int { shape.reduce(1, *) }

    /// The constant's values, unpacked; nil for activations.
    public func unpackedValues() throws(QBinError) -> [Int32]? {
        guard let data else { return nil }
        let (rows, rowLength) = QType.rowsAndLength(of: shape)
        return try BitPacking.unpack(data, as: type, rows: rows, rowLength: rowLength)
    }
}

/// One integer op. Kind-specific parameters are named integer attributes (`docs/qbin-format.md`,
/// section 5.1), so new kinds and attributes need no new encoding.
public struct QOp: Sendable, Equatable {
    public var kind: QOpKind
    /// The source layer name.
    public var name: String
    public var inputs: [Int]
    public var outputs: [Int]
    /// Ordered, keys unique.
    public var attributes: [QAttribute]

    public init(kind: QOpKind, name: String, inputs: [Int], outputs: [Int], attributes: [QAttribute] = []) {
        self.kind = kind; self.name = name; self.inputs = inputs; self.outputs = outputs; self.attributes = attributes
    }

    /// The values of attribute `key`.
    public func attribute(_ key: String) -> [Int32]? { attributes.first { $0.key == key }?.values }

    /// Sets (replacing or appending) attribute `key`.
    public mutating func setAttribute(_ key: String, _ values: [Int32]) {
        if let i = attributes.firstIndex(where: { $0.key == key }) { attributes[i].values = values }
        else { attributes.append(QAttribute(key, values)) }
    }
}

/// A named array of int32 values.
public struct QAttribute: Sendable, Equatable {
    public var key: String
    public var values: [Int32]
    public init(_ key: String, _ values: [Int32]) { self.key = key; self.values = values }
}
