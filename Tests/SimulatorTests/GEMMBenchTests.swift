import Foundation
import XCTest
import Simulator

/// Prints int8 GEMM throughput when `QCONVERT_SIM_BENCH=1` (run in release:
/// `swift test -c release -Xswiftc -enable-testing --filter GEMMBenchTests`); skipped otherwise.
final class GEMMBenchTests: XCTestCase {
    func testPrintGEMMThroughput() throws {
        guard ProcessInfo.processInfo.environment["QCONVERT_SIM_BENCH"] == "1" else { throw XCTSkip("set QCONVERT_SIM_BENCH=1") }
        for (m, n, k) in [(784, 64, 576), (1024, 256, 1024), (196, 128, 1152)] {
            for bits in [8, 4] {
                for threads in [1, 2] {
                    print(IntegerGEMMBench(m: m, n: n, k: k, weightBits: bits, threads: threads, repetitions: 15))
                }
            }
        }
    }
}
