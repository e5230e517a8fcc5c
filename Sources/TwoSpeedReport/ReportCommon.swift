import TwoSpeedAssessment
import TwoSpeedModel

/// What the HTML and Markdown reports share: the comparison with the previous run, the colour step of a
/// level, and the words for statuses, tiers and layers.
enum Common {
    /// "What to do next" with no recommendation: nothing found, or too little evidence to advise on.
    static let nothingStandsOut = "Nothing stands out: no pitfall shows in the data and no criterion scores below integrated."
    static let evidenceFirst = "Supply the evidence first; the assessment cannot advise on what it cannot see:"
    /// Beside recommendations: what the data could not say, so a reader never takes it for a result.
    static let notAssessed = "Not assessed: the data cannot say, so these criteria have no score; what would answer them:"

    /// A dimension without a level: nothing known ("not assessed"), or too little ("not enough evidence").
    static func noLevel(_ d: DimensionResult) -> String { d.score == nil ? "not assessed" : "not enough evidence" }

    /// The coverage card: "2 of 9" stages without one owner, or nothing to count when no journey is recorded
    /// (0 of 0 would read as good news).
    static func stagesWithoutOwner(_ r: AssessmentResult) -> (count: String, detail: String) {
        let cov = r.analyses.coverage
        let stages = cov.journeys.reduce(0) { $0 + $1.stages.count }
        guard stages > 0 else { return ("not assessed", "no customer journeys recorded") }
        let unknown = cov.ownerUnknown?.count ?? 0
        return ("\(cov.unowned.count + cov.doublyOwned.count) of \(stages)", "\(cov.unowned.count) unowned, \(cov.doublyOwned.count) doubly owned"
                + (unknown > 0 ? ", \(unknown) not assessed (owners outside the portfolio)" : ""))
    }

    /// A criterion's basis, or "not assessed" when nothing speaks to it.
    static func basis(_ c: CriterionResult) -> String { c.score == nil ? "not assessed" : c.basis }

    /// The previous run's scores by dimension id, when it was assessed against the same model.
    /// A previous result of another model has other dimensions: nothing to overlay.
    static func previousScores(_ r: AssessmentResult, _ previous: AssessmentResult?) -> [String: Double]? {
        guard let previous, previous.model.id == r.model.id else { return nil }
        var out: [String: Double] = [:]
        for d in previous.dimensions { if let s = d.score { out[d.id] = s } }
        return out
    }

    /// "+0.25", "-0.10" or "0.00": a score's change since the previous run.
    static func change(_ now: Double?, _ before: Double?) -> String? {
        guard let now, let before else { return nil }
        let t = Num.fixed(now - before, 2)
        return now > before && t != "0.00" ? "+" + t : t
    }

    /// "run 3, data as of 2026-11-10" or "data as of 2026-11-10".
    /// The pitfalls that went away since `previous` (as it found them) and those that appeared (as `r`
    /// finds them); nil without a previous run to compare with.
    static func pitfallChange(_ r: AssessmentResult, _ previous: AssessmentResult?) -> (resolved: [Finding], new: [Finding])? {
        guard let previous else { return nil }
        let now = Set(r.pitfalls.map(\.pitfall)), then = Set(previous.pitfalls.map(\.pitfall))
        return (previous.pitfalls.filter { !now.contains($0.pitfall) }, r.pitfalls.filter { !then.contains($0.pitfall) })
    }

    /// One sentence for the executive summary: what was resolved and what is new since the previous run.
    static func pitfallChangeSentence(_ r: AssessmentResult, _ previous: AssessmentResult?) -> String? {
        guard let previous, let c = pitfallChange(r, previous) else { return nil }
        let since = previous.run.map { "run \($0)" } ?? "the previous assessment"
        func names(_ f: [Finding]) -> String { f.map { "“\($0.name)”" }.joined(separator: ", ") }
        switch (c.resolved.isEmpty, c.new.isEmpty) {
        case (true, true): return "No pitfall was resolved or found anew since \(since)."
        case (false, true): return "Since \(since), resolved: \(names(c.resolved)); none is new."
        case (true, false): return "Since \(since), nothing was resolved, and new: \(names(c.new))."
        case (false, false): return "Since \(since), resolved: \(names(c.resolved)); new: \(names(c.new))."
        }
    }

    static func runName(_ r: AssessmentResult) -> String {
        (r.run.map { "run \($0), " } ?? "") + "data as of " + humanDate(r.asOf)
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    /// A date as people read it: "2026-11-10" → "10 November 2026", "2026-11-10T09:30:00Z" → "10 November 2026,
    /// 09:30 UTC". Anything else is shown as it is.
    static func humanDate(_ s: String) -> String {
        let u = Array(s.utf8)
        guard u.count >= 10, u[4] == 45, u[7] == 45, let y = Int(String(s.prefix(4))),
              let mo = Int(String(s.dropFirst(5).prefix(2))), let d = Int(String(s.dropFirst(8).prefix(2))),
              (1...12).contains(mo), (1...31).contains(d) else { return s }
        let day = "\(d) \(months[mo - 1]) \(y)"
        guard u.count >= 16, u[10] == 84 || u[10] == 32, u[13] == 58 else { return day }
        let time = String(s.dropFirst(11).prefix(5))
        let zone = s.hasSuffix("Z") || s.hasSuffix("+00:00") ? " UTC" : ""
        return day + ", " + time + zone
    }

    /// The colour step 1..5 of a level among the model's levels, whatever their count.
    static func levelStep(_ level: Int?, levels: [AssessmentModel.Level]) -> Int {
        guard let level else { return 0 }
        let numbers = levels.map(\.level).sorted()
        guard let lo = numbers.first, let hi = numbers.last, hi > lo else { return max(1, min(5, level)) }
        let t = Double(level - lo) / Double(hi - lo)
        return max(1, min(5, 1 + Int((t * 4).rounded())))
    }

    static let statuses = ["owned", "doubly-owned", "unowned", "owner-unknown", "uncovered"]
    static let statusText = [
        "owned": "one accountable owner", "doubly-owned": "two or more owners",
        "unowned": "products but no owner", "owner-unknown": "owners outside the portfolio: not assessed",
        "uncovered": "no product",
    ]
    static let tiers = ["elite", "high", "medium", "low"]
    static let layers = [Layer.frontEnd, .platform, .backEnd].map(\.rawValue)

    /// Layers in the usual order first, then any other the data names.
    static func layerOrder(_ s: SpeedAnalysis) -> [String] {
        var out = layers
        for l in s.systems.map(\.layer) where !out.contains(l) { out.append(l) }
        return out
    }

    /// "18% of the model has evidence, 50% is needed", or only the share when no need is recorded.
    static func evidenceShare(_ r: AssessmentResult) -> String {
        let share = "\(Int(((r.overall.evidence ?? 0) * 100).rounded()))% of the model has evidence"
        return r.overall.sufficientEvidence == false ? share + ", half is needed for an overall level" : share
    }

    /// One sentence per level a cap holds down, overall first: what the score reaches, where it is held, why.
    static func capSentences(_ r: AssessmentResult) -> [String] {
        func name(_ l: Int?) -> String {
            guard let l else { return "" }
            return "\(l) " + (r.model.levels.first { $0.level == l }?.name ?? "")
        }
        var out: [String] = []
        if let caps = r.overall.caps, let first = caps.first {
            out.append("Overall: the score reaches level \(name(r.overall.scoreLevel)), held at \(name(first.maxLevel)) by "
                       + caps.map(\.reason).joined(separator: "; ") + ".")
        }
        for d in r.dimensions {
            guard let caps = d.caps, let first = caps.first else { continue }
            out.append("\(d.name): the score reaches level \(name(d.scoreLevel)), held at \(name(first.maxLevel)) by "
                       + caps.map(\.reason).joined(separator: "; ") + ".")
        }
        return out
    }

    static func severityOrder(_ s: String) -> Int { ["high": 0, "medium": 1, "low": 2][s] ?? 3 }

    /// Each dimension's name by id, for the recommendations' dimension lists.
    static func dimensionNames(_ r: AssessmentResult) -> [String: String] {
        Dictionary(r.dimensions.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// Deploys a month, lead time in hours, change failure rate, recovery in hours.
    /// The four keys' trend, one row a window (newest first): the window's dates, then deployments,
    /// deploys a month, lead time, change failure rate and recovery time of every system pooled, each
    /// figure with its DORA bucket.
    static let trendHeader = ["Window", "Deployments", "Deploys a month", "Lead time (h)", "Change failure", "Recovery (h)"]
    static func trendRows(_ t: DeliveryTrend) -> [[String]] {
        t.windows.map { w in
            let dates = String(w.from.prefix(10)) + " to " + String(w.to.prefix(10))
            guard let f = w.all else { return [dates, "0", "–", "–", "–", "–"] }
            func with(_ v: String, _ key: String) -> String { f.buckets[key].map { v + " (" + $0 + ")" } ?? v }
            return [dates, String(f.deployments), with(Num.short(f.deploysPerMonth, 1), "deploysPerMonth"),
                    f.leadTimeHours.map { with(Num.short($0, 1), "leadTimeHours") } ?? "–",
                    f.changeFailureRate.map { with(Num.pct($0, 1), "changeFailureRate") } ?? "–",
                    f.recoveryHours.map { with(Num.short($0, 1), "recoveryHours") } ?? "–"]
        }
    }

    /// Which systems' speed comes from recorded events.
    static func trendSentence(_ t: DeliveryTrend) -> String {
        "DORA's four keys computed from recorded deployments and incidents, all systems pooled, by \(t.days)-day window "
            + "(each figure with its DORA 2024 bucket). The speed tiers above use these events for "
            + (t.systemsFromEvents.isEmpty ? "no system" : t.systemsFromEvents.joined(separator: ", "))
            + " and the entered figures for the others. Definitions: " + t.definitions + "."
    }

    /// The systems whose speed or stability label disagrees with their keys one by one, each with the
    /// notes saying why (FourKeys.labelNotes, the same sentences delivery.metrics gives), in table order.
    static func labelNotes(_ s: SpeedAnalysis) -> [(system: SpeedAnalysis.SystemTier, notes: [String])] {
        s.systems.compactMap { sys in
            guard let d = sys.delivery else { return nil }
            let notes = FourKeys.labelNotes(d)
            return notes.isEmpty ? nil : (sys, notes)
        }
    }

    static func deliveryText(_ s: SpeedAnalysis.SystemTier) -> [String] {
        guard let d = s.delivery else { return ["–", "–", "–", "–"] }
        return [d.deploysPerMonth.map { Num.short($0, 1) } ?? "–", d.leadTimeHours.map { Num.short($0, 1) } ?? "–",
                d.changeFailureRate.map { Num.pct($0, 1) } ?? "–", d.recoveryHours.map { Num.short($0, 1) } ?? "–"]
    }
}

/// The sections every rich report has, in the order both the HTML and the Markdown report write them.
protocol ReportSections {
    mutating func summary()
    mutating func changesSection()
    mutating func trendSection()
    mutating func recommendations()
    mutating func pitfalls()
    mutating func coverage()
    mutating func speed()
    mutating func experiments()
    mutating func prioritization()
    mutating func okrs()
    mutating func accountability()
    mutating func criteria()
}

extension ReportSections {
    mutating func sections() {
        summary()
        changesSection()
        trendSection()
        recommendations()
        pitfalls()
        coverage()
        speed()
        experiments()
        prioritization()
        okrs()
        accountability()
        criteria()
    }
}
