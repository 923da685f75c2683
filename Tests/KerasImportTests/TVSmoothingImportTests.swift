import Foundation
@testable import Ops
import QCore
@testable import KerasImport
import XCTest

/// The custom `TVSmoothing` layer of tools/qconvert_layers.py: config keys gamma, steps, eps.
final class TVSmoothingImportTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    func op(_ config: [String: Any], shape: [Int] = [6, 5, 2]) throws -> Op {
        let json = Config.functional([Config.input("x", shape), Config.k3("TVSmoothing", "tv", config, inputs: [["x"]])],
                                     inputs: ["x"], outputs: ["tv"])
        return try TestWeights().load(json).graph.nodes[1].op
    }

    func testConfigForms() throws {
        XCTAssertEqual(try op(["gamma": 0.05, "steps": 2, "eps": NSNull()]), .registered(TVSmoothing(gamma: 0.05, steps: 2)))
        XCTAssertEqual(try op(["gamma": 0.05, "steps": 3, "eps": 0.001]), .registered(TVSmoothing(gamma: 0.05, steps: 3, epsilon: 0.001)))
        XCTAssertEqual(try op(["gamma": 0.1]), .registered(TVSmoothing(gamma: 0.1, steps: 1)), "steps default to 1, eps to 16 gamma^2")
    }

    func testBadConfigsAreTypedErrors() {
        for (config, fragment) in [(["gamma": -1.0, "steps": 1] as [String: Any], "gamma"), (["gamma": 0.1, "steps": 100], "steps"),
                                   (["gamma": 0.1, "steps": 1, "eps": 0.0], "eps"), (["steps": 1], "gamma")] {
            XCTAssertThrowsError(try op(config)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(config): \(error)")
            }
        }
        XCTAssertThrowsError(try op(["gamma": 0.1], shape: [12])) { error in
            XCTAssertTrue("\(error)".contains("H x W x C"), "\(error)")
        }
    }
}
