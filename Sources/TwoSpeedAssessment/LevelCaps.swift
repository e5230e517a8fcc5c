import TwoSpeedModel

/// One cap that holds a level below what the score alone reaches, and why.
public struct AppliedCap: Codable, Sendable, Equatable {
    public var maxLevel: Int
    public var levelName: String
    public var reason: String
    /// The finding behind it, when a pitfall caps.
    public var pitfall: String?
    /// The criterion behind it, when a weak criterion caps.
    public var criterion: String?
}

/// Rubric semantics (OpsLevel's, Backstage Tech Insights' maturity ranks): a level is held only when its
/// checks pass. Scores stay weighted means; the level is the lower of what the score reaches and what
/// the model's caps allow. A cap names a finding (by pitfall or by severity) or a criterion scoring
/// below a threshold; it caps the dimensions it concerns (by default those of the finding's or the
/// criterion's criteria) and, unless it says otherwise, the overall level.
public enum LevelCaps {
    public static func apply(model: AssessmentModel, dimensions: inout [DimensionResult], overall: inout OverallResult,
                             findings: [Finding]) {
        guard !model.levelCaps.isEmpty else { return }
        var dimOfCriterion: [String: String] = [:]
        for d in model.dimensions { for c in d.criteria { dimOfCriterion[c.id] = d.id } }
        let criterionScore = Dictionary(dimensions.flatMap(\.criteria).map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
        let levelName = { (l: Int) in model.levels.first { $0.level == l }?.name ?? "level \(l)" }

        var byDimension: [String: [AppliedCap]] = [:]
        var onOverall: [AppliedCap] = []
        for cap in model.levelCaps {
            // What triggers it: findings that match, or the criterion below its threshold.
            var triggers: [(reason: String, pitfall: String?, criterion: String?, concerns: [String])] = []
            if cap.pitfall != nil || cap.severity != nil {
                for f in findings where (cap.pitfall.map { $0 == f.pitfall } ?? true) && (cap.severity.map { $0 == f.severity } ?? true) {
                    let who = f.subjects.prefix(3).map { "\u{201C}\($0.name)\u{201D}" }.joined(separator: ", ")
                    let reason = cap.reason ?? "a standing \(f.severity)-severity pitfall"
                    triggers.append(("\(reason): \(f.name)" + (who.isEmpty ? "" : " (\(who))"), f.pitfall, nil,
                                     f.criteria.compactMap { dimOfCriterion[$0] }))
                }
            } else if let cid = cap.criterion, let threshold = cap.below, let score = criterionScore[cid] ?? nil, score < threshold {
                let text = model.criteria.first { $0.id == cid }?.text ?? cid
                let reason = cap.reason ?? "a criterion below \(fmtNumber(threshold, digits: 2))"
                triggers.append(("\(reason): \u{201C}\(text)\u{201D} scores \(fmtNumber(score, digits: 2))", nil, cid,
                                 dimOfCriterion[cid].map { [$0] } ?? []))
            }
            for t in triggers {
                let applied = AppliedCap(maxLevel: cap.maxLevel, levelName: levelName(cap.maxLevel), reason: t.reason,
                                         pitfall: t.pitfall, criterion: t.criterion)
                for d in Set(cap.dimensions ?? t.concerns) { byDimension[d, default: []].append(applied) }
                if cap.overall ?? true { onOverall.append(applied) }
            }
        }
        for i in dimensions.indices {
            guard let level = dimensions[i].level, let caps = byDimension[dimensions[i].id] else { continue }
            let binding = caps.filter { $0.maxLevel < level }
            guard let lowest = binding.map(\.maxLevel).min() else { continue }
            dimensions[i].scoreLevel = level
            dimensions[i].level = lowest
            dimensions[i].levelName = levelName(lowest)
            dimensions[i].caps = binding.sorted { $0.maxLevel < $1.maxLevel }
        }
        if let level = overall.level {
            let binding = onOverall.filter { $0.maxLevel < level }
            if let lowest = binding.map(\.maxLevel).min() {
                overall.scoreLevel = level
                overall.level = lowest
                overall.levelName = levelName(lowest)
                overall.caps = binding.sorted { $0.maxLevel < $1.maxLevel }
            }
        }
    }
}
