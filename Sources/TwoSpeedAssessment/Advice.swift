import TwoSpeedJSON

/// Stable names for advice, so that the same recommendation can be followed from run to run.
///
/// A key is `rule:subject:fingerprint`: the pitfall (or, for a weak criterion no pitfall covers, the
/// criterion) behind it, the first of its subjects' ids in sorted order (with "+N" for the others), and
/// 12 hex digits of FNV-1a 64 over a canonical form of the facts that trigger it: the rule and the
/// sorted "kind/id" of every subject it names, with how many subjects there are in all. Names, the
/// order of arrays in the portfolio and figures that drift from run to run (a lead time, a share) are
/// not part of it: the key changes when what triggers the advice changes (a subject is fixed or a new
/// one joins), not when the same situation is measured again.
public enum AdviceKey {
    /// `all`, when given, is every subject ("kind/id", sorted: `canonical`) of which `subjects` lists the first.
    public static func make(rule: String, subjects: [Subject], subjectCount: Int? = nil, all: [String]? = nil) -> String {
        let ids = all ?? canonical(subjects)
        let total = max(subjectCount ?? ids.count, ids.count)
        let canonical = ([rule] + ids + ["count=\(total)"]).joined(separator: "\n")
        let first: String
        if let all {
            first = all.map { s -> String in s.firstIndex(of: "/").map { String(s[s.index(after: $0)...]) } ?? s }.min() ?? "-"
        } else {
            first = subjects.map(\.id).min() ?? "-"
        }
        let subject = total > 1 ? "\(first)+\(total - 1)" : first
        return "\(rule):\(subject):\(hex12(fnv1a64(canonical)))"
    }

    /// Subjects as "kind/id", sorted: the canonical form a key is made of.
    public static func canonical(_ subjects: [Subject]) -> [String] { subjects.map { "\($0.kind)/\($0.id)" }.sorted() }

    /// FNV-1a, 64 bits: small, dependency-free, stable across platforms and releases.
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    static func hex12(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        let full = String(repeating: "0", count: max(0, 16 - s.count)) + s
        return String(full.prefix(12))
    }

    /// A model's fingerprint: 16 hex digits over its canonical JSON (members in declaration order).
    /// Two runs whose models differ in any rule, weight, scale or text have different hashes.
    public static func modelHash(_ model: AssessmentModel) -> String {
        let text = (try? JanssonEncoder().encodeText(model)) ?? "\(model.id)@\(model.version)"
        let s = String(fnv1a64(text), radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// The default model's hash, computed once.
    public static let defaultModelHash = modelHash(DefaultModel.model)
}

/// What a kept run gave as advice, as the advice store keeps it beside the run: small, so that
/// recommendation.history reads no whole result.
public struct AdviceRunRecord: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var key: String
        /// The pitfall or criterion behind it.
        public var rule: String
        public var pitfall: String?
        public var title: String
        public var rank: Int
        public var subjects: [Subject]
        public init(key: String, rule: String, pitfall: String?, title: String, rank: Int, subjects: [Subject]) {
            self.key = key; self.rule = rule; self.pitfall = pitfall; self.title = title; self.rank = rank; self.subjects = subjects
        }
    }
    public var run: Int
    public var at: String
    public var asOf: String
    public var model: String
    public var modelHash: String
    public var engine: String
    public var items: [Item]
    /// Keys the previous tracked run gave, that this one does not, whose subjects are no longer in the
    /// portfolio at this run (judged when the run was kept, against the portfolio it assessed).
    public var gone: [String]
    /// The subjects ("kind/id") named by advice of any earlier tracked run that are not in the portfolio
    /// at this run: so that every run, not only the one where the advice went, can tell whether a
    /// subject is gone (removed later, or come back). nil in records kept before it was written: their
    /// runs judge by `gone` alone.
    public var absent: [String]?

    public init(run: Int, at: String, asOf: String, model: String, modelHash: String, engine: String, items: [Item], gone: [String],
                absent: [String]? = nil) {
        self.run = run; self.at = at; self.asOf = asOf; self.model = model; self.modelHash = modelHash
        self.engine = engine; self.items = items; self.gone = gone; self.absent = absent
    }

    public init(run: Int, result: AssessmentResult, engine: String, gone: [String], absent: [String]? = nil) {
        self.init(run: run, at: result.at, asOf: result.asOf, model: result.model.id,
                  modelHash: result.model.hash ?? "", engine: engine,
                  items: result.recommendations.compactMap { r in
                      guard let key = r.key else { return nil }
                      return Item(key: key, rule: r.pitfall ?? r.criteria.first ?? "", pitfall: r.pitfall, title: r.title,
                                  rank: r.rank, subjects: r.subjects)
                  }, gone: gone, absent: absent)
    }
}

/// A dismissal of one piece of advice: shown, not counted as acted on.
public struct AdviceDismissal: Codable, Sendable, Equatable {
    public var key: String
    public var reason: String
    public var by: String
    public var at: String
    public init(key: String, reason: String, by: String, at: String) { self.key = key; self.reason = reason; self.by = by; self.at = at }
}

/// The life of every piece of advice across the kept runs.
public struct AdviceHistory: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case open, resolved, dismissed, regressed, obsolete, superseded
        case modelChanged = "model-changed"
    }
    public struct RunStatus: Codable, Sendable, Equatable {
        public var run: Int
        public var status: Status
    }
    public struct Entry: Codable, Sendable, Equatable {
        public var key: String
        public var rule: String
        public var pitfall: String?
        public var title: String
        public var subjects: [Subject]
        public var firstRun: Int
        public var lastRun: Int
        /// The status at the latest tracked run.
        public var status: Status
        /// Resolved at its latest resolution (the run where it stopped being given, facts changed):
        /// acted on. Never set for dismissed, obsolete or model-changed advice.
        public var resolvedAt: Int?
        public var dismissal: AdviceDismissal?
        /// From the first run that gave it on.
        public var runs: [RunStatus]
    }
    public struct RunInfo: Codable, Sendable, Equatable {
        public var run: Int
        public var at: String
        public var asOf: String
        public var model: String
        public var modelHash: String
        public var engine: String
        /// The model or the engine differs from the previous tracked run's.
        public var modelChanged: Bool
    }
    public struct Counts: Codable, Sendable, Equatable {
        public var open = 0, resolved = 0, dismissed = 0, regressed = 0, obsolete = 0, superseded = 0, modelChanged = 0
        /// Resolved advice: the only status counted as acted on.
        public var actedOn = 0
    }
    public var portfolio: String
    public var runs: [RunInfo]
    public var advice: [Entry]
    public var counts: Counts
    /// Kept runs without an advice record (kept before advice was tracked): not used.
    public var untracked: [Int]

    /// Walks the tracked runs oldest first. A key's status in a run: given → open (dismissed when a
    /// standing dismissal predates the run, regressed when it had been resolved before); not given
    /// after being given → model-changed when the model's hash or the engine differs from the previous
    /// run's, obsolete when a subject has left the portfolio, superseded when every subject is still
    /// flagged by the same rule (the situation grew: a key naming more took its place), else resolved;
    /// not given again → obsolete in every run where a subject is absent (removed after the advice
    /// went, too: a resolution whose subject is gone is no longer counted), judged again as above in the
    /// run where an obsolete key's subjects are all back without it (the advice went and its subjects
    /// exist: resolved), else as it was. A run without a record (untracked) is skipped: the next
    /// tracked run is compared with the last tracked one.
    public static func build(portfolio: String, records: [AdviceRunRecord], dismissals: [AdviceDismissal], untracked: [Int]) -> AdviceHistory {
        let records = records.sorted { $0.run < $1.run }
        let dismissed = Dictionary(dismissals.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var runs: [RunInfo] = []
        var previous: AdviceRunRecord? = nil
        var everResolved = Set<String>()
        for r in records {
            let changed = previous.map { $0.modelHash != r.modelHash || $0.engine != r.engine || $0.model != r.model } ?? false
            runs.append(RunInfo(run: r.run, at: r.at, asOf: r.asOf, model: r.model, modelHash: r.modelHash, engine: r.engine, modelChanged: changed))
            let given = Dictionary(r.items.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let prevGiven = Set(previous?.items.map(\.key) ?? [])
            let gone = Set(r.gone)
            let absent = r.absent.map(Set.init)
            var flagged: [String: Set<String>] = [:]
            for item in r.items { flagged[item.rule, default: []].formUnion(item.subjects.map { "\($0.kind)/\($0.id)" }) }
            func flaggedNow(_ rule: String) -> Set<String> { flagged[rule] ?? [] }
            for item in r.items where entries[item.key] == nil {
                order.append(item.key)
                entries[item.key] = Entry(key: item.key, rule: item.rule, pitfall: item.pitfall, title: item.title, subjects: item.subjects,
                                          firstRun: r.run, lastRun: r.run, status: .open, resolvedAt: nil, dismissal: nil, runs: [])
            }
            for key in order {
                guard var e = entries[key] else { continue }
                let status: Status
                if let item = given[key] {
                    e.lastRun = r.run
                    e.title = item.title
                    e.subjects = item.subjects
                    if let d = dismissed[key], d.at <= r.at { status = .dismissed }
                    else if everResolved.contains(key) { status = .regressed }
                    else { status = .open }
                } else {
                    // Whether a subject is absent at this run; unknown (nil) in records that predate `absent`.
                    let subjectAbsent = absent.map { a in e.subjects.contains { a.contains("\($0.kind)/\($0.id)") } }
                    let last = e.runs.last?.status ?? .open
                    if prevGiven.contains(key) || (last == .obsolete && subjectAbsent == false) {
                        if changed { status = .modelChanged }
                        else if subjectAbsent ?? gone.contains(key) { status = .obsolete }
                        else if !e.subjects.isEmpty, Set(e.subjects.map { "\($0.kind)/\($0.id)" }).isSubset(of: flaggedNow(e.rule)) {
                            // Every subject is still flagged by the rule, under a key that names more: nothing was fixed.
                            status = .superseded
                        }
                        else { status = .resolved; everResolved.insert(key); e.resolvedAt = r.run }
                    } else if subjectAbsent == true {
                        status = .obsolete
                    } else {
                        status = last
                    }
                }
                e.status = status
                e.runs.append(RunStatus(run: r.run, status: status))
                entries[key] = e
            }
            previous = r
        }
        var counts = Counts()
        var out: [Entry] = []
        for key in order {
            guard var e = entries[key] else { continue }
            e.dismissal = dismissed[key]
            // A dismissal made after the latest run still shows on advice that is open now.
            if e.status == .open || e.status == .regressed, e.dismissal != nil { e.status = .dismissed }
            if e.status != .resolved { e.resolvedAt = nil }
            switch e.status {
            case .open: counts.open += 1
            case .resolved: counts.resolved += 1
            case .dismissed: counts.dismissed += 1
            case .regressed: counts.regressed += 1
            case .obsolete: counts.obsolete += 1
            case .superseded: counts.superseded += 1
            case .modelChanged: counts.modelChanged += 1
            }
            out.append(e)
        }
        counts.actedOn = counts.resolved
        return AdviceHistory(portfolio: portfolio, runs: runs, advice: out, counts: counts, untracked: untracked)
    }
}

extension AdviceRunRecord {
    /// A stored record read straight from its JSON: recommendation.history and .outcomes read one per kept
    /// run, and the generic Codable walk took most of their time. nil when anything is missing or of another
    /// type than written (a member that is null counts as absent, as the decoder reads it); the caller then
    /// decodes it with the Codable decoder, whose error says where.
    public init?(storedJSON text: String) {
        // Unparsable (or out of memory): the caller's Codable decode says why.
        guard case .success(let owned)? = try? JSON.parse(text),
              let r = withExtendedLifetime(owned, { AdviceRunRecord.reading(owned.ref) }) else { return nil }
        self = r
    }

    /// The record from a parsed object, borrowed (its owner outlives the call).
    private static func reading(_ j: JSONRef) -> AdviceRunRecord? {
        func strings(_ v: JSONRef?) -> [String]? {
            guard let v, v.isArray else { return nil }
            var out: [String] = []
            out.reserveCapacity(v.count)
            for e in v.elements {
                guard let s = e.stringValue else { return nil }
                out.append(s)
            }
            return out
        }
        func present(_ v: JSONRef?) -> JSONRef? { v.flatMap { $0.kind == .null ? nil : $0 } }
        guard j.isObject, let run = j["run"]?.intValue, let at = j["at"]?.stringValue, let asOf = j["asOf"]?.stringValue,
              let model = j["model"]?.stringValue, let modelHash = j["modelHash"]?.stringValue, let engine = j["engine"]?.stringValue,
              let gone = strings(j["gone"]), let itemsJSON = j["items"], itemsJSON.isArray else { return nil }
        var absent: [String]? = nil
        if let a = present(j["absent"]) {
            guard let s = strings(a) else { return nil }
            absent = s
        }
        var items: [Item] = []
        items.reserveCapacity(itemsJSON.count)
        for x in itemsJSON.elements {
            guard x.isObject, let key = x["key"]?.stringValue, let rule = x["rule"]?.stringValue, let title = x["title"]?.stringValue,
                  let rank = x["rank"]?.intValue, let subjectsJSON = x["subjects"], subjectsJSON.isArray else { return nil }
            var pitfall: String? = nil
            if let p = present(x["pitfall"]) {
                guard let s = p.stringValue else { return nil }
                pitfall = s
            }
            var subjects: [Subject] = []
            subjects.reserveCapacity(subjectsJSON.count)
            for s in subjectsJSON.elements {
                guard s.isObject, let kind = s["kind"]?.stringValue, let id = s["id"]?.stringValue, let name = s["name"]?.stringValue else { return nil }
                subjects.append(Subject(kind: kind, id: id, name: name))
            }
            items.append(Item(key: key, rule: rule, pitfall: pitfall, title: title, rank: Int(rank), subjects: subjects))
        }
        return AdviceRunRecord(run: Int(run), at: at, asOf: asOf, model: model, modelHash: modelHash, engine: engine, items: items, gone: gone, absent: absent)
    }
}
