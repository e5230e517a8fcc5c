import TwoSpeedModel

/// DORA's four keys computed from delivery events, per system and window.
///
/// The definitions follow DORA's Four Keys project (github.com/dora-team/fourkeys, METRICS.md, "Four
/// Key Metrics Calculations"), over deployments and incidents recorded with delivery.record:
/// - Deployment frequency: distinct successful deployments in the window ("how frequently a team
///   successfully releases to production"), given per month (window days / 30.4375).
/// - Lead time for changes: the median, over every (deployment, change) pair of the window's successful
///   deployments, of deploy time minus commit time (Four Keys joins each deployment with each change it
///   carries, so a change deployed twice counts once per deployment). Pairs of zero or negative lead
///   time are left out, as Four Keys leaves out "automated changes".
/// - Change failure rate: deployments of the window that failed or that some incident names as its
///   cause, over all deployments of the window ("the number of failures per the number of deployments").
/// - Failed deployment recovery time: the median of resolved minus started over the incidents started in
///   the window (Four Keys' time to restore reads the incidents table alone, so an incident with no
///   known cause counts here though it adds no failure to the change failure rate). Open incidents
///   have no duration yet: counted apart, left out of the median.
/// Medians interpolate between the two middle values of an even count (PERCENTILE_CONT(x, 0.5), as in
/// Four Keys' queries). A window is [until - days, until). Each figure's bucket is DORA 2024's cluster
/// nearest to it (`SpeedTier.perKey`).
public enum FourKeys {
    public static let citation = "DORA Four Keys project (github.com/dora-team/fourkeys, METRICS.md) definitions; "
        + "buckets: " + DORA.citation
    public static let secondsPerMonth = 30.4375 * 86_400

    /// The figures of one system in one window.
    public struct Figures: Codable, Sendable, Equatable {
        public var system: String
        /// Every deployment of the window, failed ones included.
        public var deployments: Int
        public var successfulDeployments: Int
        /// Deployments that failed or caused an incident.
        public var failedDeployments: Int
        /// (deployment, change) pairs behind the lead time.
        public var changes: Int
        public var incidents: Int
        public var openIncidents: Int
        public var deploysPerMonth: Double
        public var leadTimeHours: Double?
        public var changeFailureRate: Double?
        public var recoveryHours: Double?
        /// DORA 2024 cluster per key (deploysPerMonth, leadTimeHours, changeFailureRate, recoveryHours).
        public var buckets: [String: String]
        /// Throughput tier (cadence and lead time) and stability tier, as the speed analysis reads them.
        public var tier: String?
        public var stability: String?

        public var delivery: Delivery {
            Delivery(deploysPerMonth: deploysPerMonth, leadTimeHours: leadTimeHours, changeFailureRate: changeFailureRate,
                     recoveryHours: recoveryHours)
        }
    }

    /// What one system's events add up to in one window, before the medians.
    public struct Tally: Sendable {
        public var deployments = 0, successful = 0, failed = 0, incidents = 0, open = 0
        public var leads: [Int64] = []
        public var recoveries: [Int64] = []
        public init() {}

        public func figures(system: String, windowSeconds: Int64) -> Figures {
            let perMonth = Double(successful) / (Double(windowSeconds) / FourKeys.secondsPerMonth)
            var f = Figures(system: system, deployments: deployments, successfulDeployments: successful, failedDeployments: failed,
                            changes: leads.count, incidents: incidents, openIncidents: open,
                            deploysPerMonth: round4(perMonth),
                            leadTimeHours: FourKeys.median(leads).map { round4($0 / 3600) },
                            changeFailureRate: deployments > 0 ? round4(Double(failed) / Double(deployments)) : nil,
                            recoveryHours: FourKeys.median(recoveries).map { round4($0 / 3600) },
                            buckets: [:], tier: nil, stability: nil)
            let d = f.delivery
            f.buckets = SpeedTier.perKey(d).mapValues(\.rawValue)
            f.tier = SpeedTier.throughput(d)?.rawValue
            f.stability = SpeedTier.stability(d)?.rawValue
            return f
        }
    }

    /// Consecutive windows of `days` ending at `until`, newest first, tallied per system. Events are
    /// added in any order; each lands in the window its time falls in, or nowhere.
    public struct Windows: Sendable {
        public let until: Int64
        public let span: Int64
        public let count: Int
        /// Each system seen gets a slot: one hash look-up an event, then arrays (a million events go by).
        private var slot: [String: Int] = [:]
        private var names: [String] = []
        /// tallies[w][slot]
        private var tallies: [[Tally]]
        private var deployed: [Bool] = []

        public init(until: Int64, days: Int, count: Int) {
            self.until = until; span = Int64(days) * 86_400; self.count = count
            tallies = Array(repeating: [], count: count)
        }

        /// Systems with any deployment before `until`: their figures come from events.
        public var systemsWithEvents: Set<String> { Set(names.indices.filter { deployed[$0] }.map { names[$0] }) }

        func window(_ t: Int64) -> Int? {
            guard t < until else { return nil }
            let w = Int((until - 1 - t) / span)
            return w < count ? w : nil
        }

        private mutating func slot(_ system: String) -> Int {
            if let i = slot[system] { return i }
            let i = names.count
            slot[system] = i
            names.append(system)
            deployed.append(false)
            for w in 0..<count { tallies[w].append(Tally()) }
            return i
        }

        /// `commitTimes` calls its argument with each change's commit time.
        public mutating func addDeployment(system: String, at: Int64, failed: Bool, causedIncident: Bool,
                                           commitTimes: ((Int64) -> Void) -> Void) {
            let i = slot(system)
            deployed[i] = true
            guard let w = window(at) else { return }
            tallies[w][i].deployments += 1
            if failed || causedIncident { tallies[w][i].failed += 1 }
            if !failed {
                tallies[w][i].successful += 1
                commitTimes { c in
                    let lead = at - c
                    if lead > 0 { tallies[w][i].leads.append(lead) }
                }
            }
        }

        public mutating func addIncident(system: String, started: Int64, resolved: Int64?) {
            let i = slot(system)
            guard let w = window(started) else { return }
            tallies[w][i].incidents += 1
            if let r = resolved, r >= started { tallies[w][i].recoveries.append(r - started) }
            else { tallies[w][i].open += 1 }
        }

        /// The figures of window `w` for each system in `systems` that has events; systems with events but
        /// none in this window get an empty window's figures (no deployments: frequency 0).
        public func figures(window w: Int, systems: [String]) -> [Figures] {
            systems.compactMap { s in
                guard let i = slot[s] else { return nil }
                return tallies[w][i].figures(system: s, windowSeconds: span)
            }
        }

        /// The figures of window `w` with every system's events pooled: the portfolio's trend.
        public func pooled(window w: Int) -> Figures? {
            guard deployed.contains(true) else { return nil }
            var all = Tally()
            for t in tallies[w] {
                all.deployments += t.deployments; all.successful += t.successful; all.failed += t.failed
                all.incidents += t.incidents; all.open += t.open
                all.leads += t.leads; all.recoveries += t.recoveries
            }
            return all.figures(system: "*", windowSeconds: span)
        }

        public func bounds(_ w: Int) -> (from: Int64, to: Int64) {
            (until - Int64(w + 1) * span, until - Int64(w) * span)
        }
    }

    // MARK: Labels that disagree with their figures (issue 21)
    //
    // The tier and stability labels are DORA 2024's cluster nearest to the keys taken together, which is
    // how the report formed its clusters. But the clusters do not rank on every key: the high cluster's
    // typical change failure rate (20%) is above the medium cluster's (10%), and high and medium share a
    // recovery of "less than one day". So a system failing 25% of its deployments and recovering in 96 h
    // is nearest "high" while one at 8% and 2 h is nearest "medium". The model built from the same report
    // (examples/models/dora-2024.json) scores each key on its own monotone scale (failure rate 40% -> 5%,
    // recovery 168 h -> 1 h): better figures never score lower. A label is therefore explained wherever it
    // differs from what the keys say one by one: each key against the fastest cluster whose figure it meets.

    /// The fastest cluster whose figure a key meets on its own: deploys at least the cluster's lower
    /// bound, lead time and recovery at most its upper bound, change failure rate at most its typical
    /// rate. Monotone by construction: a better figure never meets a slower cluster. Beyond the low
    /// cluster's bounds it is low.
    public static func keyTier(_ key: String, _ v: Double) -> SpeedTier {
        for (i, c) in DORA.clusters.enumerated() {
            let meets: Bool
            switch key {
            case "deploysPerMonth": meets = v >= c.deploysPerMonth.lowerBound
            case "leadTimeHours": meets = v <= c.leadTimeHours.upperBound
            case "changeFailureRate": meets = v <= c.changeFailureRate
            default: meets = v <= c.recoveryHours.upperBound
            }
            if meets { return SpeedTier.allCases[i] }
        }
        return .low
    }

    static let keyNames = ["deploysPerMonth": "deployment frequency", "leadTimeHours": "lead time",
                           "changeFailureRate": "change failure rate", "recoveryHours": "recovery time"]

    static func shown(_ key: String, _ v: Double) -> String {
        func num(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String((x * 10).rounded() / 10) }
        switch key {
        case "deploysPerMonth": return "\(num(v)) a month"
        case "changeFailureRate": return "\(num(v * 100))%"
        default: return "\(num(v)) h"
        }
    }

    static func bound(_ key: String, _ c: DORACluster) -> String {
        switch key {
        case "deploysPerMonth": return "at least \(shown(key, c.deploysPerMonth.lowerBound))"
        case "leadTimeHours": return "at most \(shown(key, c.leadTimeHours.upperBound))"
        case "changeFailureRate": return "typically \(shown(key, c.changeFailureRate))"
        default: return "at most \(shown(key, c.recoveryHours.upperBound))"
        }
    }

    /// Why the throughput tier and the stability label differ from what their keys say one by one; empty
    /// when they agree. Each note names the label, the keys and the clusters' figures.
    public static func labelNotes(_ d: Delivery) -> [String] {
        var notes: [String] = []
        let groups: [(String, SpeedTier?, [(String, Double?)])] = [
            ("throughput", SpeedTier.throughput(d), [("deploysPerMonth", d.deploysPerMonth), ("leadTimeHours", d.leadTimeHours)]),
            ("stability", SpeedTier.stability(d), [("changeFailureRate", d.changeFailureRate), ("recoveryHours", d.recoveryHours)]),
        ]
        for (name, label, keys) in groups {
            guard let label else { continue }
            let known = keys.compactMap { k, v in v.map { (k, $0, keyTier(k, $0)) } }
            guard let worst = known.map(\.2).min(), worst != label else { continue }
            let cluster = DORA.clusters[label.rank]
            let each = known.map { k, v, t in
                "\(keyNames[k]!) \(shown(k, v)) meets \(t.rawValue) (the \(label.rawValue) cluster: \(bound(k, cluster)))"
            }.joined(separator: "; ")
            notes.append("\(name) labelled \(label.rawValue), DORA 2024's cluster nearest to its keys together, though key by key it is "
                         + "\(worst.rawValue): \(each)."
                         + (name == "stability" ? " The clusters do not rank on change failure rate (the high cluster's typical rate, 20%, "
                            + "is above the medium cluster's, 10%)." : ""))
        }
        return notes
    }

    /// The median of `values` in seconds, interpolated for an even count; nil when empty.
    public static func median(_ values: [Int64]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let n = s.count
        return n % 2 == 1 ? Double(s[n / 2]) : (Double(s[n / 2 - 1]) + Double(s[n / 2])) / 2
    }

    static func round4(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }
}

/// RFC 3339 times as UTC epoch seconds, and back, without Foundation.
public enum EventTime {
    /// An RFC 3339 date-time with offset (fractions of a second dropped), or a full date (midnight UTC).
    public static func parse(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ b: UnsafeRawBufferPointer) -> Int64? {
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<(at + n) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 10, b[4] == 45, b[7] == 45, let y = digits(0, 4), let m = digits(5, 2), let d = digits(8, 2),
              (1...12).contains(m), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(m) - 1]
        guard d <= days else { return nil }
        let day = daysFromCivil(y, m, d) * 86_400
        if b.count == 10 { return day }
        guard b.count >= 20, b[10] == 84 || b[10] == 116 || b[10] == 32, b[13] == 58, b[16] == 58,
              let h = digits(11, 2), let mi = digits(14, 2), let sec = digits(17, 2), h < 24, mi < 60, sec <= 60 else { return nil }
        var i = 19
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            if i == start { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == 43 || b[i] == 45, b.count == i + 6, b[i + 3] == 58,
                  let oh = digits(i + 1, 2), let om = digits(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
        }
        return day + h * 3600 + mi * 60 + sec - offset
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// RFC 3339 UTC, to the second.
    public static func format(_ t: Int64) -> String {
        let days = Int((t >= 0 ? t : t - 86_399) / 86_400)
        let secs = Int(t - Int64(days) * 86_400)
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(dateString(days))T\(pad(secs / 3600)):\(pad(secs / 60 % 60)):\(pad(secs % 60))Z"
    }
}
