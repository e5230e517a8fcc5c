import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema

// delivery.import: a delivery log's text as the command line reads its file (DeliveryLogs.swift), so that
// C, Python and the shell import delivery logs as `twospeed import --from deployments|incidents` does.

extension Engine {
    func deliveryImportMethod() -> Method {
        Method(Contract.deliveryImport) { [unowned self] p, call in try importDelivery(p, call) }
    }

    func importDelivery(_ p: DeliveryImportParams, _ call: Call) throws -> DeliveryImportResult {
        if p.format == "fourkeys" { return try importFourKeys(p, call) }
        guard p.tables == nil, p.system == nil else {
            throw RPCError(.invalidParams, pointer: call.pointer(p.tables != nil ? "tables" : "system").description, "only for format fourkeys")
        }
        guard let kind = p.kind.flatMap(DeliveryKind.init(rawValue:)) else {
            throw RPCError(.invalidParams, pointer: call.pointer("kind").description, "required for format \(p.format)")
        }
        guard var text = p.text else {
            throw RPCError(.invalidParams, pointer: call.pointer("text").description, "required for format \(p.format)")
        }
        guard let format = DeliveryLogReader.Format(rawValue: p.format) else {
            throw RPCError(.invalidParams, pointer: call.pointer("format").description, "unknown format")
        }
        let file = p.file ?? "text"
        let at = call.pointer("text").description
        var reader = DeliveryLogReader(kind: kind, format: format)
        let events = try JSON.array()
        var origins: [DeliveryOrigin] = []
        var read: [DeliveryLogProblem] = []
        do {
            let add: (JSON, DeliveryOrigin) throws -> Void = { e, o in try events.append(e); origins.append(o) }
            try text.withUTF8 { try reader.feed(UnsafeRawBufferPointer($0), event: add, problem: { read.append($0) }) }
            try reader.finish(event: add, problem: { read.append($0) })
        } catch let e as DeliveryLogError {
            throw RPCError(.invalidParams, pointer: at, e.described(file))
        }
        func located(_ issues: [ValidationIssue]) -> [DeliveryLogProblem] {
            issues.map { DeliveryLocate.problem($0.pointer, $0.reason, kind, origins) }
        }
        func refusal(_ all: [DeliveryLogProblem], _ why: String) -> RPCError {
            var issues = IssueList(cap: Engine.maxProblems)
            for pr in all.sorted(by: DeliveryLogProblem.inFileOrder) { issues.add(ValidationIssue(pointer: at, reason: pr.described(file))) }
            var e = RPCError.invalidParams(issues)
            e.message = why
            return e
        }
        // A record may have several problems (a CSV row with two bad cells): one record skipped.
        let readRecords = Set(read.map(\.line)).count
        if p.atomic == true, !read.isEmpty {
            throw refusal(read, "\(readRecords) bad record(s) in \(file); nothing recorded (atomic)")
        }
        let base = JSONPointer([kind.rawValue])
        let result: RecordResult
        do {
            result = try recordEvents(pid: p.portfolio, pidPointer: call.pointer("portfolio"),
                                      deployments: kind == .deployments ? events.ref : nil, deploymentsAt: base,
                                      incidents: kind == .incidents ? events.ref : nil, incidentsAt: base, atomic: p.atomic == true,
                                      refuseWhenNoneRecorded: { r in
                let records = origins.count + readRecords
                guard records > 0 else { return nil }
                let all = read + located(r.problems)
                return refusal(all, "none of the \(records) record(s) of \(file) could be recorded; nothing recorded")
            })
        } catch var e as RPCError where e.code == ErrorCode.invalidParams.rawValue && p.atomic == true
                    && (e.data?.pointer ?? "").hasPrefix("/\(kind.rawValue)/") {
            // atomic: the engine's pointers (into the events) become the file's lines.
            let all = read + located(e.data?.errors ?? [])
            e = refusal(all, "\(all.count) bad record(s) in \(file); nothing recorded (atomic)")
            throw e
        }
        let problems = (read + located(result.problems)).sorted(by: DeliveryLogProblem.inFileOrder)
        return DeliveryImportResult(portfolio: result.portfolio,
                                    deployments: kind == .deployments ? bump(result.deployments, readRecords) : result.deployments,
                                    incidents: kind == .incidents ? bump(result.incidents, readRecords) : result.incidents,
                                    records: origins.count + readRecords,
                                    problems: problems.prefix(Engine.maxProblems).map {
                                        DeliveryImportProblem(pointer: at, file: file, line: $0.line, column: $0.column, member: $0.member,
                                                              reason: $0.reason)
                                    },
                                    problemCount: read.count + result.problemCount, notes: nil)
    }

    /// Four Keys' exported tables: read each, map them together (a deployment's changes need the changes
    /// table, an incident's root cause the deployments), then record as one delivery.record call.
    func importFourKeys(_ p: DeliveryImportParams, _ call: Call) throws -> DeliveryImportResult {
        guard p.kind == nil, p.text == nil else {
            throw RPCError(.invalidParams, pointer: call.pointer(p.kind != nil ? "kind" : "text").description,
                           "not for format fourkeys: give the exported tables in tables")
        }
        guard let given = p.tables, !given.isEmpty else {
            throw RPCError(.invalidParams, pointer: call.pointer("tables").description, "required for format fourkeys: at least one table")
        }
        var tables: [FourKeysTable] = []
        var read: [(file: String, problem: DeliveryLogProblem)] = []
        var pointers: [String: String] = [:]
        for (i, t) in given.enumerated() {
            let file = t.file ?? "tables[\(i)]"
            let at = (call.pointer("tables") / i / "text").description
            pointers[file] = at
            do {
                tables.append(try FourKeysReading.read(t.text, file: file) { read.append((file, $0)) })
            } catch let e as DeliveryLogError {
                throw RPCError(.invalidParams, pointer: at, e.described(file))
            }
        }
        let mapping = try FourKeysMapping(tables: tables, system: p.system)
        read += mapping.problems
        let deployments = try JSON.array(), incidents = try JSON.array()
        for d in mapping.deployments { try deployments.append(d.event) }
        for i in mapping.incidents { try incidents.append(i.event) }
        func located(_ issues: [ValidationIssue]) -> [(file: String, problem: DeliveryLogProblem)] {
            issues.map { issue in
                let tokens = JSONPointer(parsing: issue.pointer)?.tokens ?? []
                let list = tokens.first == "deployments" ? mapping.deployments : mapping.incidents
                guard tokens.count >= 2, let n = Int(tokens[1]), n >= 0, n < list.count else {
                    return ("", DeliveryLogProblem(line: 0, column: nil, member: issue.pointer, reason: issue.reason))
                }
                let (_, row, columns) = list[n]
                // The member in Four Keys' words: the column it was read from.
                let names = tokens.first == "deployments" ? ["id": "deploy_id", "time": "time_created"]
                    : ["id": "incident_id", "started": "time_created", "resolved": "time_resolved", "cause": "changes"]
                let member = tokens.count > 2 ? ([names[tokens[2]] ?? tokens[2]] + tokens[3...]).joined(separator: "/") : nil
                return (row.file, DeliveryLogProblem(line: row.line, column: tokens.count > 2 ? columns[tokens[2]] : nil, member: member,
                                                     reason: issue.reason))
            }
        }
        func refusal(_ all: [(file: String, problem: DeliveryLogProblem)], _ why: String) -> RPCError {
            var issues = IssueList(cap: Engine.maxProblems)
            for (f, pr) in all { issues.add(ValidationIssue(pointer: pointers[f] ?? call.pointer("tables").description, reason: pr.described(f))) }
            var e = RPCError.invalidParams(issues)
            e.message = why
            return e
        }
        let atomic = p.atomic == true
        if atomic, !read.isEmpty { throw refusal(read, "\(read.count) bad record(s); nothing recorded (atomic)") }
        struct At: Hashable { var file: String; var line: Int }
        let readAt = Set(read.map { At(file: $0.file, line: $0.problem.line) })
        let records = mapping.deployments.count + mapping.incidents.count + readAt.count
        let result: RecordResult
        do {
            result = try recordEvents(pid: p.portfolio, pidPointer: call.pointer("portfolio"),
                                      deployments: deployments.ref, deploymentsAt: JSONPointer(["deployments"]),
                                      incidents: incidents.ref, incidentsAt: JSONPointer(["incidents"]), atomic: atomic,
                                      refuseWhenNoneRecorded: { r in
                guard records > 0 else { return nil }
                return refusal(read + located(r.problems), "none of the \(records) record(s) could be recorded; nothing recorded")
            })
        } catch var e as RPCError where e.code == ErrorCode.invalidParams.rawValue && atomic
                    && ((e.data?.pointer ?? "").hasPrefix("/deployments/") || (e.data?.pointer ?? "").hasPrefix("/incidents/")) {
            let all = read + located(e.data?.errors ?? [])
            e = refusal(all, "\(all.count) bad record(s); nothing recorded (atomic)")
            throw e
        }
        let problems = read + located(result.problems)
        var counts = (result.deployments, result.incidents)
        // A record refused before it became an event counts as skipped in its table's kind.
        let kinds = Dictionary(zip(given.enumerated().map { $0.element.file ?? "tables[\($0.offset)]" }, tables.map(\.kind)),
                               uniquingKeysWith: { a, _ in a })
        for a in readAt { if kinds[a.file] == .incidents { counts.1.skipped += 1 } else if kinds[a.file] == .deployments { counts.0.skipped += 1 } }
        return DeliveryImportResult(portfolio: result.portfolio, deployments: counts.0, incidents: counts.1, records: records,
                                    problems: problems.prefix(Engine.maxProblems).map { f, pr in
                                        DeliveryImportProblem(pointer: pointers[f] ?? call.pointer("tables").description, file: f, line: pr.line,
                                                              column: pr.column, member: pr.member, reason: pr.reason)
                                    },
                                    problemCount: read.count + result.problemCount, notes: mapping.notes.isEmpty ? nil : mapping.notes)
    }

    private func bump(_ r: RecordKindResult, _ skipped: Int) -> RecordKindResult {
        var r = r
        r.skipped += skipped
        return r
    }
}
