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

    /// A wide int32 output at 140 dB does not set the SQNR axis (the low-bit layers' 15-45 dB would be
    /// squashed): the axis comes from the other layers and the wide bar is drawn clipped, with its value.
    func testSQNRAxisComesFromTheLayersThatMatter() {
        var report = SampleReport.resnet()
        let last = report.layers.count - 1
        report.layers[last].activationBits = 32
        report.layers[last].activationSQNR = 140.2
        let narrow = report.layers.filter { ($0.activationBits ?? 8) <= 16 }.flatMap { [$0.activationSQNR, $0.weightSQNR] }.compactMap { $0 }
        let axis = SVGCharts.sqnrAxisTop(report.layers)
        XCTAssertLessThan(axis.top, 100)
        XCTAssertGreaterThanOrEqual(axis.top, narrow.filter { $0 < ReportMetrics.sqnrCapDB }.max()!)
        let chart = SVGCharts.sqnr(report.layers)
        XCTAssertFalse(chart.contains(">140 dB<"), "no grid line up at the int32 output")
        XCTAssertTrue(chart.contains("<path class=\"clip\""), "the clipped bar has a break mark")
        XCTAssertTrue(chart.contains(">140</text>"), "and its value")
        XCTAssertTrue(chart.contains("(bar clipped at the axis top"), "and says so in its tooltip")
        XCTAssertTrue(chart.contains("clipped (value in dB)"), "legend entry")
        XCTAssertFalse(SVGCharts.sqnr(SampleReport.resnet().layers).contains("class=\"clip\""), "nothing clipped without a wide layer")
    }

    /// Long layer names keep what tells neighbours apart; the full name is the tooltip.
    func testLongLayerNamesStayDistinct() {
        let names = ["batch_normalization_12", "batch_normalization_13", "block_12_expand_conv_relu", "block_13_expand_conv_relu",
                     "block_13_expand_conv_relu", "conv2d", "expanded_conv_depthwise_BN"]
        let labels = HTMLFormat.distinctLabels(names, maxLength: 18)
        XCTAssertEqual(labels[5], "conv2d")
        XCTAssertEqual(labels[3], labels[4], "the same name, the same label")
        XCTAssertEqual(Set(labels).count, 6, "\(labels)")
        for (name, label) in zip(names, labels) {
            XCTAssertLessThanOrEqual(label.count, 18)
            if name.count > 18 { XCTAssertTrue(label.contains("…") && name.hasPrefix(String(label.prefix { $0 != "…" }))) }
        }
        XCTAssertTrue(labels[0].hasSuffix("_12") && labels[1].hasSuffix("_13"), "\(labels)")

        var report = SampleReport.resnet()
        report.layers[0].name = names[0]
        report.layers[1].name = names[1]
        let html = ReportWriter.html(report)
        XCTAssertTrue(html.contains("<title>batch_normalization_12</title>"), "full name as the axis label's tooltip")
        XCTAssertTrue(html.contains(labels[0]) && html.contains(labels[1]))
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
