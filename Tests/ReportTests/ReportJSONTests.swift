import Foundation
import XCTest
@testable import Report

final class ReportJSONTests: XCTestCase {
    func testRoundTripOfExactlyRepresentableReport() throws {
        let report = SampleReport.dataFree()
        XCTAssertEqual(try ReportReader.read(ReportWriter.json(report)), report)
    }

    func testRealisticReportIsStableThroughAReadWriteCycle() throws {
        let report = SampleReport.resnet()
        let first = try ReportWriter.json(report)
        let reread = try ReportReader.read(first)
        XCTAssertEqual(reread.layers.map(\.name), report.layers.map(\.name))
        XCTAssertEqual(reread.evaluation?.outputSQNR ?? 0, 24.87654321, accuracy: 1e-7)
        XCTAssertEqual(reread.verdict, .failed)
        XCTAssertEqual(try ReportWriter.json(reread), first, "canonical numbers must be a fixed point")
    }

    func testTwoRunsAreByteIdentical() throws {
        let a = try ReportWriter.json(SampleReport.resnet())
        let b = try ReportWriter.json(SampleReport.resnet())
        XCTAssertEqual(a, b)
        XCTAssertEqual(ReportWriter.html(SampleReport.resnet()), ReportWriter.html(SampleReport.resnet()))
    }

    func testLayoutSortedKeysAndVersion() throws {
        let text = String(decoding: try ReportWriter.json(SampleReport.resnet()), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("}\n"))
        XCTAssertTrue(text.contains("\"schemaVersion\" : \"1.4\""), text.prefix(400).description)
        let keys = ["\"evaluation\"", "\"gates\"", "\"kind\"", "\"layers\"", "\"model\"", "\"recipe\"", "\"schemaVersion\"", "\"size\"", "\"warnings\""]
        let positions = keys.compactMap { text.range(of: "\n  \($0)")?.lowerBound }
        XCTAssertEqual(positions.count, keys.count)
        XCTAssertEqual(positions, positions.sorted(), "top-level keys must be sorted")
        XCTAssertTrue(text.contains("fixtures/resnet_bn/model.h5"), "slashes are not escaped")
        // Nine significant digits, not Double's seventeen.
        XCTAssertTrue(text.contains("0.913333333"), "\(text)")
        XCTAssertFalse(text.contains("0.91333333333"))
    }

    func testNonFiniteValuesBecomeNull() throws {
        var report = SampleReport.dataFree()
        report.layers[0].outputRelativeError = .infinity
        report.layers[0].activationSQNR = .nan
        report.layers[0].weightSQNR = -.infinity
        let data = try ReportWriter.json(report)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertFalse(text.lowercased().contains("nan"))
        XCTAssertFalse(text.lowercased().contains("inf"), text)
        XCTAssertFalse(text.contains("non-finite"))
        XCTAssertTrue(text.contains("\"outputRelativeError\" : null"), text)
        let reread = try ReportReader.read(data)
        XCTAssertNil(reread.layers[0].outputRelativeError)
        XCTAssertNil(reread.layers[0].activationSQNR)
        XCTAssertNil(reread.layers[0].weightSQNR)
    }

    func testStringsThatLookLikeNumbersOrMarkersSurvive() throws {
        var report = SampleReport.dataFree()
        report.warnings = ["1.23456789012345 stays text", "escaped \"quote\" and \\ backslash", "-0.5e-3"]
        report.layers[0].name = "1e5"
        XCTAssertEqual(try ReportReader.read(ReportWriter.json(report)), report)
    }

    func testReaderRejectsUnknownMajorVersionAndAcceptsNewerMinor() throws {
        var report = SampleReport.dataFree()
        report.schemaVersion = "2.0"
        XCTAssertThrowsError(try ReportReader.read(ReportWriter.json(report))) {
            XCTAssertEqual($0 as? ReportError, .unsupportedSchemaVersion(found: "2.0", supported: "1"))
        }
        report.schemaVersion = "1.7"
        XCTAssertEqual(try ReportReader.read(ReportWriter.json(report)).schemaVersion, "1.7")
        XCTAssertThrowsError(try ReportReader.read(Data("{}".utf8)))
    }

    func testDerivedValues() {
        XCTAssertEqual(SampleReport.dataFree().size.compressionRatio, nil)
        XCTAssertEqual(SampleReport.resnet().size.compressionRatio ?? 0, 398_760.0 / 61_472.0, accuracy: 1e-12)
        XCTAssertEqual(SampleReport.resnet().evaluation?.accuracyDrop ?? 0, 0.01, accuracy: 1e-12)
        XCTAssertEqual(SampleReport.dataFree().verdict, .noGates)
        XCTAssertEqual(AccumulatorCheck(boundAbs: 1 << 29, status: .ok).headroomBits ?? 0, log2(Double(Int32.max) / Double(1 << 29)), accuracy: 1e-12)
        XCTAssertFalse(Gate.evaluated(name: "x", comparison: .atLeast, threshold: 1, measured: nil).passed)
        XCTAssertTrue(Gate.evaluated(name: "x", comparison: .atMost, threshold: 1, measured: 1).passed)
    }
}
