import Glibc
import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

// Delivery events in, DORA's four keys out (issue 13). The definitions are FourKeys' (FourKeys.swift).

extension Engine {
    /// Problems listed in a reply; the rest are counted.
    static let maxProblems = 1_000

    func deliveryMethods() -> [Method] {
        [
            Method(Contract.deliveryRecord) { [unowned self] p, call in
                try recordEvents(pid: p.portfolio, pidPointer: call.pointer("portfolio"),
                                 deployments: p.deployments?.ref, deploymentsAt: call.pointer("deployments"),
                                 incidents: p.incidents?.ref, incidentsAt: call.pointer("incidents"), atomic: p.atomic == true)
            },
            Method(Contract.deliveryMetrics) { [unowned self] p, call in try deliveryMetrics(p, call) },
            deliveryImportMethod(),
        ]
    }

    var deliveryStore: DeliveryEventStore? { store as? DeliveryEventStore }

    func requireDeliveryStore() throws -> DeliveryEventStore {
        guard let s = deliveryStore else { throw RPCError(.storeError, pointer: nil, "this store keeps no delivery events") }
        return s
    }

    // MARK: delivery.record

    /// Checks the events of two arrays (either may be absent), then writes the good ones in one
    /// transaction; `atomic` refuses all if any is bad. Problems point at `deploymentsAt`/`incidentsAt`.
    func recordEvents(pid: String, pidPointer: JSONPointer, deployments darr: JSONRef?, deploymentsAt: JSONPointer,
                      incidents iarr: JSONRef?, incidentsAt: JSONPointer, atomic: Bool,
                      refuseWhenNoneRecorded: ((RecordResult) -> RPCError?)? = nil) throws -> RecordResult {
        let sp = try snapshot(pid, pidPointer)
        let systems = Set(sp.portfolio.systems.map(\.id))
        let store = try requireDeliveryStore()
        var problems: [ValidationIssue] = []
        var problemCount = 0
        func problem(_ ptr: JSONPointer, _ reason: String) {
            problemCount += 1
            if problems.count < Engine.maxProblems { problems.append(ValidationIssue(ptr, reason)) }
        }
        var deployments: [DeploymentRecord] = []
        var incidents: [IncidentRecord] = []
        var skipped = (0, 0)
        if let arr = darr {
            let base = deploymentsAt
            let n = arr.count
            deployments.reserveCapacity(n)
            for i in 0..<n {
                if let r = Engine.deployment(arr[i]!, systems, { problem(JSONPointer((base / i).tokens + $0), $1) }) { deployments.append(r) }
                else { skipped.0 += 1 }
            }
        }
        if let arr = iarr {
            let base = incidentsAt
            let n = arr.count
            incidents.reserveCapacity(n)
            for i in 0..<n {
                if let r = Engine.incident(arr[i]!, systems, { problem(JSONPointer((base / i).tokens + $0), $1) }) { incidents.append(r) }
                else { skipped.1 += 1 }
            }
        }
        if problemCount > 0, atomic {
            var issues = IssueList()
            for pr in problems { issues.add(pr) }
            throw RPCError.invalidParams(issues)
        }
        func kind(_ c: RecordCounts, _ s: Int) -> RecordKindResult {
            RecordKindResult(created: c.created, updated: c.updated, unchanged: c.unchanged, skipped: s)
        }
        // Nothing to write and every event skipped: the caller may call that an error rather than a result.
        if deployments.isEmpty, incidents.isEmpty, let refuse = refuseWhenNoneRecorded {
            let zero = RecordCounts()
            if let e = refuse(RecordResult(portfolio: pid, deployments: kind(zero, skipped.0), incidents: kind(zero, skipped.1),
                                           problems: problems, problemCount: problemCount)) { throw e }
        }
        let counts: (deployments: RecordCounts, incidents: RecordCounts)
        do { counts = try store.recordDelivery(portfolio: pid, deployments: deployments, incidents: incidents) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        return RecordResult(portfolio: pid, deployments: kind(counts.deployments, skipped.0), incidents: kind(counts.incidents, skipped.1),
                            problems: problems, problemCount: problemCount)
    }

    /// Checks one deployment; every problem goes to `report` (a member name, possibly a nested path, and
    /// the reason); nil when it is bad. Checked by hand rather than by the schema validator because a
    /// bad event is skipped, not the whole call refused, and because a million of them must be cheap.
    static func deployment(_ v: JSONRef, _ systems: Set<String>, _ report: ([String], String) -> Void) -> DeploymentRecord? {
        guard v.isObject else { report([], "expected object, found \(v.kind.schemaName)"); return nil }
        var ok = true
        func fail(_ member: String, _ reason: String) { report([member], reason); ok = false }
        func failAt(_ path: [String], _ reason: String) { report(path, reason); ok = false }
        var known = 0
        let id = identifier(v, "id", required: true, &known, fail)
        let system = identifier(v, "system", required: true, &known, fail)
        if let system, !systems.contains(system) { fail("system", "the portfolio has no system \"\(system)\"") }
        let at = time(v, "time", required: true, &known, fail)
        var failed = false
        if let f = v["failed"] {
            known += 1
            if let b = f.boolValue { failed = b } else { fail("failed", "expected boolean, found \(f.kind.schemaName)") }
        }
        // The changes go straight into the column's encoding ("committed:id" pairs joined by commas, as
        // DeploymentRecord.encodeChanges writes them), read from the JSON strings' bytes in place: a String
        // per change id cost more than the rest of checking a deployment.
        var encoded: [UInt8] = []
        func add(_ cid: UnsafeBufferPointer<UInt8>, _ committed: Int64) {
            if !encoded.isEmpty { encoded.append(44) }
            appendDecimal(&encoded, committed)
            encoded.append(58)
            encoded.append(contentsOf: cid)
        }
        if let cs = v["changes"] {
            known += 1
            if cs.isObject {
                // The compact form, change id → commit time: a third of the objects the list form takes for
                // jansson to build and free, and an id cannot be listed twice (the parser refuses duplicates).
                encoded.reserveCapacity(cs.count * 24)
                cs.forEachMemberBytes { cid, value in
                    guard Formats.isIdentifier(cid) else {
                        let name = String(decoding: cid, as: UTF8.self)
                        failAt(["changes", name], Formats.check(.identifier, name) ?? "not an identifier")
                        return
                    }
                    if let t = timeValue(value, { failAt(["changes", String(decoding: cid, as: UTF8.self)], $0) }) {
                        add(cid, t)
                    }
                }
            } else if !cs.isArray { fail("changes", "expected array or object, found \(cs.kind.schemaName)") } else {
                let n = cs.count
                encoded.reserveCapacity(n * 24)
                var ids: [UnsafeBufferPointer<UInt8>] = []
                ids.reserveCapacity(n)
                var seen = Set<String>()
                for j in 0..<n {
                    let c = cs[j]!
                    guard c.isObject else { failAt(["changes", "\(j)"], "expected object, found \(c.kind.schemaName)"); continue }
                    var k = 0
                    let cid = identifierBytes(c, "id", required: true, &k) { failAt(["changes", "\(j)", $0], $1) }
                    let committed = time(c, "committed", required: true, &k) { failAt(["changes", "\(j)", $0], $1) }
                    if c.count > k { unknownMembers(c, ["id", "committed"]) { failAt(["changes", "\(j)", $0], "unknown member") } }
                    // A linear look while the list is short (a Set for every deployment would cost more than the
                    // look), a Set once it is long, so that 100,000 changes stay linear.
                    if let cid {
                        let twice: Bool
                        if ids.count < 32 { twice = ids.contains { $0.count == cid.count && memcmp($0.baseAddress!, cid.baseAddress!, cid.count) == 0 } } else {
                            if seen.isEmpty { seen = Set(ids.map { String(decoding: $0, as: UTF8.self) }) }
                            twice = !seen.insert(String(decoding: cid, as: UTF8.self)).inserted
                        }
                        if twice { failAt(["changes", "\(j)", "id"], "change \"\(String(decoding: cid, as: UTF8.self))\" is listed twice") }
                    }
                    if let cid, let committed { ids.append(cid); add(cid, committed) }
                }
            }
        }
        if v.count > known { unknownMembers(v, ["id", "system", "time", "failed", "changes"]) { fail($0, "unknown member") } }
        guard ok, let id, let system, let at else { return nil }
        return DeploymentRecord(id: id, system: system, at: at, failed: failed, changes: String(decoding: encoded, as: UTF8.self))
    }

    static func incident(_ v: JSONRef, _ systems: Set<String>, _ report: ([String], String) -> Void) -> IncidentRecord? {
        guard v.isObject else { report([], "expected object, found \(v.kind.schemaName)"); return nil }
        var ok = true
        func fail(_ member: String, _ reason: String) { report([member], reason); ok = false }
        func failAt(_ path: [String], _ reason: String) { report(path, reason); ok = false }
        var known = 0
        let id = identifier(v, "id", required: true, &known, fail)
        let system = identifier(v, "system", required: true, &known, fail)
        if let system, !systems.contains(system) { fail("system", "the portfolio has no system \"\(system)\"") }
        let started = time(v, "started", required: true, &known, fail)
        var resolved: Int64? = nil
        if let r = v["resolved"], r.kind == .null { known += 1 } else {
            resolved = time(v, "resolved", required: false, &known, fail)
        }
        if let s = started, let r = resolved, r < s { fail("resolved", "resolved before it started") }
        let cause = identifier(v, "cause", required: false, &known, fail)
        if v.count > known { unknownMembers(v, ["id", "system", "started", "resolved", "cause"]) { fail($0, "unknown member") } }
        guard ok, let id, let system, let started else { return nil }
        return IncidentRecord(id: id, system: system, started: started, resolved: resolved, cause: cause)
    }

    private static func identifier(_ v: JSONRef, _ key: String, required: Bool, _ known: inout Int,
                                   _ fail: (String, String) -> Void) -> String? {
        guard let m = v[key] else { if required { fail(key, "required") }; return nil }
        known += 1
        guard let s = m.stringValue else { fail(key, "expected string, found \(m.kind.schemaName)"); return nil }
        if let reason = Formats.check(.identifier, s) { fail(key, reason); return nil }
        return s
    }

    /// `identifier`'s check on the string's bytes in place; the bytes live as long as the value.
    private static func identifierBytes(_ v: JSONRef, _ key: String, required: Bool, _ known: inout Int,
                                        _ fail: (String, String) -> Void) -> UnsafeBufferPointer<UInt8>? {
        guard let m = v[key] else { if required { fail(key, "required") }; return nil }
        known += 1
        guard let b = m.stringBytes else { fail(key, "expected string, found \(m.kind.schemaName)"); return nil }
        guard Formats.isIdentifier(b) else {
            let s = String(decoding: b, as: UTF8.self)
            fail(key, Formats.check(.identifier, s) ?? "not an identifier")
            return nil
        }
        return b
    }

    /// The decimal digits of `v`, as `String(v)` writes them.
    private static func appendDecimal(_ out: inout [UInt8], _ v: Int64) {
        if v < 0 { out.append(45) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + m % 10); m /= 10; n += 1 } while m > 0
            while n > 0 { n -= 1; out.append(d[n]) }
        }
    }

    private static func time(_ v: JSONRef, _ key: String, required: Bool, _ known: inout Int,
                             _ fail: (String, String) -> Void) -> Int64? {
        guard let m = v[key] else { if required { fail(key, "required") }; return nil }
        known += 1
        return timeValue(m) { fail(key, $0) }
    }

    /// A timestamp read from the string's bytes in place, as UTC epoch seconds.
    private static func timeValue(_ m: JSONRef, _ fail: (String) -> Void) -> Int64? {
        guard let b = m.stringBytes else { fail("expected string, found \(m.kind.schemaName)"); return nil }
        guard let t = EventTime.parse(UnsafeRawBufferPointer(b)) else {
            // Up to a NUL, as before: the reason quotes what a reader would see of the string.
            fail("not an RFC 3339 date-time or date: \"\(String(decoding: b.prefix { $0 != 0 }, as: UTF8.self).prefix(40))\"")
            return nil
        }
        return t
    }

    private static func unknownMembers(_ v: JSONRef, _ known: Set<String>, _ report: (String) -> Void) {
        v.forEachMember { k, _ in if !known.contains(k) { report(k) } }
    }

    // MARK: delivery.metrics

    func deliveryMetrics(_ p: DeliveryMetricsParams, _ call: Call) throws -> MetricsResult {
        let pid = p.portfolio
        let sp = try snapshot(pid, call.pointer("portfolio"))
        var systems = sp.portfolio.systems.map(\.id)
        if let only = p.system {
            guard systems.contains(only) else {
                throw RPCError(.notFound, pointer: call.pointer("system").description, "the portfolio has no system \"\(only)\"")
            }
            systems = [only]
        }
        let until: Int64
        if let u = p.until {
            guard let t = EventTime.parse(u) else { throw RPCError(.invalidParams, pointer: call.pointer("until").description, "not a timestamp") }
            until = t
        } else { until = Engine.nowSeconds() }
        let days = p.days ?? 90
        let w = try fourKeys(pid, until: until, days: days, windows: p.windows ?? 1)
        return MetricsResult(portfolio: pid, definitions: FourKeys.citation, days: days, windows: (0..<w.count).map { i in
            let b = w.bounds(i)
            let figures = w.figures(window: i, systems: systems)
            return MetricsWindow(from: EventTime.format(b.from), to: EventTime.format(b.to),
                                 systems: figures, all: p.system == nil ? w.pooled(window: i) : nil,
                                 labelNotes: figures.compactMap { f in
                                     let n = FourKeys.labelNotes(f.delivery)
                                     return n.isEmpty ? nil : LabelNotes(system: f.system, notes: n)
                                 })
        })
    }

    /// The portfolio's events tallied into `windows` windows of `days` days ending at `until`.
    func fourKeys(_ pid: String, until: Int64, days: Int, windows: Int) throws -> FourKeys.Windows {
        let store = try requireDeliveryStore()
        var w = FourKeys.Windows(until: until, days: days, count: windows)
        do {
            try store.scanDelivery(portfolio: pid, until: until, incident: { i in
                w.addIncident(system: i.system, started: i.started, resolved: i.resolved)
            }, deployment: { d in
                w.addDeployment(system: d.system, at: d.at, failed: d.failed, causedIncident: d.causedIncident) { add in
                    DeploymentRecord.forEachCommitTime(d.changes, add)
                }
            })
        } catch let e as StoreError {
            throw RPCError(store: e)
        }
        return w
    }

    /// Windows an assessment reads: its speed tiers use the newest, its trend shows them all.
    static let assessmentDays = 90, assessmentWindows = 4

    /// The four keys laid over an assessment: the last 90 days up to the end of `asOf`'s day (or now),
    /// and three windows before for the trend. nil when the portfolio has no recorded events.
    func deliveryOverlay(_ p: Portfolio, asOf: String?) throws -> DeliveryOverlay? {
        guard deliveryStore != nil else { return nil }
        let until = asOf.flatMap { EventTime.parse(String($0.prefix(10))) }.map { $0 + 86_400 } ?? Engine.nowSeconds()
        let w = try fourKeys(p.id, until: until, days: Engine.assessmentDays, windows: Engine.assessmentWindows)
        let deployed = w.systemsWithEvents
        guard !deployed.isEmpty else { return nil }
        // Only systems with deployments: incidents alone say nothing of cadence or lead time.
        let figures = w.figures(window: 0, systems: p.systems.map(\.id).filter { deployed.contains($0) })
        let trend = DeliveryTrend(days: Engine.assessmentDays, systemsFromEvents: figures.map(\.system), windows: (0..<w.count).map { i in
            let b = w.bounds(i)
            return DeliveryTrend.Window(from: EventTime.format(b.from), to: EventTime.format(b.to), all: w.pooled(window: i))
        })
        return DeliveryOverlay(figures: Dictionary(figures.map { ($0.system, $0) }, uniquingKeysWith: { a, _ in a }), trend: trend)
    }

    static func nowSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
