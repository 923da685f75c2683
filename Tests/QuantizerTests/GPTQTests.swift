import QCTestSupport
import XCTest
@testable import Quantizer

/// GPTQ rounding: exact factorisations, nearest rounding when inputs are uncorrelated, and a smaller
/// output error `(w - ŵ)ᵀ H (w - ŵ)` than nearest rounding when they are correlated.
final class GPTQTests: XCTestCase {
    /// Second moments of `rows` random patches whose neighbouring entries are strongly correlated
    /// (a smoothed random walk, like neighbouring pixels).
    func correlatedHessian(size n: Int, rows: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var h = [Double](repeating: 0, count: n * n)
        for _ in 0..<rows {
            var x = [Double](repeating: 0, count: n)
            var level = rng.symmetric()
            for i in 0..<n { level = 0.9 * level + 0.3 * rng.symmetric(); x[i] = level }
            for i in 0..<n { for j in 0..<n { h[i * n + j] += x[i] * x[j] / Double(rows) } }
        }
        return h
    }

    func quadraticError(_ w: [Float], _ codes: [Int32], scale: Float, _ h: [Double]) -> Double {
        let n = w.count
        let d = (0..<n).map { Double(w[$0]) - Double(codes[$0]) * Double(scale) }
        var e = 0.0
        for i in 0..<n { for j in 0..<n { e += d[i] * h[i * n + j] * d[j] } }
        return e
    }

    func testFactorisationInvertsTheMatrix() throws {
        let n = 12
        let h = correlatedHessian(size: n, rows: 200, seed: 3)
        let l = try XCTUnwrap(GPTQ.cholesky(h, n))
        let inverse = try XCTUnwrap(GPTQ.inverse(lower: l, n))
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += h[i * n + k] * inverse[k * n + j] }
                XCTAssertEqual(s, i == j ? 1 : 0, accuracy: 1e-6, "(\(i), \(j))")
            }
        }
        XCTAssertNil(GPTQ.cholesky([1, 2, 2, 1], 2), "indefinite")
        XCTAssertNil(GPTQ(hessian: [Double](repeating: 0, count: 9), size: 3), "no input seen")
    }

    func testDiagonalHessianGivesNearestRounding() throws {
        var rng = SplitMix64(seed: 5)
        let n = 16
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n { h[i * n + i] = 0.5 + abs(rng.symmetric()) }
        let gptq = try XCTUnwrap(GPTQ(hessian: h, size: n))
        let w = (0..<n).map { _ in Float(rng.symmetric()) }
        let codes = w.withUnsafeBufferPointer { gptq.round($0, scale: 0.1, qmax: 7) }
        XCTAssertEqual(codes, w.map { Int32(min(max(($0 / 0.1).rounded(.toNearestOrAwayFromZero), -7), 7)) })
    }

    func testCorrelatedInputsLowerTheOutputError() throws {
        let n = 27
        let h = correlatedHessian(size: n, rows: 500, seed: 9)
        let gptq = try XCTUnwrap(GPTQ(hessian: h, size: n))
        var rng = SplitMix64(seed: 13)
        var nearestTotal = 0.0, gptqTotal = 0.0
        for _ in 0..<20 {
            let w = (0..<n).map { _ in Float(rng.symmetric()) }
            let scale: Float = 1.0 / 7 // 4-bit codes -7...7 over [-1, 1]
            let nearest = w.map { Int32(min(max(($0 / scale).rounded(.toNearestOrAwayFromZero), -7), 7)) }
            let codes = w.withUnsafeBufferPointer { gptq.round($0, scale: scale, qmax: 7) }
            XCTAssertTrue(codes.allSatisfy { abs($0) <= 7 })
            nearestTotal += quadraticError(w, nearest, scale: scale, h)
            gptqTotal += quadraticError(w, codes, scale: scale, h)
        }
        XCTAssertLessThan(gptqTotal, 0.5 * nearestTotal, "GPTQ \(gptqTotal) vs nearest \(nearestTotal)")
    }
}
