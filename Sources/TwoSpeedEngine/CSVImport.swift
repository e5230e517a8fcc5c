import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema

// The CSV itself is read by CSVReader (Readers.swift), the one CSV reader of the engine and the command line.

/// One header column: the path of the field it fills and the schema of that field.
struct CSVColumn {
    var index: Int
    var header: String
    var path: [String]
    var schema: Schema
}

struct CSVProblem: Error { var why: String; init(_ why: String) { self.why = why } }

enum CSVCells {
    /// The field at a dotted path in a kind's schema, or why there is none.
    static func column(_ header: String, _ index: Int, _ schema: Schema) -> Result<CSVColumn, CSVProblem> {
        let path = header.trimmingSpaces.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var s = schema
        for (n, t) in path.enumerated() {
            guard s.kind == .object, let next = s.property(t) else {
                let known = s.properties.map(\.name).joined(separator: ", ")
                return .failure(CSVProblem(n == 0 ? "no field \"\(t)\" in this kind (fields: \(known))"
                                : "no field \"\(t)\" in \(path[0..<n].joined(separator: ".")) (fields: \(known))"))
            }
            s = next
        }
        return .success(CSVColumn(index: index, header: header, path: path, schema: s))
    }

    /// A cell as the JSON value its field's schema expects; nil for an empty cell.
    static func value(_ cell: String, _ schema: Schema, decimalComma: Bool) throws -> Result<JSON?, CSVProblem> {
        let t = cell.trimmingSpaces
        if t.isEmpty { return .success(nil) }
        switch schema.kind {
        case .string: return .success(try JSON.string(t))
        case .integer:
            guard let i = Int(t) else { return .failure(CSVProblem("\"\(t)\" is not an integer")) }
            return .success(try JSON.int(i))
        case .number:
            // Spreadsheets of ;-separated locales write 1,5 for 1.5.
            let n = decimalComma && !t.contains(".") ? String(t.map { $0 == "," ? "." : $0 }) : t
            guard let d = Double(n), d.isFinite else { return .failure(CSVProblem("\"\(t)\" is not a number")) }
            return .success(try JSON.double(d))
        case .boolean:
            switch t.lowercased() {
            case "true", "yes", "y", "1", "x": return .success(JSON.bool(true))
            case "false", "no", "n", "0": return .success(JSON.bool(false))
            default: return .failure(CSVProblem("\"\(t)\" is not true or false"))
            }
        case .array where t.first != "[":
            guard let item = schema.items.first, item.kind != .object, item.kind != .array else {
                return .failure(CSVProblem("a list of objects is written as JSON in its cell ([{...}, ...])"))
            }
            let a = try JSON.array()
            for part in t.split(separator: ";") where !String(part).trimmingSpaces.isEmpty {
                switch try value(String(part), item, decimalComma: decimalComma) {
                case .success(let v): if let v { try a.append(v) }
                case .failure(let why): return .failure(why)
                }
            }
            return .success(a)
        default:
            // Objects, lists of objects, anything else: JSON text in the cell, an object or an array
            // (jansson's flags 0: no bare values).
            switch try JSON.parse(t, flags: 0) {
            case .success(let v): return .success(v)
            case .failure(let e): return .failure(CSVProblem("expected JSON here: \(e.reason)"))
            }
        }
    }
}

extension Engine {
    func importCSV(_ p: CSVImportParams, _ call: Call) throws -> JSON {
        let kind = p.kind
        let file = p.file
        let sep: UInt8? = p.separator.flatMap { $0.utf8.first }
        let records: [(line: Int, fields: [String])]
        do { records = try CSVReader.records(p.text, separator: sep) } catch let f as CSVReader.Failure {
            let reason = f.reason == "a quoted field is not closed" ? "line \(f.line): \(f.reason)" : "line \(f.line), column \(f.column): \(f.reason)"
            throw RPCError(.invalidParams, pointer: call.pointer("text").description, (file.map { $0 + ": " } ?? "") + reason)
        }
        guard let header = records.first else {
            throw RPCError(.invalidParams, pointer: call.pointer("text").description, "the CSV has no header row")
        }
        let decimalComma = (sep ?? CSVReader.detectSeparator(p.text.utf8.prefix(4096))) == 0x3B
        var columns: [CSVColumn] = []
        var headerIssues = IssueList()
        for (i, h) in header.fields.enumerated() {
            var name = h
            if i == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            if name.trimmingSpaces.isEmpty { continue }
            switch CSVCells.column(name, i, kind.schema) {
            case .success(let c): columns.append(c)
            case .failure(let why):
                headerIssues.add(ValidationIssue(pointer: call.pointer("text").description,
                                                 reason: "\(file.map { $0 + ": " } ?? "")row 1, column \(i + 1) (\"\(name)\"): \(why.why)"))
            }
        }
        if columns.first(where: { $0.path == ["id"] }) == nil {
            headerIssues.add(ValidationIssue(pointer: call.pointer("text").description, reason: "row 1: the header has no id column"))
        }
        if !headerIssues.isEmpty { throw RPCError.invalidParams(headerIssues) }
        // A column's path and those under it are what the rows own; the rest of a stored entity stays.
        let owned = columns.map(\.path)
        let at = call.pointer("text").description
        var initial: [ImportProblem] = []
        var entries: [ImportEntry] = []
        for (r, rec) in records.enumerated().dropFirst() {
            let row = r + 1
            let v = try JSON.object()
            var bad = false
            for c in columns {
                let cell = c.index < rec.fields.count ? rec.fields[c.index] : ""
                switch try CSVCells.value(cell, c.schema, decimalComma: decimalComma) {
                case .success(let value): if let value { try ImportBatch.set(v.view, c.path, value.view) }
                case .failure(let why):
                    initial.append(ImportProblem(record: row, file: file, line: rec.line, column: c.index + 1, row: row, field: c.header,
                                                 pointer: at, reason: why.why, skipped: true))
                    bad = true
                }
            }
            if rec.fields.count > header.fields.count {
                initial.append(ImportProblem(record: row, file: file, line: rec.line, column: header.fields.count + 1, row: row,
                                             pointer: at, reason: "\(rec.fields.count) fields; the header has \(header.fields.count)",
                                             skipped: true))
                bad = true
            }
            guard !bad, let id = v["id"]?.stringValue else {
                if !bad {
                    initial.append(ImportProblem(record: row, file: file, line: rec.line, column: (columns.first { $0.path == ["id"] }?.index ?? 0) + 1,
                                                 row: row, field: "id", pointer: at, reason: "the id is empty", skipped: true))
                }
                continue
            }
            entries.append(ImportEntry(record: row, kind: kind, id: id, values: v, owned: owned))
        }
        let lines = Dictionary(records.enumerated().map { ($0.offset + 1, $0.element.line) }, uniquingKeysWith: { a, _ in a })
        // The column a failing pointer inside the entity is written in: the longest header path it starts with.
        func column(of pointer: String) -> CSVColumn? {
            let tokens = JSONPointer(parsing: pointer)?.tokens ?? []
            return columns.filter { tokens.starts(with: $0.path) }.max { $0.path.count < $1.path.count }
        }
        return try commitImport(pid: p.portfolio, pidPointer: call.pointer("portfolio"),
                                organization: p.organization, ifRevision: p.ifRevision,
                                atomic: p.atomic ?? false, problems: initial, records: records.count - 1,
                                plan: { _, _ in (entries, []) },
                                describe: { row, issues, _ in
            issues.map { i in
                let c = column(of: i.pointer)
                return ImportProblem(record: row, file: file, line: lines[row], column: c.map { $0.index + 1 }, row: row,
                                     field: c?.header, pointer: at,
                                     reason: (c == nil && !i.pointer.isEmpty ? "\(i.pointer): " : "") + i.reason, skipped: true)
            }
        })
    }
}
