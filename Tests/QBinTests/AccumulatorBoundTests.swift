import XCTest
@testable import QBin

/// The int32 accumulator bound (`docs/qbin-format.md`, section 5.3): computed by hand on the sample
/// model, and a crafted file whose bound exceeds int32 is refused.
final class AccumulatorBoundTests: XCTestCase {
    func testBoundsOfTheSampleModelByHand() throws {
        let bounds = try SampleModel.make().accumulatorBounds()
        XCTAssertEqual(bounds.map(\.opIndex), [0, 1, 5])
        // conv1: K = 3 * 3 * 3, u8 input with zero point 0 (255), every row holds 7 = max|q_w|, the
        // largest |bias| is channel 7's 7 * 1000 - 3000.
        XCTAssertEqual(bounds[0], QAccumulatorBound(opIndex: 0, products: 27, bound: 4000 + 27 * 255 * 7, channel: 7))
        XCTAssertEqual(bounds[0].headroomBits, 15)  // 52,195 < 2^16
        // bn: channelAffine, K = 1, its u8 input has zero point 0 (255), a = c * 15 - 60 (largest |a|:
        // channel 0's -60), b = [5, -5, 7, 0, 1, 2, 3, -9].
        XCTAssertEqual(bounds[1], QAccumulatorBound(opIndex: 1, products: 1, bound: 5 + 255 * 60, channel: 0))
        // dense: K = 8, s8 input with zero point 2 (max(2 + 128, 127 - 2) = 130), no bias.
        let denseMax = (0..<80).map { abs(($0 * 37) % 255 - 127) }
        let rowMax = (0..<10).map { r in denseMax[(r * 8)..<(r * 8 + 8)].max()! }
        XCTAssertEqual(bounds[2].bound, Int64(8 * 130 * rowMax.max()!))
        XCTAssertEqual(bounds[2].channel, rowMax.firstIndex(of: rowMax.max()!))
    }

    func testHeadroomBits() {
        func headroom(_ b: Int64) -> Int { QAccumulatorBound(opIndex: 0, products: 1, bound: b, channel: 0).headroomBits }
        XCTAssertEqual(headroom(0), 31)
        XCTAssertEqual(headroom(1), 30)
        XCTAssertEqual(headroom(Int64(Int32.max)), 0)
        XCTAssertEqual(headroom(Int64(Int32.max) + 1), -1)
        XCTAssertEqual(headroom(1 << 30), 0)
        XCTAssertEqual(headroom((1 << 30) - 1), 1)
    }

    /// The sample model's conv bias with channel 3 at `bias` (everything else valid), encoded without
    /// the writer's check, as a file would arrive from another producer.
    static func fileWithConvBias(_ bias: Int32) -> [UInt8] {
        var model = SampleModel.make()
        let index = model.tensorIndex(named: "conv1/bias")!
        var values = (0..<8).map { Int32($0 * 1000 - 3000) }
        values[3] = bias
        model.tensors[index] = .constant("conv1/bias", shape: [8], type: .int32, scales: [0.0001], values: values)
        let (data, offsets) = QBinWriter.encodeData(model)
        return QBinWriter.assemble([(1, QBinWriter.encodeMetadata(model)), (2, QBinWriter.encodeTensors(model, blobOffsets: offsets)),
                                    (3, QBinWriter.encodeOps(model)), (4, data)])
    }

    func testReaderRefusesABoundPastInt32() throws {
        // 27 * 255 * 7 = 48,195 products' worth: a bias of 2^31 - 1 - 48,195 is the largest that fits.
        let largest = Int32.max - 48_195
        let model = try QBinReader.decode(Self.fileWithConvBias(largest))
        XCTAssertEqual(try model.accumulatorBound(ofOp: 0)?.bound, Int64(Int32.max))
        XCTAssertEqual(try model.accumulatorBound(ofOp: 0)?.headroomBits, 0)
        for bias in [largest + 1, -largest - 1, Int32.min] {
            XCTAssertThrowsError(try QBinReader.decode(Self.fileWithConvBias(bias))) { error in
                guard case QBinError.invalidModel(let reason) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("op 0 'conv1'"), reason)
                XCTAssertTrue(reason.contains("accumulator bound"), reason)
                XCTAssertTrue(reason.contains("output channel 3, K = 27"), reason)
            }
        }
    }

    func testConstantsOfAccumulatingOpsHaveZeroPointZero() {
        var model = SampleModel.make()
        let index = model.tensorIndex(named: "bn/scale")!
        model.tensors[index].zeroPoints = [Int32](repeating: 0, count: 7) + [1]
        XCTAssertThrowsError(try QBinWriter.encode(model)) { error in
            guard case QBinError.invalidModel(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("'bn/scale' has a non-zero zero point"), reason)
        }
    }

    func testActivationsArePerTensor() {
        var model = SampleModel.make()
        let index = model.tensorIndex(named: "conv1_out")!
        model.tensors[index].scales = [Float](repeating: 0.05, count: 8)
        model.tensors[index].zeroPoints = [Int32](repeating: 0, count: 8)
        model.tensors[index].quantAxis = 2
        XCTAssertThrowsError(try QBinWriter.encode(model)) { error in
            guard case QBinError.invalidModel(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("activations are quantized per tensor"), reason)
        }
    }
}
