import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedJSON
import TwoSpeedYAML

/// The formats `twospeed import` reads. Each is a case of `Import.run`'s switch: a new source
/// (deployments, incidents) is a case here and a function below.
enum ImportSource: String, ExpressibleByArgument, CaseIterable {
    case json, backstage, csv, deployments, incidents, fourkeys
}

/// twospeed import [--from json|backstage|csv|deployments|incidents] FILE...
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Puts a portfolio file into the engine, or imports a Backstage catalog or a CSV of one entity kind.",
        discussion: """
            --from json (the default): FILE holds one portfolio document as JSON (see \
            examples/portfolios/retailer.json); "-" reads standard input. The engine validates it \
            (portfolio.put): every failure is listed with its JSON pointer, and nothing is stored (exit \
            status 1). On success the result (id, revision, counts) is printed.

            --from backstage: each FILE is a catalog-info.yaml (several documents a file) or a folder \
            searched for *.yaml and *.yml. The documents go to import.backstage, which maps them onto \
            departments, teams, managers and systems of the portfolio --portfolio (created when new).

            --from csv --kind KIND: FILE is a CSV whose header names the fields of KIND (dotted paths \
            for nested fields, lists separated by ;); each row is an entity (import.csv).

            --from deployments|incidents: FILE holds delivery events for --portfolio, as JSON Lines (one \
            event a line, as delivery.record takes it) or CSV (columns id,system,time,failed,changes with \
            changes as changeId@commitTime;... and id,system,started,resolved,cause). Every bad record is \
            reported as FILE:LINE[:COLUMN] and skipped (exit status 1); a file over 6 MiB goes in several \
            calls, one transaction each, unless --atomic.

            --from fourkeys --system SYSTEM: each FILE is a table DORA's Four Keys keeps in BigQuery \
            (four_keys.changes, four_keys.deployments, four_keys.incidents) exported as CSV or \
            newline-delimited JSON; the table is told by its columns. Four Keys names no service, so \
            --system names the system of every event (unless a row has a system or service column). \
            See docs/fourkeys.md (delivery.import).

            Imports print a report (created, updated, unchanged, removed, skipped, problems) and each \
            problem as FILE:LINE: REASON on standard error. Imports running longer than two seconds show \
            progress on standard error unless --quiet.
            """)

    @Option(help: ArgumentHelp("What FILE holds: json (a portfolio document), backstage (a catalog), csv, or deployments "
                               + "or incidents (delivery events).", valueName: "source"))
    var from: ImportSource = .json

    @Option(help: ArgumentHelp("With --from deployments|incidents: jsonl or csv (default: csv for a .csv file, else jsonl).",
                               valueName: "format"))
    var format: String?

    @Argument(help: ArgumentHelp("The files (for backstage, also folders); - for standard input.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("The portfolio to import into (backstage, csv); created when there is none.", valueName: "id"))
    var portfolio: String?

    @Option(help: ArgumentHelp("The organization's name when the portfolio is created.", valueName: "name"))
    var organization: String?

    @Option(help: ArgumentHelp("The entity kind of every CSV row (product, system, team, ...).", valueName: "kind"))
    var kind: String?

    @Option(help: ArgumentHelp("With --from fourkeys: the system every event belongs to (Four Keys' tables name none).", valueName: "id"))
    var system: String?

    @Option(help: ArgumentHelp("The CSV field separator (default: found from the header).", valueName: "char"))
    var separator: String?

    @Option(help: ArgumentHelp("A JSON file of layer rules tried before the defaults (backstage).", valueName: "file"))
    var rules: String?

    @Flag(help: "Remove departments, teams, managers and systems that the catalog does not name (backstage).")
    var prune = false

    @Flag(help: "Import nothing if any record is refused.")
    var atomic = false

    @Flag(help: "Show no progress.")
    var quiet = false

    @Option(name: .customLong("if-revision"), help: ArgumentHelp(
        "Store only if the stored portfolio is at this revision (0: only if it is new).", valueName: "n"))
    var ifRevision: Int?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give a file") }
        switch from {
        case .json:
            if files.count != 1 { throw ValidationError("--from json takes one file") }
        case .backstage, .csv:
            if portfolio == nil { throw ValidationError("--from \(from.rawValue) needs --portfolio ID") }
            if from == .csv {
                if kind == nil { throw ValidationError("--from csv needs --kind KIND") }
                if files.count != 1 { throw ValidationError("--from csv takes one file") }
            }
        case .deployments, .incidents:
            if portfolio == nil { throw ValidationError("--from \(from.rawValue) needs --portfolio ID") }
            if files.count != 1 { throw ValidationError("--from \(from.rawValue) takes one file") }
        case .fourkeys:
            if portfolio == nil { throw ValidationError("--from fourkeys needs --portfolio ID") }
        }
        if system != nil && from != .fourkeys { throw ValidationError("--system is for --from fourkeys") }
    }

    func run() throws {
        if from == .deployments || from == .incidents {
            // Delivery events report as they go (ImportDelivery.swift): a large log is sent in parts.
            return try DeliveryImport.run(kind: from.rawValue, file: files[0],
                                          options: .init(portfolio: portfolio, atomic: atomic, format: format, quiet: quiet),
                                          connection: connection, output: output)
        }
        if from == .fourkeys {
            return try DeliveryImport.runFourKeys(files: files, portfolio: portfolio!, system: system, atomic: atomic,
                                                  connection: connection, output: output)
        }
        let progress = Progress(label: "twospeed import", quiet: quiet)
        defer { progress.finish() }
        let result: JSONRef
        switch from {
        case .json: result = try importJSON()
        case .backstage: result = try importBackstage(progress)
        case .csv: result = try importCSV(progress)
        case .deployments, .incidents, .fourkeys: return
        }
        defer { result.release() }
        progress.finish()
        if from != .json { reportProblems(result) }
        printJSON(result, compact: output.compact)
    }

    func importJSON() throws -> JSONRef {
        let file = files[0]
        let document = try parseJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        defer { document.release() }
        let params = JSONMake.object(["portfolio": document.retained()])
        if let ifRevision { params.set("ifRevision", JSONMake.int(ifRevision)) }
        defer { params.release() }
        return try connection.client().callJSON("portfolio.put", params: params)
    }

    /// The params every import takes.
    func commonParams() -> JSONRef {
        let params = JSONMake.object(["portfolio": JSONMake.string(portfolio ?? "")])
        if let organization { params.set("organization", JSONMake.string(organization)) }
        if atomic { params.set("atomic", JSONMake.bool(true)) }
        if let ifRevision { params.set("ifRevision", JSONMake.int(ifRevision)) }
        return params
    }

    func importBackstage(_ progress: Progress) throws -> JSONRef {
        let paths = try files.flatMap { try catalogFiles($0) }
        if paths.isEmpty { throw UsageError("no .yaml or .yml file in \(files.joined(separator: ", "))") }
        let documents = JSONMake.array()
        // Not released: the process ends after the call, and freeing a large catalog's documents one
        // value at a time costs a tenth of the import.
        let params = commonParams()
        params.set("documents", documents)
        for (i, path) in paths.enumerated() {
            progress.update("reading \(path)", done: i, total: paths.count)
            let bytes = try readInput(path)
            YAMLDocuments.append(text: String(decoding: bytes, as: UTF8.self), file: path, into: documents)
        }
        if let rules {
            params.set("rules", try parseJSON(try readInput(rules), what: rules))
        }
        if prune { params.set("prune", JSONMake.bool(true)) }
        progress.update("mapping \(documents.count) documents in the engine")
        return try connection.client().callJSON("import.backstage", params: params)
    }

    func importCSV(_ progress: Progress) throws -> JSONRef {
        let file = files[0]
        progress.update("reading \(file)")
        let bytes = try readInput(file)
        let params = commonParams()
        defer { params.release() }
        params.set("kind", JSONMake.string(kind ?? ""))
        params.set("text", JSONMake.string(String(decoding: bytes, as: UTF8.self)))
        params.set("file", JSONMake.string(file == "-" ? "standard input" : file))
        if let separator { params.set("separator", JSONMake.string(separator == "\\t" || separator == "tab" ? "\t" : separator)) }
        progress.update("importing rows in the engine")
        return try connection.client().callJSON("import.csv", params: params)
    }

    /// Each problem as a compiler prints one: FILE:LINE: REASON (or FILE: row R, column C).
    func reportProblems(_ result: JSONRef) {
        for p in result["problems"]?.elements ?? [] {
            var at = p["file"]?.stringValue ?? ""
            if let row = p["row"]?.intValue {
                at += (at.isEmpty ? "" : ": ") + "row \(row)" + (p["column"]?.intValue.map { ", column \($0)" } ?? "")
                if let f = p["field"]?.stringValue { at += " (\(f))" }
            } else if let line = p["line"]?.intValue {
                at += ":\(line)"
            }
            let what = p["skipped"]?.boolValue == true ? "skipped" : "note"
            writeError("\(at): \(what): \(p["reason"]?.stringValue ?? "")")
        }
    }
}

/// The catalog files a path names: itself, or the .yaml and .yml files under a folder, sorted so
/// that an import reads them in the same order every time.
func catalogFiles(_ path: String) throws -> [String] {
    if path == "-" { return [path] }
    var st = stat()
    guard stat(path, &st) == 0 else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
    guard (st.st_mode & S_IFMT) == S_IFDIR else { return [path] }
    guard let dir = opendir(path) else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { closedir(dir) }
    var out: [String] = []
    while let e = readdir(dir) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name == "." || name == ".." || name.hasPrefix(".") { continue }
        let full = path.hasSuffix("/") ? path + name : path + "/" + name
        var s = stat()
        guard stat(full, &s) == 0 else { continue }
        if (s.st_mode & S_IFMT) == S_IFDIR { out += try catalogFiles(full) }
        else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { out.append(full) }
    }
    return out.sorted()
}
