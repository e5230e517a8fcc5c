import Glibc
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedSchema

/// A plugin's manifest (plugin.json): what it is, where it lives, what it serves.
public struct Manifest: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var description: String?
    /// "in-process" (a shared library loaded with dlopen) or "process" (an executable speaking
    /// JSON-RPC on its stdin and stdout).
    public var kind: String
    /// The library or executable, relative to the manifest's folder.
    public var path: String
    public var args: [String]
    public var env: [String: String]
    public var extensionPoints: [String]
    /// The formats a render plugin produces.
    public var formats: [String]
    /// Milliseconds one call may take (out-of-process plugins).
    public var timeout: Int
    /// A wasm plugin's fuel, memory and response limits (defaults when absent).
    public var limits: WasmLimits?
    /// What a wasm plugin may use beyond its own memory: "engine" (twospeed.engine_call, read-only), "wasi"
    /// (WASI preview 1 without files), "clock" and "random" (WASI's, with "wasi").
    public var grants: [String]
    /// The parts of a portfolio a check plugin is shown (collections, or "answers"); nil: the whole
    /// document. A check sees what it needs and no more, and every kind parses less.
    public var reads: [String]?

    enum CodingKeys: String, CodingKey { case name, version, description, kind, path, args, env, extensionPoints, formats, timeout, limits, grants, reads }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        kind = try c.decode(String.self, forKey: .kind)
        path = try c.decode(String.self, forKey: .path)
        args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        extensionPoints = try c.decode([String].self, forKey: .extensionPoints)
        formats = try c.decodeIfPresent([String].self, forKey: .formats) ?? []
        timeout = try c.decodeIfPresent(Int.self, forKey: .timeout) ?? 5_000
        limits = try c.decodeIfPresent(WasmLimits.self, forKey: .limits)
        grants = try c.decodeIfPresent([String].self, forKey: .grants) ?? []
        reads = try c.decodeIfPresent([String].self, forKey: .reads)
    }

    /// The limits a wasm plugin runs under: the manifest's, defaults for what it leaves out.
    public var wasmLimits: WasmLimits { limits ?? WasmLimits() }

    /// The largest manifest read.
    public static let maxBytes = 1 << 20

    public static let extensionPoints = ["check", "model", "metrics", "render"]
    public static let kinds = ["in-process", "process", "wasm"]
    public static let grantNames = ["engine", "wasi", "clock", "random"]
    /// What `reads` may name: each entity kind's collection (departments sit in the organization) and
    /// the answers.
    public static let readable = EntityKind.allCases.map(\.collection) + ["answers"]

    public static let schema = Schema.object("PluginManifest", "A plugin's plugin.json.",
                                             required: ["name", "version", "kind", "path", "extensionPoints"], [
        "name": .identifier("the plugin's name, unique among loaded plugins"),
        "version": .name("the plugin's version"),
        "description": .string(maxLength: 4_000),
        "kind": .oneOf(kinds, "in-process: a shared library loaded with dlopen; process: an executable speaking JSON-RPC on stdin and stdout; "
                       + "wasm: a WebAssembly module run in the engine's process under limits"),
        "path": .string("the library or executable, relative to the manifest's folder", minLength: 1, maxLength: 4_096),
        "args": .array(.string(maxLength: 4_096), "arguments for a process plugin", maxItems: 100),
        "env": .map(.string(maxLength: 4_096), "environment variables added for a process plugin"),
        "extensionPoints": .array(.oneOf(extensionPoints), minItems: 1, maxItems: 4, unique: true),
        "formats": .array(.identifier(), "formats a render plugin produces", maxItems: 20, unique: true),
        "timeout": .integer("milliseconds one call may take (default 5000; a wasm plugin is bounded by its fuel instead)", min: 1, max: 600_000),
        "limits": .object("WasmLimits", "what one call of a wasm plugin may use", required: [], [
            "fuel": .integer("units of fuel per call, about one per WebAssembly operator (default 100000000)", min: 1_000, max: 1_000_000_000_000),
            "memoryPages": .integer("the most 64 KiB pages of linear memory (default 256, 16 MiB)", min: 1, max: 65_536),
            "responseBytes": .integer("the largest response in bytes (default 4194304)", min: 64, max: 64 << 20),
        ]),
        "grants": .array(.oneOf(grantNames, "engine: twospeed.engine_call, a read-only engine call; wasi: WASI preview 1 without files, "
                                + "arguments or environment (stdout and stderr into the log); clock and random: WASI's clock and random bytes"),
                         "capabilities a wasm plugin is given beyond its own memory", maxItems: 10, unique: true),
        "reads": .array(.oneOf(readable), "the parts of a portfolio a check plugin is shown with its id and organization "
                        + "(default: the whole document)", minItems: 1, maxItems: 20, unique: true),
    ])

    /// Reads and checks a manifest file: every failure with its pointer into the file. A failure never
    /// quotes the file's text (a path named as a manifest may be any file the engine can read): a file that
    /// is not JSON is reported by line and column only. `noFollow`: the path is already resolved, and a
    /// symlink found there now is refused.
    public static func load(_ file: String, noFollow: Bool = false) -> Result<(Manifest, folder: String), ManifestError> {
        let text: String
        switch readRegularFile(file, limit: maxBytes, noFollow: noFollow) {
        case .failure(let e): return .failure(ManifestError(file: file, issues: [ValidationIssue(pointer: "", reason: e.description)]))
        case .success(let bytes): text = String(decoding: bytes, as: UTF8.self)
        }
        let json: JSON
        switch try? JSON.parse(text) {
        case .failure(let e)?:
            return .failure(ManifestError(file: file, issues: [ValidationIssue(pointer: "", reason: "not JSON: the error is at line \(e.line), column \(e.column)")]))
        case nil:
            return .failure(ManifestError(file: file, issues: [ValidationIssue(pointer: "", reason: "out of memory while reading it")]))
        case .success(let v)?: json = v
        }
        var issues = schema.validate(json.ref)
        guard issues.isEmpty, let m = try? json.decode(Manifest.self) else {
            return .failure(ManifestError(file: file, issues: issues.issues))
        }
        let folder = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        m.check(folder: folder, into: &issues)
        if !issues.isEmpty { return .failure(ManifestError(file: file, issues: issues.issues)) }
        return .success((m, folder))
    }

    func check(folder: String, into issues: inout IssueList) {
        let full = resolvedPath(folder)
        var st = stat()
        if stat(full, &st) != 0 {
            issues.add(JSONPointer(["path"]), "no file \(full)")
        } else if (st.st_mode & S_IFMT) != S_IFREG {
            // A FIFO would hold dlopen or the wasm reader for ever.
            issues.add(JSONPointer(["path"]), "\(full) is not a regular file")
        } else if kind == "process" && access(full, X_OK) != 0 {
            issues.add(JSONPointer(["path"]), "\(full) is not executable")
        }
        let render = extensionPoints.contains("render")
        if render && formats.isEmpty { issues.add(JSONPointer(["formats"]), "required for a render plugin") }
        if !render && !formats.isEmpty { issues.add(JSONPointer(["formats"]), "only a render plugin has formats") }
        if kind != "process" && !(args.isEmpty && env.isEmpty) {
            issues.add(JSONPointer([args.isEmpty ? "env" : "args"]), "only a process plugin takes args and env")
        }
        if kind != "wasm" && limits != nil { issues.add(JSONPointer(["limits"]), "only a wasm plugin takes limits") }
        if kind != "wasm" && !grants.isEmpty { issues.add(JSONPointer(["grants"]), "only a wasm plugin takes grants") }
        for (i, g) in grants.enumerated() where (g == "clock" || g == "random") && !grants.contains("wasi") {
            issues.add(JSONPointer(["grants", String(i)]), "\(g) is part of WASI: grant \"wasi\" too")
        }
        if reads != nil && !extensionPoints.contains("check") { issues.add(JSONPointer(["reads"]), "only a check plugin reads a portfolio") }
    }

    public func resolvedPath(_ folder: String) -> String { path.hasPrefix("/") ? path : folder + "/" + path }
}

/// A manifest that cannot be used, with every reason.
public struct ManifestError: Error, Sendable {
    public var file: String
    public var issues: [ValidationIssue]
}

