import XCTest
@testable import QBin

/// Every damaged variant of a small valid file must give a `QBinError`: never a crash, a hang or a model.
final class QBinRobustnessTests: XCTestCase {
    func testEveryByteFlippedAndEveryTruncation() throws {
        let valid = try QBinWriter.encode(SampleModel.make())
        XCTAssertLessThan(valid.count, 3000)
        let started = Date()
        var failures: [String] = []
        for offset in 0..<valid.count {
            for pattern: UInt8 in [0xFF, 0x01, 0x80] {
                var b = valid
                b[offset] ^= pattern
                if (try? QBinReader.decode(b)) != nil { failures.append("xor 0x\(String(pattern, radix: 16)) at \(offset)") }
            }
            if (try? QBinReader.decode(Array(valid.prefix(offset)))) != nil { failures.append("truncated to \(offset)") }
        }
        XCTAssertEqual(failures, [], "damaged files decoded without error")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    /// Damage that keeps the CRCs valid reaches the parsers: random bytes in a section, then resealed.
    func testResealedRandomDamageGivesTypedErrorsOrValidModels() throws {
        let valid = try QBinWriter.encode(SampleModel.make())
        var rng = SplitMix(seed: 7)
        for _ in 0..<3000 {
            var b = valid
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let offset = 32 + Int(rng.next() % UInt64(valid.count - 32))
                b[offset] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let model = try QBinReader.decode(SampleModel.resealed(b))
                XCTAssertNoThrow(try QBinWriter.encode(model), "a model the reader accepts can be written")
            } catch {
                XCTAssertFalse(error.description.isEmpty)
            }
        }
    }
}
