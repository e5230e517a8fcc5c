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

            --from backstage: each FILE is a catalog-info.yaml (several documents a file), a folder \
            searched for *.yaml and *.yml, or the JSON of Backstage's catalog API (a .json file, or "-" \
            for standard input: curl -s $BACKSTAGE/api/catalog/entities | twospeed import --from \
            backstage --portfolio ID -). Location entities are followed: their target/targets files and \
            globs inside the imported folder (a named file's own folder); URLs are reported, never \
            fetched. The walk stays inside the folder (symlinks out of it and loops are skipped) and \
            opens regular files only. Limits: 64 MiB a file, nesting 256 deep, aliases expanding to \
            100,000 values a document, 1,000,000 entities an import; each passed is FILE:LINE. The \
            documents go to import.backstage, which maps them onto departments, teams, managers and \
            systems of the portfolio --portfolio (created when new, unless every record is skipped: then \
            nothing is created and the exit status is 1). A reference to an entity outside the import \
            (an owner group from the org provider) keeps its entity and is listed as unresolved.

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
        let result: JSON
        switch from {
        case .json: result = try importJSON()
        case .backstage: result = try importBackstage(progress)
        case .csv: result = try importCSV(progress)
        case .deployments, .incidents, .fourkeys: return
        }
        progress.finish()
        if from != .json { reportProblems(result) }
        printJSON(result, compact: output.compact)
        // Every record skipped and nothing stored: a failure, though each record's problem is a report.
        if from != .json, result["portfolioCreated"]?.boolValue == false, result["revision"]?.intValue == 0 {
            throw ExitCode(ExitStatus.rpcError)
        }
    }

    func importJSON() throws -> JSON {
        let file = files[0]
        let document = try readJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        let params = try JSON.object(["portfolio": document])
        if let ifRevision { try params.set("ifRevision", JSON.int(ifRevision)) }
        return try connection.client().callJSON("portfolio.put", params: params)
    }

    /// The params every import takes.
    func commonParams() throws -> JSON {
        let params = try JSON.object(["portfolio": JSON.string(portfolio ?? "")])
        if let organization { try params.set("organization", JSON.string(organization)) }
        if atomic { try params.set("atomic", JSON.bool(true)) }
        if let ifRevision { try params.set("ifRevision", JSON.int(ifRevision)) }
        return params
    }

    func importBackstage(_ progress: Progress) throws -> JSON {
        var reader = CatalogReader()
        for f in files { try reader.walk(f) }
        if reader.queue.isEmpty {
            for n in reader.notes { writeError(n) }
            throw UsageError("no .yaml or .yml file in \(files.joined(separator: ", "))")
        }
        let documents = try JSON.array()
        // Kept: the process ends after the call, and freeing a large catalog's documents one value at a
        // time costs a tenth of the import.
        documents.keepUntilExit()
        let params = try commonParams()
        try params.set("documents", documents)
        try reader.read(into: documents.ref) { path, done, total in progress.update("reading \(path)", done: done, total: total) }
        // What the walk and the Locations skipped or refused, before the engine's problems.
        for n in reader.notes { writeError(n) }
        if let rules {
            try params.set("rules", try readJSON(try readInput(rules), what: rules))
        }
        if prune { try params.set("prune", JSON.bool(true)) }
        progress.update("mapping \(documents.count) documents in the engine")
        return try connection.client().callJSON("import.backstage", params: params)
    }

    func importCSV(_ progress: Progress) throws -> JSON {
        let file = files[0]
        progress.update("reading \(file)")
        let bytes = try readInput(file)
        let params = try commonParams()
        try params.set("kind", JSON.string(kind ?? ""))
        try params.set("text", JSON.string(String(decoding: bytes, as: UTF8.self)))
        try params.set("file", JSON.string(file == "-" ? "standard input" : file))
        if let separator { try params.set("separator", JSON.string(separator == "\\t" || separator == "tab" ? "\t" : separator)) }
        progress.update("importing rows in the engine")
        return try connection.client().callJSON("import.csv", params: params)
    }

    /// Each problem as a compiler prints one: FILE:LINE: REASON (or FILE: row R, column C).
    func reportProblems(_ result: JSON) {
        for p in result["problems"]?.elements ?? [] {
            var at = p["file"]?.stringValue ?? ""
            if let row = p["row"]?.intValue {
                at += (at.isEmpty ? "" : ": ") + "row \(row)" + (p["column"]?.intValue.map { ", column \($0)" } ?? "")
                if let f = p["field"]?.stringValue { at += " (\(f))" }
            } else if let line = p["line"]?.intValue {
                at += ":\(line)"
            }
            let what = p["skipped"]?.boolValue == true ? "skipped" : "note"
            writeError("\(at.isEmpty ? "twospeed import" : at): \(what): \(p["reason"]?.stringValue ?? "")")
        }
    }
}

/// The catalog's files: the ones named, the .yaml and .yml files under a folder, and the targets of the
/// `Location` entities they hold, each read once.
///
/// The walk never leaves the folder it was given nor goes round a loop: a symlink is followed only to
/// a place inside the folder (its real path), a folder is entered once (by device and inode), and only
/// regular files are opened (non-blocking, then fstat: a FIFO named p.yaml never blocks). A Location's
/// `target`/`targets` are files or globs relative to its file, read when inside the folder; a cycle,
/// a file outside the folder and a URL (never fetched) are notes. Everything skipped is a note, printed
/// as FILE[:LINE]: note: REASON.
struct CatalogReader {
    /// The files to read, in order, with the Locations that led to each (real paths) and the folder
    /// they must stay inside (a real path; nil for a file named on the command line).
    var queue: [(path: String, chain: [String], root: String?)] = []
    var queued = Set<String>()
    var notes: [String] = []
    private var entered = Set<[UInt64]>()
    /// Entities in one import; past it the import is refused (the engine takes as many documents).
    static let maxDocuments = 1_000_000

    mutating func walk(_ path: String) throws {
        if path == "-" { queue.append(("-", [], nil)); return }
        var st = stat()
        guard stat(path, &st) == 0 else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            let real = realPath(path) ?? path
            // A named file's Locations may reach what sits beside it.
            if queued.insert(real).inserted { queue.append((path, [], realPath(directory(of: real)))) }
            return
        }
        guard let root = realPath(path) else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        var found: [(String, String)] = []
        try walkFolder(path, root: root, into: &found)
        for (shown, real) in found.sorted(by: { $0.0 < $1.0 }) where queued.insert(real).inserted {
            queue.append((shown, [], root))
        }
    }

    private mutating func walkFolder(_ path: String, root: String, into found: inout [(String, String)]) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        guard entered.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else {
            notes.append("\(path): note: skipped: a folder already walked (a symlink loop)")
            return
        }
        guard let dir = opendir(path) else {
            notes.append("\(path): note: skipped: \(String(cString: strerror(errno)))")
            return
        }
        defer { closedir(dir) }
        var entries: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." || name.hasPrefix(".") { continue }
            entries.append(name)
        }
        for name in entries.sorted() {
            let full = path.hasSuffix("/") ? path + name : path + "/" + name
            let wanted = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
            var l = stat()
            guard lstat(full, &l) == 0 else { continue }
            var kind = l.st_mode & S_IFMT
            var real = full
            if kind == S_IFLNK {
                guard let r = realPath(full) else {
                    if wanted { notes.append("\(full): note: skipped: a symlink to nothing") }
                    continue
                }
                guard inside(r, root) else {
                    notes.append("\(full): note: skipped: a symlink out of the folder (to \(r))")
                    continue
                }
                var t = stat()
                guard stat(full, &t) == 0 else { continue }
                kind = t.st_mode & S_IFMT
                real = r
            } else {
                real = realPath(full) ?? full
            }
            if kind == S_IFDIR {
                try walkFolder(full, root: root, into: &found)
            } else if wanted {
                if kind == S_IFREG { found.append((full, real)) } else {
                    notes.append("\(full): note: skipped: not a regular file")
                }
            }
        }
    }

    /// Reads every queued file into `documents`, following Locations as they come.
    mutating func read(into documents: JSONRef, progress: (String, Int, Int) -> Void) throws {
        var i = 0
        while i < queue.count {
            let (path, chain, root) = queue[i]
            i += 1
            progress(path, i - 1, queue.count)
            let bytes: [UInt8]
            if path == "-" { bytes = try readInput(path) } else {
                switch readRegularFile(path) {
                case .success(let b): bytes = b
                case .failure(let reason):
                    notes.append("\(path): note: skipped: \(reason)")
                    continue
                }
            }
            let name = path == "-" ? "standard input" : path
            let first = documents.count
            if path.hasSuffix(".json") || (path == "-" && CatalogJSON.looksLikeJSON(bytes)) {
                CatalogJSON.append(bytes: bytes, file: name, into: documents)
            } else {
                YAMLDocuments.append(text: String(decoding: bytes, as: UTF8.self), file: name, into: documents)
            }
            if documents.count > CatalogReader.maxDocuments {
                let line = documents[CatalogReader.maxDocuments]?["line"]?.intValue ?? 1
                throw UsageError("\(name):\(line): more than \(CatalogReader.maxDocuments) entities in one import (the limit); "
                                 + "import the catalog in parts")
            }
            guard path != "-" else { continue }
            let here = realPath(path) ?? path
            for k in first..<documents.count { follow(documents[k]!, from: path, real: here, chain: chain, root: root) }
        }
    }

    /// Queues the targets of a Location document read from `path`.
    private mutating func follow(_ doc: JSONRef, from path: String, real: String, chain: [String], root: String?) {
        guard let entity = doc["entity"], entity["kind"]?.stringValue?.lowercased() == "location", let spec = entity["spec"] else { return }
        // Each target with the pointer of its line (YAML gives lines; the API's JSON gives the entity's).
        var targets: [(String, String)] = []
        if let t = spec["target"]?.stringValue { targets.append((t, "/spec/target")) }
        for (i, t) in (spec["targets"]?.elements ?? []).enumerated() { if let t = t.stringValue { targets.append((t, "/spec/targets/\(i)")) } }
        let type = spec["type"]?.stringValue ?? "file"
        for (t, pointer) in targets {
            let line = doc["lines"]?[pointer]?.intValue ?? doc["lines"]?["/spec/targets"]?.intValue ?? doc["line"]?.intValue
            let at = path + (line.map { ":\($0)" } ?? "")
            if t.contains("://") || (type == "url" && !t.hasPrefix(".") && !t.hasPrefix("/")) {
                notes.append("\(at): note: Location target \(t) is a URL: not fetched (import its files, or export the running catalog as JSON)")
                continue
            }
            var rel = Substring(t)
            while rel.hasPrefix("./") { rel = rel.dropFirst(2) }
            let base = t.hasPrefix("/") ? t : directory(of: path) + "/" + rel
            let matches = expand(base)
            if matches.isEmpty { notes.append("\(at): note: Location target \(t) matches no file"); continue }
            for m in matches {
                guard let r = realPath(m) else { notes.append("\(at): note: Location target \(m) cannot be read"); continue }
                guard let root, inside(r, root) else {
                    notes.append("\(at): note: refused: Location target \(m) is outside the imported folder")
                    continue
                }
                if r == real || chain.contains(r) {
                    notes.append("\(at): note: refused: Location target \(m) leads back to a Location on the way here (a cycle)")
                    continue
                }
                // Read already (by the walk or another Location): once is enough.
                guard queued.insert(r).inserted else { continue }
                queue.append((m, chain + [real], root))
            }
        }
    }
}

/// The paths a target names: itself, or the matches of its glob (*, ?, [...]), sorted.
func expand(_ pattern: String) -> [String] {
    guard pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) else {
        return access(pattern, F_OK) == 0 ? [pattern] : []
    }
    var g = glob_t()
    defer { globfree(&g) }
    guard glob(pattern, 0, nil, &g) == 0 else { return [] }
    return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
}

func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// Whether the real path `p` is the folder `root` or inside it.
func inside(_ p: String, _ root: String) -> Bool {
    p == root || p.hasPrefix(root.hasSuffix("/") ? root : root + "/")
}

/// A regular file's bytes, opened without blocking (a FIFO or device is refused, not waited on) and
/// checked with fstat on the descriptor read, so that nothing swapped in after the walk is read.
func readRegularFile(_ path: String) -> Result<[UInt8], FileRefusal> {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else { return .failure(FileRefusal(String(cString: strerror(errno)))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return .failure(FileRefusal(String(cString: strerror(errno)))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(FileRefusal("not a regular file")) }
    guard Int(st.st_size) <= YAMLDocuments.maxFileBytes else {
        return .failure(FileRefusal("the file is \(st.st_size) bytes, over the limit of \(YAMLDocuments.maxFileBytes) bytes a catalog file may have"))
    }
    var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 { if errno == EINTR { continue }; return .failure(FileRefusal(String(cString: strerror(errno)))) }
        if n == 0 { bytes.removeSubrange(done...); break }
        done += n
    }
    return .success(bytes)
}

struct FileRefusal: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
