import XCTest
@testable import TwoSpeedAssessment
@testable import TwoSpeedEngine
@testable import TwoSpeedReport
import TwoSpeedJSON

/// The HTML and Markdown reports: their structure on the three example portfolios, hostile names, the
/// previous run's overlay, the radar for any number of dimensions, and the helpers under them.
final class ReportTests: XCTestCase {
    static let examples = [("retailer", "retailer"), ("bank", "state-bank"), ("telco", "telco")]
    static let sections = ["summary", "recommendations", "pitfalls", "coverage", "speed", "experiments", "prioritization", "okrs",
                           "accountability", "criteria"]
    static let markdownSections = ["## Maturity by dimension", "## What to do next", "## Pitfalls", "## Coverage map", "## Speed tiers",
                                   "## Experiments", "## Prioritization", "## OKR alignment", "## Accountability", "## Why these scores"]

    func engine(with portfolios: [String]) throws -> Engine {
        let engine = try Engine(path: nil)
        for text in portfolios {
            let r = engine.request("portfolio.put", "{\"portfolio\":\(text)}")
            XCTAssertNotNil(r.result, r.text)
        }
        return engine
    }

    func run(_ engine: Engine, _ id: String, _ extra: String = "") throws -> (AssessmentResult, String) {
        let r = engine.request("assessment.run", "{\"portfolio\":\"\(id)\"\(extra)}")
        let json = try XCTUnwrap(r.result, r.text)
        return (try JanssonDecoder().decode(AssessmentResult.self, from: json), JSONText.dump(json))
    }

    func render(_ engine: Engine, _ params: String, file: StaticString = #filePath, line: UInt = #line) throws -> (content: String, mediaType: String) {
        let r = engine.request("report.render", params)
        let result = try XCTUnwrap(r.result, r.text, file: file, line: line)
        return (try XCTUnwrap(result["content"]?.stringValue, file: file, line: line), result["mediaType"]?.stringValue ?? "")
    }

    // MARK: HTML

    func testHTMLReportOfEachExample() throws {
        let engine = try engine(with: Self.examples.map { example($0.0) })
        for (_, id) in Self.examples {
            let (r, _) = try run(engine, id)
            let (html, mediaType) = try render(engine, #"{"format":"html","portfolio":"\#(id)"}"#)
            XCTAssertEqual(mediaType, "text/html; charset=utf-8")
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"), id)
            XCTAssertTrue(html.hasSuffix("</html>\n"), id)
            XCTAssertEqual(tagProblems(html), [], id)
            assertSelfContained(html, id)
            XCTAssertTrue(html.contains("<title>\(Escape.html(r.organization)): two-speed operating model assessment</title>"), id)
            // Every section, in order.
            var last = html.startIndex
            for s in Self.sections {
                let found = try XCTUnwrap(html.range(of: "<section id=\"\(s)\""), "\(id): section \(s)")
                XCTAssertGreaterThan(found.lowerBound, last, "\(id): \(s) out of order")
                last = found.lowerBound
            }
            // The radar: one polygon for this run (no previous run), a dot and a label per dimension.
            let radar = try XCTUnwrap(element(html, "<svg class=\"chart radar\"", "</svg>"), id)
            XCTAssertEqual(count(radar, "<polygon class=\"series current\""), 1, id)
            XCTAssertEqual(count(radar, "<polygon class=\"series previous\""), 0, id)
            XCTAssertEqual(count(radar, "<circle class=\"dot"), 10, id)
            XCTAssertEqual(pointCount(radar, "series current"), 10, id)
            let summary = try XCTUnwrap(element(html, "<section id=\"summary\"", "</section>"))
            XCTAssertEqual(r.dimensions.count, 10)
            for d in r.dimensions {
                XCTAssertTrue(radar.contains(Escape.html(d.name.split(separator: " ").first.map(String.init) ?? d.name)), "\(id): \(d.name) in the radar")
                XCTAssertTrue(summary.contains("<th scope=\"row\">\(Escape.html(d.name))</th>"), "\(id): \(d.name) in the table")
            }
            // Level badges coloured by level, the overall one among them.
            XCTAssertTrue(summary.contains("<span class=\"badge lv\(try XCTUnwrap(r.overall.level))\""), id)
            for d in r.dimensions { if let l = d.level { XCTAssertTrue(summary.contains("badge lv\(l)"), "\(id): \(d.name)") } }
            // Every pitfall with each of its subjects.
            let pitfalls = try XCTUnwrap(element(html, "<section id=\"pitfalls\"", "</section>"))
            XCTAssertEqual(count(pitfalls, "<article class=\"pitfall"), r.pitfalls.count, id)
            for p in r.pitfalls {
                XCTAssertTrue(pitfalls.contains(Escape.html(p.name)), "\(id): \(p.name)")
                for s in p.subjects { XCTAssertTrue(pitfalls.contains(Escape.html(s.name)), "\(id): \(p.name) names \(s.name)") }
            }
            // The ranked recommendations, in their order.
            let recs = try XCTUnwrap(element(html, "<section id=\"recommendations\"", "</section>"))
            var at = recs.startIndex
            for rec in r.recommendations {
                let found = try XCTUnwrap(recs.range(of: "<strong>\(Escape.html(rec.title))</strong>", range: at..<recs.endIndex), "\(id): \(rec.title)")
                at = found.upperBound
            }
            // The coverage heatmap: one cell a stage, coloured by its status.
            let coverage = try XCTUnwrap(element(html, "<section id=\"coverage\"", "</section>"))
            let stages = r.analyses.coverage.journeys.flatMap(\.stages)
            XCTAssertEqual(count(coverage, "<td class=\"cell st-"), stages.count, id)
            for status in Set(stages.map(\.status)) {
                XCTAssertEqual(count(coverage, "<td class=\"cell st-\(status)\""), stages.filter { $0.status == status }.count, "\(id): \(status)")
            }
            XCTAssertTrue(coverage.contains("class=\"legend\""), id)
            // Each system in the grid of layers and tiers.
            let tiers = try XCTUnwrap(element(html, "<table class=\"tiers\"", "</table>"))
            for s in r.analyses.speed.systems {
                XCTAssertTrue(tiers.contains(">\(Escape.html(s.system.name))</span>"), "\(id): \(s.system.name)")
            }
            // Experiment lifts with their intervals.
            let lifts = try XCTUnwrap(element(html, "<svg class=\"chart lifts\"", "</svg>"), id)
            XCTAssertEqual(count(lifts, "<g class=\"ci "), r.analyses.experiments.count, id)
            XCTAssertFalse(r.analyses.experiments.isEmpty, id)
            for x in r.analyses.experiments {
                XCTAssertTrue(lifts.contains("[\(Num.points(x.lift.absoluteInterval.low)), \(Num.points(x.lift.absoluteInterval.high))]"), id)
            }
            // Prints one section a page.
            XCTAssertTrue(html.contains("@media print"), id)
            XCTAssertTrue(html.contains("section { break-before: page;"), id)
        }
    }

    func testRetailerHTMLShowsWhatTheDataSays() throws {
        let engine = try engine(with: [retailerText])
        let (html, _) = try render(engine, #"{"format":"html","portfolio":"retailer"}"#)
        let coverage = try XCTUnwrap(element(html, "<section id=\"coverage\"", "</section>"))
        XCTAssertTrue(coverage.contains("<td class=\"cell st-doubly-owned\" title=\"online-shopping/checkout: doubly-owned\">"))
        XCTAssertTrue(coverage.contains("<td class=\"cell st-uncovered\" title=\"online-shopping/cart: uncovered\">"))
        let tiers = try XCTUnwrap(element(html, "<table class=\"tiers\"", "</table>"))
        let frontEnd = try XCTUnwrap(element(tiers, "<tr><th scope=\"row\">front-end</th>", "</tr>"))
        XCTAssertTrue(try XCTUnwrap(element(frontEnd, "<td class=\"tier-elite\">", "</td>")).contains("Web checkout"))
        XCTAssertTrue(try XCTUnwrap(element(frontEnd, "<td class=\"tier-low\">", "</td>")).contains("Store locator mobile app"))
        XCTAssertTrue(html.contains("<tr class=\"blocking\"><td>Web storefront"))
        // The lite checkout cuts the drop-off rate (lower is better): -5.39 points, 95% interval from -6.76 to -4.02, expand to 50%.
        XCTAssertTrue(html.contains("-5.39 [-6.76, -4.02] · expand"), element(html, "<svg class=\"chart lifts\"", "</svg>") ?? html)
        XCTAssertTrue(html.contains("lower is better"))
        XCTAssertTrue(html.contains("<g class=\"ci expand significant\">"))
    }

    // MARK: Executive summary

    /// Every result and report opens with three to five sentences: the level, the weakest dimension, the
    /// most severe finding and the first thing to do, naming what they concern.
    func testExecutiveSummaryOpensEveryReport() throws {
        let engine = try Engine(path: nil)
        for name in ["retailer", "bank", "telco"] {
            XCTAssertNotNil(engine.request("portfolio.put", "{\"portfolio\":\(readFile(repoRoot + "/examples/portfolios/\(name).json"))}").result)
        }
        for id in ["retailer", "state-bank", "telco"] {
            let raw = engine.request("assessment.run", "{\"portfolio\":\"\(id)\",\"keep\":false}")
            let r = try JanssonDecoder().decode(AssessmentResult.self, from: try XCTUnwrap(raw.result, raw.text))
            let summary = try XCTUnwrap(r.summary)
            XCTAssertTrue((3...5).contains(summary.count), "\(id): \(summary)")
            XCTAssertTrue(summary[0].contains("level \(try XCTUnwrap(r.overall.level)), \(try XCTUnwrap(r.overall.levelName))"), summary[0])
            let worst = try XCTUnwrap(r.pitfalls.first { $0.severity == "high" })
            XCTAssertTrue(summary.contains { $0.contains("most severe finding is \(worst.name.lowercased())") }, "\(summary)")
            let first = try XCTUnwrap(r.recommendations.first)
            XCTAssertEqual(summary.last, "First: " + first.action.prefix(1).lowercased() + first.action.dropFirst())
            let html = HTMLReport.render(r)
            let exec = try XCTUnwrap(html.range(of: "<div class=\"exec-summary\">"))
            XCTAssertLessThan(exec.lowerBound, try XCTUnwrap(html.range(of: "<div class=\"tiles\">")).lowerBound)
            XCTAssertTrue(html.contains(Escape.html(summary[0])))
            let md = MarkdownReport.render(r)
            XCTAssertLessThan(try XCTUnwrap(md.range(of: "## Executive summary")).lowerBound,
                              try XCTUnwrap(md.range(of: "## Maturity by dimension")).lowerBound)
            XCTAssertTrue(TextReport.render(r).contains(String(summary[0].prefix(40))))
        }
    }

    // MARK: Markdown

    func testMarkdownReportOfEachExample() throws {
        let engine = try engine(with: Self.examples.map { example($0.0) })
        for (_, id) in Self.examples {
            let (r, _) = try run(engine, id)
            let (md, mediaType) = try render(engine, #"{"format":"markdown","portfolio":"\#(id)"}"#)
            XCTAssertEqual(mediaType, "text/markdown; charset=utf-8")
            XCTAssertTrue(md.hasPrefix("# \(Escape.markdown(r.organization)): two-speed operating model assessment\n"), id)
            XCTAssertEqual(tableProblems(md), [], id)
            XCTAssertFalse(md.contains("<script") || md.contains("<style") || md.contains("<svg"), id)
            var last = md.startIndex
            for s in Self.markdownSections {
                let found = try XCTUnwrap(md.range(of: "\n" + s + "\n"), "\(id): \(s)")
                XCTAssertGreaterThan(found.lowerBound, last, "\(id): \(s) out of order")
                last = found.lowerBound
            }
            let lines = md.split(separator: "\n").map(String.init)
            // Every dimension is a row of the maturity table, with its score and level.
            for d in r.dimensions {
                let row = try XCTUnwrap(lines.first { $0.hasPrefix("| \(Escape.markdownInline(d.name)) | ") }, "\(id): \(d.name)")
                XCTAssertTrue(row.contains(" \(Num.fixed(d.score ?? 0, 2)) "), row)
                XCTAssertTrue(row.contains(" \(d.level ?? 0) \(d.levelName ?? "") "), row)
            }
            // Every pitfall is a row, with its subjects.
            for p in r.pitfalls {
                let row = try XCTUnwrap(lines.first { $0.hasPrefix("| \(p.severity) | **\(Escape.markdownInline(p.name))**") }, "\(id): \(p.name)")
                for s in p.subjects { XCTAssertTrue(row.contains(Escape.markdownInline(s.name) + " (\(s.kind))"), row) }
            }
            for rec in r.recommendations {
                XCTAssertTrue(lines.contains { $0.hasPrefix("| \(rec.rank) | **\(Escape.markdownInline(rec.title))**") }, "\(id): \(rec.title)")
            }
            for j in r.analyses.coverage.journeys {
                for c in j.stages {
                    XCTAssertTrue(lines.contains { $0.hasPrefix("| \(Escape.markdownInline(j.name)) | \(Escape.markdownInline(c.name)) | \(c.status) | ") },
                                  "\(id): \(c.stage)")
                }
            }
            for s in r.analyses.speed.systems {
                XCTAssertTrue(lines.contains { $0.hasPrefix("| \(Escape.markdownInline(s.system.name)) | \(s.layer) | \(s.tier ?? "unknown") | ") },
                              "\(id): \(s.system.name)")
            }
            for x in r.analyses.experiments {
                XCTAssertTrue(md.contains("| [\(Num.points(x.lift.absoluteInterval.low)), \(Num.points(x.lift.absoluteInterval.high))] |"), id)
            }
        }
    }

    // MARK: Hostile names

    /// The retailer with names that are markup, quotes, pipes and line breaks.
    static let hostileRetailer: String = retailerText
        .replacingFirst(#""name": "Brightmart Retail""#, with: #""name": "<script>alert(1)</script>""#)
        .replacingFirst(#""name": "Online checkout""#, with: #""name": "\"quoted\" & <b>""#)
        .replacingFirst(#""name": "Daniel Ortiz""#, with: #""name": "a|b\nc""#)
        .replacingFirst(#""name": "Peter Lang""#, with: #""name": "</td></tr><img src=x onerror=alert(2)>""#)
        .replacingFirst(#""name": "ERP""#, with: #""name": "ERP</span><script>alert(3)</script>""#)
        .replacingFirst(#""name": "Checkout""#, with: #""name": "*bold* [link](javascript:alert(4)) `code` ~~x~~""#)
        .replacingFirst(#""name": "Online shopping""#, with: #""name": "1. <i>journey</i> | # x""#)
        .replacingFirst(#""name": "Web checkout""#, with: #""name": "Web' onmouseover='alert(5)""#)

    func testHostileNamesShowAsText() throws {
        XCTAssertTrue(Self.hostileRetailer.contains("<script>alert(1)</script>"), "the replacements took")
        let engine = try engine(with: [Self.hostileRetailer])
        _ = try run(engine, "retailer")
        let (html, _) = try render(engine, #"{"format":"html","portfolio":"retailer"}"#)
        XCTAssertEqual(tagProblems(html), [])
        for raw in ["<script", "<b>", "<img", "<i>", "onmouseover='", "</span><script"] {
            XCTAssertFalse(html.contains(raw), raw)
        }
        XCTAssertTrue(html.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;: two-speed operating model assessment</title>"))
        XCTAssertTrue(html.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"))
        XCTAssertTrue(html.contains("&quot;quoted&quot; &amp; &lt;b&gt;"))
        XCTAssertTrue(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;img src=x onerror=alert(2)&gt;"))
        XCTAssertTrue(html.contains("ERP&lt;/span&gt;&lt;script&gt;alert(3)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("Web&#39; onmouseover=&#39;alert(5)"))
        // The heatmap keeps one cell a stage, whatever the names.
        let coverage = try XCTUnwrap(element(html, "<section id=\"coverage\"", "</section>"))
        XCTAssertEqual(count(coverage, "<td class=\"cell st-"), 6)

        let (md, _) = try render(engine, #"{"format":"markdown","portfolio":"retailer"}"#)
        XCTAssertEqual(tableProblems(md), [])
        for raw in ["<script", "<b>", "<img", "<i>", "[link]("] { XCTAssertFalse(md.contains(raw), raw) }
        XCTAssertTrue(md.hasPrefix("# &lt;script&gt;alert(1)&lt;/script&gt;: two-speed operating model assessment\n"))
        XCTAssertTrue(md.contains("a\\|b c"), "the pipe escaped, the line break a space")
        XCTAssertTrue(md.contains("\\*bold\\* \\[link\\](javascript:alert(4)) \\`code\\` \\~\\~x\\~\\~"))
        XCTAssertTrue(md.contains("| 1. &lt;i&gt;journey&lt;/i&gt; \\| # x | "))
        XCTAssertTrue(md.contains("\"quoted\" &amp; &lt;b&gt;"))
        // The manager with the pipe and the line break stays in one row of the accountability table.
        let row = try XCTUnwrap(md.split(separator: "\n").first { $0.hasPrefix("| a\\|b c | ") })
        XCTAssertEqual(cells(String(row)).count, 5)
    }

    func testHostileDimensionNamesOfACustomModel() throws {
        let engine = try engine(with: [retailerText])
        let dora = readFile(repoRoot + "/examples/models/dora-2024.json")
            .replacingFirst(#""name": "Throughput""#, with: #""name": "<svg onload=alert(6)> & \"x\"""#)
        XCTAssertEqual(engine.request("assessment.model.put", "{\"model\":\(dora)}").result?["created"]?.boolValue, true)
        _ = try run(engine, "retailer", #","model":"dora-2024""#)
        let (html, _) = try render(engine, #"{"format":"html","portfolio":"retailer"}"#)
        XCTAssertEqual(tagProblems(html), [])
        XCTAssertFalse(html.contains("<svg onload"))
        let radar = try XCTUnwrap(element(html, "<svg class=\"chart radar\"", "</svg>"))
        XCTAssertTrue(radar.contains("&lt;svg onload=alert(6)&gt; &amp; &quot;x&quot;"))
        // Three dimensions: still a radar, a triangle.
        XCTAssertEqual(pointCount(radar, "series current"), 3)
        let (md, _) = try render(engine, #"{"format":"markdown","portfolio":"retailer"}"#)
        XCTAssertEqual(tableProblems(md), [])
        XCTAssertTrue(md.contains("| &lt;svg onload=alert(6)&gt; &amp; \"x\" | "))
    }

    // MARK: The previous run

    func testTwoKeptRunsOverlayTheRadar() throws {
        let engine = try engine(with: [retailerText])
        let (first, firstJSON) = try run(engine, "retailer")
        // IT's cost objective joins the shared growth objective: strategy alignment rises.
        XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"okr","entity":{"id":"okr-it-cost","objective":"Cut IT run costs by 10%","departments":["it"],"parent":"okr-online-growth"}}"#).result)
        let (second, secondJSON) = try run(engine, "retailer")
        XCTAssertEqual([first.run, second.run], [1, 2])

        let (html, _) = try render(engine, #"{"format":"html","portfolio":"retailer"}"#)
        XCTAssertEqual(tagProblems(html), [])
        let radar = try XCTUnwrap(element(html, "<svg class=\"chart radar\"", "</svg>"))
        XCTAssertEqual(count(radar, "<polygon class=\"series current\""), 1)
        XCTAssertEqual(count(radar, "<polygon class=\"series previous\""), 1)
        XCTAssertEqual(pointCount(radar, "series previous"), 10)
        XCTAssertTrue(radar.contains("Previous (run 1, data as of 10 November 2026)"))
        XCTAssertTrue(html.contains("compared with run 1"))
        let before = first.dimensions.first { $0.id == "strategy" }!.score!, after = second.dimensions.first { $0.id == "strategy" }!.score!
        XCTAssertGreaterThan(after, before)
        let change = "+" + Num.fixed(after - before, 2)
        XCTAssertTrue(radar.contains(Num.fixed(after, 2) + " (" + change + ")"), "the label shows the change")
        let summary = try XCTUnwrap(element(html, "<section id=\"summary\"", "</section>"))
        XCTAssertTrue(summary.contains("<td class=\"num\">\(Num.fixed(before, 2))</td><td class=\"num up\">\(change)</td>"))

        // Two kept runs make a trend: a line per dimension and the overall, each through both runs.
        let trend = try XCTUnwrap(element(html, "<svg class=\"chart trend\"", "</svg>"))
        XCTAssertEqual(count(trend, "<polyline "), 11)
        XCTAssertTrue(trend.contains("run 1") && trend.contains("run 2"))
        XCTAssertTrue(trend.contains("Strategy alignment " + Num.fixed(after, 2)), "the legend names each line with its latest score")

        let (md, _) = try render(engine, #"{"format":"markdown","portfolio":"retailer"}"#)
        XCTAssertTrue(md.contains("| Dimension | Score | 1 to 5 | Level | Evidence | Before | Change |"))
        XCTAssertTrue(md.contains("## Trend"))
        XCTAssertTrue(md.contains("| Strategy alignment | \(Num.fixed(after, 2)) | "))
        XCTAssertTrue(md.split(separator: "\n").contains { $0.hasPrefix("| Strategy alignment |") && $0.hasSuffix("| \(Num.fixed(before, 2)) | \(change) |") })

        // The first run has nothing before it.
        let (one, _) = try render(engine, #"{"format":"html","portfolio":"retailer","run":1}"#)
        XCTAssertEqual(count(one, "<polygon class=\"series previous\""), 0)
        XCTAssertFalse(try render(engine, #"{"format":"markdown","portfolio":"retailer","run":1}"#).content.contains("| Before |"))
        // Results given directly, and an explicit previous one.
        let (given, _) = try render(engine, #"{"format":"html","result":\#(secondJSON),"previous":\#(firstJSON)}"#)
        XCTAssertEqual(count(given, "<polygon class=\"series previous\""), 1)
        XCTAssertEqual(count(try render(engine, #"{"format":"html","result":\#(secondJSON)}"#).content, "<polygon class=\"series previous\""), 0)
        // A previous result of another model has other dimensions: nothing to overlay.
        let dora = readFile(repoRoot + "/examples/models/dora-2024.json")
        XCTAssertNotNil(engine.request("assessment.model.put", "{\"model\":\(dora)}").result)
        let (_, doraJSON) = try run(engine, "retailer", #","model":"dora-2024","keep":false"#)
        let (mixed, _) = try render(engine, #"{"format":"html","result":\#(secondJSON),"previous":\#(doraJSON)}"#)
        XCTAssertEqual(count(mixed, "<polygon class=\"series previous\""), 0)
        // A kept run of another model between two default runs is skipped.
        _ = try run(engine, "retailer", #","model":"dora-2024""#)
        let (third, _) = try run(engine, "retailer")
        XCTAssertEqual(third.run, 4)
        XCTAssertTrue(try render(engine, #"{"format":"html","portfolio":"retailer"}"#).content.contains("Previous (run 2, data as of"))
        // A bad previous is refused with its pointer.
        XCTAssertEqual(engine.request("report.render", #"{"format":"html","portfolio":"retailer","previous":{"overall":1}}"#).code, -32602)
    }

    // MARK: The text report

    /// The text report says what the HTML report says since the previous run: the summary's sentence, the
    /// overall and dimension score changes, the pitfalls resolved and the new ones with their subjects.
    func testTextReportSaysWhatChangedSinceTheLastRun() throws {
        let engine = try engine(with: [retailerText])
        let (first, firstJSON) = try run(engine, "retailer")
        // Near-miss: a first run has nothing to compare with, so no such section or sentence.
        let alone = try render(engine, #"{"format":"text","portfolio":"retailer"}"#).content
        XCTAssertFalse(alone.contains("Since run"), alone)
        // IT's cost objective joins the shared growth objective: siloed objectives is resolved.
        XCTAssertNotNil(engine.request("entity.upsert", #"{"portfolio":"retailer","kind":"okr","entity":{"id":"okr-it-cost","objective":"Cut IT run costs by 10%","departments":["it"],"parent":"okr-online-growth"}}"#).result)
        let (second, secondJSON) = try run(engine, "retailer")
        let siloed = try XCTUnwrap(first.pitfalls.first { $0.pitfall == "siloed-objectives" })
        XCTAssertFalse(second.pitfalls.contains { $0.pitfall == "siloed-objectives" })

        let (text, media) = try render(engine, #"{"format":"text","portfolio":"retailer","width":400}"#)
        XCTAssertEqual(media, "text/plain; charset=utf-8")
        XCTAssertTrue(text.contains("Since run 1, resolved: “\(siloed.name)”; none is new."), text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let head = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("Since run 1 (data as of ") }, text)
        let section = Array(lines[head...].prefix { !$0.isEmpty })
        let overallChange = try XCTUnwrap(Common.change(second.overall.score, first.overall.score))
        XCTAssertTrue(section.contains("  Overall score: \(TextReport.score(first.overall.score)) -> \(TextReport.score(second.overall.score)) (\(overallChange))"),
                      "\(section)")
        let before = first.dimensions.first { $0.id == "strategy" }!.score!, after = second.dimensions.first { $0.id == "strategy" }!.score!
        XCTAssertGreaterThan(after, before)
        XCTAssertTrue(section.contains { $0.hasPrefix("  Dimensions moved: ") && $0.contains("Strategy alignment \(TextReport.score(before)) -> "
                                                                                              + "\(TextReport.score(after)) (+\(Num.fixed(after - before, 2)))") }, "\(section)")
        XCTAssertTrue(section.contains("  Pitfalls resolved (1)"), "\(section)")
        XCTAssertTrue(section.contains("    - [\(siloed.severity)] \(siloed.name): " + siloed.subjects.map(\.name).joined(separator: ", ")), "\(section)")
        XCTAssertTrue(section.contains("  New pitfalls (0): none"), "\(section)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("Overall  ") && $0.hasSuffix("\(overallChange) since run 1") }, text)

        // The first run, reported on its own, has nothing before it; a result given with a previous one of
        // the same model compares, one of another model does not.
        XCTAssertFalse(try render(engine, #"{"format":"text","portfolio":"retailer","run":1}"#).content.contains("Since run"))
        let given = try render(engine, #"{"format":"text","result":\#(secondJSON),"previous":\#(firstJSON),"width":400}"#).content
        XCTAssertTrue(given.contains("  Pitfalls resolved (1)"), given)
        let dora = readFile(repoRoot + "/examples/models/dora-2024.json")
        XCTAssertNotNil(engine.request("assessment.model.put", "{\"model\":\(dora)}").result)
        let (_, doraJSON) = try run(engine, "retailer", #","model":"dora-2024","keep":false"#)
        XCTAssertFalse(try render(engine, #"{"format":"text","result":\#(secondJSON),"previous":\#(doraJSON)}"#).content.contains("Since "))
    }

    /// A system whose speed or stability label disagrees with its keys one by one says why, under its
    /// row of the speed table, in every format; a system whose label agrees has no note.
    func testSpeedTableShowsEachSystemsLabelNote() throws {
        let engine = try engine(with: [retailerText])
        let (r, json) = try run(engine, "retailer", #","keep":false"#)
        let storefront = try XCTUnwrap(r.analyses.speed.systems.first { $0.system.id == "web-storefront" })
        // 8% change failures and 2 h recovery: DORA 2024's nearest cluster is medium, each key alone is high.
        XCTAssertEqual(storefront.stability, "medium")
        let notes = FourKeys.labelNotes(try XCTUnwrap(storefront.delivery))
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].hasPrefix("stability labelled medium, DORA 2024's cluster nearest to its keys together, though key by key it is high"), notes[0])
        // The near-miss: the ERP's labels (low, low) agree with its keys one by one.
        let erp = try XCTUnwrap(r.analyses.speed.systems.first { $0.system.id == "erp" })
        XCTAssertEqual([erp.tier, erp.stability], ["low", "low"])
        XCTAssertEqual(FourKeys.labelNotes(try XCTUnwrap(erp.delivery)), [])
        let all = r.analyses.speed.systems.flatMap { s in s.delivery.map(FourKeys.labelNotes) ?? [] }

        let html = try render(engine, #"{"format":"html","result":\#(json)}"#).content
        let table = try XCTUnwrap(element(html, "<table class=\"systems compact\">", "</table>"))
        XCTAssertEqual(count(table, "<tr class=\"label-note\">"), all.count)
        let row = try XCTUnwrap(table.range(of: "<tr><th scope=\"row\">Web storefront</th>"))
        let next = try XCTUnwrap(table[row.upperBound...].range(of: "<tr"))
        XCTAssertTrue(table[next.lowerBound...].hasPrefix("<tr class=\"label-note\"><td></td><td colspan=\"7\">" + Escape.html(notes[0]) + "</td></tr>"))
        let erpRow = try XCTUnwrap(table.range(of: "<tr><th scope=\"row\">ERP</th>"))
        let afterERP = try XCTUnwrap(table[erpRow.upperBound...].range(of: "<tr"))
        XCTAssertFalse(table[afterERP.lowerBound...].hasPrefix("<tr class=\"label-note\">"))

        let md = try render(engine, #"{"format":"markdown","result":\#(json)}"#).content
        let speed = try XCTUnwrap(element(md, "## Speed tiers", "### Couplings"))
        XCTAssertTrue(speed.contains("- **Web storefront**: " + notes[0]), speed)
        XCTAssertFalse(speed.contains("- **ERP**: "))
        XCTAssertEqual(speed.components(separatedBy: "\n- **").count - 1, all.count)

        let text = try render(engine, #"{"format":"text","result":\#(json)}"#).content
        let lines = text.split(separator: "\n").map(String.init)
        for line in lines { XCTAssertLessThanOrEqual(line.count, 100, line) }
        let s = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  Web storefront ") }, text)
        // The note under the row, wrapped at the width: its lines joined again are the note.
        XCTAssertTrue(lines[s + 1].hasPrefix("    note: "), lines[s + 1])
        let wrapped = [String(lines[s + 1].dropFirst(10))] + lines[(s + 2)...].prefix { $0.hasPrefix("      ") }.map { String($0.dropFirst(6)) }
        XCTAssertEqual(wrapped.joined(separator: " "), notes[0])
        let c = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  ERP ") }, text)
        XCTAssertFalse(lines[c + 1].hasPrefix("    note: "))
        XCTAssertEqual(lines.filter { $0.hasPrefix("    note: ") }.count, all.count)
    }

    // MARK: The radar for any model

    func testRadarForAnyNumberOfDimensions() {
        let levels = DefaultModel.model.levels
        func axes(_ n: Int) -> [Charts.Axis] {
            (0..<n).map { Charts.Axis(name: "Dimension \($0)", score: 1 + Double($0 % 5), level: nil, previous: $0 % 2 == 0 ? 2 : nil) }
        }
        for n in [3, 4, 7, 12, 25] {
            let svg = Charts.dimensions(axes(n), levels: levels, legend: .init(current: "now", previous: "then"), title: "t")
            XCTAssertTrue(svg.hasPrefix("<svg class=\"chart radar\""), "\(n)")
            XCTAssertEqual(pointCount(svg, "series current"), n)
            XCTAssertEqual(pointCount(svg, "series previous"), n)
            XCTAssertEqual(count(svg, "<text class=\"axis-label\""), n)
            XCTAssertEqual(tagProblems(svg), [])
        }
        // Below three a polygon means nothing: bars.
        for n in [1, 2] {
            let svg = Charts.dimensions(axes(n), levels: levels, legend: .init(current: "now", previous: nil), title: "t")
            XCTAssertTrue(svg.hasPrefix("<svg class=\"chart bars\""), "\(n)")
            XCTAssertEqual(count(svg, "<polygon"), 0)
            XCTAssertEqual(count(svg, "<rect class=\"series current\" x=\"220\""), n)
            XCTAssertEqual(tagProblems(svg), [])
        }
        // A dimension without evidence sits at the centre and says so.
        let none = Charts.dimensions([.init(name: "A", score: nil, level: nil, previous: nil)] + axes(3), levels: levels,
                                     legend: .init(current: "now", previous: nil), title: "t")
        XCTAssertTrue(none.contains("<circle class=\"dot none\" cx=\"400\" cy=\"326\""))
        XCTAssertTrue(none.contains(">no evidence</tspan>"))
    }

    // MARK: The method's contract

    func testReportRenderDescribesItsFormats() throws {
        let engine = try engine(with: [retailerText])
        let discover = try XCTUnwrap(engine.request("rpc.discover").result)
        let method = try XCTUnwrap(discover["methods"]?.elements.first { $0["name"]?.stringValue == "report.render" })
        let params = method["params"]?.elements.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertEqual(params, ["format", "result", "previous", "portfolio", "run", "width"])
        let format = try XCTUnwrap(method["params"]?.elements.first { $0["name"]?.stringValue == "format" })
        XCTAssertTrue(JSONText.dump(format).contains("html, markdown"))
        XCTAssertEqual(engine.request("report.render", #"{"format":"pdf","portfolio":"retailer"}"#).pointer, "/format")
        let error = engine.request("report.render", #"{"format":"pdf","portfolio":"retailer"}"#).error?["data"]?["reason"]?.stringValue ?? ""
        XCTAssertTrue(error.contains("known: text, html, markdown"), error)
        // A fresh assessment when none is kept: no previous run.
        let (html, _) = try render(engine, #"{"format":"html","portfolio":"retailer"}"#)
        XCTAssertFalse(html.contains("series previous"))
        XCTAssertTrue(try render(engine, #"{"format":"text","portfolio":"retailer"}"#).mediaType.hasPrefix("text/plain"))
    }

    // MARK: Helpers of the renderers

    func testEscaping() {
        XCTAssertEqual(Escape.html("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
        XCTAssertEqual(Escape.html("a\u{0}b\u{1B}c\u{85}d\ne"), "abcd\ne", "control characters dropped")
        XCTAssertEqual(Escape.html("Café ✓"), "Café ✓")
        XCTAssertEqual(Escape.markdownInline("a|b\nc\r\td"), "a\\|b c  d")
        XCTAssertEqual(Escape.markdownInline("*x* _y_ `z` [l](u) ~s~ \\"), "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~s\\~ \\\\")
        XCTAssertEqual(Escape.markdownInline("<b>&amp;"), "&lt;b&gt;&amp;amp;")
        XCTAssertEqual(Escape.markdownInline("1.0"), "1.0")
        XCTAssertEqual(Escape.markdown("# x"), "\\# x")
        XCTAssertEqual(Escape.markdown("- x"), "\\- x")
        XCTAssertEqual(Escape.markdown("+ x"), "\\+ x")
        XCTAssertEqual(Escape.markdown("  12. x"), "  12\\. x")
        XCTAssertEqual(Escape.markdown("3) x"), "3\\) x")
        XCTAssertEqual(Escape.markdown("1.0"), "1\\.0")
        XCTAssertEqual(Escape.markdown("Room #"), "Room \\#")
        XCTAssertEqual(Escape.markdown("Plain words"), "Plain words")
    }

    func testNumbers() {
        XCTAssertEqual(Num.fixed(3.4, 2), "3.40")
        XCTAssertEqual(Num.fixed(-0.004, 2), "0.00")
        XCTAssertEqual(Num.fixed(-1.25, 1), "-1.3")
        XCTAssertEqual(Num.fixed(4, 0), "4")
        XCTAssertEqual(Num.fixed(0.05, 2), "0.05")
        XCTAssertEqual(Num.fixed(.nan, 2), "–")
        XCTAssertEqual(Num.short(60000, 2), "60000")
        XCTAssertEqual(Num.short(3.10, 2), "3.1")
        XCTAssertEqual(Num.short(0.0001, 2), "0")
        XCTAssertEqual(Num.readable(29166.6667), "29,166.67")
        XCTAssertEqual(Num.readable(-1234567.5, 1), "-1,234,567.5")
        XCTAssertEqual(Num.readable(999), "999")
        XCTAssertEqual(Num.grouped(45120), "45,120")
        // Dates as people read them (issue 11), anything that is not a date left as it is.
        XCTAssertEqual(Common.humanDate("2026-11-10"), "10 November 2026")
        XCTAssertEqual(Common.humanDate("2026-01-05T09:30:00Z"), "5 January 2026, 09:30 UTC")
        XCTAssertEqual(Common.humanDate("soon"), "soon")
        XCTAssertEqual(Common.humanDate("2026-13-01"), "2026-13-01")
        XCTAssertEqual(Num.grouped(-1000), "-1,000")
        XCTAssertEqual(Num.points(0.053942964553106876), "+5.39")
        XCTAssertEqual(Num.points(-0.01), "-1")
        XCTAssertEqual(Num.points(0.00001), "0")
        XCTAssertEqual(Num.pct(0.062), "6.2%")
        XCTAssertEqual(Num.p(6.5e-14), "< 0.0001")
        XCTAssertEqual(Num.p(0.8233237), "0.8233")
        XCTAssertEqual(Charts.niceStep(1.8), 2)
        XCTAssertEqual(Charts.niceStep(0.3), 0.5)
        XCTAssertEqual(Charts.niceStep(7), 10)
        XCTAssertEqual(Charts.wrap("Customer-centric organization", 18), ["Customer-centric", "organization"])
    }

    // MARK: Checks of the output

    /// Pages that are not self-contained: a script, a stylesheet, font or image from elsewhere.
    func assertSelfContained(_ html: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for s in ["<script", "<link", " src=", "url(", "@import", "http://", "https://", "<iframe", "<object", "<embed", "@font-face"] {
            XCTAssertFalse(html.contains(s), "\(what): \(s)", file: file, line: line)
        }
    }

    /// Elements opened and not closed, closed and not opened, or closed out of order; and elements a
    /// report never writes (a sign that data became markup).
    func tagProblems(_ html: String) -> [String] {
        let void: Set = ["meta", "br", "img", "hr", "input", "link", "col", "wbr"]
        let known: Set = ["html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section", "article",
                          "aside", "figure", "figcaption", "h1", "h2", "h3", "p", "div", "span", "small", "strong", "code", "a", "br",
                          "table", "thead", "tbody", "tfoot", "tr", "th", "td", "ul", "li", "svg", "desc", "g", "polygon", "polyline",
                          "line", "circle", "rect", "text", "tspan"]
        let b = Array(html.utf8)
        var stack: [String] = [], problems: [String] = []
        var i = 0
        while i < b.count {
            guard b[i] == UInt8(ascii: "<") else { i += 1; continue }
            if b[i...].starts(with: Array("<!DOCTYPE".utf8)) || b[i...].starts(with: Array("<!--".utf8)) {
                while i < b.count && b[i] != UInt8(ascii: ">") { i += 1 }
                continue
            }
            var j = i + 1
            let closing = j < b.count && b[j] == UInt8(ascii: "/")
            if closing { j += 1 }
            var name = ""
            while j < b.count, let c = Optional(b[j]), (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) {
                name.append(Character(Unicode.Scalar(c))); j += 1
            }
            while j < b.count && b[j] != UInt8(ascii: ">") { j += 1 }
            let selfClosing = j > 0 && b[j - 1] == UInt8(ascii: "/")
            i = j + 1
            if name.isEmpty { problems.append("a bare <"); continue }
            if !known.contains(name) { problems.append("unexpected <\(name)>") }
            if closing {
                if stack.last == name { stack.removeLast() } else { problems.append("</\(name)> closes <\(stack.last ?? "nothing")>") }
            } else if !selfClosing && !void.contains(name) {
                stack.append(name)
                if name == "style" {  // raw text up to </style>
                    let end = Array("</style>".utf8)
                    while i < b.count && !b[i...].starts(with: end) { i += 1 }
                }
            }
        }
        return problems + stack.map { "<\($0)> not closed" }
    }

    /// The cells of a Markdown table row: split on the pipes that no backslash escapes.
    func cells(_ row: String) -> [String] {
        var out: [String] = [], cell = "", escaped = false
        for ch in row {
            if escaped { cell.append(ch); escaped = false; continue }
            if ch == "\\" { cell.append(ch); escaped = true; continue }
            if ch == "|" { out.append(cell); cell = ""; continue }
            cell.append(ch)
        }
        out.append(cell)
        // "| a | b |" splits into "", " a ", " b ", "".
        return Array(out.dropFirst().dropLast())
    }

    /// Tables whose rows differ in cell count from their header, lack the alignment row, or lines that
    /// start like a table row but do not end like one.
    func tableProblems(_ md: String) -> [String] {
        var problems: [String] = []
        var table: [String] = []
        func check() {
            guard !table.isEmpty else { return }
            defer { table = [] }
            let width = cells(table[0]).count
            guard table.count >= 2, table[1].allSatisfy({ "|-: ".contains($0) }), cells(table[1]).count == width else {
                problems.append("no alignment row under \(table[0])"); return
            }
            for row in table where cells(row).count != width || !row.hasSuffix(" |") {
                problems.append("\(cells(row).count) cells, not \(width): \(row)")
            }
        }
        for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") { table.append(String(line)) } else { check() }
        }
        check()
        return problems
    }

    func element(_ s: String, _ start: String, _ end: String) -> String? {
        guard let a = s.range(of: start), let b = s.range(of: end, range: a.upperBound..<s.endIndex) else { return nil }
        return String(s[a.lowerBound..<b.upperBound])
    }

    func count(_ s: String, _ needle: String) -> Int {
        var n = 0, at = s.startIndex
        while let r = s.range(of: needle, range: at..<s.endIndex) { n += 1; at = r.upperBound }
        return n
    }

    /// The number of points of the first polygon with this class.
    func pointCount(_ svg: String, _ cls: String) -> Int {
        guard let p = element(svg, "<polygon class=\"\(cls)\" points=\"", "\"/>") else { return 0 }
        let points = p.dropFirst("<polygon class=\"\(cls)\" points=\"".count).dropLast(3)
        return points.split(separator: " ").filter { $0.split(separator: ",").count == 2 }.count
    }
}
