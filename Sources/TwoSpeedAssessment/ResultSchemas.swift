import TwoSpeedModel
import TwoSpeedSchema

/// JSON Schemas of the assessment's results, for rpc.discover. A test validates real results against
/// them (unknown fields are refused), so they cannot drift from the Swift types.
public enum ResultSchemas {
    static let num = Schema.number()
    static let share = Schema.number(min: 0, max: 1)
    static let score = Schema.number(min: 1, max: 5)
    static let text = Schema.string(maxLength: 1_000_000)
    static let int = Schema.integer()
    static func list(_ s: Schema) -> Schema { .array(s) }
    static func nullable(_ s: Schema) -> Schema { s }

    public static let subject = Schema.object("Subject", required: ["kind", "id", "name"], [
        "kind": .string(), "id": .string(), "name": text,
    ])
    public static let fact = Schema.object("FactValue", required: ["id", "value", "detail"], [
        "id": .string(), "value": num, "detail": text, "subjects": list(subject),
    ])
    public static let criterion = Schema.object("CriterionResult", required: ["id", "text", "weight", "basis"], [
        "id": .string(), "text": text, "weight": num, "fact": fact, "factScore": score,
        "answer": ModelSchemas.answer, "score": score,
        "basis": .oneOf(["facts and answer", "facts", "answer", "no evidence"]),
        "deliveryBasis": text,
        "evidenceNeeded": .string("set when not assessed: what would answer the criterion", maxLength: 1_000_000),
    ])
    static let cap = Schema.object("AppliedCap", "A rubric cap holding a level below what the score reaches.",
                                   required: ["maxLevel", "levelName", "reason"], [
        "maxLevel": int, "levelName": .string(), "reason": text, "pitfall": .string(), "criterion": .string(),
    ])
    public static let dimension = Schema.object("DimensionResult", required: ["id", "name", "weight", "evidence", "criteria"], [
        "id": .string(), "name": text, "weight": num, "score": score, "level": int, "levelName": .string(),
        "evidence": share, "criteria": list(criterion),
        "scoreLevel": int, "caps": list(cap),
        "sufficientEvidence": .boolean("false: too little of the dimension has evidence for a level (its score stands for what was seen)"),
    ])
    public static let overall = Schema.object("OverallResult", required: ["score"], [
        "score": score, "level": int, "levelName": .string(), "scoreLevel": int, "caps": list(cap),
        "evidence": share, "sufficientEvidence": .boolean("false: too little of the model has evidence for an overall level"),
    ])
    public static let finding = Schema.object("Finding", required: ["pitfall", "name", "severity", "subjects", "subjectCount", "evidence",
                                                                    "recommendation", "source", "criteria"], [
        "pitfall": .string(), "name": text, "severity": .oneOf(["high", "medium", "low"]), "subjects": list(subject),
        "subjectCount": .integer(min: 1),
        "evidence": list(text), "recommendation": text, "source": text, "criteria": list(.string()), "plugin": .string(),
    ])
    public static let recommendation = Schema.object("Recommendation", required: [
        "rank", "title", "action", "dimensions", "criteria", "subjects", "expectedGain", "effort", "priority", "why"], [
        "rank": .integer(min: 1), "title": text, "action": text, "pitfall": .string(),
        "key": .string("stable across runs while what triggers it does not change: rule:subject:fingerprint (recommendation.history follows it)", maxLength: 10_000),
        "severity": .oneOf(["high", "medium", "low"], "the severity of the pitfall behind it; absent for a weak criterion"),
        "dimensions": list(.string()),
        "criteria": list(.string()), "subjects": list(subject), "expectedGain": num, "effort": num, "priority": num, "why": text,
    ])
    public static let coverage: Schema = {
        let cell = Schema.object("CoverageCell", required: ["stage", "name", "owners", "products", "productCount", "metrics",
                                                            "metricCount", "status"], [
            "stage": .string(), "name": text, "owners": list(subject), "products": list(subject),
            "productCount": .integer(min: 0), "metrics": list(subject), "metricCount": .integer(min: 0),
            "status": .oneOf(["owned", "unowned", "uncovered", "doubly-owned", "owner-unknown"]),
        ])
        let row = Schema.object("CoverageRow", required: ["journey", "name", "kind", "stages"], [
            "journey": .string(), "name": text, "kind": .string(), "stages": list(cell),
        ])
        return .object("CoverageMap", required: ["journeys", "unowned", "doublyOwned"], [
            "journeys": list(row), "unowned": list(.string()), "doublyOwned": list(.string()),
            "ownerUnknown": list(.string()).described("stages whose products' owners are outside the portfolio (unresolved references): not assessed"),
        ])
    }()
    public static let prioritization: Schema = {
        let item = Schema.object("PriorityItem", required: ["rank", "product", "score", "explanation"], [
            "rank": .integer(min: 1), "product": subject, "score": num, "explanation": text,
        ])
        return .object("Prioritization", required: ["method", "formula", "ranked", "total", "unscored", "unscoredTotal"], [
            "method": .oneOf(Prioritizer.methods), "formula": text, "ranked": list(item), "total": .integer(min: 0),
            "unscored": list(subject), "unscoredTotal": .integer(min: 0),
        ])
    }()
    public static let speed: Schema = {
        let tiers = SpeedTier.allCases.map(\.rawValue)
        let system = Schema.object("SystemTier", required: ["system", "layer", "byKey"], [
            "system": subject, "layer": .string(), "tier": .oneOf(tiers), "stability": .oneOf(tiers), "byKey": .map(.oneOf(tiers)),
            "delivery": ModelSchemas.delivery,
            "source": .oneOf(["events", "entered"], "where the delivery figures come from, when some system has recorded events"),
        ])
        let coupling = Schema.object("Coupling", required: ["from", "to", "kind", "blocking", "reason"], [
            "from": subject, "to": subject, "kind": .string(), "fromTier": .oneOf(tiers), "toTier": .oneOf(tiers),
            "blocking": .boolean(), "reason": text,
        ])
        return .object("SpeedAnalysis", required: ["reference", "systems", "layers", "couplings"], [
            "reference": text, "systems": list(system), "layers": .map(.map(.integer(min: 0))), "couplings": list(coupling),
        ])
    }()
    public static let experiment: Schema = {
        let arm = Schema.object(required: ["users", "conversions", "rate"], ["users": .integer(min: 0), "conversions": .integer(min: 0), "rate": share])
        let interval = Schema.object(required: ["low", "high"], ["low": num, "high": num])
        return .object("ExperimentEvaluation", required: ["direction", "improvement", "confidence", "control", "variant", "lift", "test",
                                                          "sampleRatio", "minimumDetectableLift", "recommendation"], [
            "experiment": .string(), "product": .string(), "metric": .string(),
            "direction": .oneOf(Direction.terms), "improvement": num, "confidence": share, "control": arm, "variant": arm,
            "lift": .object(required: ["absolute", "absoluteInterval"], [
                "absolute": num, "absoluteInterval": interval, "relative": num, "relativeInterval": interval]),
            "test": .object(required: ["method", "z", "p", "significant", "alpha"], [
                "method": .string(), "z": num, "p": share, "significant": .boolean(), "alpha": share]),
            "sampleRatio": .object(required: ["expectedShare", "observedShare", "chiSquare", "p", "mismatch"], [
                "expectedShare": share, "observedShare": share, "chiSquare": .number(min: 0), "p": share, "mismatch": .boolean()]),
            "minimumDetectableLift": num,
            "recommendation": .object(required: ["action", "nextShare", "reason"], [
                "action": .oneOf([Decision.expand, .iterate, .rollBack].map(\.rawValue)), "nextShare": share, "reason": text]),
        ])
    }()
    public static let okrs: Schema = {
        let kr = Schema.object(required: ["description", "orphan"], [
            "description": text, "metric": .string(), "latest": num, "target": num, "orphan": .boolean()])
        let objective = Schema.object(required: ["okr", "departments", "shared", "products", "productCount", "keyResults"], [
            "okr": subject, "departments": list(.string()), "parent": .string(), "shared": .boolean(),
            "products": list(subject), "productCount": .integer(min: 0), "keyResults": list(kr)])
        return .object("OKRAlignment", required: ["objectives", "orphanKeyResults", "productsWithoutObjective",
                                                  "productsWithoutObjectiveCount"], [
            "objectives": list(objective), "sharedShare": share, "orphanKeyResults": .integer(min: 0),
            "productsWithoutObjective": list(subject), "productsWithoutObjectiveCount": .integer(min: 0)])
    }()
    public static let accountability: Schema = {
        let m = Schema.object(required: ["manager", "measuredOn", "influenceable", "notInfluenceable", "products"], [
            "manager": subject, "measuredOn": .integer(min: 0), "influenceable": .integer(min: 0), "share": share,
            "notInfluenceable": list(subject), "products": .integer(min: 0)])
        return .object("Accountability", required: ["managers"], ["managers": list(m)])
    }()
    /// DORA's four keys of one system (or of all, pooled) in one window: FourKeys.Figures.
    public static let fourKeys: Schema = {
        let tiers = SpeedTier.allCases.map(\.rawValue)
        return .object("FourKeys", required: ["system", "deployments", "successfulDeployments", "failedDeployments",
                                              "changes", "incidents", "openIncidents", "deploysPerMonth", "buckets"], [
            "system": .string(), "deployments": .integer(min: 0), "successfulDeployments": .integer(min: 0),
            "failedDeployments": .integer(min: 0), "changes": .integer(min: 0), "incidents": .integer(min: 0),
            "openIncidents": .integer(min: 0), "deploysPerMonth": .number(min: 0), "leadTimeHours": .number(min: 0),
            "changeFailureRate": .number(min: 0, max: 1), "recoveryHours": .number(min: 0),
            "buckets": .map(.oneOf(tiers)), "tier": .oneOf(tiers), "stability": .oneOf(tiers)])
    }()
    public static let level = Schema.object(required: ["level", "name", "minScore"], ["level": int, "name": .string(), "minScore": num])

    public static let result = Schema.object("AssessmentResult", required: [
        "portfolio", "organization", "model", "at", "asOf", "overall", "dimensions", "pitfalls", "recommendations",
        "analyses", "warnings"], [
        "run": .integer(min: 1), "portfolio": .string(), "organization": text, "revision": .integer(min: 1),
        "model": .object(required: ["id", "name", "version", "levels"], [
            "id": .string(), "name": text, "version": .string(), "levels": list(level),
            "hash": .string("a fingerprint of the whole model: runs with different hashes were assessed against different rules")]),
        "at": .formatted(.timestamp), "asOf": .formatted(.timestamp), "overall": overall, "dimensions": list(dimension),
        "pitfalls": list(finding), "recommendations": list(recommendation),
        "analyses": .object(required: ["coverage", "prioritization", "speed", "experiments", "experimentCount", "okrs", "accountability"], [
            "coverage": coverage, "prioritization": prioritization, "speed": speed, "experiments": list(experiment),
            "experimentCount": .integer(min: 0),
            "okrs": okrs, "accountability": accountability, "delivery": DeliveryTrend.schema]),
        "warnings": list(text), "evidenceNeeded": list(text), "summary": list(text),
        "engine": .string("the engine version that made a kept result"),
    ])

    public static let change: Schema = {
        let d = Schema.object(required: ["id", "name"], [
            "id": .string(), "name": text, "from": num, "to": num, "delta": num, "levelFrom": int, "levelTo": int])
        return .object("AssessmentChange", required: ["from", "to", "overall", "dimensions", "pitfallsNew", "pitfallsResolved"], [
            "from": .integer(min: 1), "to": .integer(min: 1), "overall": d, "dimensions": list(d),
            "pitfallsNew": list(.string()), "pitfallsResolved": list(.string())])
    }()
}
