import CJansson
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema

// delivery.import: a delivery log's text as the command line reads its file (DeliveryLogs.swift), so that
// C, Python and the shell import delivery logs as `twospeed import --from deployments|incidents` does.

struct DeliveryImportProblem: Codable {
    /// Into the params: the text (or table) the record was read from.
    var pointer: String
    var file: String?
    var line: Int
    var column: Int?
    var member: String?
    var reason: String
}

struct DeliveryImportResult: Codable {
    var portfolio: String
    var deployments: RecordKindResult
    var incidents: RecordKindResult
    /// Records read from the text (events and records skipped before they became events).
    var records: Int
    var problems: [DeliveryImportProblem]
    var problemCount: Int
}

extension Engine {
    static let deliveryImportResult = Schema.object("DeliveryImportResult",
        required: ["portfolio", "deployments", "incidents", "records", "problems", "problemCount"], [
        "portfolio": .identifier(), "deployments": DeliverySchemas.counts, "incidents": DeliverySchemas.counts,
        "records": .integer(min: 0),
        "problems": .array(.object("DeliveryImportProblem", required: ["pointer", "line", "reason"], [
            "pointer": .string(), "file": .string(), "line": .integer(min: 0), "column": .integer(min: 1),
            "member": .string(), "reason": .string()])),
        "problemCount": .integer(min: 0)])

    func deliveryImportMethod() -> Method {
        .encoding(MethodName.deliveryImport.rawValue,
                  summary: "Records deployments or incidents from a delivery log's text, JSON Lines or CSV, as `twospeed import "
                    + "--from deployments|incidents` reads a file: each bad record is reported with its line (and column) and "
                    + "skipped, the rest written in one transaction. A log none of whose records can be recorded (a portfolio "
                    + "naming none of its systems) is an error, not a silent skip.",
                  params: [Engine.portfolioParam,
                           Param("kind", .oneOf(DeliveryKind.allCases.map(\.rawValue)), "what the log holds"),
                           Param("format", .oneOf(DeliveryLogReader.Format.allCases.map(\.rawValue)),
                                 "jsonl: one event a line as delivery.record takes it; csv: a header row naming the columns"),
                           Param("text", .string(maxLength: 1 << 30), "the log"),
                           Param("file", .string(), required: false, "where the text was read, for problems (default \"text\")"),
                           Param("atomic", .boolean(), required: false, "record nothing if any record is bad (default false)")],
                  result: Engine.deliveryImportResult,
                  mutates: true, errors: [.notFound, .invalidParams, .storeError]) { [unowned self] p in try importDelivery(p) }
            .blockingCalls()
    }

    func importDelivery(_ p: Params) throws -> DeliveryImportResult {
        let kind = DeliveryKind(rawValue: p.string("kind") ?? "")!
        let format = DeliveryLogReader.Format(rawValue: p.string("format") ?? "")!
        let file = p.string("file") ?? "text"
        let at = p.pointer("text").description
        var reader = DeliveryLogReader(kind: kind, format: format)
        let events = JSONMake.array()
        defer { events.release() }
        var origins: [DeliveryOrigin] = []
        var read: [DeliveryLogProblem] = []
        var text = p.string("text") ?? ""
        do {
            let add: (JSONRef, DeliveryOrigin) -> Void = { e, o in events.append(e); origins.append(o) }
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
            for pr in all.sorted(by: { $0.line < $1.line }) { issues.add(ValidationIssue(pointer: at, reason: pr.described(file))) }
            var e = RPCError.invalidParams(issues)
            e.message = why
            return e
        }
        if p.bool("atomic") == true, !read.isEmpty {
            throw refusal(read, "\(read.count) bad record(s) in \(file); nothing recorded (atomic)")
        }
        let base = JSONPointer([kind.rawValue])
        let result: RecordResult
        do {
            result = try recordEvents(pid: p.string("portfolio") ?? "", pidPointer: p.pointer("portfolio"),
                                      deployments: kind == .deployments ? events : nil, deploymentsAt: base,
                                      incidents: kind == .incidents ? events : nil, incidentsAt: base, atomic: p.bool("atomic") == true,
                                      refuseWhenNoneRecorded: { r in
                let records = origins.count + read.count
                guard records > 0 else { return nil }
                let all = read + located(r.problems)
                return refusal(all, "none of the \(records) record(s) of \(file) could be recorded; nothing recorded")
            })
        } catch var e as RPCError where e.code == ErrorCode.invalidParams.rawValue && p.bool("atomic") == true
                    && (e.data?.pointer ?? "").hasPrefix("/\(kind.rawValue)/") {
            // atomic: the engine's pointers (into the events) become the file's lines.
            let all = read + located(e.data?.errors ?? [])
            e = refusal(all, "\(all.count) bad record(s) in \(file); nothing recorded (atomic)")
            throw e
        }
        let problems = (read + located(result.problems)).sorted { $0.line < $1.line }
        return DeliveryImportResult(portfolio: result.portfolio,
                                    deployments: kind == .deployments ? bump(result.deployments, read.count) : result.deployments,
                                    incidents: kind == .incidents ? bump(result.incidents, read.count) : result.incidents,
                                    records: origins.count + read.count,
                                    problems: problems.prefix(Engine.maxProblems).map {
                                        DeliveryImportProblem(pointer: at, file: file, line: $0.line, column: $0.column, member: $0.member,
                                                              reason: $0.reason)
                                    },
                                    problemCount: read.count + result.problemCount)
    }

    private func bump(_ r: RecordKindResult, _ skipped: Int) -> RecordKindResult {
        var r = r
        r.skipped += skipped
        return r
    }
}
