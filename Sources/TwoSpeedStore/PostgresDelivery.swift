/// Delivery events over PostgreSQL, with SQLite's counts: a new id is created, a known id with other
/// content is updated, a known id with the same content is unchanged. Rows go in multi-row statements
/// (one round trip per batch); a batch ends before an id it already holds, so that an id sent twice in
/// one call counts as SQLite counts it, row after row.
extension PostgresStore: DeliveryEventStore {
    static let deliveryBatch = 500

    public func recordDelivery(portfolio: String, deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws
        -> (deployments: RecordCounts, incidents: RecordCounts) {
        try transaction { c in
            let d = try upsert(c, portfolio, deployments.map(\.id),
                head: "INSERT INTO deployment AS t (portfolio, id, system, at, failed, changes) VALUES ",
                casts: ["", "", "::bigint", "::integer", ""],
                tail: " ON CONFLICT (portfolio, id) DO UPDATE SET system = excluded.system, at = excluded.at, failed = excluded.failed, "
                    + "changes = excluded.changes WHERE (t.system, t.at, t.failed, t.changes) IS DISTINCT FROM "
                    + "(excluded.system, excluded.at, excluded.failed, excluded.changes) RETURNING (xmax = 0)") { i in
                let r = deployments[i]
                return [r.id, r.system, String(r.at), r.failed ? "1" : "0", r.changes]
            }
            let n = try upsert(c, portfolio, incidents.map(\.id),
                head: "INSERT INTO incident AS t (portfolio, id, system, started, resolved, cause) VALUES ",
                casts: ["", "", "::bigint", "::bigint", ""],
                tail: " ON CONFLICT (portfolio, id) DO UPDATE SET system = excluded.system, started = excluded.started, "
                    + "resolved = excluded.resolved, cause = excluded.cause WHERE (t.system, t.started, t.resolved, t.cause) IS DISTINCT FROM "
                    + "(excluded.system, excluded.started, excluded.resolved, excluded.cause) RETURNING (xmax = 0)") { i in
                let r = incidents[i]
                return [r.id, r.system, String(r.started), r.resolved.map { String($0) }, r.cause]
            }
            return (d, n)
        }
    }

    /// Each returned row is an insert (true) or an update (false); a row not returned was unchanged.
    private func upsert(_ c: PGConnection, _ portfolio: String, _ ids: [String], head: String, casts: [String], tail: String,
                        _ values: (Int) -> [String?]) throws -> RecordCounts {
        var counts = RecordCounts()
        var start = 0
        while start < ids.count {
            var seen = Set<String>()
            var end = start
            while end < ids.count, end - start < PostgresStore.deliveryBatch, !seen.contains(ids[end]) { seen.insert(ids[end]); end += 1 }
            var params: [String?] = [portfolio]
            var sql = head
            for i in start..<end {
                if i > start { sql += ", " }
                sql += "($1"
                for (v, cast) in zip(values(i), casts) {
                    params.append(v)
                    sql += ", $\(params.count)\(cast)"
                }
                sql += ")"
            }
            sql += tail
            // Full batches share one prepared statement; a shorter one is sent once, unprepared.
            let res = end - start == PostgresStore.deliveryBatch ? try c.query(sql, params) : try c.queryOnce(sql, params)
            for k in 0..<res.count { if res.text(k, 0) == "t" { counts.created += 1 } else { counts.updated += 1 } }
            counts.unchanged += (end - start) - res.count
            start = end
        }
        return counts
    }

    public func scanDelivery(portfolio: String, until: Int64, incident: (IncidentRecord) -> Void,
                             deployment: (DeploymentRow) -> Void) throws {
        try transaction(readOnly: true) { c in
            let causes = try c.query("SELECT DISTINCT cause FROM incident WHERE portfolio = $1 AND cause IS NOT NULL", [portfolio])
            let names = Set((0..<causes.count).map { causes.text($0, 0) })
            let i = try c.query("SELECT id, system, started, resolved, cause FROM incident WHERE portfolio = $1 AND started < $2",
                                [portfolio, String(until)])
            for r in 0..<i.count {
                incident(IncidentRecord(id: i.text(r, 0), system: i.text(r, 1), started: Int64(i.int(r, 2)),
                                        resolved: i.isNull(r, 3) ? nil : Int64(i.int(r, 3)), cause: i.isNull(r, 4) ? nil : i.text(r, 4)))
            }
            let d = try c.query("SELECT id, system, at, failed, changes FROM deployment WHERE portfolio = $1 AND at < $2",
                                [portfolio, String(until)])
            for r in 0..<d.count {
                deployment(DeploymentRow(system: d.text(r, 1), at: Int64(d.int(r, 2)), failed: d.int(r, 3) != 0,
                                         causedIncident: !names.isEmpty && names.contains(d.text(r, 0)), changes: d.bytes(r, 4)))
            }
        }
    }
}
