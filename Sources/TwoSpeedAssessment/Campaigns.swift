import TwoSpeedSchema

/// A campaign: a manager drives some advice to resolution across part of the portfolio by a date.
public struct Campaign: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The manager who owns it (a manager's id in the portfolio).
    public var owner: String
    public var description: String?
    /// What it covers; absent or empty: the whole portfolio.
    public var scope: Scope?
    /// The advice it drives: by rule (a pitfall's or a criterion's id, every key of it) or by key.
    public var advice: Selector
    /// Dates (YYYY-MM-DD): before `start` it is a draft; after `target` with work left it is delayed.
    public var start: String
    public var target: String

    public struct Scope: Codable, Sendable, Equatable {
        public var products: [String]?
        public var systems: [String]?
        public var teams: [String]?
        /// Entities of these departments (products, systems, teams, managers).
        public var departments: [String]?
        /// Systems of these layers, and the products built on them.
        public var layers: [String]?
        public var isEmpty: Bool {
            [products, systems, teams, departments, layers].allSatisfy { ($0 ?? []).isEmpty }
        }
    }
    public struct Selector: Codable, Sendable, Equatable {
        public var pitfalls: [String]?
        public var keys: [String]?
    }

    public static let schema: Schema = {
        let ids = Schema.array(.identifier(), maxItems: 10_000)
        return .object("Campaign", "A campaign: a manager drives advice to resolution in a scope by a target date.",
                       required: ["id", "name", "owner", "advice", "start", "target"], [
            "id": .identifier(), "name": .name(), "owner": .identifier("the manager who owns it"),
            "description": .string(maxLength: 8_000),
            "scope": .object("CampaignScope", "what it covers (absent or empty: the whole portfolio)", required: [], [
                "products": ids, "systems": ids, "teams": ids,
                "departments": ids.described("entities of these departments"),
                "layers": .array(.string(maxLength: 200), "systems of these layers and the products built on them", maxItems: 100)]),
            "advice": .object("CampaignAdvice", "the advice it drives: every key of these pitfalls or criteria, and these keys",
                              required: [], [
                "pitfalls": ids.described("pitfall or criterion ids"),
                "keys": .array(.string(minLength: 1, maxLength: 10_000), "recommendation keys", maxItems: 10_000)]),
            "start": .formatted(.date), "target": .formatted(.date),
        ])
    }()
}

/// A campaign's standing, computed from the advice history: never stored.
public struct CampaignReport: Codable, Sendable, Equatable {
    public struct RuleProgress: Codable, Sendable, Equatable {
        public var rule: String
        public var inScope: Int
        public var resolved: Int
        public var progress: Double?
    }
    public struct Item: Codable, Sendable, Equatable {
        public var key: String
        public var rule: String
        public var status: AdviceHistory.Status
    }
    public struct Point: Codable, Sendable, Equatable {
        public var run: Int
        public var at: String
        public var inScope: Int
        public var resolved: Int
    }
    public struct Excluded: Codable, Sendable, Equatable {
        public var dismissed: [String] = []
        public var obsolete: [String] = []
        /// Superseded by a key naming more subjects (which is itself in scope when it matches).
        public var superseded: [String] = []
        public var modelChanged: [String] = []
    }
    public var campaign: Campaign
    public var revision: Int
    public var updated: String
    public var status: String
    /// Resolved advice over the advice in scope that counts (dismissed, obsolete and model-changed advice
    /// leaves the denominator: `excluded` names it); nil when nothing in scope counts.
    public var progress: Double?
    public var inScope: Int
    public var resolved: Int
    public var excluded: Excluded
    /// Sentences on what the figures leave out.
    public var notes: [String]
    public var byRule: [RuleProgress]
    public var advice: [Item]
    /// Per tracked run from the baseline (the last run before the start) on: advice in scope so far, resolved at that run.
    public var burnUp: [Point]

    public static let statuses = ["draft", "in-progress", "delayed", "done"]

    /// `inScope` says whether a subject is in the campaign's scope; `today` is a date (YYYY-MM-DD).
    public static func compute(_ c: Campaign, revision: Int, updated: String, history: AdviceHistory, today: String,
                               inScope: (Subject) -> Bool) -> CampaignReport {
        let rules = Set(c.advice.pitfalls ?? []), keys = Set(c.advice.keys ?? [])
        let wholePortfolio = c.scope?.isEmpty ?? true
        // The baseline: the last tracked run before the start, then every run from the start on.
        let baseline = history.runs.last { String($0.at.prefix(10)) < c.start }?.run
        let eligible = Set(history.runs.filter { String($0.at.prefix(10)) >= c.start || $0.run == baseline }.map(\.run))
        let givenStatuses: Set<AdviceHistory.Status> = [.open, .regressed, .dismissed]
        let chosen = history.advice.filter { e in
            guard rules.contains(e.rule) || keys.contains(e.key) else { return false }
            guard wholePortfolio || e.subjects.contains(where: inScope) else { return false }
            return e.runs.contains { eligible.contains($0.run) && givenStatuses.contains($0.status) }
        }
        var excluded = Excluded()
        var counted: [AdviceHistory.Entry] = []
        for e in chosen {
            switch e.status {
            case .dismissed: excluded.dismissed.append(e.key)
            case .obsolete: excluded.obsolete.append(e.key)
            case .superseded: excluded.superseded.append(e.key)
            case .modelChanged: excluded.modelChanged.append(e.key)
            default: counted.append(e)
            }
        }
        let resolved = counted.filter { $0.status == .resolved }.count
        var byRule: [String: (Int, Int)] = [:]
        for e in counted { byRule[e.rule, default: (0, 0)].0 += 1; if e.status == .resolved { byRule[e.rule, default: (0, 0)].1 += 1 } }
        func share(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : (Double(a) / Double(b) * 10_000).rounded() / 10_000 }
        let status: String
        if today < c.start { status = "draft" }
        else if !counted.isEmpty && resolved == counted.count { status = "done" }
        else if today > c.target { status = "delayed" }
        else { status = "in-progress" }
        var notes: [String] = []
        if !excluded.dismissed.isEmpty {
            notes.append("\(excluded.dismissed.count) dismissed piece\(excluded.dismissed.count == 1 ? "" : "s") of advice in scope left out of the denominator: \(excluded.dismissed.joined(separator: ", "))")
        }
        if !excluded.obsolete.isEmpty {
            notes.append("\(excluded.obsolete.count) obsolete (subject removed from the portfolio) left out of the denominator")
        }
        if !excluded.superseded.isEmpty {
            notes.append("\(excluded.superseded.count) superseded by advice naming more subjects (the situation grew; not resolved) left out of the denominator")
        }
        if !excluded.modelChanged.isEmpty {
            notes.append("\(excluded.modelChanged.count) gone because the model or engine changed, not counted as resolved, left out of the denominator")
        }
        if chosen.isEmpty { notes.append("no advice in scope in the kept runs since the start; the progress is unknown, not zero") }
        var burnUp: [Point] = []
        let countedKeys = Dictionary(counted.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for r in history.runs where eligible.contains(r.run) {
            var n = 0, done = 0
            for e in countedKeys.values {
                guard let s = e.runs.first(where: { $0.run == r.run })?.status else { continue }
                n += 1
                if s == .resolved { done += 1 }
            }
            burnUp.append(Point(run: r.run, at: r.at, inScope: n, resolved: done))
        }
        return CampaignReport(campaign: c, revision: revision, updated: updated, status: status, progress: share(resolved, counted.count),
                              inScope: counted.count, resolved: resolved, excluded: excluded, notes: notes,
                              byRule: byRule.keys.sorted().map { k in RuleProgress(rule: k, inScope: byRule[k]!.0, resolved: byRule[k]!.1,
                                                                                   progress: share(byRule[k]!.1, byRule[k]!.0)) },
                              advice: chosen.map { Item(key: $0.key, rule: $0.rule, status: $0.status) }, burnUp: burnUp)
    }
}
