import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema

/// An assessment model: dimensions of criteria with weights, the derived facts that feed them, and the
/// level thresholds. The default model and custom ones are the same kind of JSON document.
public struct AssessmentModel: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var version: String
    public var description: String?
    public var source: String?
    /// Levels in ascending order; a score at or above `minScore` reaches the level.
    public var levels: [Level]
    /// How much derived facts count against self-assessment answers when a criterion has both (0..1).
    public var factWeight: Double
    /// The share of the model's weight that must have evidence before an overall level is given (0..1).
    public var minimumEvidence: Double
    /// Rubric caps: what holds a level below what its score reaches.
    public var levelCaps: [LevelCap]
    public var dimensions: [Dimension]
    /// What each piece of advice aims at: the dimension acting on it should raise and the measures it
    /// should move (recommendation.outcomes reads them). A rule without an aim has no outcome to follow.
    public var aims: [Aim]

    enum CodingKeys: String, CodingKey { case id, name, version, description, source, levels, factWeight, minimumEvidence, levelCaps, dimensions, aims }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        levels = try c.decode([Level].self, forKey: .levels)
        factWeight = try c.decodeIfPresent(Double.self, forKey: .factWeight) ?? 0.6
        minimumEvidence = try c.decodeIfPresent(Double.self, forKey: .minimumEvidence) ?? 0.5
        levelCaps = try c.decodeIfPresent([LevelCap].self, forKey: .levelCaps) ?? []
        dimensions = try c.decode([Dimension].self, forKey: .dimensions)
        aims = try c.decodeIfPresent([Aim].self, forKey: .aims) ?? []
    }

    /// The advice of `rule` (a pitfall's or a criterion's id) should raise `dimension` and move each
    /// measure its way within `horizonDays` of being acted on.
    public struct Aim: Codable, Sendable, Equatable {
        public var rule: String
        public var dimension: String?
        public var horizonDays: Int
        public var measures: [Measure]
        /// Where the aim comes from (an article), for the reader.
        public var source: String?
    }

    /// A measure advice should move. `metric`: the metrics of `category` that the advice's subjects
    /// influence (its products' and managers' metrics, an objective's key results), each in its own
    /// direction unless `direction` says otherwise. `four-key`: DORA's `key` (deploysPerMonth,
    /// leadTimeHours, changeFailureRate, recoveryHours) of the subject systems, and of the subject
    /// products' systems, by week from the recorded delivery events.
    public struct Measure: Codable, Sendable, Equatable {
        public var source: String
        public var category: String?
        public var key: String?
        /// "higher" or "lower"; for a metric, absent means the metric's own direction.
        public var direction: String?
    }

    public static let fourKeys = ["deploysPerMonth", "leadTimeHours", "changeFailureRate", "recoveryHours"]

    public struct Level: Codable, Sendable, Equatable {
        public var level: Int
        public var name: String
        public var minScore: Double
    }

    /// A check a level depends on. Triggered by a finding (of `pitfall`, or of `severity`, or both) or by
    /// `criterion` scoring below `below`; then the level of `dimensions` (default: those the finding's or
    /// the criterion's criteria belong to) and, unless `overall` is false, the overall level are at most
    /// `maxLevel`.
    public struct LevelCap: Codable, Sendable, Equatable {
        public var pitfall: String?
        public var severity: String?
        public var criterion: String?
        public var below: Double?
        public var maxLevel: Int
        public var dimensions: [String]?
        public var overall: Bool?
        /// Words for the report, e.g. "a standing high-severity pitfall".
        public var reason: String?
    }

    public struct Dimension: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var description: String?
        public var weight: Double
        public var criteria: [Criterion]
    }

    public struct Criterion: Codable, Sendable, Equatable {
        public var id: String
        /// The statement a self-assessment answers, on 1 (not at all) to 5 (fully).
        public var text: String
        public var weight: Double
        /// A derived fact from the catalog; nil for criteria only people can judge.
        public var fact: String?
        /// The fact's values that score 1 and 5; values between map linearly, beyond are clamped.
        /// [0, 1] for a share where more is better; [720, 24] for a lead time in hours.
        public var scale: [Double]?
        /// What to do when the criterion scores low.
        public var recommendation: String?
        /// Relative effort of that recommendation, 1 (days) to 5 (a year or more).
        public var effort: Double?
    }

    public func level(for score: Double) -> Level {
        levels.last { score >= $0.minScore - 1e-9 } ?? levels[0]
    }
}

extension AssessmentModel {
    public static let schema: Schema = {
        let level = Schema.object("Level", required: ["level", "name", "minScore"], [
            "level": .integer(min: 1, max: 100), "name": .name(), "minScore": .number(),
        ])
        let criterion = Schema.object("Criterion", required: ["id", "text", "weight"], [
            "id": .identifier(),
            "text": .string(minLength: 1, maxLength: 2_000),
            "weight": .number(exclusiveMin: 0),
            "fact": .oneOf(FactCatalog.ids, "a derived fact of the catalog"),
            "scale": .array(.number(), "the fact values that score 1 and 5", minItems: 2, maxItems: 2),
            "recommendation": .string(maxLength: 2_000),
            "effort": .number("1 (days) to 5 (a year or more)", min: 1, max: 5),
        ])
        let cap = Schema.object("LevelCap", "A rubric check: a finding or a weak criterion holds levels at most at maxLevel.",
                                required: ["maxLevel"], [
            "pitfall": .identifier("a finding of this pitfall triggers the cap"),
            "severity": .oneOf(["high", "medium", "low"], "a finding of this severity triggers the cap"),
            "criterion": .identifier("with below: this criterion scoring below the threshold triggers the cap"),
            "below": .number("the criterion score (1..5) under which the cap holds", min: 1, max: 5),
            "maxLevel": .integer("the highest level held while the cap stands", min: 1, max: 100),
            "dimensions": .array(.identifier(), "the dimensions capped (default: those the finding or criterion concerns)", maxItems: 100),
            "overall": .boolean("whether the overall level is capped too (default true)"),
            "reason": .string("why, for the report", maxLength: 2_000),
        ])
        let measure = Schema.object("AimMeasure", "a measure the advice should move", required: ["source"], [
            "source": .oneOf(["metric", "four-key"], "metrics of a category, or one of DORA's four keys"),
            "category": .string("with metric: the metrics' category", maxLength: 200),
            "key": .oneOf(AssessmentModel.fourKeys, "with four-key: the key"),
            "direction": .oneOf(Direction.terms, "which way is better (a metric's own direction when absent)"),
        ])
        let aim = Schema.object("Aim", "what the advice of one rule aims at", required: ["rule", "horizonDays", "measures"], [
            "rule": .identifier("a pitfall's or a criterion's id"),
            "dimension": .identifier("the dimension acting on it should raise"),
            "horizonDays": .integer("how long before and after it is acted on to look", min: 7, max: 3_650),
            "measures": .array(measure, maxItems: 20),
            "source": .string(maxLength: 2_000),
        ])
        let dimension = Schema.object("Dimension", required: ["id", "name", "weight", "criteria"], [
            "id": .identifier(), "name": .name(), "description": .string(maxLength: 4_000),
            "weight": .number(exclusiveMin: 0),
            "criteria": .array(criterion, minItems: 1, maxItems: 200),
        ])
        return .object("AssessmentModel", "An assessment model: dimensions, criteria, facts and levels.",
                       required: ["id", "name", "version", "levels", "dimensions"], [
            "id": .identifier(), "name": .name(), "version": .name(),
            "description": .string(maxLength: 8_000), "source": .string(maxLength: 2_000),
            "levels": .array(level, minItems: 2, maxItems: 20),
            "factWeight": .number("weight of derived facts against answers when a criterion has both", min: 0, max: 1),
            "minimumEvidence": .number("share of the model's weight that needs evidence for an overall level (default 0.5)", min: 0, max: 1),
            "levelCaps": .array(cap, "rubric checks that hold levels down while a finding or weak criterion stands", maxItems: 200),
            "dimensions": .array(dimension, minItems: 1, maxItems: 100),
            "aims": .array(aim, "what each piece of advice aims at, for recommendation.outcomes", maxItems: 1_000),
        ])
    }()

    /// The checks beyond the schema: unique ids, levels that rise, a scale for every fact.
    public func check(at base: JSONPointer, into issues: inout IssueList) {
        var dims = Set<String>(), crits = Set<String>()
        for (i, l) in levels.enumerated() where i > 0 {
            if l.level <= levels[i - 1].level { issues.add(base / "levels" / i / "level", "levels must rise") }
            if l.minScore <= levels[i - 1].minScore { issues.add(base / "levels" / i / "minScore", "thresholds must rise") }
        }
        for (i, d) in dimensions.enumerated() {
            if !dims.insert(d.id).inserted { issues.add(base / "dimensions" / i / "id", "duplicate dimension id \"\(d.id)\"") }
            for (j, c) in d.criteria.enumerated() {
                let at = base / "dimensions" / i / "criteria" / j
                if !crits.insert(c.id).inserted { issues.add(at / "id", "duplicate criterion id \"\(c.id)\"") }
                if c.fact != nil, c.scale == nil { issues.add(at / "scale", "required with a fact") }
                if let s = c.scale, s.count == 2, s[0] == s[1] { issues.add(at / "scale", "the two ends must differ") }
                if c.fact == nil, c.scale != nil { issues.add(at / "fact", "required with a scale") }
            }
        }
        var aimed = Set<String>()
        for (i, aim) in aims.enumerated() {
            let at = base / "aims" / i
            if !aimed.insert(aim.rule).inserted { issues.add(at / "rule", "a second aim for \"\(aim.rule)\"") }
            if let d = aim.dimension, !dims.contains(d) { issues.add(at / "dimension", "no dimension \"\(d)\" in this model") }
            for (j, m) in aim.measures.enumerated() {
                if m.source == "metric", m.category == nil { issues.add(at / "measures" / j / "category", "required with source metric") }
                if m.source == "four-key", m.key == nil { issues.add(at / "measures" / j / "key", "required with source four-key") }
            }
        }
        let levelNumbers = Set(levels.map(\.level))
        for (i, cap) in levelCaps.enumerated() {
            let at = base / "levelCaps" / i
            if cap.pitfall == nil && cap.severity == nil && cap.criterion == nil {
                issues.add(at, "needs a pitfall, a severity or a criterion to trigger it")
            }
            if cap.criterion != nil && (cap.pitfall != nil || cap.severity != nil) {
                issues.add(at / "criterion", "a cap is triggered by a finding or by a criterion, not both")
            }
            if let c = cap.criterion, !crits.contains(c) { issues.add(at / "criterion", "no criterion \"\(c)\" in this model") }
            if cap.criterion != nil, cap.below == nil { issues.add(at / "below", "required with a criterion") }
            if !levelNumbers.contains(cap.maxLevel) { issues.add(at / "maxLevel", "not a level of this model") }
            for (j, d) in (cap.dimensions ?? []).enumerated() where !dims.contains(d) {
                issues.add(at / "dimensions" / j, "no dimension \"\(d)\" in this model")
            }
        }
    }

    public var criteria: [Criterion] { dimensions.flatMap(\.criteria) }
}

