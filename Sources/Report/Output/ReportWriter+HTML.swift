import Foundation

extension ReportWriter {
    /// One self-contained HTML page: inline CSS and SVG, no JavaScript, no external resources.
    ///
    /// Sections: header with the gate verdict, summary cards (agreement, accuracy, size, output
    /// fidelity), gates, recipe and sizes, relative error through depth (log scale), SQNR per layer,
    /// the forward-stability blocks, the layer table, TV smoothing points and the warnings. Every report string is escaped; the same report gives the
    /// same bytes.
    public static func html(_ report: FidelityReport) -> String {
        let e = HTMLFormat.escape
        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Fidelity report: \(e(report.model.name))</title>
        <style>\(HTMLStyle.css)</style>
        </head>
        <body>
        <main>

        """
        page += HTMLSections.header(report)
        page += HTMLSections.cards(report)
        page += HTMLSections.warnings(report.warnings)
        page += HTMLSections.gates(report.gates, command: report.kind)
        page += HTMLSections.recipeAndSize(report)
        if !report.layers.isEmpty {
            page += HTMLSections.panel(title: "Relative error through depth",
                                       note: "‖q − f‖ / ‖f‖ of each layer's output vs the float model, log scale; markers coloured by weight bits",
                                       body: SVGCharts.relativeError(report.layers))
            page += HTMLSections.panel(title: "SQNR per layer",
                                       note: "bars: activation SQNR; diamonds: weight SQNR; higher is better",
                                       body: SVGCharts.sqnr(report.layers))
            if let stability = report.forwardStability, !stability.blocks.isEmpty {
                page += HTMLSections.forwardStability(stability)
            }
            page += HTMLSections.layerTable(report.layers)
        }
        if let tv = report.tvSmoothing, !tv.points.isEmpty {
            page += HTMLSections.tvSmoothing(tv)
        }
        page += """
        <footer>Fidelity report schema \(e(report.schemaVersion)) · written by \(e(report.model.generator))\(report.model.quantizedSHA256.map { " · .qbin sha256 " + e($0) } ?? "") · field reference: docs/report.md</footer>
        </main>
        </body>
        </html>

        """
        return page
    }
}

/// The page's stylesheet (inline, so the file stands alone).
enum HTMLStyle {
    static let css = """
    :root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#eef1f4;--bg:#f6f8fa;--card:#fff;\
    --pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--accent:#0969da;--b8:#0969da;--b6:#8250df;--b4:#e16f24;--b2:#cf222e;--bn:#8c959f}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
    main{max-width:1180px;margin:0 auto;padding:24px}
    .top{display:flex;justify-content:space-between;align-items:center;gap:16px;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 22px}
    h1{font-size:22px;margin:0;word-break:break-all}
    h1 small{font-weight:500;color:var(--muted);font-size:14px;margin-left:8px}
    .sub{color:var(--muted);margin:4px 0 0;font-size:13px;word-break:break-all}
    .verdict{font-weight:700;font-size:15px;padding:10px 18px;border-radius:8px;color:#fff;white-space:nowrap;text-align:center}
    .verdict span{display:block;font-weight:500;font-size:12px;opacity:.9}
    .v-passed{background:var(--pass)}.v-failed{background:var(--fail)}.v-noGates{background:#59636e}
    .cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin:16px 0}
    .card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px;border-top:4px solid var(--accent)}
    .card.good{border-top-color:var(--pass)}.card.poor{border-top-color:var(--fail)}.card.fair{border-top-color:#d4a72c}
    .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em;font-weight:600}
    .value{font-size:27px;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
    .detail{color:var(--muted);font-size:12.5px}
    .panel{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin:16px 0}
    .panel h2{font-size:16px;margin:0}
    .note{color:var(--muted);font-size:12.5px;margin:2px 0 10px}
    .split{display:grid;grid-template-columns:1fr 1fr;gap:16px}
    .split .panel{margin:0}
    dl{display:grid;grid-template-columns:max-content 1fr;gap:5px 16px;margin:8px 0 0;font-size:13px}
    dt{color:var(--muted)}dd{margin:0;word-break:break-all}
    .scroll{overflow-x:auto}
    table{border-collapse:collapse;width:100%;font-size:12px;line-height:1.3;font-variant-numeric:tabular-nums}
    th,td{padding:5px 6px;vertical-align:top;border-bottom:1px solid var(--soft);text-align:right;white-space:nowrap}
    th{color:var(--muted);font-weight:600;background:var(--bg);border-bottom:1px solid var(--line);white-space:normal;vertical-align:bottom}
    tr:nth-child(even) td{background:#fbfcfd}
    .l{text-align:left}.name{max-width:190px;overflow:hidden;text-overflow:ellipsis}
    .op{color:var(--muted);font-size:11px;font-weight:400}
    .bits{display:inline-block;min-width:24px;padding:0 6px;border-radius:9px;color:#fff;font-weight:650;text-align:center;font-size:11.5px}
    .b8{background:var(--b8);fill:var(--b8)}.b6{background:var(--b6);fill:var(--b6)}.b4{background:var(--b4);fill:var(--b4)}\
    .b2{background:var(--b2);fill:var(--b2)}.bn{background:var(--bn);fill:var(--bn)}
    .bad{color:var(--fail);font-weight:650}.warn{color:var(--warn);font-weight:650}.ok{color:var(--pass);font-weight:650}
    .meter{display:inline-block;width:46px;height:7px;background:var(--soft);border-radius:4px;vertical-align:middle;margin-right:6px;overflow:hidden}
    .meter i{display:block;height:100%;background:var(--pass)}.meter.m-warn i{background:#d4a72c}.meter.m-bad i{background:var(--fail)}
    .warnings{background:#fff8c5;border-color:#d4a72c}
    .warnings ul{margin:6px 0 0;padding-left:20px}.warnings li{margin:3px 0}
    .bar{height:10px;background:var(--soft);border-radius:5px;overflow:hidden;margin:3px 0 8px}
    .bar i{display:block;height:100%;background:var(--accent)}
    svg{width:100%;height:auto;display:block}
    svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;fill:var(--muted)}
    .grid{stroke:var(--soft);stroke-width:1}.axis{stroke:var(--line);stroke-width:1}
    .trace{fill:none;stroke:#8c959f;stroke-width:1.5}.hollow{fill:#fff;stroke:#59636e;stroke-width:1.5}
    .abar{fill:#54aeff}.wsq{fill:var(--b4);stroke:#fff;stroke-width:1}
    .clip{fill:none;stroke:#fff;stroke-width:2}svg text.cliptext{fill:#fff;font-size:10px;font-weight:600}
    footer{color:var(--muted);font-size:12px;text-align:center;margin:20px 0 8px}
    @media (max-width:800px){.cards{grid-template-columns:1fr 1fr}.split{grid-template-columns:1fr}}
    """
}
