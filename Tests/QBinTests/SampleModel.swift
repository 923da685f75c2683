@testable import QBin

/// A small but representative quantized model: 4-bit per-channel conv with bias and ReLU clamp,
/// an unfolded BatchNorm as channel affine, a residual add with rescaling, max pooling, global
/// average pooling and an 8-bit per-tensor dense layer. About 1.6 KB on disk.
enum SampleModel {
    static func make() -> QModel {
        var m = QModel()
        m.metadata = [
            QMetadataEntry(QMetadataEntry.producer, "qconvert test"),
            QMetadataEntry(QMetadataEntry.rounding, "gemmlowp"),
            QMetadataEntry(QMetadataEntry.sourceSHA256, String(repeating: "ab", count: 32)),
            QMetadataEntry("option.weight_bits", "4"),
            QMetadataEntry("calibration.conv1_out", "minmax"),
        ]
        let s4 = QType.signed(4)!, s8 = QType.signed(8)!, u8 = QType.unsigned(8)!
        let input = m.addTensor(.activation("input", shape: [8, 8, 3], type: u8, scale: 1.0 / 255, zeroPoint: 0))
        let convW = m.addTensor(.constant("conv1/kernel", shape: [8, 3, 3, 3], type: s4,
                                          scales: (0..<8).map { 0.01 + Float($0) * 0.001 },
                                          values: (0..<216).map { Int32($0 % 15) - 7 }))
        let convB = m.addTensor(.constant("conv1/bias", shape: [8], type: .int32, scales: [0.0001],
                                          values: (0..<8).map { Int32($0 * 1000 - 3000) }))
        let conv = m.addTensor(.activation("conv1_out", shape: [8, 8, 8], type: u8, scale: 0.05, zeroPoint: 0))
        let bnA = m.addTensor(.constant("bn/scale", shape: [8], type: s8, scales: (0..<8).map { 0.02 * Float($0 + 1) },
                                        values: (0..<8).map { Int32($0 * 15 - 60) }))
        let bnB = m.addTensor(.constant("bn/offset", shape: [8], type: .int32, scales: [0.001], values: [5, -5, 7, 0, 1, 2, 3, -9]))
        let bn = m.addTensor(.activation("bn_out", shape: [8, 8, 8], type: s8, scale: 0.04, zeroPoint: -3))
        let sum = m.addTensor(.activation("add_out", shape: [8, 8, 8], type: s8, scale: 0.07, zeroPoint: 2))
        let pool = m.addTensor(.activation("pool_out", shape: [4, 4, 8], type: s8, scale: 0.07, zeroPoint: 2))
        let gap = m.addTensor(.activation("gap_out", shape: [8], type: s8, scale: 0.07, zeroPoint: 2))
        let denseW = m.addTensor(.constant("dense/kernel", shape: [10, 8], type: s8, scales: [0.003],
                                           values: (0..<80).map { Int32(($0 * 37) % 255) - 127 }))
        let logits = m.addTensor(.activation("logits", shape: [10], type: s8, scale: 0.1, zeroPoint: 0))
        let mult = (0..<8).map { Int32(1 << 30) + Int32($0) * 12345 }, shift = (0..<8).map { Int32(-$0) }
        let window: [QAttribute] = [QAttribute("kernel", [3, 3]), QAttribute("stride", [1, 1]), QAttribute("dilation", [1, 1]),
                                    QAttribute("padding", [1, 1, 1, 1])]
        m.ops = [
            QOp(kind: .conv2D, name: "conv1", inputs: [input, convW, convB], outputs: [conv],
                attributes: window + [QAttribute("groups", [1]), QAttribute("multiplier", mult), QAttribute("shift", shift),
                                      QAttribute("clamp", [0, 255])]),
            QOp(kind: .channelAffine, name: "bn", inputs: [conv, bnA, bnB], outputs: [bn],
                attributes: [QAttribute("multiplier", mult), QAttribute("shift", shift), QAttribute("clamp", [-128, 127])]),
            QOp(kind: .add, name: "add", inputs: [conv, bn], outputs: [sum],
                attributes: [QAttribute("left_shift", [20]), QAttribute("input_multiplier", [1_500_000_000, 1_200_000_000]),
                             QAttribute("input_shift", [-1, -2]), QAttribute("output_multiplier", [1_100_000_000]),
                             QAttribute("output_shift", [-19]), QAttribute("clamp", [-128, 127])]),
            QOp(kind: .maxPool2D, name: "pool", inputs: [sum], outputs: [pool],
                attributes: [QAttribute("kernel", [2, 2]), QAttribute("stride", [2, 2]), QAttribute("padding", [0, 0, 0, 0])]),
            QOp(kind: .globalAveragePool2D, name: "gap", inputs: [pool], outputs: [gap], attributes: [QAttribute("clamp", [-128, 127])]),
            QOp(kind: .dense, name: "dense", inputs: [gap, denseW], outputs: [logits],
                attributes: [QAttribute("multiplier", [1_300_000_000]), QAttribute("shift", [-3]), QAttribute("clamp", [-128, 127])]),
        ]
        m.inputs = [input]
        m.outputs = [logits]
        return m
    }

    /// Recomputes every section CRC and the header CRC of `bytes` (for tests that patch a valid file).
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        func put(_ v: UInt32, _ at: Int) { for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
        let count = min(u32(12), 64)
        guard 32 + 24 * count <= b.count else { return b }
        for i in 0..<count {
            let entry = 32 + 24 * i
            let offset = u64(entry + 8), length = u64(entry + 16)
            guard offset >= 0, length >= 0, offset <= b.count, length <= b.count - offset else { continue }
            put(qbinCRC32(b, offset..<offset + length), entry + 4)
        }
        let crc = qbinCRC32(b, 0..<24)
        put(qbinCRC32(b, 32..<32 + 24 * count, initial: crc), 24)
        return b
    }

    /// Byte range of section `type` in a valid file.
    static func sectionRange(_ b: [UInt8], _ type: QBinFormat.Section) -> Range<Int> {
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        let count = Int(b[12])
        for i in 0..<count where Int(b[32 + 24 * i]) == Int(type.rawValue) {
            let offset = u64(32 + 24 * i + 8)
            return offset..<offset + u64(32 + 24 * i + 16)
        }
        return 0..<0
    }
}
