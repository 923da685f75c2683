import Foundation
import HDF5
import QCTestSupport
import XCTest

/// Declared sizes that would cost unbounded memory or time are refused at once, with the number
/// (issue 12): the budget is `--max-memory` (default half of physical memory).
final class MemoryBudgetTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Sets `key` of the config of the first layer of class `className`.
    private func setConfig(_ layers: inout [[String: Any]], _ className: String, _ key: String, _ value: Any) throws {
        let index = try XCTUnwrap(layers.firstIndex { $0["class_name"] as? String == className }, "no \(className)")
        var config = try XCTUnwrap(layers[index]["config"] as? [String: Any])
        config[key] = value
        layers[index]["config"] = config
    }

    /// ZeroPadding2D declared to 2^20 x 2^20 tried to allocate 17 TB. The padding is inserted after the
    /// input of resnet_bn, whose global pooling keeps the rest of the model valid at any size.
    func testHugeZeroPaddingIsRefusedWithTheNumber() throws {
        let model = path("pad.h5")
        let big = 1 << 20
        try HostileFiles.model("resnet_bn", to: model, config: { layers in
            var conv = layers[1]
            let inbound = try XCTUnwrap(conv["inbound_nodes"])
            let pad: [String: Any] = ["class_name": "ZeroPadding2D", "name": "huge_pad", "inbound_nodes": inbound,
                                      "config": ["name": "huge_pad", "padding": [[big, big], [big, big]], "data_format": "channels_last"]]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: inbound), as: UTF8.self)
            let rewired = text.replacingOccurrences(of: "\"image\"", with: "\"huge_pad\"")
            conv["inbound_nodes"] = try JSONSerialization.jsonObject(with: Data(rewired.utf8))
            layers[1] = conv
            layers.insert(pad, at: 1)
        })
        let start = Date()
        try assertExit(2, ["run", model, "--input", Fixtures.path("resnet_bn", "data.h5"), "--output", path("o.h5")],
                       mentions: [model, "needs", "more than the budget", "--max-memory", "--batch-size"])
        try assertExit(2, ["convert", model, path("o.qbin"), "--quiet"], mentions: [model, "needs", "--max-memory"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("o.h5")))
    }

    /// A 4096 x 4096 input: refused with the number under a 2 GB budget (it took 13.9 GB before).
    func testHugeInputModelIsRefusedWithTheNumber() throws {
        let model = path("big-input.h5")
        try HostileFiles.model("resnet_bn", to: model, config: { layers in
            try self.setConfig(&layers, "InputLayer", "batch_shape", [NSNull(), 4096, 4096, 1])
        })
        try assertExit(2, ["convert", model, path("o.qbin"), "--max-memory", "2G", "--quiet"],
                       mentions: [model, "GB", "more than the budget of 2.0 GB"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("o.qbin")))
    }

    /// A small file declaring 2^31 samples (chunks never written): `convert` and `run` never finished,
    /// and `run` left a growing temporary file.
    func testDeclaredTwoToThe31SamplesAreRefusedAtOnce() throws {
        let calib = path("sparse.h5")
        let file = try HDF5File.create(calib)
        _ = try file.root.createDataset("inputs", shape: [1 << 31, 28, 28, 1], type: .float32, chunkRows: 16)
        try file.flush()
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: calib)[.size] as? Int)
        XCTAssertLessThan(size, 64 << 10, "the file itself is small")
        let model = Fixtures.path("resnet_bn", "model.h5")
        let start = Date()
        try assertExit(2, ["convert", model, path("o.qbin"), "--calibration", calib, "--quiet"],
                       mentions: [calib, "declares 2147483648 samples", "sparse"])
        try assertExit(2, ["run", model, "--input", calib, "--output", path("o.h5")], mentions: [calib, "declares 2147483648 samples"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "refused at once")
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("o.h5")))
    }

    /// Whole-dataset reads (weights, labels, reference outputs) and `.qbin` files are checked against
    /// the budget from their declared size before anything is allocated.
    func testReadsLargerThanTheBudgetAreRefused() throws {
        try assertExit(2, ["inspect", Fixtures.path("resnet_bn", "model.h5"), "--max-memory", "2K"],
                       mentions: ["needs", "more than the memory budget of 2048 bytes"])
        let qbin = path("m.qbin")
        XCTAssertEqual(try CLIRunner.run(["convert", Fixtures.path("resnet_bn", "model.h5"), qbin, "--calibration-samples", "4",
                                          "--noise-floor-draws", "0", "--quiet"]).status, 0)
        try assertExit(2, ["inspect", qbin, "--max-memory", "1K"], mentions: [qbin, "more than the memory budget of 1024 bytes"])
        try assertExit(64, ["inspect", qbin, "--max-memory", "lots"], mentions: ["--max-memory"])
    }
}
