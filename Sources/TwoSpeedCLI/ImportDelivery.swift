import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedEngine
import TwoSpeedJSON

/// The options `twospeed import --from deployments|incidents` adds (issue 13).
/// Delivery events from a JSON Lines or CSV file into delivery.record. The file is read as it streams
/// (DeliveryLogReader, the engine's own reader: delivery.import says the same of a file): events go in
/// calls of at most `chunkBytes`, each one transaction, so memory stays bounded whatever the file's size;
/// `--atomic` sends them all in one call (one transaction), which holds them all.
/// Every problem is printed as FILE:LINE (JSON Lines) or FILE:LINE:COLUMN (CSV) on standard error.
enum DeliveryImport {
    /// At most this much of a file goes in one delivery.record call, under the daemon's default message
    /// limit (16 MiB) with room for the JSON a CSV row becomes.
    static let chunkBytes = 6 << 20
    /// Problems listed in the printed result; all are written to stderr.
    static let maxListed = 1_000

    struct Options { var portfolio: String?; var atomic: Bool; var format: String?; var quiet = false }

    static func run(kind kindName: String, file: String, options: Options, connection: ConnectionOptions,
                    output: OutputOptions) throws {
        guard let portfolio = options.portfolio else { throw UsageError("--from \(kindName) needs --portfolio ID") }
        let kind = DeliveryKind(rawValue: kindName)!
        let formatName = options.format ?? (file.hasSuffix(".csv") ? "csv" : "jsonl")
        guard let format = DeliveryLogReader.Format(rawValue: formatName) else { throw UsageError("--format is jsonl or csv, not \(formatName)") }
        let name = file == "-" ? "standard input" : file
        let fd: CInt = file == "-" ? 0 : open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UsageError("cannot read \(file): \(String(cString: strerror(errno)))") }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        let size = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
        // A line on a terminal only: a log or a pipe gets the result and the problems, nothing redrawn.
        let progress: Progress? = !options.quiet && isatty(2) == 1 ? Progress(label: "twospeed import", quiet: false) : nil
        defer { progress?.finish() }

        let client = try connection.client()
        var reader = DeliveryLogReader(kind: kind, format: format)
        var part = try JSON.array()
        var origins: [DeliveryOrigin] = []
        var partBytes = 0
        /// Problems of the records read since the last call: printed with that call's, in line order.
        var pending: [DeliveryLogProblem] = []
        var listed: [DeliveryLogProblem] = []
        var problemCount = 0
        var totals: [DeliveryKind: [String: Int]] = [:]
        var calls = 0
        var records = 0
        var systemsMissing: [String: Int] = [:]

        func report(_ ps: [DeliveryLogProblem]) {
            for p in ps.sorted(by: DeliveryLogProblem.inFileOrder) {
                problemCount += 1
                if listed.count < maxListed { listed.append(p) }
                writeError(p.described(name))
                if p.member == "system", p.reason.hasPrefix("the portfolio has no system ") {
                    systemsMissing[String(p.reason.dropFirst("the portfolio has no system ".count)), default: 0] += 1
                }
            }
        }
        func send() throws {
            // An empty part is sent only as the first call: the engine still says whether the portfolio exists.
            guard !origins.isEmpty || calls == 0 else { report(pending); pending = []; return }
            let params = try JSON.object(["portfolio": JSON.string(portfolio), kind.rawValue: part,
                                          "atomic": JSON.bool(options.atomic)])
            calls += 1
            let reply: JSON
            do { reply = try client.callJSON("delivery.record", params: params) } catch let e as RPCCallError {
                // atomic: the engine refused the lot; say where each problem is, then fail as any RPC error.
                report(pending + (e.data?.errors ?? []).map { DeliveryLocate.problem($0.pointer, $0.reason, kind, origins) })
                throw e
            }
            var found = pending
            for p in reply["problems"]?.elements ?? [] {
                found.append(DeliveryLocate.problem(p["pointer"]?.stringValue ?? "", p["reason"]?.stringValue ?? "", kind, origins))
            }
            report(found)
            for k in DeliveryKind.allCases {
                for (member, v) in (reply[k.rawValue].map { c in c.keys.map { ($0, Int(c[$0]?.intValue ?? 0)) } } ?? []) {
                    totals[k, default: [:]][member, default: 0] += v
                }
            }
            pending = []
            part = try JSON.array()
            origins.removeAll(keepingCapacity: true)
            partBytes = 0
        }
        let event: (JSON, DeliveryOrigin) throws -> Void = { e, o in
            if !options.atomic, partBytes + o.bytes > chunkBytes, !origins.isEmpty { try send() }
            try part.append(e)
            origins.append(o)
            partBytes += o.bytes
            records += 1
        }
        // A record may have several problems (a CSV row with two bad cells): one record skipped.
        var readSkipped = 0, lastLine = -1
        let problem: (DeliveryLogProblem) -> Void = { p in
            pending.append(p)
            if p.line != lastLine { readSkipped += 1; records += 1; lastLine = p.line }
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done = 0
        do {
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw UsageError("cannot read \(name): \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
                try buffer.withUnsafeBytes { try reader.feed(UnsafeRawBufferPointer(rebasing: $0[..<n]), event: event, problem: problem) }
                progress?.update("\(records) records, \(done >> 20) MiB", done: done, total: size)
            }
            try reader.finish(event: event, problem: problem)
        } catch let e as DeliveryLogError {
            throw UsageError(e.described(name))
        }
        // --atomic: the file's own problems refuse it before any call.
        if options.atomic && !pending.isEmpty {
            report(pending)
            writeError("twospeed: \(problemCount) bad record(s); nothing recorded (--atomic)")
            throw ExitCode(ExitStatus.rpcError)
        }
        try send()
        progress?.finish()

        let result = try JSON.object(["portfolio": JSON.string(portfolio)])
        // The file's own problems were skipped before any call: count them with the engine's.
        totals[kind, default: [:]]["skipped", default: 0] += readSkipped
        for k in DeliveryKind.allCases {
            let o = try JSON.object()
            for member in ["created", "updated", "unchanged", "skipped"] { try o.set(member, JSON.int(totals[k]?[member] ?? 0)) }
            try result.set(k.rawValue, o)
        }
        try result.set("records", JSON.int(records))
        try result.set("calls", JSON.int(calls))
        let list = try JSON.array()
        for p in listed {
            let o = try JSON.object(["file": .string(name), "line": .int(p.line), "column": p.column.map { try .int($0) },
                                     "member": p.member.map { try .string($0) }, "reason": .string(p.reason)])
            try list.append(o)
        }
        try result.set("problems", list)
        try result.set("problemCount", JSON.int(problemCount))
        printJSON(result, compact: output.compact)
        let recorded = ["created", "updated", "unchanged"].reduce(0) { $0 + (totals[kind]?[$1] ?? 0) }
        if records > 0 && recorded == 0 {
            // Every record skipped: nothing was written, and the reason is said once, not per record.
            writeError("twospeed: none of the \(records) record(s) of \(name) could be recorded; nothing recorded")
            if !systemsMissing.isEmpty {
                let named = systemsMissing.keys.sorted().prefix(10).joined(separator: ", ")
                writeError("twospeed: \(systemsMissing.values.reduce(0, +)) record(s) name systems portfolio \"\(portfolio)\" does not have "
                           + "(\(named)\(systemsMissing.count > 10 ? ", ..." : "")): import the catalog that has them first, or name the right --portfolio")
            }
        }
        if problemCount > 0 || (records > 0 && recorded == 0) { throw ExitCode(ExitStatus.rpcError) }
    }
}

extension DeliveryImport {
    /// `--from fourkeys`: Four Keys' exported tables, each file whole, in one delivery.import call (the
    /// tables are joined: a deployment's changes need the changes table, an incident's root cause the
    /// deployments). Problems are printed as FILE:LINE[:COLUMN] as for the other delivery logs.
    static func runFourKeys(files: [String], portfolio: String, system: String?, atomic: Bool, connection: ConnectionOptions,
                            output: OutputOptions) throws {
        let tables = try JSON.array()
        for f in files {
            let bytes = try readInput(f)
            try tables.append(JSON.object(["text": JSON.string(String(decoding: bytes, as: UTF8.self)),
                                           "file": JSON.string(f == "-" ? "standard input" : f)]))
        }
        let params = try JSON.object(["portfolio": JSON.string(portfolio), "format": JSON.string("fourkeys"), "tables": tables,
                                      "atomic": JSON.bool(atomic)])
        if let system { try params.set("system", JSON.string(system)) }
        let reply: JSON
        do { reply = try connection.client().callJSON("delivery.import", params: params) } catch let e as RPCCallError {
            // Each refused record's reason already names its file, line and column.
            for issue in e.data?.errors ?? [] { writeError(issue.reason) }
            throw e
        }
        for p in reply["problems"]?.elements ?? [] {
            let problem = DeliveryLogProblem(line: Int(p["line"]?.intValue ?? 0), column: (p["column"]?.intValue).map { Int($0) },
                                             member: p["member"]?.stringValue, reason: p["reason"]?.stringValue ?? "")
            writeError(problem.described(p["file"]?.stringValue ?? "?"))
        }
        for n in reply["notes"]?.elements ?? [] { writeError("twospeed: note: \(n.stringValue ?? "")") }
        printJSON(reply, compact: output.compact)
        if (reply["problemCount"]?.intValue ?? 0) > 0 { throw ExitCode(ExitStatus.rpcError) }
    }
}
