import TwoSpeedJSON

// Delivery logs as files hold them, mapped to the events delivery.record takes (issues 13, 21). Read as
// they stream: the command line feeds a file piece by piece and sends the events in bounded calls;
// delivery.import feeds the text of its params. One mapper for both, so both say the same of a file.

public enum DeliveryKind: String, CaseIterable, Sendable { case deployments, incidents }

/// Where an event came from: its line and, for CSV, the column each member was written in.
public struct DeliveryOrigin: Sendable {
    public var line: Int
    public var columns: [String: Int]
    /// About how many bytes of JSON the event takes: what a caller counts to keep its calls under a size.
    public var bytes: Int
}

/// A record of the file that could not become an event: skipped, the rest read on.
public struct DeliveryLogProblem: Sendable, Equatable {
    public var line: Int
    public var column: Int?
    public var member: String?
    public var reason: String

    public init(line: Int, column: Int?, member: String?, reason: String) {
        self.line = line; self.column = column; self.member = member; self.reason = reason
    }

    /// By line, then column: the order a reader meets them in.
    public static func inFileOrder(_ a: DeliveryLogProblem, _ b: DeliveryLogProblem) -> Bool {
        (a.line, a.column ?? 0) < (b.line, b.column ?? 0)
    }

    /// FILE:LINE:COLUMN: MEMBER: REASON (FILE:LINE when there is no column).
    public func described(_ file: String) -> String {
        let at = column.map { "\(file):\(line):\($0)" } ?? "\(file):\(line)"
        return "\(at): \(member.map { "\($0): " } ?? "")\(reason)"
    }
}

/// A file that cannot be read on at all (a header naming an unknown column, a quote never closed).
public struct DeliveryLogError: Error, Sendable {
    public var line: Int
    public var column: Int?
    public var reason: String
    public func described(_ file: String) -> String {
        "\(file):\(line)\(column.map { ":\($0)" } ?? ""): \(reason)"
    }
}

/// Reads a deployments or incidents log, JSON Lines (one event a line, as delivery.record takes it) or CSV
/// (a header row naming the columns; deployments: id, system, time, failed, changes; incidents: id, system,
/// started, resolved, cause; `changes` lists `changeId@commitTime` entries separated by `;`; `failed` is
/// true/false/1/0/yes/no; an empty cell leaves the member out).
public struct DeliveryLogReader {
    public enum Format: String, CaseIterable, Sendable { case jsonl, csv }

    public static let columns: [DeliveryKind: [String]] = [
        .deployments: ["id", "system", "time", "failed", "changes"],
        .incidents: ["id", "system", "started", "resolved", "cause"],
    ]

    public let kind: DeliveryKind
    public let format: Format
    private var csv = CSVReader()
    private var lines = JSONLinesReader()
    /// CSV: column (from 1) of each member, from the header.
    private var index: [String: Int]?
    private var headerCount = 0

    public init(kind: DeliveryKind, format: Format) { self.kind = kind; self.format = format }

    /// `event` hears of each event (its to keep); `problem` of each record skipped.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, event: (JSON, DeliveryOrigin) throws -> Void,
                              problem: (DeliveryLogProblem) -> Void) throws {
        switch format {
        case .jsonl: try lines.feed(bytes) { try Self.jsonLine($0, $1, event, problem) }
        case .csv:
            do {
                var r = csv
                csv = CSVReader()
                defer { csv = r }
                try r.feed(bytes) { try row($0, $1, event, problem) }
            } catch let f as CSVReader.Failure { throw DeliveryLogError(line: f.line, column: f.column, reason: f.reason) }
        }
    }

    public mutating func finish(event: (JSON, DeliveryOrigin) throws -> Void, problem: (DeliveryLogProblem) -> Void) throws {
        switch format {
        case .jsonl: try lines.finish { try Self.jsonLine($0, $1, event, problem) }
        case .csv:
            do {
                var r = csv
                csv = CSVReader()
                defer { csv = r }
                try r.finish { try row($0, $1, event, problem) }
            } catch let f as CSVReader.Failure { throw DeliveryLogError(line: f.line, column: f.column, reason: f.reason) }
        }
    }

    private static func jsonLine(_ line: Int, _ item: JSONLinesReader.Item, _ event: (JSON, DeliveryOrigin) throws -> Void,
                                 _ problem: (DeliveryLogProblem) -> Void) throws {
        switch item {
        case .failure(let column, let reason): problem(DeliveryLogProblem(line: line, column: column, member: nil, reason: reason))
        case .value(let v, let bytes):
            guard v.isObject else {
                problem(DeliveryLogProblem(line: line, column: nil, member: nil, reason: "expected an object, found \(v.kind.schemaName)"))
                return
            }
            try event(v, DeliveryOrigin(line: line, columns: [:], bytes: bytes))
        }
    }

    private mutating func row(_ line: Int, _ cells: [String], _ event: (JSON, DeliveryOrigin) throws -> Void,
                              _ problem: (DeliveryLogProblem) -> Void) throws {
        guard let index else {
            let allowed = Self.columns[kind]!
            var found: [String: Int] = [:]
            for (c, h) in cells.enumerated() {
                let key = h.trimmingSpaces.lowercased()
                guard allowed.contains(key) else {
                    throw DeliveryLogError(line: line, column: c + 1,
                                           reason: "unknown column \"\(h)\"; \(kind.rawValue) take \(allowed.joined(separator: ", "))")
                }
                guard found[key] == nil else { throw DeliveryLogError(line: line, column: c + 1, reason: "column \"\(key)\" appears twice") }
                found[key] = c + 1
            }
            self.index = found
            headerCount = cells.count
            return
        }
        if cells.allSatisfy({ $0.isEmpty }) { return }
        if cells.count > headerCount {
            problem(DeliveryLogProblem(line: line, column: headerCount + 1, member: nil,
                                       reason: "\(cells.count) cells; the header names \(headerCount)"))
            return
        }
        let o = try JSON.object()
        var ok = true
        for (key, c) in index {
            guard c - 1 < cells.count else { continue }
            let cell = cells[c - 1].trimmingSpaces
            if cell.isEmpty { continue }
            switch key {
            case "failed":
                switch cell.lowercased() {
                case "true", "1", "yes": try o.set(key, bool: true)
                case "false", "0", "no": try o.set(key, bool: false)
                default:
                    problem(DeliveryLogProblem(line: line, column: c, member: key, reason: "expected true or false, found \"\(cell)\""))
                    ok = false
                }
            case "changes":
                let list = try JSON.array()
                for entry in cell.split(separator: ";") {
                    let e = String(entry).trimmingSpaces
                    if e.isEmpty { continue }
                    guard let at = e.firstIndex(of: "@") else {
                        problem(DeliveryLogProblem(line: line, column: c, member: key, reason: "a change is changeId@commitTime, not \"\(e)\""))
                        ok = false
                        continue
                    }
                    try list.append(JSON.object(["id": .string(String(e[..<at])), "committed": .string(String(e[e.index(after: at)...]))]))
                }
                try o.set(key, list)
            default:
                try o.set(key, string: cell)
            }
        }
        if ok { try event(o, DeliveryOrigin(line: line, columns: index, bytes: cells.reduce(16) { $0 + $1.utf8.count + 24 })) }
    }
}

/// An engine problem at /KIND/I/MEMBER... as the line (and column) of the record it names: delivery.import
/// and the command line both point into the file this way.
public enum DeliveryLocate {
    public static func problem(_ pointer: String, _ reason: String, _ kind: DeliveryKind, _ origins: [DeliveryOrigin]) -> DeliveryLogProblem {
        let tokens = JSONPointer(parsing: pointer)?.tokens ?? []
        guard tokens.count >= 2, tokens[0] == kind.rawValue, let i = Int(tokens[1]), i >= 0, i < origins.count else {
            return DeliveryLogProblem(line: 0, column: nil, member: pointer, reason: reason)
        }
        let member = tokens.count > 2 ? tokens[2...].joined(separator: "/") : nil
        let column = tokens.count > 2 ? origins[i].columns[tokens[2]] : nil
        return DeliveryLogProblem(line: origins[i].line, column: column, member: member, reason: reason)
    }
}
