/// One thing to do next, with why and what it is expected to bring.
public struct Recommendation: Codable, Sendable, Equatable {
    public var rank: Int
    /// Stable across runs while the situation that triggers it does not change (AdviceKey); absent in
    /// results kept before keys existed.
    public var key: String? = nil
    public var title: String
    public var action: String
    /// The pitfall behind it, when there is one.
    public var pitfall: String?
    /// That pitfall's severity; nil for a weak criterion no pitfall covers.
    public var severity: String?
    public var dimensions: [String]
    public var criteria: [String]
    public var subjects: [Subject]
    /// Points of the overall score (on 1..5) available if the criteria it lifts reached 5.
    public var expectedGain: Double
    /// 1 (days) to 5 (a year or more).
    public var effort: Double
    /// expectedGain × weakness of the dimensions it serves / effort: the ranking key.
    public var priority: Double
    public var why: String
}

/// Ranks what to do next: each pitfall found, and each weak criterion no pitfall already covers.
/// Severity comes first, as a consultant would put it to a board: high-severity pitfalls, then medium,
/// then low, then criteria no pitfall covers, after any step that moves the score at all (a gain of 0
/// never ranks above a gain); within each, the score it can recover on the weakest
/// dimensions against the effort it needs. A criterion without evidence is not advice but a gap in
/// the data, so it is left to the evidence list rather than ranked.
public enum Recommender {
    static func severityRank(_ s: String?) -> Int {
        switch s { case "high": return 0; case "medium": return 1; case "low": return 2; case nil: return 4; default: return 3 }
    }

    public static func rank(model: AssessmentModel, dimensions: [DimensionResult], findings: [Finding], limit: Int = 20) -> [Recommendation] {
        var dimOfCriterion: [String: DimensionResult] = [:]
        var resultOfCriterion: [String: CriterionResult] = [:]
        for d in dimensions { for c in d.criteria { dimOfCriterion[c.id] = d; resultOfCriterion[c.id] = c } }
        let modelCriteria = Dictionary(model.criteria.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let totalDimWeight = dimensions.filter { $0.score != nil }.reduce(0) { $0 + $1.weight }
        guard totalDimWeight > 0 else { return [] }

        /// What raising a criterion to 5 adds to the overall score.
        func gain(_ id: String) -> Double {
            guard let d = dimOfCriterion[id], let c = resultOfCriterion[id] else { return 0 }
            let dimCriterionWeight = d.criteria.filter { $0.score != nil }.reduce(0) { $0 + $1.weight }
            let score = c.score ?? 1
            let weightInDim = c.score == nil ? c.weight / (dimCriterionWeight + c.weight) : c.weight / dimCriterionWeight
            return (5 - score) * weightInDim * d.weight / totalDimWeight
        }
        /// Weaker dimensions count more: 1 for a dimension at 5, 2 for one at 1.
        func weakness(_ ids: [String]) -> Double {
            let scores = ids.compactMap { dimOfCriterion[$0]?.score }
            guard let worst = scores.min() else { return 1 }
            return 1 + (5 - worst) / 4
        }

        var out: [Recommendation] = []
        var covered = Set<String>()
        for f in findings {
            let crits = f.criteria.filter { dimOfCriterion[$0] != nil }
            covered.formUnion(crits)
            let g = crits.reduce(0) { $0 + gain($1) }
            let effort = Pitfalls.effort(of: f.pitfall)
            let dims = Array(Set(crits.compactMap { dimOfCriterion[$0]?.id })).sorted()
            out.append(Recommendation(rank: 0, key: AdviceKey.make(rule: f.pitfall, subjects: f.subjects, subjectCount: f.subjectCount, all: f.allSubjects),
                                      title: "Fix: \(f.name)", action: f.recommendation, pitfall: f.pitfall,
                                      severity: f.severity, dimensions: dims, criteria: crits, subjects: f.subjects, expectedGain: round2(g),
                                      effort: effort, priority: round4(g * weakness(crits) / effort),
                                      why: f.evidence.first ?? f.name))
        }
        for d in dimensions {
            for c in d.criteria where !covered.contains(c.id) {
                guard let mc = modelCriteria[c.id], let action = mc.recommendation else { continue }
                guard let score = c.score, score < 3.4 else { continue }
                let g = gain(c.id)
                let effort = mc.effort ?? 3
                let why: String
                if let f = c.fact { why = f.detail + (c.answer.map { "; self-assessed \($0.score) of 5" } ?? "") }
                else if let a = c.answer { why = "self-assessed \(a.score) of 5" + (a.evidence.map { ": \($0)" } ?? "") }
                else { why = "scored \(score) of 5" }
                out.append(Recommendation(rank: 0, key: AdviceKey.make(rule: c.id, subjects: c.fact?.subjects ?? [], all: c.fact?.allSubjects),
                                          title: c.text, action: action, pitfall: nil, severity: nil, dimensions: [d.id],
                                          criteria: [c.id], subjects: c.fact?.subjects ?? [], expectedGain: round2(g),
                                          effort: effort, priority: round4(g * weakness([c.id]) / effort), why: why))
            }
        }
        out.sort {
            // A step that moves nothing (its criteria already at 5, or not assessable) never goes before one that does.
            let ma = $0.expectedGain > 0, mb = $1.expectedGain > 0
            if ma != mb { return ma }
            let a = severityRank($0.severity), b = severityRank($1.severity)
            if a != b { return a < b }
            return $0.priority != $1.priority ? $0.priority > $1.priority : $0.title < $1.title
        }
        return out.prefix(limit).enumerated().map { i, r in var r = r; r.rank = i + 1; return r }
    }
}
