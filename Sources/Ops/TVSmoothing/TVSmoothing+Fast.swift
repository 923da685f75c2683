import Dispatch
import FixedPoint
import Foundation
import Simulator

/// The fast integer kernel of `tvSmoothing`: the reference's arithmetic (`ReferenceTVSmoothing`, every
/// value the same, bit for bit; `TVSmoothingFastKernelTests`), computed faster three ways:
///
/// - the first step's inverse square roots come from a table: on the input grid `dx = (q[x+1] - q[x]) 2^F`,
///   so `n = (a^2 + b^2) 4^F + E` depends only on `k = a^2 + b^2` of the integer differences `a`, `b`
///   (for inputs of at most 8 bits, `k <= 2 * 255^2`), and equal `n` give equal `(R, e)`;
/// - unsafe buffers, one workspace per thread, no per-call arrays;
/// - samples split over the threads.
final class FastTVSmoothing: IntegerLayer, @unchecked Sendable {
    let p: TVSmoothingParams
    let requant: ChannelRequantizer
    /// `(R, e)` of `n = (k << 2F) + E` by `k = a^2 + b^2`, filled on first use (nil above 8-bit inputs).
    private var firstStep: (significands: [Int64], exponents: [Int8])?
    private let tableLimit: Int?
    private let lock = NSLock()

    init(_ p: TVSmoothingParams, requant: ChannelRequantizer, inputBits: Int) {
        self.p = p; self.requant = requant
        let largest = (1 << inputBits) - 1
        tableLimit = inputBits <= 8 ? 2 * largest * largest : nil
    }

    /// The first-step table, built once under the lock: `k` runs over sums of two squares only.
    private func table() -> (significands: [Int64], exponents: [Int8])? {
        guard let limit = tableLimit else { return nil }
        lock.lock(); defer { lock.unlock() }
        if let firstStep { return firstStep }
        var significands = [Int64](repeating: 0, count: limit + 1), exponents = [Int8](repeating: 0, count: limit + 1)
        let largest = Int(Double(limit / 2).squareRoot().rounded())
        for a in 0...largest {
            for b in a...largest {
                let k = a * a + b * b
                let (r, e) = fixedPointInverseSquareRoot((Int64(k) << (2 * p.fractionBits)) + p.epsilon)
                significands[k] = r; exponents[k] = Int8(e)
            }
        }
        firstStep = (significands, exponents)
        return firstStep
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let count = p.height * p.width * p.channels
        let table = p.steps > 0 ? table() : nil
        let input = UncheckedPointer(inputs[0].baseAddress!), out = UncheckedPointer(output.baseAddress!)
        let workers = Swift.max(1, Swift.min(threads, batch))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let u = UnsafeMutablePointer<Int64>.allocate(capacity: 3 * count)
            defer { u.deallocate() }
            let px = u + count, py = u + 2 * count
            for n in stride(from: worker, to: batch, by: workers) {
                let x = input.pointer + n * count
                for i in 0..<count { u[i] = Int64(x[i] &- p.inputZero) << p.fractionBits }
                for step in 0..<p.steps {
                    if step == 0, let table {
                        gradientsFromTable(x, px, py, table.significands, table.exponents)
                    } else {
                        gradients(u, px, py)
                    }
                    update(u, px, py)
                }
                let o = out.pointer + n * count
                for i in 0..<count { o[i] = requant.apply(Int32(truncatingIfNeeded: u[i]), channel: 0) }
            }
        }
    }

    /// `px`, `py` of the first step from the input's integer differences.
    private func gradientsFromTable(_ q: UnsafePointer<Int32>, _ px: UnsafeMutablePointer<Int64>, _ py: UnsafeMutablePointer<Int64>,
                                    _ significands: [Int64], _ exponents: [Int8]) {
        let c = p.channels, row = p.width * p.channels, f = p.fractionBits
        significands.withUnsafeBufferPointer { rs in
            exponents.withUnsafeBufferPointer { es in
                for y in 0..<p.height {
                    for x in 0..<p.width {
                        for k in 0..<c {
                            let i = y * row + x * c + k
                            let a = x + 1 < p.width ? Int(q[i + c]) - Int(q[i]) : 0
                            let b = y + 1 < p.height ? Int(q[i + row]) - Int(q[i]) : 0
                            let key = a * a + b * b
                            let r = rs[key], e = Int(es[key])
                            px[i] = roundingDivideByPowerOfTwo((Int64(a) << f) * r, e)
                            py[i] = roundingDivideByPowerOfTwo((Int64(b) << f) * r, e)
                        }
                    }
                }
            }
        }
    }

    /// `px`, `py` of a later step, as the reference computes them.
    private func gradients(_ u: UnsafeMutablePointer<Int64>, _ px: UnsafeMutablePointer<Int64>, _ py: UnsafeMutablePointer<Int64>) {
        let c = p.channels, row = p.width * p.channels
        for y in 0..<p.height {
            for x in 0..<p.width {
                for k in 0..<c {
                    let i = y * row + x * c + k
                    let dx = x + 1 < p.width ? u[i + c] - u[i] : 0
                    let dy = y + 1 < p.height ? u[i + row] - u[i] : 0
                    let (r, e) = fixedPointInverseSquareRoot(dx * dx + dy * dy + p.epsilon)
                    px[i] = roundingDivideByPowerOfTwo(dx * r, e)
                    py[i] = roundingDivideByPowerOfTwo(dy * r, e)
                }
            }
        }
    }

    /// `u += rdbpot(G * div p, 30)`.
    private func update(_ u: UnsafeMutablePointer<Int64>, _ px: UnsafeMutablePointer<Int64>, _ py: UnsafeMutablePointer<Int64>) {
        let c = p.channels, row = p.width * p.channels
        for y in 0..<p.height {
            for x in 0..<p.width {
                for k in 0..<c {
                    let i = y * row + x * c + k
                    var div = px[i] + py[i]
                    if x > 0 { div -= px[i - c] }
                    if y > 0 { div -= py[i - row] }
                    u[i] += roundingDivideByPowerOfTwo(p.gamma * div, 30)
                }
            }
        }
    }
}

/// A pointer handed to worker threads that write disjoint samples.
private struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: T
    init(_ pointer: T) { self.pointer = pointer }
}
