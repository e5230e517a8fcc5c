import TwoSpeedAssessment

/// What the html report shows of advice followed across kept runs (recommendation.history, .outcomes
/// and the campaigns), gathered by the engine.
public struct AdviceReport: Sendable {
    public var history: AdviceHistory
    public var outcomes: [AdviceOutcome]
    public var campaigns: [CampaignReport]
    public init(history: AdviceHistory, outcomes: [AdviceOutcome], campaigns: [CampaignReport]) {
        self.history = history; self.outcomes = outcomes; self.campaigns = campaigns
    }
}

extension HTMLReport.Page {
    /// "Advice and outcomes": what was advised and when, what was done, what moved and by how much (with
    /// the interval), and each campaign's progress as a burn-up chart.
    mutating func adviceSection() {
        guard let a = advice else { return }
        let c = a.history.counts
        add("<section id=\"advice\">")
        add("<h2>Advice and outcomes</h2>")
        add("<p class=\"intro\">Each piece of advice followed across \(a.history.runs.count) tracked kept run"
            + (a.history.runs.count == 1 ? "" : "s") + ": \(c.open) open, \(c.resolved) resolved (acted on), \(c.dismissed) dismissed, "
            + "\(c.regressed) regressed, \(c.obsolete) obsolete (subject removed), \(c.superseded) superseded by advice naming more subjects, "
            + "\(c.modelChanged) gone with a model change (not acted on).</p>")
        add("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Advice</th><th scope=\"col\">Status</th>"
            + "<th scope=\"col\" class=\"num\">First given</th><th scope=\"col\" class=\"num\">Last given</th><th scope=\"col\">What happened</th></tr></thead><tbody>")
        for x in a.history.advice {
            var what = ""
            if let r = x.resolvedAt { what = "resolved at run \(r)" }
            if let d = x.dismissal { what = "dismissed by \(d.by): \(d.reason)" }
            add("<tr><th scope=\"row\">\(e(x.title))<br><small><code>\(e(x.key))</code></small></th><td>\(e(x.status.rawValue))</td>"
                + "<td class=\"num\">run \(x.firstRun)</td><td class=\"num\">run \(x.lastRun)</td><td>\(e(what))</td></tr>")
        }
        add("</tbody></table></div>")
        if !a.outcomes.isEmpty {
            add("<h3>What moved</h3>")
            add("<p class=\"intro\">For resolved advice, each measure it aims at before against after: the level shift with its 95% "
                + "interval, the trend before it taken out. An association, not a cause.</p>")
            add("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Advice</th><th scope=\"col\">Measure</th>"
                + "<th scope=\"col\" class=\"num\">Shift</th><th scope=\"col\" class=\"num\">95% interval</th><th scope=\"col\">Reading</th></tr></thead><tbody>")
            for o in a.outcomes {
                let shift = o.estimate.map { Num.fixed($0.shift, 2) } ?? "–"
                let interval = o.estimate.map { Num.fixed($0.low, 2) + " to " + Num.fixed($0.high, 2) } ?? "–"
                let reading = o.estimate == nil ? o.status
                    : (o.improved == true ? "improved" : o.significant == true ? "moved the wrong way" : "no clear change")
                add("<tr><th scope=\"row\">\(e(o.title)) <small>(run \(o.resolvedAt))</small></th><td>\(e(o.name)) <small>(\(e(o.measure)), "
                    + "\(e(o.direction)) is better)</small></td><td class=\"num\">\(shift)</td><td class=\"num\">\(interval)</td>"
                    + "<td>\(e(reading))" + (o.modelChange.map { "<br><small>\(e($0))</small>" } ?? "") + "</td></tr>")
            }
            add("</tbody></table></div>")
        }
        for cr in a.campaigns {
            add("<h3>Campaign: \(e(cr.campaign.name))</h3>")
            add("<p>Owner \(e(cr.campaign.owner)), \(e(cr.campaign.start)) to \(e(cr.campaign.target)): <strong>\(e(cr.status))</strong>, "
                + "\(cr.resolved) of \(cr.inScope) resolved" + (cr.progress.map { " (\(Int(($0 * 100).rounded()))%)" } ?? "") + ".</p>")
            for n in cr.notes { add("<p class=\"intro\">\(e(n))</p>") }
            if !cr.burnUp.isEmpty { add(burnUp(cr)) }
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
