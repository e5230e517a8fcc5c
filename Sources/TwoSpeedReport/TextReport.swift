import TwoSpeedAssessment

/// The assessment as plain text for a terminal: the dimension table, the pitfalls and the top
/// recommendations. Fixed-width columns; lines wrap at `width`.
public enum TextReport {
    public static func render(_ r: AssessmentResult, width: Int = 100, recommendations: Int = 5) -> String {
        var out: [String] = []
        out.append("\(r.organization): two-speed operating model assessment")
        out.append("model \(r.model.name) \(r.model.version), data as of \(Common.humanDate(r.asOf))" + (r.run.map { ", run \($0)" } ?? ""))
        out.append("")
        if let summary = r.summary, !summary.isEmpty {
            out += wrap(summary.joined(separator: " "), width: width, first: "", rest: "")
            out.append("")
        }
        if let level = r.overall.level {
            out.append("Overall  \(score(r.overall.score)) of 5   level \(level) \(r.overall.levelName ?? "")")
        } else {
            out.append("Overall  insufficient evidence: " + Common.evidenceShare(r))
        }
        out.append("")
        let nameWidth = max(30, r.dimensions.map { $0.name.count }.max() ?? 0)
        out.append(pad("Dimension", nameWidth) + "  Score  Level                " + pad("", 20) + "  Evidence")
        for d in r.dimensions {
            let s = d.score.map(score) ?? "  -  "
            let level = d.level.map { "\($0) \(d.levelName ?? "")" } ?? Common.noLevel(d)
            out.append(pad(d.name, nameWidth) + "  " + pad(s, 5) + "  " + pad(level, 19) + "  " + bar(d.score) + "  "
                       + "\(Int((d.evidence * 100).rounded()))%")
        }
        let caps = Common.capSentences(r)
        if !caps.isEmpty {
            out.append("")
            out.append("Levels held down (a level is held only while its checks pass)")
            for c in caps { out += wrap(c, width: width, first: "  - ", rest: "    ") }
        }
        out.append("")
        out.append("Pitfalls (\(r.pitfalls.count))")
        if r.pitfalls.isEmpty { out.append("  none found") }
        for p in r.pitfalls {
            out.append("  [\(p.severity)] \(p.name)" + (p.plugin.map { " (plugin \($0))" } ?? ""))
            for e in p.evidence { out += wrap(e, width: width, first: "    - ", rest: "      ") }
        }
        if let t = r.analyses.delivery {
            out.append("")
            out.append("Delivery: the four keys by window (from recorded events)")
            let rows = [Common.trendHeader] + Common.trendRows(t)
            let widths = (0..<Common.trendHeader.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                var line = "  " + row.enumerated().map { pad($0.element, widths[$0.offset]) }.joined(separator: "  ")
                while line.last == " " { line.removeLast() }
                out.append(line)
            }
            out += wrap("speed tiers from events for: " + (t.systemsFromEvents.isEmpty ? "none" : t.systemsFromEvents.joined(separator: ", ")),
                        width: width, first: "  ", rest: "    ")
        }
        out.append("")
        out.append("What to do next")
        if r.recommendations.isEmpty {
            let needed = r.evidenceNeeded ?? []
            out.append(needed.isEmpty ? "  nothing stands out: no pitfall found and no criterion below integrated" : "  supply the evidence first:")
            for n in needed { out += wrap(n, width: width, first: "  - ", rest: "    ") }
        }
        for rec in r.recommendations.prefix(recommendations) {
            out += wrap("\(rec.rank). \(rec.title)", width: width, first: "  ", rest: "     ")
            out += wrap(rec.action, width: width, first: "     ", rest: "     ")
            out += wrap("why: \(rec.why)  (gain +\(score(rec.expectedGain)), effort \(Int(rec.effort)) of 5)", width: width,
                        first: "     ", rest: "     ")
        }
        if !r.recommendations.isEmpty, let needed = r.evidenceNeeded, !needed.isEmpty {
            out.append("")
            out.append("Not assessed (the data cannot say)")
            for n in needed { out += wrap(n, width: width, first: "  - ", rest: "    ") }
        }
        if !r.warnings.isEmpty {
            out.append("")
            for w in r.warnings { out += wrap("note: " + w, width: width, first: "", rest: "      ") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func score(_ s: Double) -> String {
        let r = (s * 100).rounded() / 100
        var t = String(r)
        let decimals = t.split(separator: ".").last?.count ?? 0
        if decimals < 2 { t += String(repeating: "0", count: 2 - decimals) }
        return t
    }

    /// A 20-cell bar for a score from 1 to 5.
    static func bar(_ s: Double?) -> String {
        guard let s else { return String(repeating: "·", count: 20) }
        let cells = Int(((s - 1) / 4 * 20).rounded())
        return String(repeating: "█", count: max(0, min(20, cells))) + String(repeating: "·", count: 20 - max(0, min(20, cells)))
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func wrap(_ text: String, width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var line = first
        var empty = true
        for word in text.split(separator: " ") {
            if !empty && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                empty = true
            }
            line += (empty ? "" : " ") + word
            empty = false
        }
        lines.append(line)
        return lines
    }
}
