import Foundation
import XCTest
@testable import Report

final class ReportHTMLTests: XCTestCase {
    func testNamesAreEscaped() {
        let hostile = "<script>alert('x')</script>&"
        let html = ReportWriter.html(SampleReport.resnet(hostileName: hostile))
        XCTAssertFalse(html.contains(hostile))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertEqual(HTMLFormat.escape("a<b>\"c\"&'d'"), "a&lt;b&gt;&quot;c&quot;&amp;&#39;d&#39;")
    }

    func testSelfContained() {
        for report in [SampleReport.resnet(), SampleReport.dataFree()] {
            let html = ReportWriter.html(report).lowercased()
            XCTAssertTrue(html.hasPrefix("<!doctype html>"))
            XCTAssertTrue(html.contains("<svg"))
            XCTAssertFalse(html.contains("http"), "no network references")
            XCTAssertFalse(html.contains("<script"))
            XCTAssertFalse(html.contains("<link"))
            XCTAssertFalse(html.contains("url(http"))
            XCTAssertTrue(html.hasSuffix("</html>\n"))
        }
    }

    func testVerdictAndSections() {
        let html = ReportWriter.html(SampleReport.resnet())
        XCTAssertTrue(html.contains("FAILED"), "one gate fails")
        XCTAssertTrue(html.contains("1 of 3 gates failed"))
        XCTAssertTrue(html.contains("thresholds checked by qconvert validate"), "the sample is a validate report")
        XCTAssertTrue(html.contains("Warnings (2)"))
        XCTAssertTrue(html.contains("98.00%"), "top-1 agreement card")
        XCTAssertTrue(html.contains("noise floor 99.25%"), "the noise floor beside the agreement")
        XCTAssertTrue(html.contains("6.49×"), "compression card")
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2, "two charts")
        XCTAssertTrue(html.contains("reference file fixtures/resnet_bn/data.h5"))

        let dataFree = ReportWriter.html(SampleReport.dataFree())
        XCTAssertTrue(dataFree.contains("NO GATES"))
        XCTAssertTrue(dataFree.contains("not evaluated"))
        XCTAssertTrue(dataFree.contains("fallback"))
        XCTAssertFalse(dataFree.contains("noise floor"))
        XCTAssertFalse(dataFree.contains("Warnings ("))
    }

    func testLogTicks() {
        XCTAssertEqual(SVGCharts.logTicks(0.01, 0.12).map { ($0 * 1e6).rounded() }, [10_000, 20_000, 50_000, 100_000, 200_000])
        XCTAssertEqual(SVGCharts.logTicks(0.03, 0.03).map { ($0 * 1e6).rounded() }, [20_000, 50_000])
        XCTAssertEqual(SVGCharts.logTicks(0.01, 0.01).map { ($0 * 1e6).rounded() }, [10_000, 20_000])
        XCTAssertEqual(SVGCharts.logTicks(1e-6, 0.5).map { ($0 * 1e6).rounded() }, [1, 10, 100, 1000, 10_000, 100_000, 1_000_000])
    }

    func testExactValuesAreDrawnDistinctly() {
        var report = SampleReport.resnet()
        report.layers[4].outputRelativeError = 0
        report.layers[4].activationSQNR = ReportMetrics.sqnrCapDB
        let html = ReportWriter.html(report)
        XCTAssertTrue(html.contains("<circle class=\"hollow\""))
        XCTAssertTrue(html.contains("<rect fill=\"url(#exact)\""))
        XCTAssertTrue(html.contains("max_pooling2d (maxPool2D): exact"))
    }

    /// Writes the sample page and JSON to the temporary directory (or `QCONVERT_REPORT_SAMPLE_DIR`)
    /// for tools/screenshot-report.sh and docs/report-example.png.
    func testWritesSamplePage() throws {
        let directory = ProcessInfo.processInfo.environment["QCONVERT_REPORT_SAMPLE_DIR"] ?? NSTemporaryDirectory()
        let base = URL(fileURLWithPath: directory).appendingPathComponent("qconvert-sample-report")
        let report = SampleReport.resnet(hostileName: "conv2d_4")
        try ReportWriter.html(report).write(to: base.appendingPathExtension("html"), atomically: true, encoding: .utf8)
        try ReportWriter.json(report).write(to: base.appendingPathExtension("json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: base.appendingPathExtension("html").path))
    }
}
