import Foundation
import Ops
import QBin

/// The `inspect` view of a `.qbin` model: one row per op and totals (JSON schema:
/// docs/inspect-qbin-json.md). Sizes come from `QModel.weightSummary()`, the file's own size and
/// the constant tensors; nothing is recomputed from the source model.
public struct QBinSummary: Codable, Sendable {
    /// The packed weights (constant input 1) of a weighted op.
    public struct Weights: Codable, Sendable {
        /// `s4`, `s8`, `u8`, ...
        public var type: String
        public var bits: Int
        public var signed: Bool
        /// `per-channel` (one scale per output channel) or `per-tensor`.
        public var granularity: String
        public var shape: [Int]
        public var params: Int
        /// Bytes in the file, rows padded to whole bytes.
        public var packedBytes: Int
        /// `params * bits / 8`.
        public var idealBytes: Double
        /// Scales, zero points, biases, multipliers and shifts of this op, in bytes.
        public var perChannelBytes: Int
    }

    /// The quantization of an op's output activation: `r = scale * (q - zeroPoint)`.
    public struct Activation: Codable, Sendable {
        public var tensor: String
        public var type: String
        public var bits: Int
        public var signed: Bool
        public var scale: Float
        public var zeroPoint: Int32
        /// The calibration method that set this tensor's clipping range (`calibration.<tensor>`), if recorded.
        public var clipping: String?
    }

    /// The static int32 accumulator bound of an op that accumulates products (`docs/qbin-format.md`,
    /// section 5.3): `|bias[c]| + K * max|q_x - z_x| * max|q_w[c]|`, largest over the output channels.
    public struct Accumulator: Codable, Sendable {
        /// `K`, products per output value.
        public var products: Int
        public var bound: Int64
        /// The output channel with the largest bound.
        public var channel: Int
        /// `31 - bitLength(bound)`: bits to spare before the accumulator needs more than int32.
        public var headroomBits: Int
    }

    public struct Op: Codable, Sendable {
        public var index: Int
        public var name: String
        public var kind: String
        /// Shapes of the activation inputs (constants excluded), per sample.
        public var inputShapes: [[Int]]
        public var outputShape: [Int]
        public var weights: Weights?
        /// Present for ops that accumulate products (convs, dense, channelAffine).
        public var accumulator: Accumulator?
        public var output: Activation
    }

    public struct Totals: Codable, Sendable {
        /// Bytes of the `.qbin` file.
        public var fileBytes: Int
        /// Elements of every constant tensor (weights, biases, affine scales, tables).
        public var params: Int
        /// Float32 bytes of the source model's parameters (`FloatModelSize`: `source.parameters` * 4).
        public var floatBytes: Int
        /// `floatBytes / fileBytes`.
        public var compressionRatio: Double
        /// Packed weight bytes (constant input 1 of the weighted ops), rows padded to whole bytes.
        public var packedWeightBytes: Int
        /// `sum(weight params * bits / 8)`.
        public var idealWeightBytes: Double
        /// Scales, zero points, biases, multipliers and shifts of the weighted ops.
        public var perChannelBytes: Int
        /// `(packedWeightBytes + perChannelBytes) / (idealWeightBytes + perChannelBytes) - 1`.
        public var overheadVersusIdeal: Double
    }

    public struct MetadataEntry: Codable, Sendable {
        public var key: String
        public var value: String
    }

    /// Version of this JSON document's layout (docs/inspect-qbin-json.md).
    public var schemaVersion = 1
    /// Always `qbin`, so a reader can tell this document from the `.h5` one (docs/inspect-json.md).
    public var format = "qbin"
    public var model: String
    public var producer: String?
    public var sourceSHA256: String?
    /// `option.<name>` entries, without the prefix.
    public var options: [String: String]
    /// The float activation applied after dequantizing the output (`output.activation`), if any.
    public var outputActivation: String?
    public var inputShape: [Int]
    public var input: Activation
    public var outputShapes: [[Int]]
    public var ops: [Op]
    public var totals: Totals
    /// Every metadata entry, in file order.
    public var metadata: [MetadataEntry]

    /// Summarizes `model`, read from `path` whose size is `fileBytes`.
    public init(_ model: QModel, path: String, fileBytes: Int) {
        func activation(_ index: Int) -> Activation {
            let t = model.tensors[index]
            return Activation(tensor: t.name, type: t.type.description, bits: t.type.bits, signed: t.type.isSigned,
                              scale: t.scales.first ?? 0, zeroPoint: t.zeroPoints.first ?? 0,
                              clipping: model.calibrationMethod(forTensor: t.name))
        }
        let weightRows = Dictionary(model.weightSummary().map { ($0.opIndex, $0) }, uniquingKeysWith: { a, _ in a })
        ops = model.ops.enumerated().map { index, op in
            var weights: Weights?
            if let row = weightRows[index] {
                let w = model.tensors[op.inputs[1]]
                weights = Weights(type: row.type.description, bits: row.type.bits, signed: row.type.isSigned,
                                  granularity: w.scales.count > 1 ? "per-channel" : "per-tensor", shape: w.shape,
                                  params: row.params, packedBytes: row.packedBytes, idealBytes: row.idealBytes,
                                  perChannelBytes: row.perChannelBytes)
            }
            let activationInputs = op.kind.hasConstantInputs ? Array(op.inputs.prefix(1)) : op.inputs
            // The reader has checked the file, so the weights unpack.
            let accumulator = (try? model.accumulatorBound(ofOp: index)).flatMap { $0 }.map {
                Accumulator(products: $0.products, bound: $0.bound, channel: $0.channel, headroomBits: $0.headroomBits)
            }
            return Op(index: index, name: op.name, kind: op.kind.description,
                      inputShapes: activationInputs.map { model.tensors[$0].shape },
                      outputShape: model.tensors[op.outputs[0]].shape, weights: weights, accumulator: accumulator,
                      output: activation(op.outputs[0]))
        }
        let weightTotals = model.weightTotals()
        let params = model.tensors.filter(\.isConstant).reduce(0) { $0 + $1.elementCount }
        let floatBytes = FloatModelSize.bytes(parameters: FloatModelSize.parameters(model))
        totals = Totals(fileBytes: fileBytes, params: params, floatBytes: floatBytes,
                        compressionRatio: fileBytes > 0 ? Double(floatBytes) / Double(fileBytes) : 0,
                        packedWeightBytes: weightTotals.packedBytes, idealWeightBytes: weightTotals.idealBytes,
                        perChannelBytes: weightTotals.perChannelBytes, overheadVersusIdeal: weightTotals.overheadVersusIdeal)
        self.model = path
        producer = model.metadataValue(QMetadataEntry.producer)
        sourceSHA256 = model.metadataValue(QMetadataEntry.sourceSHA256)
        var options: [String: String] = [:]
        for entry in model.metadata where entry.key.hasPrefix(QMetadataEntry.optionPrefix) {
            options[String(entry.key.dropFirst(QMetadataEntry.optionPrefix.count))] = entry.value
        }
        self.options = options
        outputActivation = model.metadataValue(OutputActivation.metadataKey)
        inputShape = model.tensors[model.inputs[0]].shape
        input = activation(model.inputs[0])
        outputShapes = model.outputs.map { model.tensors[$0].shape }
        metadata = model.metadata.map { MetadataEntry(key: $0.key, value: $0.value) }
    }

    /// Reads the `.qbin` at `path` (checked by `QBinReader`) and summarizes it.
    public static func load(path: String) throws(QConvertError) -> QBinSummary {
        let model: QModel
        OpRegistry.install()
        do { model = try QBinReader.read(path: path, maxBytes: MemoryBudget.bytes) } catch { throw .qbin(path: path, error) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return QBinSummary(model, path: path, fileBytes: size)
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
