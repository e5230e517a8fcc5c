import Glibc
import TwoSpeedAssessment

/// The scores of every kept run of one model, oldest first, for the report's trend section: the overall
/// score and each dimension's over time, as a line chart (HTML) or a table (Markdown).
public struct TrendPoint: Sendable, Equatable {
    public var run: Int
    /// When the run was made (a timestamp): what the trend's axis is laid out by.
    public var at: String
    /// The date the run's data speaks for, which may be long before it was made, or the same for runs
    /// made months apart: shown beside `at` where the two days differ, never in its place.
    public var asOf: String
    /// Nil where the run had too little evidence for a score.
    public var overall: Double?
    public var dimensions: [String: Double]

    public init(run: Int, at: String, asOf: String, overall: Double?, dimensions: [String: Double]) {
        self.run = run; self.at = at; self.asOf = asOf; self.overall = overall; self.dimensions = dimensions
    }

    /// The point of a kept result; nil for one that was not kept (it has no run number).
    public init?(_ r: AssessmentResult) {
        guard let run = r.run else { return nil }
        // Without enough evidence the overall score says little (1 when nothing has any): no point.
        self.init(run: run, at: r.at, asOf: r.asOf, overall: r.overall.level == nil ? nil : r.overall.score,
                  dimensions: Dictionary(r.dimensions.compactMap { d in d.score.map { (d.id, $0) } }, uniquingKeysWith: { a, _ in a }))
    }

    /// The day the run was made, as people read it ("6 December 2026").
    public var made: String { Common.humanDate(String(at.prefix(10))) }
    /// "as of 10 November 2026" when the data speaks for another day than the run was made on, else nil.
    public var asOfNote: String? { asOf.prefix(10) == at.prefix(10) ? nil : "as of " + Common.humanDate(String(asOf.prefix(10))) }
}

extension Charts {
    /// One line of the trend chart: the overall score, or a dimension.
    public struct Series: Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) { self.id = id; self.name = name }
    }

    /// Okabe and Ito's palette without its yellow (too pale on white), with dashes to tell apart the
    /// lines that share a colour: every line also has its name beside its last point in the legend.
    static let lineColours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999"]
    static let dashes = ["", "6 4", "2 3"]

    /// A line chart of the scores (1..5) over the runs: the overall score thick and black, each dimension
    /// in its colour and dash; a run without a score for a line breaks that line. Runs are evenly spaced,
    /// labelled with their number, the day each was made and, where it differs, the date its data speaks
    /// for; the levels' lower bounds are faint rules.
    public static func trend(_ points: [TrendPoint], series: [Series], levels: [AssessmentModel.Level], title: String) -> String {
        // The legend on the right needs room for a dimension's name (up to about 32 characters).
        let width = 920.0, left = 56.0, right = 560.0, top = 30.0, bottom = 300.0
        let rowHeight = 22.0
        let height = max(bottom + 76, top + rowHeight * Double(series.count + 2))
        let n = points.count
        func x(_ i: Int) -> Double { n <= 1 ? (left + right) / 2 : left + (right - left) * Double(i) / Double(n - 1) }
        func y(_ score: Double) -> Double { bottom - (bottom - top) * (max(1, min(maxScore, score)) - 1) / (maxScore - 1) }
        func value(_ p: TrendPoint, _ id: String?) -> Double? { id == nil ? p.overall : p.dimensions[id!] }

        var s = "<svg class=\"chart trend\" viewBox=\"0 0 \(Num.c(width)) \(Num.c(height))\" width=\"\(Num.c(width))\" "
            + "height=\"\(Num.c(height))\" role=\"img\" aria-labelledby=\"trend-title trend-desc\">\n"
        s += "<title id=\"trend-title\">\(Escape.html(title))</title>\n"
        s += "<desc id=\"trend-desc\">" + points.map { p in
            "run \(p.run) (made \(Escape.html(p.made))\(p.asOfNote.map { ", " + Escape.html($0) } ?? "")): overall "
                + (p.overall.map { Num.fixed($0, 2) } ?? "no score")
        }.joined(separator: "; ") + "</desc>\n"

        // The axes: scores 1..5, a faint rule where each level starts, a label under each run.
        s += "<g class=\"grid\">\n"
        for v in stride(from: 1.0, through: maxScore, by: 1.0) {
            s += "<line x1=\"\(Num.c(left))\" y1=\"\(Num.c(y(v)))\" x2=\"\(Num.c(right))\" y2=\"\(Num.c(y(v)))\" class=\"rule\"/>"
            s += "<text x=\"\(Num.c(left - 10))\" y=\"\(Num.c(y(v) + 5))\" text-anchor=\"end\">\(Num.short(v))</text>\n"
        }
        for l in levels where l.minScore > 1 && l.minScore < maxScore {
            s += "<line x1=\"\(Num.c(left))\" y1=\"\(Num.c(y(l.minScore)))\" x2=\"\(Num.c(right))\" y2=\"\(Num.c(y(l.minScore)))\" "
                + "class=\"level-rule\"><title>\(Escape.html(l.name)) from \(Num.short(l.minScore))</title></line>\n"
        }
        for (i, p) in points.enumerated() {
            s += "<text x=\"\(Num.c(x(i)))\" y=\"\(Num.c(bottom + 22))\" text-anchor=\"middle\">run \(p.run)</text>"
            s += "<text x=\"\(Num.c(x(i)))\" y=\"\(Num.c(bottom + 40))\" text-anchor=\"middle\" class=\"date\">\(Escape.html(p.made))</text>\n"
            if let note = p.asOfNote {
                s += "<text x=\"\(Num.c(x(i)))\" y=\"\(Num.c(bottom + 56))\" text-anchor=\"middle\" class=\"date as-of\">\(Escape.html(note))</text>\n"
            }
        }
        s += "</g>\n"

        // One line per series; the overall score last, on top.
        let all: [(id: String?, name: String, colour: String, dash: String, width: Double)] =
            series.enumerated().map { i, d in
                (d.id, d.name, lineColours[i % lineColours.count], dashes[(i / lineColours.count) % dashes.count], 2.0)
            } + [(nil, "Overall", "#000000", "", 4.0)]
        for (k, line) in all.enumerated() {
            var segments: [[(Double, Double, Double)]] = [[]]
            for (i, p) in points.enumerated() {
                if let v = value(p, line.id) { segments[segments.count - 1].append((x(i), y(v), v)) }
                else if !segments[segments.count - 1].isEmpty { segments.append([]) }
            }
            let dash = line.dash.isEmpty ? "" : " stroke-dasharray=\"\(line.dash)\""
            s += "<g class=\"series\" stroke=\"\(line.colour)\" fill=\"\(line.colour)\">\n"
            for seg in segments where !seg.isEmpty {
                if seg.count > 1 {
                    s += "<polyline fill=\"none\" stroke-width=\"\(Num.c(line.width))\"\(dash) points=\""
                        + seg.map { Num.c($0.0) + "," + Num.c($0.1) }.joined(separator: " ") + "\"/>\n"
                }
                for pt in seg {
                    s += "<circle cx=\"\(Num.c(pt.0))\" cy=\"\(Num.c(pt.1))\" r=\"\(Num.c(line.width + 1))\">"
                        + "<title>\(Escape.html(line.name)): \(Num.fixed(pt.2, 2))</title></circle>"
                }
                s += "\n"
            }
            s += "</g>\n"
            // The legend: swatch, name and the latest score, in drawing order with the overall first.
            let row = line.id == nil ? 0 : k + 1
            let ly = top + rowHeight * Double(row)
            let latest = points.last.flatMap { value($0, line.id) }
            s += "<g class=\"legend\"><line x1=\"590\" y1=\"\(Num.c(ly - 5))\" x2=\"620\" y2=\"\(Num.c(ly - 5))\" stroke=\"\(line.colour)\" "
                + "stroke-width=\"\(Num.c(line.width))\"\(dash)/><text x=\"628\" y=\"\(Num.c(ly))\">\(Escape.html(line.name))"
                + (latest.map { " " + Num.fixed($0, 2) } ?? "") + "</text></g>\n"
        }
        s += "</svg>"
        return s
    }
}
