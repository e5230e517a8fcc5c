import TwoSpeedAssessment

/// What the reports show of advice followed across kept runs (recommendation.history, .outcomes and the
/// campaigns), gathered by the engine.
public struct AdviceReport: Sendable {
    public var history: AdviceHistory
    public var outcomes: [AdviceOutcome]
    public var campaigns: [CampaignReport]
    public init(history: AdviceHistory, outcomes: [AdviceOutcome], campaigns: [CampaignReport]) {
        self.history = history; self.outcomes = outcomes; self.campaigns = campaigns
    }
}

/// The "Advice and outcomes" section as every report shows it: the words, figures and readings are
/// decided here once; the HTML, Markdown and text reports only lay them out (and escape them).
struct AdviceSection {
    struct Advice {
        var title: String, key: String, rule: String, subjects: [String], status: String
        var firstRun: Int, lastRun: Int
        /// "resolved at run 2", "dismissed by X: reason", or "" while nothing happened.
        var what: String
    }
    struct Moved {
        var title: String, resolvedAt: Int, name: String, measure: String, direction: String
        /// "–" without an estimate (too few observations on a side).
        var shift: String, interval: String, method: String
        /// "improved", "moved the wrong way", "no clear change", or the outcome's status ("insufficient data").
        var reading: String
        var modelChange: String?
    }
    struct Campaign {
        var name: String, owner: String, start: String, target: String, status: String
        var resolved: Int, inScope: Int
        /// "60%", or nil when nothing in scope counts.
        var percent: String?
        var notes: [String]
        var burnUp: [CampaignReport.Point]
        /// "1 of 2 resolved (50%)"; with nothing in scope that counts, no "0 of 0" that would read as a result.
        var summary: String {
            inScope == 0 ? "no advice in scope counts yet, so no progress to measure"
                : "\(resolved) of \(inScope) resolved" + (percent.map { " (\($0))" } ?? "")
        }
    }

    static let title = "Advice and outcomes"
    static let movedIntro = "For resolved advice, each measure it aims at before against after: the level shift with its 95% "
        + "interval, the trend before it taken out."
    /// Said beside every estimate: the runs are not an experiment, so nothing here proves the advice did it.
    static let association = "An association, not a cause."

    let runs: Int
    let intro: String
    let advice: [Advice]
    let moved: [Moved]
    let campaigns: [Campaign]

    /// Nil when there is nothing to follow yet: no advice tracked, or a single tracked run and no campaign
    /// (every piece of advice would be open since that run, which "What to do next" already says).
    init?(_ a: AdviceReport?) {
        guard let a, !a.history.advice.isEmpty, a.history.runs.count >= 2 || !a.campaigns.isEmpty else { return nil }
        let c = a.history.counts
        runs = a.history.runs.count
        intro = "Each piece of advice followed across \(runs) tracked kept run" + (runs == 1 ? "" : "s")
            + ": \(c.open) open, \(c.resolved) resolved (acted on), \(c.dismissed) dismissed, "
            + "\(c.regressed) regressed, \(c.obsolete) obsolete (subject removed), \(c.superseded) superseded by advice naming more subjects, "
            + "\(c.modelChanged) gone with a model change (not acted on)."
        advice = a.history.advice.map { x in
            var what = ""
            if let r = x.resolvedAt { what = "resolved at run \(r)" }
            if let d = x.dismissal { what = "dismissed by \(d.by): \(d.reason)" }
            return Advice(title: x.title, key: x.key, rule: x.rule, subjects: x.subjects.map(\.name), status: x.status.rawValue,
                          firstRun: x.firstRun, lastRun: x.lastRun, what: what)
        }
        moved = a.outcomes.map { o in
            Moved(title: o.title, resolvedAt: o.resolvedAt, name: o.name, measure: o.measure, direction: o.direction,
                  shift: o.estimate.map { Num.fixed($0.shift, 2) } ?? "–",
                  interval: o.estimate.map { Num.fixed($0.low, 2) + " to " + Num.fixed($0.high, 2) } ?? "–",
                  method: o.method ?? "–",
                  reading: o.estimate == nil ? o.status
                    : (o.improved == true ? "improved" : o.significant == true ? "moved the wrong way" : "no clear change"),
                  modelChange: o.modelChange)
        }
        campaigns = a.campaigns.map { cr in
            Campaign(name: cr.campaign.name, owner: cr.campaign.owner, start: cr.campaign.start, target: cr.campaign.target,
                     status: cr.status, resolved: cr.resolved, inScope: cr.inScope,
                     percent: cr.progress.map { "\(Int(($0 * 100).rounded()))%" }, notes: cr.notes, burnUp: cr.burnUp)
        }
    }
}

extension HTMLReport.Page {
    /// "Advice and outcomes": what was advised and when, what was done, what moved and by how much (with
    /// the interval), and each campaign's progress as a burn-up chart.
    mutating func adviceSection() {
        guard let a = AdviceSection(advice) else { return }
        add("<section id=\"advice\">")
        add("<h2>\(AdviceSection.title)</h2>")
        add("<p class=\"intro\">\(e(a.intro))</p>")
        add("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Advice</th><th scope=\"col\">Status</th>"
            + "<th scope=\"col\" class=\"num\">First given</th><th scope=\"col\" class=\"num\">Last given</th><th scope=\"col\">What happened</th></tr></thead><tbody>")
        for x in a.advice {
            add("<tr><th scope=\"row\">\(e(x.title))<br><small><code>\(e(x.key))</code></small></th><td>\(e(x.status))</td>"
                + "<td class=\"num\">run \(x.firstRun)</td><td class=\"num\">run \(x.lastRun)</td><td>\(e(x.what))</td></tr>")
        }
        add("</tbody></table></div>")
        if !a.moved.isEmpty {
            add("<h3>What moved</h3>")
            add("<p class=\"intro\">\(e(AdviceSection.movedIntro + " " + AdviceSection.association))</p>")
            add("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Advice</th><th scope=\"col\">Measure</th>"
                + "<th scope=\"col\" class=\"num\">Shift</th><th scope=\"col\" class=\"num\">95% interval</th><th scope=\"col\">Method</th>"
                + "<th scope=\"col\">Reading</th></tr></thead><tbody>")
            for o in a.moved {
                add("<tr><th scope=\"row\">\(e(o.title)) <small>(run \(o.resolvedAt))</small></th><td>\(e(o.name)) <small>(\(e(o.measure)), "
                    + "\(e(o.direction)) is better)</small></td><td class=\"num\">\(e(o.shift))</td><td class=\"num\">\(e(o.interval))</td>"
                    + "<td>\(e(o.method))</td><td>\(e(o.reading))" + (o.modelChange.map { "<br><small>\(e($0))</small>" } ?? "") + "</td></tr>")
            }
            add("</tbody></table></div>")
        }
        for (i, c) in a.campaigns.enumerated() {
            add("<h3>Campaign: \(e(c.name))</h3>")
            add("<p>Owner \(e(c.owner)), \(e(c.start)) to \(e(c.target)): <strong>\(e(c.status))</strong>, \(e(c.summary)).</p>")
            for n in c.notes { add("<p class=\"intro\">\(e(n))</p>") }
            if !c.burnUp.isEmpty, let cr = advice?.campaigns[i] { add(burnUp(cr)) }
        }
        add("</section>")
    }

    /// A burn-up chart: per kept run, the advice in scope (outline) and the resolved part of it (filled).
    func burnUp(_ cr: CampaignReport) -> String {
        let points = cr.burnUp
        let width = 640.0, height = 160.0, left = 40.0, bottom = 130.0, top = 14.0
        let most = Double(max(points.map(\.inScope).max() ?? 1, 1))
        let step = (width - left - 10) / Double(points.count)
        var svg = "<figure><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(e("Burn-up of " + cr.campaign.name))\">"
        svg += "<title>\(e("Burn-up of " + cr.campaign.name + ": resolved of in scope per kept run"))</title>"
        svg += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#999\"/>"
        for (i, p) in points.enumerated() {
            let x = left + Double(i) * step + step * 0.15, w = step * 0.7
            let hIn = (bottom - top) * Double(p.inScope) / most, hDone = (bottom - top) * Double(p.resolved) / most
            svg += "<rect x=\"\(Num.fixed(x, 1))\" y=\"\(Num.fixed(bottom - hIn, 1))\" width=\"\(Num.fixed(w, 1))\" height=\"\(Num.fixed(hIn, 1))\" fill=\"none\" stroke=\"#555\"/>"
            svg += "<rect x=\"\(Num.fixed(x, 1))\" y=\"\(Num.fixed(bottom - hDone, 1))\" width=\"\(Num.fixed(w, 1))\" height=\"\(Num.fixed(hDone, 1))\" fill=\"#2a7\"/>"
            svg += "<text x=\"\(Num.fixed(x + w / 2, 1))\" y=\"\(Int(bottom) + 14)\" font-size=\"10\" text-anchor=\"middle\">run \(p.run)</text>"
        }
        svg += "<text x=\"4\" y=\"\(Int(top) + 4)\" font-size=\"10\">\(Int(most))</text></svg>"
        return svg + "<figcaption>Resolved (filled) of the advice in scope (outline), per kept run.</figcaption></figure>"
    }
}
