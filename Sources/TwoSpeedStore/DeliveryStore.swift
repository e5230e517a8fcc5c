import CSQLite

/// A deployment as the store keeps it: times in UTC epoch seconds, its changes already encoded
/// ("committed:id" pairs joined by commas, see `DeploymentRecord.encodeChanges`).
public struct DeploymentRecord: Sendable, Equatable {
    public var id: String
    public var system: String
    public var at: Int64
    public var failed: Bool
    public var changes: String
    public init(id: String, system: String, at: Int64, failed: Bool, changes: String) {
        self.id = id; self.system = system; self.at = at; self.failed = failed; self.changes = changes
    }

    /// One column for all of a deployment's changes, so that recording and reading a deployment is one
    /// row. Change ids are identifiers (no comma); the commit time comes first, so a colon in an id is safe.
    public static func encodeChanges(_ changes: [(id: String, committed: Int64)]) -> String {
        var s = ""
        s.reserveCapacity(changes.count * 24)
        for (i, c) in changes.enumerated() {
            if i > 0 { s += "," }
            s += String(c.committed)
            s += ":"
            s += c.id
        }
        return s
    }

    /// The commit times of an encoded change list, without building its ids.
    public static func forEachCommitTime(_ bytes: UnsafeRawBufferPointer, _ body: (Int64) -> Void) {
        var v: Int64 = 0, negative = false, inTime = true, any = false
        for b in bytes {
            if inTime {
                if b == 58 { body(negative ? -v : v); inTime = false; v = 0; negative = false; any = false }
                else if b == 45, !any { negative = true }
                else { v = v * 10 + Int64(b &- 48); any = true }
            } else if b == 44 { inTime = true }
        }
    }
}

public struct IncidentRecord: Sendable, Equatable {
    public var id: String
    public var system: String
    public var started: Int64
    public var resolved: Int64?
    /// The deployment that caused it, when known.
    public var cause: String?
    public init(id: String, system: String, started: Int64, resolved: Int64?, cause: String?) {
        self.id = id; self.system = system; self.started = started; self.resolved = resolved; self.cause = cause
    }
}

/// What recording did, per kind of event.
public struct RecordCounts: Sendable, Equatable, Codable {
    public var created = 0
    public var updated = 0
    /// Recorded before with the same content: nothing changed.
    public var unchanged = 0
    public init() {}
}

/// Delivery events (deployments and incidents) of a portfolio, for DORA's four keys. A store that keeps
/// them conforms; the engine's delivery methods need one.
public protocol DeliveryEventStore: AnyObject, Sendable {
    /// Writes the events in one transaction, each replacing the one with the same id; durable on return.
    func recordDelivery(portfolio: String, deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws
        -> (deployments: RecordCounts, incidents: RecordCounts)
    /// Every incident, then every deployment, of the portfolio before `until` (epoch seconds), in no
    /// particular order; a deployment row says whether some incident names it as its cause. The row
    /// views passed to the closures are valid only during the call.
    func scanDelivery(portfolio: String, until: Int64, incident: (IncidentRecord) -> Void,
                      deployment: (DeploymentRow) -> Void) throws
}

/// One deployment row as read: the changes stay bytes (the commit times are all the four keys need).
public struct DeploymentRow {
    public var system: String
    public var at: Int64
    public var failed: Bool
    /// Some incident, recorded at any time, names this deployment as its cause.
    public var causedIncident: Bool
    public var changes: UnsafeRawBufferPointer
}

extension SQLiteStore: DeliveryEventStore {
    public func recordDelivery(portfolio: String, deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws
        -> (deployments: RecordCounts, incidents: RecordCounts) {
        try writing { conn in
            try conn.transaction {
                let d = try upsert(conn, portfolio, count: deployments.count,
                    insert: "INSERT INTO deployment (portfolio, id, system, at, failed, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                        + "ON CONFLICT(portfolio, id) DO NOTHING",
                    update: "UPDATE deployment SET system = ?3, at = ?4, failed = ?5, changes = ?6 WHERE portfolio = ?1 AND id = ?2 "
                        + "AND (system IS NOT ?3 OR at IS NOT ?4 OR failed IS NOT ?5 OR changes IS NOT ?6)") { s, i in
                    let r = deployments[i]
                    bindText(s, 2, r.id); bindText(s, 3, r.system)
                    sqlite3_bind_int64(s, 4, r.at); sqlite3_bind_int64(s, 5, r.failed ? 1 : 0)
                    bindText(s, 6, r.changes)
                }
                let n = try upsert(conn, portfolio, count: incidents.count,
                    insert: "INSERT INTO incident (portfolio, id, system, started, resolved, cause) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                        + "ON CONFLICT(portfolio, id) DO NOTHING",
                    update: "UPDATE incident SET system = ?3, started = ?4, resolved = ?5, cause = ?6 WHERE portfolio = ?1 AND id = ?2 "
                        + "AND (system IS NOT ?3 OR started IS NOT ?4 OR resolved IS NOT ?5 OR cause IS NOT ?6)") { s, i in
                    let r = incidents[i]
                    bindText(s, 2, r.id); bindText(s, 3, r.system); sqlite3_bind_int64(s, 4, r.started)
                    if let v = r.resolved { sqlite3_bind_int64(s, 5, v) } else { sqlite3_bind_null(s, 5) }
                    if let c = r.cause { bindText(s, 6, c) } else { sqlite3_bind_null(s, 6) }
                }
                return (d, n)
            }
        }
    }

    /// Each row is inserted if its id is new (created); otherwise updated only where its content differs
    /// (updated), else left alone (unchanged): sqlite3_changes tells which. One prepared statement per
    /// step, bound directly (no per-row arrays): this loop is most of what recording a million costs.
    private func upsert(_ conn: Connection, _ portfolio: String, count: Int, insert: String, update: String,
                        _ bind: (OpaquePointer, Int) -> Void) throws -> RecordCounts {
        var counts = RecordCounts()
        guard count > 0 else { return counts }
        let ins = try conn.prepare(insert), upd = try conn.prepare(update)
        defer { ins.reset(); upd.reset() }
        bindText(ins.stmt, 1, portfolio)
        bindText(upd.stmt, 1, portfolio)
        for i in 0..<count {
            bind(ins.stmt, i)
            guard sqlite3_step(ins.stmt) == SQLITE_DONE else { throw conn.error("record") }
            sqlite3_reset(ins.stmt)
            if sqlite3_changes(conn.db) == 1 { counts.created += 1; continue }
            bind(upd.stmt, i)
            guard sqlite3_step(upd.stmt) == SQLITE_DONE else { throw conn.error("record") }
            sqlite3_reset(upd.stmt)
            if sqlite3_changes(conn.db) == 1 { counts.updated += 1 } else { counts.unchanged += 1 }
        }
        return counts
    }

    public func scanDelivery(portfolio: String, until: Int64, incident: (IncidentRecord) -> Void,
                             deployment: (DeploymentRow) -> Void) throws {
        try reading { conn in
            // One read transaction for the three queries, so that they see the same commit.
            try conn.begin("BEGIN")
            defer { _ = try? conn.exec("COMMIT") }
            // A cause recorded after the window still marks the deployment as failed: the failure is the
            // deployment's, whenever the incident was opened.
            let c = try conn.prepare("SELECT DISTINCT cause FROM incident WHERE portfolio = ? AND cause IS NOT NULL")
            try c.bind([.text(portfolio)])
            var causes = Set<String>()
            while try c.step() { causes.insert(c.text(0)) }
            c.reset()
            let i = try conn.prepare("SELECT id, system, started, resolved, cause FROM incident WHERE portfolio = ? AND started < ?")
            try i.bind([.text(portfolio), .int(Int(until))])
            while try i.step() {
                incident(IncidentRecord(id: i.text(0), system: i.text(1), started: Int64(i.int(2)),
                                        resolved: i.isNull(3) ? nil : Int64(i.int(3)), cause: i.isNull(4) ? nil : i.text(4)))
            }
            i.reset()
            let d = try conn.prepare("SELECT id, system, at, failed, changes FROM deployment WHERE portfolio = ? AND at < ?")
            try d.bind([.text(portfolio), .int(Int(until))])
            while try d.step() {
                // The id is read only when some incident names a cause: it matters for nothing else.
                deployment(DeploymentRow(system: d.text(1), at: Int64(d.int(2)), failed: d.int(3) != 0,
                                         causedIncident: !causes.isEmpty && causes.contains(d.text(0)), changes: d.bytes(4)))
            }
            d.reset()
        }
    }
}

private func bindText(_ s: OpaquePointer, _ idx: Int32, _ text: String) {
    var t = text
    t.withUTF8 { buf in
        if let base = buf.baseAddress {
            _ = sqlite3_bind_text(s, idx, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buf.count), SQLITE_TRANSIENT)
        } else {
            _ = sqlite3_bind_text(s, idx, "", 0, SQLITE_TRANSIENT)
        }
    }
}
