/// The executive summary that opens every result and report: three to five sentences a transformation
/// lead can read to a board. The overall level (or that the evidence is too thin for one), the weakest
/// dimension and what shows it, the most severe finding and whom it concerns, and the first thing to do.
public enum ExecutiveSummary {
    public static func write(organization: String, model: AssessmentModel, overall: OverallResult,
                             dimensions: [DimensionResult], findings: [Finding], recommendations: [Recommendation],
                             evidenceNeeded: [String]) -> [String] {
        var out: [String] = []
        let levelName = { (l: Int?) in l.flatMap { n in model.levels.first { $0.level == n }?.name } ?? "" }
        if let level = overall.level {
            var s = "\(organization) stands at level \(level), \(levelName(level)), with an overall score of "
                + fmtNumber(overall.score, digits: 2) + " of 5"
            if let by = overall.scoreLevel, let cap = overall.caps?.first {
                s += ": the score alone would reach \(levelName(by)), but "
                if let f = findings.first(where: { $0.pitfall == cap.pitfall }) {
                    s += "the standing \(f.severity)-severity pitfall \u{201C}\(f.name)\u{201D} holds it at \(cap.levelName)"
                } else {
                    s += cap.reason
                }
            }
            out.append(s + ".")
        } else {
            let share = Int(((overall.evidence ?? 0) * 100).rounded())
            let need = Int((model.minimumEvidence * 100).rounded())
            let thin = dimensions.filter { $0.level == nil }.map { $0.name }
            out.append("There is not enough evidence for an overall level for \(organization): \(share)% of the model has evidence"
                       + " and \(need)% is needed" + (thin.isEmpty ? "." : "; supply it first for "
                          + (thin.count <= 3 ? listed(thin) : thin.prefix(3).joined(separator: ", ") + " and \(count(thin.count - 3)) more dimensions") + "."))
        }
        // What the data could not say, so that no reader takes an unscored criterion for a good one.
        let open = dimensions.flatMap(\.criteria).filter { $0.score == nil }.count
        if overall.level != nil, open > 0 {
            let total = dimensions.reduce(0) { $0 + $1.criteria.count }
            let unlevelled = dimensions.filter { $0.level == nil }.map(\.name)
            out.append("\(open) of \(total) criteria are not assessed because the data cannot say"
                       + (unlevelled.isEmpty ? "" : ", and " + (unlevelled.count <= 3 ? listed(unlevelled) : unlevelled.prefix(3).joined(separator: ", ") + " and \(count(unlevelled.count - 3)) more")
                          + (unlevelled.count == 1 ? " has" : " have") + " no level for lack of evidence")
                       + "; the evidence that would answer them is listed with the recommendations.")
        }
        if let weakest = dimensions.filter({ $0.score != nil && $0.sufficientEvidence != false }).min(by: { ($0.score ?? 5, $0.id) < ($1.score ?? 5, $1.id) }),
           let score = weakest.score {
            let judged = dimensions.filter { $0.score != nil && $0.sufficientEvidence != false }.count
            var s = (judged == 1 ? "The only dimension with enough evidence for a level is \(weakest.name), at "
                     : score >= 4.2 ? "Even its weakest dimension, \(weakest.name), scores " : "The weakest dimension is \(weakest.name) at ")
                + fmtNumber(score, digits: 2)
            if let worst = weakest.criteria.filter({ $0.score != nil }).min(by: { ($0.score ?? 5) < ($1.score ?? 5) }) {
                if let f = worst.fact { s += ": \(f.detail)" } else if let a = worst.answer { s += ": \u{201C}\(worst.text)\u{201D} self-assessed \(a.score) of 5" }
            }
            out.append(s + ".")
        }
        // The most severe finding: among those of the highest severity, the one the ranking puts first, so
        // that the sentence and the first step agree; its first evidence line states the fault.
        let order = ["high": 0, "medium": 1, "low": 2]
        let top = findings.map { order[$0.severity] ?? 3 }.min()
        let rankOf = { (f: Finding) in recommendations.first { $0.pitfall == f.pitfall }?.rank ?? Int.max }
        let worst = findings.enumerated().filter { (order[$0.element.severity] ?? 3) == top }
            .min { (rankOf($0.element), $0.offset) < (rankOf($1.element), $1.offset) }?.element
        var firstStepWhy = ""
        if let worst {
            var s = "The most severe finding is \(worst.name.lowercasedFirst) (\(worst.severity) severity)"
            if let e = worst.evidence.first { s += ": \(e)" }
            let more = findings.count - 1
            out.append(s + "." + (more > 0 ? " " + count(more).capitalizedFirst + " other " + (more == 1 ? "pitfall stands" : "pitfalls stand") + " beside it." : ""))
            if let first = recommendations.first, first.pitfall != worst.pitfall {
                let own = recommendations.first { $0.pitfall == worst.pitfall }
                if let own, own.expectedGain <= 0 {
                    firstStepWhy = "Fixing it moves no criterion the data can score yet, so the first step is another: "
                } else if let own {
                    firstStepWhy = "The first step is another, ranked before it by the score it recovers on the weakest dimensions (+"
                        + fmtNumber(first.expectedGain, digits: 2) + " against +" + fmtNumber(own.expectedGain, digits: 2) + "): "
                } else {
                    firstStepWhy = "The first step is another: "
                }
            }
        } else {
            out.append("No pitfall of the two-speed operating model shows in the data.")
        }
        if let first = recommendations.first {
            out.append(firstStepWhy.isEmpty ? "First: \(first.action.lowercasedFirst)" : firstStepWhy + first.action.lowercasedFirst)
        } else if overall.level == nil {
            out.append("First: record the portfolio's products, owners, systems and metrics, or answer the self-assessment, for the dimensions above.")
        } else {
            out.append("Nothing needs fixing first: keep measuring, testing and iterating, and assess again next quarter.")
        }
        return out
    }

    /// Small counts in words, as a sentence reads them.
    static func count(_ n: Int) -> String {
        let words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        return n >= 0 && n < words.count ? words[n] : String(n)
    }

    static func listed(_ xs: [String]) -> String { Pitfalls.listed(xs) }
}

extension String {
    var capitalizedFirst: String { first.map { $0.uppercased() + dropFirst() } ?? self }

    /// The first letter lowercased, unless the first word is a name or an acronym (two capitals, or a quote).
    var lowercasedFirst: String {
        guard let f = first, f.isUppercase else { return self }
        let second = dropFirst().first
        if let second, second.isUppercase || second == " " { return self }
        return f.lowercased() + dropFirst()
    }
}
