import TwoSpeedAssessment
import TwoSpeedModel
import TwoSpeedSchema

// The advice and campaign methods' results (recommendation.*, campaign.*).

public struct DismissResult: Codable, Sendable, Equatable {
    public var key: String; public var dismissed: Bool; public var by: String; public var at: String; public var revision: Int
    public init(key: String, dismissed: Bool, by: String, at: String, revision: Int) {
        self.key = key; self.dismissed = dismissed; self.by = by; self.at = at; self.revision = revision
    }
}
public struct ReopenResult: Codable, Sendable, Equatable {
    public var key: String; public var reopened: Bool
    public init(key: String, reopened: Bool) { self.key = key; self.reopened = reopened }
}
public struct CampaignPutResult: Codable, Sendable, Equatable {
    public var id: String; public var revision: Int; public var created: Bool
    public init(id: String, revision: Int, created: Bool) { self.id = id; self.revision = revision; self.created = created }
}
public struct CampaignList: Codable, Sendable, Equatable {
    public var portfolio: String; public var campaigns: [CampaignReport]
    public init(portfolio: String, campaigns: [CampaignReport]) { self.portfolio = portfolio; self.campaigns = campaigns }
}

public struct OutcomeReport: Codable, Sendable, Equatable {
    public var portfolio: String
    public var method: String
    public var association: String
    public var alpha: Double
    public var minimumPoints: Int
    public var outcomes: [AdviceOutcome]
    /// Resolved advice whose rule the model gives no aim: nothing to follow.
    public var withoutAim: [String]
    public init(portfolio: String, method: String, association: String, alpha: Double, minimumPoints: Int, outcomes: [AdviceOutcome],
                withoutAim: [String]) {
        self.portfolio = portfolio; self.method = method; self.association = association; self.alpha = alpha
        self.minimumPoints = minimumPoints; self.outcomes = outcomes; self.withoutAim = withoutAim
    }
}

/// The JSON Schemas of the advice methods' results, for rpc.discover (a test validates real results against them).
public enum AdviceSchemas {
    public static let statuses = AdviceHistory.Status.allCases.map(\.rawValue)
    public static let subjects = Schema.array(ResultSchemas.subject)
    public static let dismissal = Schema.object("AdviceDismissal", required: ["key", "reason", "by", "at"], [
        "key": .string(), "reason": .string(maxLength: 4_000), "by": .string("the peer that dismissed it, or \"unknown\""),
        "at": .formatted(.timestamp)])
    public static let history: Schema = {
        let run = Schema.object("AdviceRun", required: ["run", "at", "asOf", "model", "modelHash", "engine", "modelChanged"], [
            "run": .integer(min: 1), "at": .formatted(.timestamp), "asOf": .formatted(.timestamp), "model": .string(),
            "modelHash": .string(), "engine": .string(),
            "modelChanged": .boolean("the model's hash, the model or the engine differs from the previous tracked run's")])
        let entry = Schema.object("AdviceEntry", required: ["key", "rule", "title", "subjects", "firstRun", "lastRun", "status", "runs"], [
            "key": .string(), "rule": .string("the pitfall or criterion behind it"), "pitfall": .string(), "title": .string(maxLength: 100_000),
            "subjects": subjects, "firstRun": .integer(min: 1), "lastRun": .integer(min: 1),
            "status": .oneOf(statuses, "its status at the latest tracked run"),
            "resolvedAt": .integer("the run at which it was resolved (acted on)", min: 1),
            "dismissal": dismissal,
            "runs": .array(.object("AdviceRunStatus", required: ["run", "status"], ["run": .integer(min: 1), "status": .oneOf(statuses)]))])
        let counts = Schema.object("AdviceCounts", required: ["open", "resolved", "dismissed", "regressed", "obsolete", "superseded",
                                                              "modelChanged", "actedOn"], [
            "open": .integer(min: 0), "resolved": .integer(min: 0), "dismissed": .integer(min: 0), "regressed": .integer(min: 0),
            "obsolete": .integer(min: 0), "superseded": .integer(min: 0), "modelChanged": .integer(min: 0),
            "actedOn": .integer("resolved advice: the only status counted as acted on", min: 0)])
        return .object("AdviceHistory", required: ["portfolio", "runs", "advice", "counts", "untracked"], [
            "portfolio": .identifier(), "runs": .array(run), "advice": .array(entry), "counts": counts,
            "untracked": .array(.integer(min: 1), "kept runs without an advice record (kept before advice was tracked): not used")])
    }()
    public static let campaignReport: Schema = {
        let rule = Schema.object("CampaignRuleProgress", required: ["rule", "inScope", "resolved"], [
            "rule": .string(), "inScope": .integer(min: 0), "resolved": .integer(min: 0), "progress": .number(min: 0, max: 1)])
        let item = Schema.object("CampaignAdviceItem", required: ["key", "rule", "status"], [
            "key": .string(), "rule": .string(), "status": .oneOf(statuses)])
        let point = Schema.object("CampaignBurnUpPoint", required: ["run", "at", "inScope", "resolved"], [
            "run": .integer(min: 1), "at": .formatted(.timestamp), "inScope": .integer(min: 0), "resolved": .integer(min: 0)])
        let keys = Schema.array(.string())
        return .object("CampaignReport", required: ["campaign", "revision", "updated", "status", "inScope", "resolved", "excluded",
                                                    "notes", "byRule", "advice", "burnUp"], [
            "campaign": Campaign.schema, "revision": .integer(min: 1), "updated": .formatted(.timestamp),
            "status": .oneOf(CampaignReport.statuses),
            "progress": .number("resolved ÷ advice in scope that counts; absent when none does", min: 0, max: 1),
            "inScope": .integer(min: 0), "resolved": .integer(min: 0),
            "excluded": .object("CampaignExcluded", "advice in scope left out of the denominator",
                                required: ["dismissed", "obsolete", "superseded", "modelChanged"],
                                ["dismissed": keys, "obsolete": keys, "superseded": keys, "modelChanged": keys]),
            "notes": .array(.string(maxLength: 100_000)), "byRule": .array(rule), "advice": .array(item), "burnUp": .array(point)])
    }()
}

extension AdviceSchemas {
    public static let outcome: Schema = {
        let estimate = Schema.object("OutcomeEstimate", required: ["shift", "low", "high", "standardError", "p", "trendPerDay", "degreesOfFreedom", "autocorrelation"], [
            "shift": .number("the level shift after the resolution, trend taken out"), "low": .number(), "high": .number(),
            "standardError": .number(min: 0), "p": .number(min: 0, max: 1), "trendPerDay": .number("the trend the fit takes out"),
            "degreesOfFreedom": .integer(min: 1),
            "autocorrelation": .number("the lag-one autocorrelation of the noise the interval allows for", min: 0, max: 1)])
        let outcome = Schema.object("AdviceOutcome", required: ["key", "rule", "title", "resolvedAt", "from", "to", "source", "series", "name",
                                                                "measure", "direction", "horizonDays", "status", "before", "after", "note"], [
            "key": .string(), "rule": .string(), "title": .string(maxLength: 100_000), "resolvedAt": .integer(min: 1),
            "from": .formatted(.timestamp, "the date of the run before the resolving one"), "to": .formatted(.timestamp, "the resolving run's date"),
            "source": .oneOf(["metric", "four-key", "dimension"]), "series": .string(), "name": .string(maxLength: 100_000),
            "measure": .string(), "direction": .oneOf(Direction.terms), "horizonDays": .integer(min: 1),
            "status": .oneOf(["estimated", "insufficient data"]), "before": .integer(min: 0), "after": .integer(min: 0),
            "estimate": estimate, "significant": .boolean(),
            "method": .oneOf(["segmented regression", "difference-in-differences"], "how the estimate was made"),
            "controls": .array(.string(), "with difference-in-differences: the comparison series"), "improved": .boolean("significant and in the better direction"),
            "modelChange": .string("a model or engine change inside the window"), "note": .string(maxLength: 100_000)])
        return .object("OutcomeReport", required: ["portfolio", "method", "association", "alpha", "minimumPoints", "outcomes", "withoutAim"], [
            "portfolio": .identifier(), "method": .string(maxLength: 10_000), "association": .string(maxLength: 10_000),
            "alpha": .number(min: 0, max: 1), "minimumPoints": .integer(min: 1), "outcomes": .array(outcome),
            "withoutAim": .array(.string(), "resolved advice whose rule the model gives no aim")])
    }()
}
