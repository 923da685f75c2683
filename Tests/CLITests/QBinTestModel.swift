import Foundation
import HDF5
import QBin

/// A small valid `.qbin` for the CLI tests: conv2D (4-bit weights per channel, int32 bias, ReLU
/// clamp) -> globalAveragePool2D -> dense (4-bit weights per tensor), input 8 x 8 x 2 u8.
enum QBinTestModel {
    static let inputShape = [8, 8, 2]
    static let outputWidth = 5
    /// Packed weight bytes: conv 4 rows of 3*3*2 = 18 values at 4 bits = 9 bytes each; dense 5 rows
    /// of 4 values at 4 bits = 2 bytes each.
    static let convPackedBytes = 4 * 9, densePackedBytes = 5 * 2

    static func make(outputActivation: String? = nil) -> QModel {
        var m = QModel()
        m.metadata = [
            QMetadataEntry(QMetadataEntry.producer, "qconvert cli test"),
            QMetadataEntry(QMetadataEntry.rounding, "gemmlowp"),
            QMetadataEntry(QMetadataEntry.sourceSHA256, String(repeating: "cd", count: 32)),
            QMetadataEntry("option.weight_bits", "4"),
            QMetadataEntry("calibration.conv_out", "minmax"),
            QMetadataEntry("calibration.logits", "kl"),
        ]
        if let outputActivation { m.metadata.append(QMetadataEntry("output.activation", outputActivation)) }
        let s4 = QType.signed(4)!, u8 = QType.unsigned(8)!, s8 = QType.signed(8)!
        let input = m.addTensor(.activation("input", shape: inputShape, type: u8, scale: 1.0 / 255, zeroPoint: 0))
        let convW = m.addTensor(.constant("conv/kernel", shape: [4, 3, 3, 2], type: s4,
                                          scales: (0..<4).map { 0.02 + Float($0) * 0.005 },
                                          values: (0..<72).map { Int32(($0 * 5) % 15) - 7 }))
        let convB = m.addTensor(.constant("conv/bias", shape: [4], type: .int32, scales: [0.0001],
                                          values: [120, -340, 55, 900]))
        let conv = m.addTensor(.activation("conv_out", shape: [8, 8, 4], type: u8, scale: 0.03, zeroPoint: 0))
        let gap = m.addTensor(.activation("gap_out", shape: [4], type: u8, scale: 0.03, zeroPoint: 0))
        let denseW = m.addTensor(.constant("dense/kernel", shape: [outputWidth, 4], type: s4, scales: [0.05],
                                           values: (0..<20).map { Int32(($0 * 3) % 15) - 7 }))
        let logits = m.addTensor(.activation("logits", shape: [outputWidth], type: s8, scale: 0.02, zeroPoint: 3))
        m.ops = [
            QOp(kind: .conv2D, name: "conv", inputs: [input, convW, convB], outputs: [conv], attributes: [
                QAttribute("kernel", [3, 3]), QAttribute("stride", [1, 1]), QAttribute("dilation", [1, 1]),
                QAttribute("padding", [1, 1, 1, 1]), QAttribute("groups", [1]),
                QAttribute("multiplier", (0..<4).map { Int32(1_100_000_000) + Int32($0) * 98_765 }),
                QAttribute("shift", [-4, -5, -4, -3]), QAttribute("clamp", [0, 255])]),
            QOp(kind: .globalAveragePool2D, name: "gap", inputs: [conv], outputs: [gap],
                attributes: [QAttribute("clamp", [0, 255])]),
            QOp(kind: .dense, name: "dense", inputs: [gap, denseW], outputs: [logits], attributes: [
                QAttribute("multiplier", [1_300_000_000]), QAttribute("shift", [-1]), QAttribute("clamp", [-128, 127])]),
        ]
        m.inputs = [input]
        m.outputs = [logits]
        return m
    }

    /// `count` samples in [0, 1.1) (a little past the input range, to exercise the clamp), deterministic.
    static func inputs(count: Int) -> [Float] {
        let size = count * inputShape.reduce(1, *)
        return (0..<size).map { i in Float((i * 7919 + 13) % 1000) / 910 }
    }

    /// Writes `model` to `folder/name` and `inputs(count:)` as `/inputs` to `folder/data.h5`.
    static func write(_ model: QModel, named name: String = "model.qbin", samples: Int,
                      in folder: URL) throws -> (model: String, data: String, inputs: [Float]) {
        let modelPath = folder.appendingPathComponent(name).path
        try QBinWriter.write(model, to: modelPath)
        let dataPath = folder.appendingPathComponent("data.h5").path
        let values = inputs(count: samples)
        try HDF5File.create(dataPath).root.writeDataset("inputs", shape: [samples] + inputShape, floats: values)
        return (modelPath, dataPath, values)
    }
}
