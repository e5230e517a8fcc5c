import CSQLite

extension SQLiteStore: CopyableStore {
    func restoreAdviceRow(_ table: AdviceTable, portfolio: String, _ row: AdviceRow) throws {
        try writing { conn in
            try conn.transaction {
                try conn.prepare("INSERT INTO \(table.rawValue) (portfolio, id, revision, updated, body) VALUES (?, ?, ?, ?, ?)")
                    .run([.text(portfolio), .text(row.id), .int(row.revision), .text(row.updated), .text(row.body)])
            }
        }
    }

    func allRuns(portfolio: String) throws -> [CopiedRun] {
        try reading { conn in
            let s = try conn.prepare("SELECT seq, at, model, score, summary, body FROM assessment_run WHERE portfolio = ? ORDER BY seq")
            try s.bind([.text(portfolio)])
            var out: [CopiedRun] = []
            while try s.step() {
                out.append(CopiedRun(seq: s.int(0), at: s.text(1), model: s.text(2), score: s.double(3), summary: s.text(4), body: s.text(5)))
            }
            return out
        }
    }

    func allDeliveryEvents(portfolio: String) throws -> (deployments: [DeploymentRecord], incidents: [IncidentRecord]) {
        try reading { conn in
            let d = try conn.prepare("SELECT id, system, at, failed, changes FROM deployment WHERE portfolio = ? ORDER BY id")
            try d.bind([.text(portfolio)])
            var deployments: [DeploymentRecord] = []
            while try d.step() {
                deployments.append(DeploymentRecord(id: d.text(0), system: d.text(1), at: Int64(d.int(2)), failed: d.int(3) != 0, changes: d.text(4)))
            }
            d.reset()
            let i = try conn.prepare("SELECT id, system, started, resolved, cause FROM incident WHERE portfolio = ? ORDER BY id")
            try i.bind([.text(portfolio)])
            var incidents: [IncidentRecord] = []
            while try i.step() {
                incidents.append(IncidentRecord(id: i.text(0), system: i.text(1), started: Int64(i.int(2)),
                                                resolved: i.isNull(3) ? nil : Int64(i.int(3)), cause: i.isNull(4) ? nil : i.text(4)))
            }
            i.reset()
            return (deployments, incidents)
        }
    }

    func restore(_ sp: StoredPortfolio, runs: [CopiedRun], deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws {
        try writing { conn in
            try conn.transaction {
                // Created as revision 1 (the target holds none), then given its own revision.
                var first = sp
                first.revision = 1
                var next = NextPositions()
                try write(.putPortfolio(first, document: nil), conn, &next)
                try conn.prepare("UPDATE portfolio SET revision = ? WHERE id = ?").run([.int(sp.revision), .text(sp.portfolio.id)])
                let pid = sp.portfolio.id
                for r in runs {
                    try conn.prepare("INSERT INTO assessment_run (portfolio, seq, at, model, score, summary, body) VALUES (?, ?, ?, ?, ?, ?, ?)")
                        .run([.text(pid), .int(r.seq), .text(r.at), .text(r.model), .double(r.score), .text(r.summary), .text(r.body)])
                }
                for d in deployments {
                    try conn.prepare("INSERT INTO deployment (portfolio, id, system, at, failed, changes) VALUES (?, ?, ?, ?, ?, ?)")
                        .run([.text(pid), .text(d.id), .text(d.system), .int(Int(d.at)), .int(d.failed ? 1 : 0), .text(d.changes)])
                }
                for i in incidents {
                    try conn.prepare("INSERT INTO incident (portfolio, id, system, started, resolved, cause) VALUES (?, ?, ?, ?, ?, ?)")
                        .run([.text(pid), .text(i.id), .text(i.system), .int(Int(i.started)), i.resolved.map { .int(Int($0)) }, i.cause.map { .text($0) }])
                }
            }
        }
    }
}

extension PostgresStore: CopyableStore {
    func restoreAdviceRow(_ table: AdviceTable, portfolio: String, _ row: AdviceRow) throws {
        try transaction { c in
            try c.query("INSERT INTO \(table.rawValue) (portfolio, id, revision, updated, body) VALUES ($1, $2, $3, $4, $5)",
                        [portfolio, row.id, String(row.revision), row.updated, row.body])
        }
    }

    func allRuns(portfolio: String) throws -> [CopiedRun] {
        try transaction(readOnly: true) { c in
            let r = try c.query("SELECT seq, at, model, score, summary, body FROM assessment_run WHERE portfolio = $1 ORDER BY seq", [portfolio])
            return (0..<r.count).map {
                CopiedRun(seq: r.int($0, 0), at: r.text($0, 1), model: r.text($0, 2), score: r.double($0, 3), summary: r.text($0, 4), body: r.text($0, 5))
            }
        }
    }

    func allDeliveryEvents(portfolio: String) throws -> (deployments: [DeploymentRecord], incidents: [IncidentRecord]) {
        try transaction(readOnly: true) { c in
            let d = try c.query("SELECT id, system, at, failed, changes FROM deployment WHERE portfolio = $1 ORDER BY id", [portfolio])
            let deployments = (0..<d.count).map {
                DeploymentRecord(id: d.text($0, 0), system: d.text($0, 1), at: Int64(d.int($0, 2)), failed: d.int($0, 3) != 0, changes: d.text($0, 4))
            }
            let i = try c.query("SELECT id, system, started, resolved, cause FROM incident WHERE portfolio = $1 ORDER BY id", [portfolio])
            let incidents = (0..<i.count).map {
                IncidentRecord(id: i.text($0, 0), system: i.text($0, 1), started: Int64(i.int($0, 2)),
                               resolved: i.isNull($0, 3) ? nil : Int64(i.int($0, 3)), cause: i.isNull($0, 4) ? nil : i.text($0, 4))
            }
            return (deployments, incidents)
        }
    }

    func restore(_ sp: StoredPortfolio, runs: [CopiedRun], deployments: [DeploymentRecord], incidents: [IncidentRecord]) throws {
        try transaction { c in
            var first = sp
            first.revision = 1
            var next: [String: Int] = [:]
            try write(.putPortfolio(first, document: nil), c, &next)
            let pid = sp.portfolio.id
            try c.query("UPDATE portfolio SET revision = $2 WHERE id = $1", [pid, String(sp.revision)])
            if !runs.isEmpty {
                try c.copy("COPY assessment_run (portfolio, seq, at, model, score, summary, body) FROM STDIN") { buf in
                    for r in runs {
                        buf.field(pid); buf.field(String(r.seq)); buf.field(r.at); buf.field(r.model); buf.field(pgDouble(r.score))
                        buf.field(r.summary); buf.field(r.body); buf.endRow()
                    }
                }
                // The next run of this portfolio follows the last copied one.
                try c.query("INSERT INTO run_counter (portfolio, last) VALUES ($1, $2) ON CONFLICT (portfolio) DO UPDATE SET last = excluded.last",
                            [pid, String(runs.map(\.seq).max() ?? 0)])
            }
            if !deployments.isEmpty {
                try c.copy("COPY deployment (portfolio, id, system, at, failed, changes) FROM STDIN") { buf in
                    for d in deployments {
                        buf.field(pid); buf.field(d.id); buf.field(d.system); buf.field(String(d.at)); buf.field(d.failed ? "1" : "0")
                        buf.field(d.changes); buf.endRow()
                    }
                }
            }
            if !incidents.isEmpty {
                try c.copy("COPY incident (portfolio, id, system, started, resolved, cause) FROM STDIN") { buf in
                    for i in incidents {
                        buf.field(pid); buf.field(i.id); buf.field(i.system); buf.field(String(i.started)); buf.field(i.resolved.map { String($0) })
                        buf.field(i.cause); buf.endRow()
                    }
                }
            }
            try notify(c, pid)
        }
    }
}
