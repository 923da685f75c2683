import Foundation
import XCTest
@testable import FixedPoint

/// Every row of fixtures/numerics/golden.json, which tools/make_numerics_golden.py computes in Python
/// integers without sharing code with this module. There is deliberately no record mode: vectors recorded
/// from the Swift code would only test it against itself. Regenerate with
/// `python3 tools/make_numerics_golden.py`.
final class GoldenVectorTests: XCTestCase {
    struct Golden: Decodable {
        struct MultiplierRow: Decodable { let real: String; let decimal: String; let gemmlowp: [Int32]; let single: [Int32] }
        struct SRDHMRow: Decodable { let a: Int32; let b: Int32; let out: Int32 }
        struct RDBPOTRow: Decodable { let x: Int32; let exponent: Int; let out: Int32 }
        struct MultiplyRow: Decodable {
            let x: Int32; let m: Int32; let shift: Int32; let gemmlowp: Int32; let single: Int32; let kind: String
            let wraps: Bool?
        }
        let format: Int
        let quantize_multiplier: [MultiplierRow]
        let srdhm: [SRDHMRow]
        let rdbpot: [RDBPOTRow]
        let multiply: [MultiplyRow]
    }

    static let golden: Golden = {
        // Tests/FixedPointTests/<file> -> repository root is three levels up.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("fixtures/numerics/golden.json")
        do {
            return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot load \(url.path): \(error); run python3 tools/make_numerics_golden.py")
        }
    }()

    func testFormatAndCoverage() {
        let g = Self.golden
        XCTAssertEqual(g.format, 1)
        XCTAssertGreaterThan(g.quantize_multiplier.count, 50)
        XCTAssertGreaterThan(g.multiply.count, 500)
        // The file must exercise what it claims to: ties, double-rounding disagreements, wrapping, both shift ends.
        XCTAssertTrue(g.multiply.contains { $0.kind == "tie" && $0.x < 0 && $0.gemmlowp != $0.single })
        XCTAssertTrue(g.multiply.contains { $0.kind == "double rounding" && $0.gemmlowp != $0.single })
        XCTAssertTrue(g.multiply.contains { $0.wraps == true })
        XCTAssertTrue(g.multiply.contains { $0.shift == -31 } && g.multiply.contains { $0.shift == 30 })
        XCTAssertTrue(g.multiply.contains { $0.x == .min } && g.multiply.contains { $0.x == .max })
    }

    func testQuantizeMultiplierRows() throws {
        for row in Self.golden.quantize_multiplier {
            let real = try XCTUnwrap(Double(row.real), "cannot parse \(row.real)")
            XCTAssertEqual(real.description, Double(row.decimal)?.description, "hex and decimal disagree for \(row.real)")
            let g = QuantizedMultiplier(real, for: .gemmlowp), s = QuantizedMultiplier(real, for: .single)
            XCTAssertEqual([g.multiplier, g.shift], row.gemmlowp, "gemmlowp QuantizeMultiplier(\(row.decimal))")
            XCTAssertEqual([s.multiplier, s.shift], row.single, "single QuantizeMultiplier(\(row.decimal))")
        }
    }

    func testSaturatingRoundingDoublingHighMulRows() {
        for row in Self.golden.srdhm {
            XCTAssertEqual(saturatingRoundingDoublingHighMul(row.a, row.b), row.out, "SRDHM(\(row.a), \(row.b))")
        }
    }

    func testRoundingDivideByPowerOfTwoRows() {
        for row in Self.golden.rdbpot {
            XCTAssertEqual(roundingDivideByPowerOfTwo(row.x, row.exponent), row.out, "RDBPOT(\(row.x), \(row.exponent))")
            XCTAssertEqual(roundingDivideByPowerOfTwo(Int64(row.x), row.exponent), Int64(row.out), "64-bit RDBPOT(\(row.x), \(row.exponent))")
        }
    }

    func testMultiplyRowsBothProfiles() {
        for row in Self.golden.multiply {
            let m = QuantizedMultiplier(multiplier: row.m, shift: row.shift)
            assertMultiply(.gemmlowp, row.x, m, equals: row.gemmlowp, "[\(row.kind)]")
            assertMultiply(.single, row.x, m, equals: row.single, "[\(row.kind)]")
        }
    }
}
