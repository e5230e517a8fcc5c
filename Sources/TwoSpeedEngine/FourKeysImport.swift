import TwoSpeedAssessment
import TwoSpeedJSON

// Delivery events from DORA's Four Keys project (github.com/dora-team/fourkeys) as its users export them:
// the BigQuery tables four_keys.changes, four_keys.deployments and four_keys.incidents, as CSV or
// newline-delimited JSON (BigQuery's export formats). docs/fourkeys.md says how each column maps.
//
//   changes      source, event_type, change_id, time_created           (queries/changes.sql)
//   deployments  source, deploy_id, time_created, main_commit, changes  (queries/deployments.sql; changes:
//                ARRAY<STRING> of the change ids the deployment carries)
//   incidents    source, incident_id, time_created, time_resolved, changes (queries/incidents.sql;
//                changes: the root-cause change ids, from "root cause: <sha>" in the issue)
//
// Four Keys keeps no service column: one installation measures one team's repositories. The system is
// given with the import (`system`), or taken per row from a `system` or `service` column an export adds.

/// One cell of a Four Keys row: BigQuery writes a REPEATED column as a JSON array (JSON) and NULL as
/// an empty cell (CSV) or null (JSON).
enum FourKeysCell {
    case text(String)
    case list([String])
    case null

    var text: String? { if case .text(let s) = self, !s.isEmpty { return s }; return nil }
    /// A list cell; in CSV a list is JSON text (`["a","b"]`) or ids separated by `;`, `,` or spaces.
    var list: [String] {
        switch self {
        case .list(let l): return l
        case .null: return []
        case .text(let s):
            if s.hasPrefix("["), case .success(let v)? = try? JSON.parse(s) {
                return withExtendedLifetime(v) { v.view.elements.compactMap(\.stringValue) }
            }
            return s.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).map(String.init)
        }
    }
}

struct FourKeysRow {
    var file: String
    var line: Int
    var cells: [String: FourKeysCell]
    /// CSV: the column (from 1) of each cell.
    var columns: [String: Int]
}

enum FourKeysTableKind: String { case changes, deployments, incidents }

struct FourKeysTable {
    var kind: FourKeysTableKind
    var rows: [FourKeysRow] = []
}

enum FourKeysReading {
    /// The table a text holds, told by its id column; CSV or newline-delimited JSON, told by its first byte.
    static func read(_ text: String, file: String, problem: (DeliveryLogProblem) -> Void) throws -> FourKeysTable {
        let first = text.utf8.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
        var rows: [FourKeysRow] = []
        if first == UInt8(ascii: "{") {
            var r = JSONLinesReader()
            func add(_ line: Int, _ item: JSONLinesReader.Item) {
                switch item {
                case .failure(let column, let reason): problem(DeliveryLogProblem(line: line, column: column, member: nil, reason: reason))
                case .value(let v, _):
                    guard v.isObject else {
                        problem(DeliveryLogProblem(line: line, column: nil, member: nil, reason: "expected an object, found \(v.kind.schemaName)"))
                        return
                    }
                    var cells: [String: FourKeysCell] = [:]
                    v.forEachMember { k, m in
                        switch m.kind {
                        case .null: cells[k] = .null
                        case .string: cells[k] = .text(m.stringValue ?? "")
                        case .array: cells[k] = .list(m.elements.map { $0.stringValue ?? $0.text() })
                        default: cells[k] = .text(m.text())
                        }
                    }
                    rows.append(FourKeysRow(file: file, line: line, cells: cells, columns: [:]))
                }
            }
            var t = text
            try t.withUTF8 { try r.feed(UnsafeRawBufferPointer($0), add) }
            try r.finish(add)
        } else {
            let records: [(line: Int, fields: [String])]
            do { records = try CSVReader.records(text) } catch let f as CSVReader.Failure {
                throw DeliveryLogError(line: f.line, column: f.column, reason: f.reason)
            }
            guard let header = records.first else { throw DeliveryLogError(line: 1, column: nil, reason: "the file is empty: no header row") }
            let names = header.fields.map { $0.trimmingSpaces.lowercased() }
            for rec in records.dropFirst() {
                if rec.fields.count > names.count {
                    problem(DeliveryLogProblem(line: rec.line, column: names.count + 1, member: nil,
                                               reason: "\(rec.fields.count) cells; the header names \(names.count)"))
                    continue
                }
                var cells: [String: FourKeysCell] = [:]
                var columns: [String: Int] = [:]
                for (i, f) in rec.fields.enumerated() {
                    let t = f.trimmingSpaces
                    cells[names[i]] = t.isEmpty ? .null : .text(t)
                    columns[names[i]] = i + 1
                }
                rows.append(FourKeysRow(file: file, line: rec.line, cells: cells, columns: columns))
            }
            if records.count == 1 { return FourKeysTable(kind: try kind(Set(names), file: file), rows: []) }
        }
        let keys = rows.first.map { Set($0.cells.keys) } ?? []
        guard !rows.isEmpty else { throw DeliveryLogError(line: 1, column: nil, reason: "no rows: cannot tell which Four Keys table this is") }
        return FourKeysTable(kind: try kind(keys, file: file), rows: rows)
    }

    static func kind(_ columns: Set<String>, file: String) throws -> FourKeysTableKind {
        if columns.contains("deploy_id") { return .deployments }
        if columns.contains("incident_id") { return .incidents }
        if columns.contains("change_id") { return .changes }
        throw DeliveryLogError(line: 1, column: nil, reason: "not a Four Keys table: no deploy_id, incident_id or change_id column "
                               + "(the columns of four_keys.deployments, four_keys.incidents, four_keys.changes)")
    }

    /// BigQuery writes a TIMESTAMP as `2024-05-01 12:00:00.123456 UTC` in its exports; RFC 3339 as well.
    static func time(_ s: String) -> String {
        if s.hasSuffix(" UTC") { return String(s.dropLast(4)) + "Z" }
        if s.hasSuffix("+00") { return s + ":00" }
        return s
    }
}

/// Four Keys tables mapped to delivery.record's events, each with the row it came from.
struct FourKeysMapping {
    var deployments: [(event: JSON, row: FourKeysRow, columns: [String: Int])] = []
    var incidents: [(event: JSON, row: FourKeysRow, columns: [String: Int])] = []
    var problems: [(file: String, problem: DeliveryLogProblem)] = []
    var notes: [String] = []

    init(tables: [FourKeysTable], system: String?) throws {
        var commitTime: [String: String] = [:]
        var haveChanges = false, haveDeployments = false
        for t in tables where t.kind == .changes {
            haveChanges = true
            for r in t.rows {
                guard let id = r.cells["change_id"]?.text else {
                    problems.append((r.file, DeliveryLogProblem(line: r.line, column: r.columns["change_id"], member: "change_id", reason: "required")))
                    continue
                }
                guard let at = r.cells["time_created"]?.text else {
                    problems.append((r.file, DeliveryLogProblem(line: r.line, column: r.columns["time_created"], member: "time_created", reason: "required")))
                    continue
                }
                // A change pushed twice keeps its first time: Four Keys' lead time starts at the commit.
                let t = FourKeysReading.time(at)
                if let seen = commitTime[id], let a = EventTime.parse(seen), let b = EventTime.parse(t), a <= b { continue }
                commitTime[id] = t
            }
        }
        func systemOf(_ r: FourKeysRow) -> String? { r.cells["system"]?.text ?? r.cells["service"]?.text ?? system }
        // Which deployment carries each change: an incident's root cause names changes, ours a deployment.
        var carriedBy: [String: (id: String, time: Int64, system: String)] = [:]
        var withoutTime = 0
        for t in tables where t.kind == .deployments {
            haveDeployments = true
            for r in t.rows {
                let cols = ["id": r.columns["deploy_id"], "time": r.columns["time_created"], "changes": r.columns["changes"],
                            "system": r.columns["system"] ?? r.columns["service"]].compactMapValues { $0 }
                guard let sys = systemOf(r) else {
                    problems.append((r.file, DeliveryLogProblem(line: r.line, column: nil, member: "system",
                                                                reason: "no system: Four Keys' tables have none; give one with the import")))
                    continue
                }
                let e = try JSON.object()
                if let id = r.cells["deploy_id"]?.text { try e.set("id", string: id) }
                try e.set("system", string: sys)
                let time = r.cells["time_created"]?.text.map(FourKeysReading.time)
                if let time { try e.set("time", string: time) }
                // Four Keys' deployments table keeps successful deployments only; failures come from incidents.
                let changes = try JSON.object()
                for c in r.cells["changes"]?.list ?? [] {
                    if let committed = commitTime[c] { try changes.set(c, string: committed) } else { withoutTime += 1 }
                    if let id = r.cells["deploy_id"]?.text, let t = time.flatMap(EventTime.parse), carriedBy[c].map({ t < $0.time }) ?? true {
                        carriedBy[c] = (id, t, sys)
                    }
                }
                if changes.count > 0 { try e.set("changes", changes) }
                deployments.append((e, r, cols))
            }
        }
        if withoutTime > 0 {
            notes.append(haveChanges
                ? "\(withoutTime) change(s) of the deployments are not in the changes table: no lead time for them (Four Keys' lead time joins the same tables)"
                : "no changes table imported: the deployments carry no commit times, so no lead time (import four_keys.changes with them)")
        }
        var causeUnknown = 0
        for t in tables where t.kind == .incidents {
            for r in t.rows {
                let cols = ["id": r.columns["incident_id"], "started": r.columns["time_created"], "resolved": r.columns["time_resolved"],
                            "cause": r.columns["changes"], "system": r.columns["system"] ?? r.columns["service"]].compactMapValues { $0 }
                // The deployment that carried a root cause first: Four Keys counts every deployment carrying it as failed;
                // an incident here names one deployment, the one that brought the change to production.
                let roots = r.cells["changes"]?.list ?? r.cells["root_cause"]?.text.map { [$0] } ?? []
                let cause = roots.compactMap { carriedBy[$0] }.min { $0.time < $1.time }
                if !roots.isEmpty && cause == nil { causeUnknown += 1 }
                guard let sys = r.cells["system"]?.text ?? r.cells["service"]?.text ?? cause?.system ?? system else {
                    problems.append((r.file, DeliveryLogProblem(line: r.line, column: nil, member: "system",
                                                                reason: "no system: Four Keys' tables have none; give one with the import")))
                    continue
                }
                let e = try JSON.object()
                if let id = r.cells["incident_id"]?.text { try e.set("id", string: id) }
                try e.set("system", string: sys)
                if let s = r.cells["time_created"]?.text { try e.set("started", string: FourKeysReading.time(s)) }
                if let s = r.cells["time_resolved"]?.text { try e.set("resolved", string: FourKeysReading.time(s)) }
                if let cause { try e.set("cause", string: cause.id) }
                incidents.append((e, r, cols))
            }
        }
        if causeUnknown > 0 {
            notes.append(haveDeployments
                ? "\(causeUnknown) incident(s) name root-cause changes no imported deployment carries: no failed deployment for them"
                : "no deployments table imported: incidents' root causes cannot name a deployment, so they add no change failures")
        }
    }
}
