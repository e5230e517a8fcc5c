import ArgumentParser
import CJansson
import Glibc
import TwoSpeedClient
import TwoSpeedJSON

/// The options `twospeed import --from deployments|incidents` adds (issue 13).
/// Delivery events from a JSON Lines or CSV file into delivery.record, in one call (one transaction).
///
/// JSON Lines: one event a line, as delivery.record takes it. CSV: a header row naming the columns
/// (deployments: id, system, time, failed, changes; incidents: id, system, started, resolved, cause);
/// `changes` lists `changeId@commitTime` entries separated by `;`; `failed` is true/false/1/0/yes/no;
/// an empty cell leaves the member out. A UTF-8 BOM, CRLF line ends and quoted cells (RFC 4180) are read.
/// Every problem is printed as FILE:LINE (JSON Lines) or FILE:LINE:COLUMN (CSV) on standard error.
enum DeliveryImport {
    static let kinds = ["deployments", "incidents"]
    static let columns = [
        "deployments": ["id", "system", "time", "failed", "changes"],
        "incidents": ["id", "system", "started", "resolved", "cause"],
    ]

    /// Where a record came from: its line, and for CSV the column of each member.
    struct Origin { var line: Int; var columns: [String: Int]; var bytes: Int }
    /// At most this much of a file goes in one delivery.record call, under the daemon's default message
    /// limit (16 MiB) with room for the JSON a CSV row becomes.
    static let chunkBytes = 6 << 20
    struct Problem { var line: Int; var column: Int?; var member: String?; var reason: String }

    struct Options { var portfolio: String?; var atomic: Bool; var format: String? }

    static func run(kind: String, file: String, options: Options, connection: ConnectionOptions,
                    output: OutputOptions) throws {
        guard let portfolio = options.portfolio else { throw UsageError("--from \(kind) needs --portfolio ID") }
        let format = options.format ?? (file.hasSuffix(".csv") ? "csv" : "jsonl")
        guard format == "csv" || format == "jsonl" else { throw UsageError("--format is jsonl or csv, not \(format)") }
        let bytes = try readInput(file)
        let name = file == "-" ? "standard input" : file
        var problems: [Problem] = []
        let records = JSONMake.array()
        defer { records.release() }
        var origins: [Origin] = []
        if format == "jsonl" {
            readLines(bytes, records, &origins, &problems)
        } else {
            try readCSV(bytes, kind: kind, name: name, records, &origins, &problems)
        }
        if options.atomic && !problems.isEmpty {
            for p in problems { writeError(describe(p, name)) }
            writeError("twospeed: \(problems.count) bad record(s); nothing recorded (--atomic)")
            throw ExitCode(ExitStatus.rpcError)
        }
        // One call, one transaction; a file too large for one message (the daemon takes 16 MiB) goes in
        // calls of at most `chunkBytes` each, one transaction each, unless --atomic asks for all or nothing.
        var chunks: [Range<Int>] = []
        var start = 0, size = 0
        for (i, o) in origins.enumerated() {
            if size + o.bytes > chunkBytes && i > start && !options.atomic { chunks.append(start..<i); start = i; size = 0 }
            size += o.bytes
        }
        chunks.append(start..<origins.count)
        let client = try connection.client()
        let result = JSONMake.object(["portfolio": JSONMake.string(portfolio)])
        defer { result.release() }
        var totals: [String: [String: Int]] = [:]
        let cliProblems = problems.count
        for chunk in chunks {
            let part = JSONMake.array()
            for i in chunk { json_array_append(part, json_array_get(records, i)) }
            let params = JSONMake.object(["portfolio": JSONMake.string(portfolio), kind: part,
                                          "atomic": JSONMake.bool(options.atomic)])
            defer { params.release() }
            let reply: JSONRef
            let from = Array(origins[chunk])
            do { reply = try client.callJSON("delivery.record", params: params) } catch let e as RPCCallError {
                // atomic: the engine refused the lot; say where each problem is, then fail as any RPC error.
                for issue in e.data?.errors ?? [] { problems.append(locate(issue.pointer, issue.reason, kind, from)) }
                for p in problems { writeError(describe(p, name)) }
                throw e
            }
            defer { reply.release() }
            for p in reply["problems"]?.elements ?? [] {
                problems.append(locate(p["pointer"]?.stringValue ?? "", p["reason"]?.stringValue ?? "", kind, from))
            }
            for k in DeliveryImport.kinds {
                for (member, v) in (reply[k].map { c in c.keys.map { ($0, Int(c[$0]?.intValue ?? 0)) } } ?? []) {
                    totals[k, default: [:]][member, default: 0] += v
                }
            }
        }
        // The file's own problems were skipped before any call: count them with the engine's.
        totals[kind, default: [:]]["skipped", default: 0] += cliProblems
        for k in DeliveryImport.kinds {
            let o = JSONMake.object()
            for member in ["created", "updated", "unchanged", "skipped"] { o.set(member, JSONMake.int(totals[k]?[member] ?? 0)) }
            result.set(k, o)
        }
        result.set("calls", JSONMake.int(chunks.count))
        problems.sort { $0.line < $1.line }
        let listed = JSONMake.array()
        for p in problems {
            var pairs: [(String, JSONRef)] = [("file", JSONMake.string(name)), ("line", JSONMake.int(p.line))]
            if let c = p.column { pairs.append(("column", JSONMake.int(c))) }
            if let m = p.member { pairs.append(("member", JSONMake.string(m))) }
            pairs.append(("reason", JSONMake.string(p.reason)))
            let o = JSONMake.object()
            for (k, v) in pairs { o.set(k, v) }
            listed.append(o)
            writeError(describe(p, name))
        }
        result.set("problems", listed)
        result.set("problemCount", JSONMake.int(problems.count))
        printJSON(result, compact: output.compact)
        if !problems.isEmpty { throw ExitCode(ExitStatus.rpcError) }
    }

    static func describe(_ p: Problem, _ file: String) -> String {
        let at = p.column.map { "\(file):\(p.line):\($0)" } ?? "\(file):\(p.line)"
        return "\(at): \(p.member.map { "\($0): " } ?? "")\(p.reason)"
    }

    /// An engine problem at /kind/i/member... as the line (and column) of the record it names.
    static func locate(_ pointer: String, _ reason: String, _ kind: String, _ origins: [Origin]) -> Problem {
        let tokens = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { unescape($0) }
        guard tokens.count >= 2, tokens[0] == kind, let i = Int(tokens[1]), i < origins.count else {
            return Problem(line: 0, column: nil, member: pointer, reason: reason)
        }
        let member = tokens.count > 2 ? tokens[2...].joined(separator: "/") : nil
        let column = tokens.count > 2 ? origins[i].columns[tokens[2]] : nil
        return Problem(line: origins[i].line, column: column, member: member, reason: reason)
    }

    /// A JSON pointer token's text: ~1 is "/", ~0 is "~" (RFC 6901).
    static func unescape(_ t: Substring) -> String {
        var out = "", tilde = false
        for ch in t {
            if tilde { out.append(ch == "1" ? "/" : ch == "0" ? "~" : ch); tilde = false }
            else if ch == "~" { tilde = true } else { out.append(ch) }
        }
        return out
    }

    // MARK: JSON Lines

    static func readLines(_ bytes: [UInt8], _ records: JSONRef, _ origins: inout [Origin], _ problems: inout [Problem]) {
        var line = 0
        var start = 0
        bytes.withUnsafeBytes { buf in
            while start < buf.count {
                line += 1
                var end = start
                while end < buf.count, buf[end] != 0x0A { end += 1 }
                var stop = end
                if stop > start, buf[stop - 1] == 0x0D { stop -= 1 }
                var from = start
                if line == 1, stop - from >= 3, buf[from] == 0xEF, buf[from + 1] == 0xBB, buf[from + 2] == 0xBF { from += 3 }
                let text = UnsafeRawBufferPointer(rebasing: buf[from..<stop])
                start = end + 1
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                switch JSONText.parse(text) {
                case .failure(let e):
                    problems.append(Problem(line: line, column: e.column, member: nil, reason: "not JSON: \(e.reason)"))
                case .success(let v):
                    guard v.isObject else {
                        problems.append(Problem(line: line, column: nil, member: nil, reason: "expected an object, found \(v.kind.schemaName)"))
                        v.release()
                        continue
                    }
                    json_array_append_new(records, v)
                    origins.append(Origin(line: line, columns: [:], bytes: stop - from + 1))
                }
            }
        }
    }

    // MARK: CSV

    static func readCSV(_ bytes: [UInt8], kind: String, name: String, _ records: JSONRef, _ origins: inout [Origin],
                        _ problems: inout [Problem]) throws {
        let rows = CSV.parse(bytes)
        guard let header = rows.first else { return }
        let allowed = columns[kind]!
        var index: [String: Int] = [:]
        for (c, h) in header.cells.enumerated() {
            let key = h.trimmingSpaces().lowercased()
            guard allowed.contains(key) else {
                throw UsageError("\(name):\(header.line):\(c + 1): unknown column \"\(h)\"; \(kind) take \(allowed.joined(separator: ", "))")
            }
            guard index[key] == nil else { throw UsageError("\(name):\(header.line):\(c + 1): column \"\(key)\" appears twice") }
            index[key] = c + 1
        }
        for row in rows.dropFirst() {
            if row.cells.allSatisfy({ $0.isEmpty }) { continue }
            if row.cells.count > header.cells.count {
                problems.append(Problem(line: row.line, column: header.cells.count + 1, member: nil,
                                        reason: "\(row.cells.count) cells; the header names \(header.cells.count)"))
                continue
            }
            let o = JSONMake.object()
            var ok = true
            for (key, c) in index {
                guard c - 1 < row.cells.count else { continue }
                let cell = row.cells[c - 1].trimmingSpaces()
                if cell.isEmpty { continue }
                switch key {
                case "failed":
                    switch cell.lowercased() {
                    case "true", "1", "yes": o.set(key, JSONMake.bool(true))
                    case "false", "0", "no": o.set(key, JSONMake.bool(false))
                    default:
                        problems.append(Problem(line: row.line, column: c, member: key, reason: "expected true or false, found \"\(cell)\""))
                        ok = false
                    }
                case "changes":
                    let list = JSONMake.array()
                    for entry in cell.split(separator: ";") {
                        let e = entry.trimmingSpaces()
                        guard let at = e.firstIndex(of: "@") else {
                            problems.append(Problem(line: row.line, column: c, member: key,
                                                    reason: "a change is changeId@commitTime, not \"\(e)\""))
                            ok = false
                            continue
                        }
                        list.append(JSONMake.object(["id": JSONMake.string(String(e[..<at])),
                                                     "committed": JSONMake.string(String(e[e.index(after: at)...]))]))
                    }
                    o.set(key, list)
                default:
                    o.set(key, JSONMake.string(cell))
                }
            }
            if ok {
                json_array_append_new(records, o)
                origins.append(Origin(line: row.line, columns: index, bytes: row.cells.reduce(16) { $0 + $1.utf8.count + 24 }))
            } else {
                o.release()
            }
        }
    }
}

/// RFC 4180 CSV, as spreadsheets write it: a BOM, CRLF, quoted cells with doubled quotes and line breaks.
/// The separator is a comma, or a semicolon when the header has semicolons and no commas (Excel in
/// many locales).
enum CSV {
    struct Row { var line: Int; var cells: [String] }

    static func parse(_ input: [UInt8]) -> [Row] {
        var b = input[...]
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { b = b.dropFirst(3) }
        let firstLine = b.prefix { $0 != 0x0A }
        let sep: UInt8 = !firstLine.contains(0x2C) && firstLine.contains(0x3B) ? 0x3B : 0x2C
        var rows: [Row] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var line = 1, rowLine = 1
        var quoted = false
        var i = b.startIndex
        func endCell() { cells.append(String(decoding: cell, as: UTF8.self)); cell.removeAll(keepingCapacity: true) }
        while i < b.endIndex {
            let c = b[i]
            if quoted {
                if c == 0x22 {
                    if b.index(after: i) < b.endIndex, b[b.index(after: i)] == 0x22 { cell.append(0x22); i += 1 } else { quoted = false }
                } else {
                    if c == 0x0A { line += 1 }
                    cell.append(c)
                }
            } else if c == 0x22 && cell.isEmpty {
                quoted = true
            } else if c == sep {
                endCell()
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D, b.index(after: i) < b.endIndex, b[b.index(after: i)] == 0x0A { i += 1 }
                endCell()
                rows.append(Row(line: rowLine, cells: cells))
                cells.removeAll()
                line += 1
                rowLine = line
            } else {
                cell.append(c)
            }
            i += 1
        }
        if !cell.isEmpty || !cells.isEmpty { endCell(); rows.append(Row(line: rowLine, cells: cells)) }
        return rows
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let u = Array(utf8)
        var s = 0, e = u.count
        while s < e, u[s] == 0x20 || u[s] == 0x09 { s += 1 }
        while e > s, u[e - 1] == 0x20 || u[e - 1] == 0x09 { e -= 1 }
        return String(decoding: u[s..<e], as: UTF8.self)
    }
}
