import TwoSpeedAssessment
import TwoSpeedJSON

/// The assessment as plain text for a terminal: the dimension table, what changed since the previous
/// run, the pitfalls, the speed tiers and the top recommendations. Fixed-width columns; lines wrap at `width`.
public enum TextReport {
    /// `previous`: the kept run before this one, of the same model (as the HTML and Markdown reports take
    /// it); a result of another model has other dimensions and is not compared.
    /// With `advice` (a history of two or more runs, or a campaign), "Advice and outcomes" follows the
    /// recommendations.
    public static func render(_ r: AssessmentResult, previous: AssessmentResult? = nil, width: Int = 100,
                              recommendations: Int = 5, advice: AdviceReport? = nil) -> String {
        let previous = Common.previousScores(r, previous) == nil ? nil : previous
        var out: [String] = []
        out.append("\(r.organization): two-speed operating model assessment")
        out.append("model \(r.model.name) \(r.model.version), data as of \(Common.humanDate(r.asOf))" + (r.run.map { ", run \($0)" } ?? ""))
        out.append("")
        let sentences = (r.summary ?? []) + (Common.pitfallChangeSentence(r, previous).map { [$0] } ?? [])
        if !sentences.isEmpty {
            out += wrap(sentences.joined(separator: " "), width: width, first: "", rest: "")
            out.append("")
        }
        if let level = r.overall.level {
            out.append("Overall  \(score(r.overall.score)) of 5   level \(level) \(r.overall.levelName ?? "")"
                       + (previous.flatMap { p in Common.change(r.overall.score, p.overall.score).map { "   \($0) since \(since(p))" } } ?? ""))
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
        if let previous, let c = Common.pitfallChange(r, previous) {
            out.append("")
            out.append("Since \(since(previous)) (data as of \(Common.humanDate(previous.asOf)))")
            let before = Common.previousScores(r, previous) ?? [:]
            let moved = r.dimensions.compactMap { d -> String? in
                guard let now = d.score, let then = before[d.id], let ch = Common.change(now, then), ch != "0.00" else { return nil }
                return "\(d.name) \(score(then)) -> \(score(now)) (\(ch))"
            }
            out += wrap("Overall score: " + (Common.change(r.overall.score, previous.overall.score).map {
                "\(score(previous.overall.score)) -> \(score(r.overall.score)) (\($0))" } ?? "–"), width: width, first: "  ", rest: "    ")
            out += wrap("Dimensions moved: " + (moved.isEmpty ? "none" : moved.joined(separator: "; ")), width: width, first: "  ", rest: "    ")
            for (title, items) in [("Pitfalls resolved", c.resolved), ("New pitfalls", c.new)] {
                out.append("  \(title) (\(items.count))" + (items.isEmpty ? ": none" : ""))
                for f in items {
                    out += wrap("[\(f.severity)] \(f.name)" + (f.subjects.isEmpty ? "" : ": " + f.subjects.map(\.name).joined(separator: ", ")),
                                width: width, first: "    - ", rest: "      ")
                }
            }
        }
        out.append("")
        out.append("Pitfalls (\(r.pitfalls.count))")
        if r.pitfalls.isEmpty { out.append("  none found") }
        for p in r.pitfalls {
            out.append("  [\(p.severity)] \(p.name)" + (p.plugin.map { " (plugin \($0))" } ?? ""))
            for e in p.evidence { out += wrap(e, width: width, first: "    - ", rest: "      ") }
        }
        let speed = r.analyses.speed
        if !speed.systems.isEmpty {
            out.append("")
            out.append("Speed tiers (\(speed.reference))")
            // Short headers, and names cut to what is left of the width, so that a row fits a terminal.
            let head = ["System", "Layer", "Speed", "Stability", "Deploys/mo", "Lead h", "Fail", "Restore h"]
            var rows = [head] + speed.systems.map { sys in
                [sys.system.name, sys.layer, sys.tier ?? "unknown", sys.stability ?? "–"] + Common.deliveryText(sys)
            }
            var widths = head.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
            let others = widths.dropFirst().reduce(0, +) + 2 * widths.count
            if others + widths[0] > width {
                widths[0] = max(head[0].count, width - others)
                for i in rows.indices where rows[i][0].count > widths[0] { rows[i][0] = String(rows[i][0].prefix(widths[0] - 1)) + "…" }
            }
            for (i, row) in rows.enumerated() {
                var line = "  " + row.enumerated().map { pad($0.element, widths[$0.offset]) }.joined(separator: "  ")
                while line.last == " " { line.removeLast() }
                out.append(line)
                // Why the label differs from the keys one by one, under the system it explains.
                if i > 0, let d = speed.systems[i - 1].delivery {
                    for note in FourKeys.labelNotes(d) { out += wrap("note: " + note, width: width, first: "    ", rest: "      ") }
                }
            }
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
        if let a = AdviceSection(advice) { out += adviceLines(a, width: width) }
        if !r.warnings.isEmpty {
            out.append("")
            for w in r.warnings { out += wrap("note: " + w, width: width, first: "", rest: "      ") }
        }
        // Names, evidence and a custom model's words are data: a control character in any of them (ESC,
        // a lone CR, BEL) is shown escaped, so none can drive the terminal or overwrite a line.
        return ControlEscape.escaped(out.joined(separator: "\n") + "\n", keepingLines: true)
    }

    /// "Advice and outcomes" in lines of at most `width` columns. Names, keys and reasons are data (a
    /// dismissal's reason is free text): their control characters are shown escaped, so none can break
    /// a line or drive the terminal.
    static func adviceLines(_ a: AdviceSection, width: Int) -> [String] {
        func t(_ s: String) -> String { ControlEscape.escaped(s) }
        var out = ["", AdviceSection.title]
        out += wrap(t(a.intro), width: width, first: "  ", rest: "  ")
        for x in a.advice {
            out += wrap("[\(t(x.status))] \(t(x.title))" + (x.subjects.isEmpty ? "" : ": " + x.subjects.map(t).joined(separator: ", ")),
                        width: width, first: "  - ", rest: "    ")
            out += wrap("given run \(x.firstRun) to run \(x.lastRun)" + (x.what.isEmpty ? "" : "; " + t(x.what)),
                        width: width, first: "    ", rest: "      ")
            out += wrap("key " + t(x.key), width: width, first: "    ", rest: "      ")
        }
        if !a.moved.isEmpty {
            out.append("")
            out.append("What moved")
            out += wrap(AdviceSection.movedIntro + " " + AdviceSection.association, width: width, first: "  ", rest: "  ")
            for o in a.moved {
                out += wrap("\(t(o.title)) (run \(o.resolvedAt)): \(t(o.name)) (\(t(o.measure)), \(t(o.direction)) is better)",
                            width: width, first: "  - ", rest: "    ")
                out += wrap("shift \(o.shift), 95% interval \(o.interval), \(o.method == "–" ? "no method" : t(o.method)): \(t(o.reading))"
                            + (o.modelChange.map { "; " + t($0) } ?? ""), width: width, first: "    ", rest: "      ")
            }
        }
        for c in a.campaigns {
            out.append("")
            out += wrap("Campaign: " + t(c.name), width: width, first: "", rest: "  ")
            out += wrap("owner \(t(c.owner)), \(t(c.start)) to \(t(c.target)): \(t(c.status)), \(c.summary)", width: width,
                        first: "  ", rest: "    ")
            for n in c.notes { out += wrap(t(n), width: width, first: "  note: ", rest: "    ") }
            if !c.burnUp.isEmpty {
                out += wrap("burn-up (resolved/in scope): " + c.burnUp.map { "run \($0.run) \($0.resolved)/\($0.inScope)" }.joined(separator: ", "),
                            width: width, first: "  ", rest: "    ")
            }
        }
        return out
    }

    /// "run 3", or "the previous assessment" for a result given without a run number.
    static func since(_ p: AssessmentResult) -> String { p.run.map { "run \($0)" } ?? "the previous assessment" }

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
        // A word longer than a whole line (a key, a long name) is cut into pieces that fit.
        let room = max(1, width - max(first.count, rest.count))
        let words = text.split(separator: " ").flatMap { w -> [Substring] in
            guard w.count > room else { return [w] }
            var pieces: [Substring] = [], i = w.startIndex
            while i < w.endIndex { let j = w.index(i, offsetBy: room, limitedBy: w.endIndex) ?? w.endIndex; pieces.append(w[i..<j]); i = j }
            return pieces
        }
        for word in words {
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
