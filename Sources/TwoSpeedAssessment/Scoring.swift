import TwoSpeedModel

/// One criterion's score and what it rests on.
public struct CriterionResult: Codable, Sendable, Equatable {
    public var id: String
    public var text: String
    public var weight: Double
    /// The derived fact, its value and its sentence.
    public var fact: FactValue?
    /// The fact mapped onto 1..5 through the criterion's scale.
    public var factScore: Double?
    public var answer: Answer?
    /// The combined score, nil when neither a fact nor an answer speaks to the criterion.
    public var score: Double?
    /// "facts and answer", "facts", "answer" or "no evidence".
    public var basis: String
    /// For a criterion on delivery figures when some system's come from recorded events: which systems'
    /// figures were computed from events and which were entered by hand.
    public var deliveryBasis: String? = nil
    /// Set when the criterion is not assessed (no score): what would answer it, the data to record or the
    /// self-assessment question, because the data cannot say (unknown is never scored as none).
    public var evidenceNeeded: String? = nil
}

public struct DimensionResult: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var weight: Double
    public var score: Double?
    public var level: Int?
    public var levelName: String?
    /// Share of the dimension's criterion weight that has evidence.
    public var evidence: Double
    public var criteria: [CriterionResult]
    /// Set when a cap holds the level down: the level the score alone reaches, and the caps that bind.
    public var scoreLevel: Int?
    public var caps: [AppliedCap]?
    /// false when less than the model's `minimumEvidence` of the dimension's criterion weight has evidence:
    /// the score stands for what was seen, but the dimension gets no level ("not enough evidence").
    public var sufficientEvidence: Bool? = nil
}

public struct OverallResult: Codable, Sendable, Equatable {
    /// The weighted mean of the dimensions with evidence (1 when none has any).
    public var score: Double
    /// nil when too little of the model has evidence for an overall level: "insufficient evidence".
    public var level: Int?
    public var levelName: String?
    /// Share of the model's weight (criterion weight within dimension weight) that has evidence.
    public var evidence: Double?
    /// Whether `evidence` reaches the model's `minimumEvidence`, so that the overall level stands.
    public var sufficientEvidence: Bool?
    /// Set when a cap holds the level down: the level the score alone reaches, and the caps that bind.
    public var scoreLevel: Int?
    public var caps: [AppliedCap]?
}

/// Scores a portfolio against a model. Each criterion takes its derived fact, mapped to 1..5 on its
/// scale, and the self-assessment answer, combined with the model's factWeight; a dimension is the
/// weighted mean of its scored criteria, the overall score the weighted mean of scored dimensions.
public enum Scoring {
    public static func score(_ ctx: PortfolioContext, model: AssessmentModel, answers: [Answer]) -> ([DimensionResult], OverallResult) {
        let byCriterion = Dictionary(answers.map { ($0.criterion, $0) }, uniquingKeysWith: { _, b in b })
        var factCache: [String: FactValue?] = [:]
        var dims: [DimensionResult] = []
        for d in model.dimensions {
            var crits: [CriterionResult] = []
            var sum = 0.0, weights = 0.0, allWeights = 0.0
            for c in d.criteria {
                allWeights += c.weight
                var fact: FactValue? = nil
                var factScore: Double? = nil
                if let f = c.fact {
                    if factCache[f] == nil { factCache[f] = .some(FactCatalog.compute(f, ctx)) }
                    fact = factCache[f]!
                    if let v = fact?.value, let s = c.scale, s.count == 2 {
                        let t = (v - s[0]) / (s[1] - s[0])
                        factScore = round2(1 + 4 * min(1, max(0, t)))
                    }
                }
                let answer = byCriterion[c.id]
                let score: Double?
                let basis: String
                switch (factScore, answer) {
                case let (f?, a?):
                    score = round2(model.factWeight * f + (1 - model.factWeight) * Double(a.score)); basis = "facts and answer"
                case let (f?, nil): score = f; basis = "facts"
                case let (nil, a?): score = Double(a.score); basis = "answer"
                default: score = nil; basis = "no evidence"
                }
                if let score { sum += c.weight * score; weights += c.weight }
                var result = CriterionResult(id: c.id, text: c.text, weight: c.weight, fact: fact, factScore: factScore,
                                             answer: answer, score: score, basis: basis)
                if score == nil {
                    let question = "answer it in the self-assessment (criterion \(c.id))"
                    result.evidenceNeeded = c.fact.flatMap { FactCatalog.needs[$0] }.map { "record \($0), or \(question)" } ?? question
                }
                crits.append(result)
            }
            let score = weights > 0 ? round2(sum / weights) : nil
            let evidence = allWeights > 0 ? round2(weights / allWeights) : 0
            // As for the overall: a level only when enough of the dimension speaks, never from one criterion
            // of four while the rest is unknown.
            let enough = evidence + 1e-9 >= model.minimumEvidence
            let level = enough ? score.map { model.level(for: $0) } : nil
            var result = DimensionResult(id: d.id, name: d.name, weight: d.weight, score: score, level: level?.level,
                                         levelName: level?.name, evidence: evidence, criteria: crits)
            if score != nil && !enough { result.sufficientEvidence = false }
            dims.append(result)
        }
        var sum = 0.0, weights = 0.0, covered = 0.0, all = 0.0
        for d in dims {
            if let s = d.score { sum += d.weight * s; weights += d.weight }
            covered += d.weight * d.evidence; all += d.weight
        }
        let overall = weights > 0 ? round2(sum / weights) : 1
        // Evidence first: an overall level only when enough of the model speaks, never from a handful of facts.
        let evidence = all > 0 ? round2(covered / all) : 0
        let sufficient = weights > 0 && evidence + 1e-9 >= model.minimumEvidence
        let level = sufficient ? model.level(for: overall) : nil
        return (dims, OverallResult(score: overall, level: level?.level, levelName: level?.name, evidence: evidence,
                                    sufficientEvidence: sufficient))
    }
}

func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
