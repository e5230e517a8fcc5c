import TwoSpeedModel

/// A whole assessment: scores, pitfalls, what to do next, and the analyses behind them.
public struct AssessmentResult: Codable, Sendable, Equatable {
    /// Set when the result is kept: the run's number within the portfolio.
    public var run: Int?
    public var portfolio: String
    public var organization: String
    public var revision: Int?
    public var model: ModelRef
    /// When the assessment ran, and the date the data speaks for.
    public var at: String
    public var asOf: String
    /// Three to five sentences for the board: level, weakest dimension, most severe finding, first step.
    public var summary: [String]?
    public var overall: OverallResult
    public var dimensions: [DimensionResult]
    public var pitfalls: [Finding]
    public var recommendations: [Recommendation]
    public var analyses: Analyses
    /// The engine's version that made the result (set on kept runs; absent in runs kept before).
    public var engine: String? = nil
    /// Answers that name no criterion of the model, and other things a reader should know.
    public var warnings: [String]
    /// What to supply where the data cannot say: one sentence per dimension with criteria not assessed,
    /// naming each and what would answer it; a dimension too thin for a level says so first.
    public var evidenceNeeded: [String]?

    public struct ModelRef: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var version: String
        public var levels: [AssessmentModel.Level]
        /// AdviceKey.modelHash of the model: two runs with different hashes assessed against different rules.
        public var hash: String? = nil
    }

    public struct Analyses: Codable, Sendable, Equatable {
        public var coverage: CoverageMap
        public var prioritization: Prioritization
        public var speed: SpeedAnalysis
        /// Pending experiments first, at most fifty; `experimentCount` says how many have counts.
        public var experiments: [ExperimentEvaluation]
        public var experimentCount: Int
        public var okrs: OKRAlignment
        public var accountability: Accountability
        /// The four keys of recorded delivery events by window, when the portfolio has any.
        public var delivery: DeliveryTrend? = nil
    }
}

public enum Assessor {
    /// Assesses a portfolio against a model. `answers` override the portfolio's own, criterion by criterion.
    /// `extraFindings` (from check plugins) join the engine's own, and its recommendations.
    public static func assess(_ portfolio: Portfolio, model: AssessmentModel, answers: [Answer] = [], asOf: String? = nil,
                              at: String, prioritization: String = "value", extraFindings: [Finding] = [],
                              delivery: DeliveryOverlay? = nil) -> AssessmentResult {
        let portfolio = delivery?.apply(portfolio) ?? portfolio
        let ctx = PortfolioContext(portfolio, asOf: asOf, fallback: at)
        if let delivery { ctx.deliveryFromEvents = Set(delivery.figures.keys) }
        var merged: [String: Answer] = [:]
        for a in portfolio.answers { merged[a.criterion] = a }
        for a in answers { merged[a.criterion] = a }
        let known = Set(model.criteria.map(\.id))
        var warnings: [String] = []
        let unknown = portfolio.answers.filter { !known.contains($0.criterion) }.map(\.criterion)
        if !unknown.isEmpty {
            warnings.append("the portfolio answers criteria this model does not have: \(unknown.joined(separator: ", "))")
        }
        var (dims, overall) = Scoring.score(ctx, model: model, answers: Array(merged.values))
        if let delivery, !delivery.figures.isEmpty {
            let basis = delivery.basis(portfolio)
            for d in dims.indices {
                for c in dims[d].criteria.indices where dims[d].criteria[c].fact.map({ DeliveryOverlay.deliveryFacts.contains($0.id) }) ?? false {
                    dims[d].criteria[c].deliveryBasis = basis
                }
            }
        }
        let findings = Pitfalls.detect(ctx) + extraFindings
        LevelCaps.apply(model: model, dimensions: &dims, overall: &overall, findings: findings)
        let recs = Recommender.rank(model: model, dimensions: dims, findings: findings)
        let measured = portfolio.experiments.filter { $0.control != nil && $0.variant != nil }
        let ordered = measured.filter { $0.decision == Decision.pending } + measured.filter { $0.decision != Decision.pending }
        let experiments = ordered.prefix(50).compactMap { try? ExperimentEvaluator.evaluate($0, in: portfolio) }
        let needed = EvidenceNeeded.list(model: model, dimensions: dims) + (EvidenceNeeded.unresolvedOwners(portfolio).map { [$0] } ?? [])
        if overall.sufficientEvidence == false {
            let share = Int(((overall.evidence ?? 0) * 100).rounded()), need = Int((model.minimumEvidence * 100).rounded())
            warnings.append("insufficient evidence for an overall level: \(share)% of the model has evidence, \(need)% is needed")
        }
        return AssessmentResult(
            run: nil, portfolio: portfolio.id, organization: portfolio.organization.name, revision: nil,
            model: .init(id: model.id, name: model.name, version: model.version, levels: model.levels,
                         hash: model.id == DefaultModel.id && model == DefaultModel.model ? AdviceKey.defaultModelHash : AdviceKey.modelHash(model)),
            at: at, asOf: ctx.asOf,
            summary: ExecutiveSummary.write(organization: portfolio.organization.name, model: model, overall: overall, dimensions: dims,
                                            findings: findings, recommendations: recs, evidenceNeeded: needed),
            overall: overall, dimensions: dims, pitfalls: findings, recommendations: recs,
            analyses: .init(coverage: Coverage.map(ctx), prioritization: Prioritizer.rank(ctx, method: prioritization, limit: 25),
                            speed: SpeedTiers.analyze(ctx), experiments: experiments, experimentCount: measured.count,
                            okrs: OKRs.align(ctx),
                            accountability: AccountabilityAnalysis.analyze(ctx), delivery: delivery?.trend),
            warnings: warnings, evidenceNeeded: needed)
    }
}

/// Two kept results compared: how each dimension moved and which pitfalls appeared or went away.
public struct AssessmentChange: Codable, Sendable, Equatable {
    public struct DimensionChange: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var from: Double?
        public var to: Double?
        public var delta: Double?
        public var levelFrom: Int?
        public var levelTo: Int?
    }
    public var from: Int
    public var to: Int
    public var overall: DimensionChange
    public var dimensions: [DimensionChange]
    public var pitfallsNew: [String]
    public var pitfallsResolved: [String]

    public init(from a: AssessmentResult, to b: AssessmentResult) {
        self.from = a.run ?? 0
        self.to = b.run ?? 0
        overall = .init(id: "overall", name: "Overall", from: a.overall.score, to: b.overall.score,
                        delta: round2(b.overall.score - a.overall.score), levelFrom: a.overall.level, levelTo: b.overall.level)
        let before = Dictionary(a.dimensions.map { ($0.id, $0) }, uniquingKeysWith: { x, _ in x })
        dimensions = b.dimensions.map { d in
            let old = before[d.id]
            let delta: Double? = (old?.score).flatMap { o in d.score.map { round2($0 - o) } }
            return .init(id: d.id, name: d.name, from: old?.score, to: d.score, delta: delta, levelFrom: old?.level, levelTo: d.level)
        }
        let pa = Set(a.pitfalls.map(\.pitfall)), pb = Set(b.pitfalls.map(\.pitfall))
        pitfallsNew = pb.subtracting(pa).sorted()
        pitfallsResolved = pa.subtracting(pb).sorted()
    }
}

/// The evidence a result asks for: every criterion not assessed, by dimension, with what would answer it.
public enum EvidenceNeeded {
    public static func list(model: AssessmentModel, dimensions: [DimensionResult]) -> [String] {
        let need = Int((model.minimumEvidence * 100).rounded())
        var out: [String] = []
        for d in dimensions {
            let open = d.criteria.filter { $0.score == nil }
            guard !open.isEmpty else { continue }
            var s = d.name
            if d.score == nil {
                s += " is not assessed, no evidence"
            } else if d.level == nil {
                s += " has no level, not enough evidence (\(Int((d.evidence * 100).rounded()))% of its criteria, \(need)% is needed)"
            } else {
                s += " is assessed without"
            }
            s += ": " + open.map { c in "\u{201C}\(c.text)\u{201D} (" + (c.evidenceNeeded ?? "answer it in the self-assessment") + ")" }
                .joined(separator: "; ")
            out.append(s + ".")
        }
        return out
    }

    /// One sentence for the owners the sources name outside the portfolio: which entities, which
    /// references, and what resolves them. nil when there are none.
    public static func unresolvedOwners(_ p: Portfolio) -> String? {
        let owners = p.unresolved.filter { $0.field == "owner" }
        guard !owners.isEmpty else { return nil }
        var byKind: [String: Int] = [:]
        for u in owners { byKind[u.kind, default: 0] += 1 }
        let counts = byKind.keys.sorted().map { k in "\(byKind[k]!) \(k)\(byKind[k]! == 1 ? "" : "s")" }
        let refs = Array(Set(owners.map(\.ref))).sorted()
        return "Ownership is unknown for " + Pitfalls.listed(counts) + " whose owner is outside the portfolio ("
            + refs.prefix(5).joined(separator: ", ") + (refs.count > 5 ? " and \(refs.count - 5) more" : "")
            + "): neither owned nor unowned until the groups and users they name are imported (from the org provider) or the owners are recorded."
    }
}
