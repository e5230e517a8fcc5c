import Glibc
import TwoSpeedJSON
import TwoSpeedSchema
import TwoSpeedSync

/// What a plugin's call came back with: its result, or its failure.
public enum PluginError: Error, Sendable {
    /// The plugin could not answer: not running, crashed, timed out, wrote garbage; for a wasm plugin,
    /// `cause` says which limit or fault (PluginFailure.cause).
    case failed(plugin: String, reason: String, cause: String? = nil)
    /// The plugin answered with a JSON-RPC error.
    case answered(plugin: String, code: Int, message: String, data: String?)
    case noSuchPlugin(String)
}

/// A loaded plugin: its manifest, its transport and its health. Calls to one plugin are serialized:
/// the transport is used only under the lock of `health`, by calls and by `stop` alike; except a wasm
/// plugin's, whose calls each run in an instance of their own and so side by side.
public final class Plugin: @unchecked Sendable {
    public let manifest: Manifest
    public let manifestPath: String
    let folder: String
    let transport: Transport
    private struct Health {
        var nextID = 1
        /// Consecutive failures, and when the next start may be tried.
        var failures = 0
        var retryAt = 0.0
        var lastError: String?
        var calls = 0
        /// Time in calls, from the request written to the response read: the plugin's share of a call.
        var callMicroseconds = 0
        var restarts = 0
        /// Unloaded: never called or restarted again.
        var stopped = false
    }
    private let health = Locked(Health())

    init(manifest: Manifest, manifestPath: String, folder: String, link: EngineLink? = nil) throws {
        self.manifest = manifest
        self.manifestPath = manifestPath
        self.folder = folder
        let path = manifest.resolvedPath(folder)
        if manifest.kind == "wasm" {
            transport = try WasmTransport(path: path, limits: manifest.wasmLimits, grants: manifest.grants, link: link)
        } else if manifest.kind == "in-process" {
            transport = try InProcessTransport(path: path, expectedName: manifest.name, extensionPoints: manifest.extensionPoints)
        } else {
            let p = ProcessTransport(path: path, args: manifest.args, env: manifest.env, folder: folder)
            try p.start()
            transport = p
        }
    }

    deinit { transport.shutdown() }

    /// Ends the plugin: waits for a call in progress, then shuts its transport; later calls fail.
    func stop() {
        health.write { h in
            h.stopped = true
            transport.shutdown()
        }
    }

    /// Backoff after consecutive failures: 0.1 s, 0.2 s, 0.4 s ... up to 30 s.
    static func backoff(_ failures: Int) -> Double { min(30, 0.1 * pow(2, Double(max(0, failures - 1)))) }

    public var status: String { health.read { Plugin.status($0) } }

    private static func status(_ h: Health) -> String {
        if h.failures == 0 { return "ready" }
        return now() < h.retryAt ? "backoff" : "restarting"
    }

    /// Calls `method` with `params` (borrowed; nil for none) and returns the result as a new value.
    public func call(_ method: String, _ params: JSONRef?) throws -> JSONRef {
        try call { id in Plugin.requestText(method, params, id: id) }
    }

    /// Calls `method` with params already written as JSON text (an object or an array, as the engine
    /// encoded it): the request is put together around that text, so a large document kept as text is
    /// neither parsed nor written out again for each plugin.
    public func call(_ method: String, paramsText: String) throws -> JSONRef {
        let head = "{\"jsonrpc\":\"2.0\",\"method\":" + JSONText.quoted(method) + ",\"params\":"
        return try call { id in head + paramsText + ",\"id\":\(id)}" }
    }

    private func call(_ request: (Int) -> String) throws -> JSONRef {
        if transport.concurrent { return try callConcurrently(request) }
        return try health.write { h in try call(request, &h) }
    }

    /// A call that holds the lock only to count: there is no process to restart, so no backoff either;
    /// a failure drops only the instance that failed.
    private func callConcurrently(_ request: (Int) -> String) throws -> JSONRef {
        let id: Int = try health.write { h in
            if h.stopped { throw PluginError.failed(plugin: manifest.name, reason: "the plugin was unloaded") }
            h.nextID += 1
            h.calls += 1
            return h.nextID - 1
        }
        let text = request(id)
        let started = now()
        defer { health.write { h in h.callMicroseconds += Int((now() - started) * 1e6) } }
        do {
            let result: JSONRef
            if let wasm = transport as? WasmTransport {
                result = try wasm.exchange(text) { try interpret($0, id: id) }
            } else {
                result = try interpret(try transport.exchange(text, timeoutMs: manifest.timeout), id: id)
            }
            health.write { h in h.lastError = nil }
            return result
        } catch let e as PluginFailure {
            health.write { h in h.lastError = e.reason }
            throw PluginError.failed(plugin: manifest.name, reason: e.reason, cause: e.cause ?? "garbage")
        }
    }

    static func requestText(_ method: String, _ params: JSONRef?, id: Int) -> String {
        do {
            let request = try JSON.object()
            try request.set("jsonrpc", string: "2.0")
            try request.set("method", string: method)
            if let params { try request.set("params", JSONView(params)) }
            try request.set("id", int: id)
            return request.text()
        } catch {
            // Out of memory: a request the plugin cannot take ("null"), which it answers as garbage or
            // not at all; the failure is counted (JSONAllocation), so the reply is -32603 anyway.
            return "null"
        }
    }

    private func call(_ request: (Int) -> String, _ h: inout Health) throws -> JSONRef {
        if h.stopped { throw PluginError.failed(plugin: manifest.name, reason: "the plugin was unloaded") }
        if h.failures > 0 {
            let wait = h.retryAt - now()
            if wait > 0 {
                throw PluginError.failed(plugin: manifest.name, reason: "restarting after a failure (\(h.lastError ?? "")); next try in \(Int(wait * 1000)) ms")
            }
            h.restarts += 1
        }
        let id = h.nextID
        h.nextID += 1
        h.calls += 1
        let text = request(id)
        let started = now()
        defer { h.callMicroseconds += Int((now() - started) * 1e6) }
        do {
            let line = try transport.exchange(text, timeoutMs: manifest.timeout)
            let result = try interpret(line, id: id)
            h.failures = 0
            h.lastError = nil
            return result
        } catch let e as PluginFailure {
            transport.shutdown()
            h.failures += 1
            h.lastError = e.reason
            h.retryAt = now() + Plugin.backoff(h.failures)
            throw PluginError.failed(plugin: manifest.name, reason: e.reason, cause: e.cause)
        }
    }

    /// The response must be one JSON-RPC 2.0 response to this request; anything else is garbage.
    private func interpret(_ line: String, id: Int) throws -> JSONRef {
        let response: JSON
        switch try JSON.parse(line) {
        case .failure(let e):
            throw PluginFailure("the plugin wrote something that is not JSON (\(e.reason)): \(line.prefix(80))")
        case .success(let v): response = v
        }
        guard response.isObject, response["jsonrpc"]?.stringValue == "2.0", response["id"]?.intValue == Int64(id) else {
            throw PluginFailure("the plugin answered with something that is not a response to request \(id): \(line.prefix(80))")
        }
        // A new reference for the caller, as the engine's handlers hand results on.
        if let result = response["result"] { return result.owned().retainedRef() }
        if let error = response["error"], let code = error["code"]?.intValue, let message = error["message"]?.stringValue {
            throw PluginError.answered(plugin: manifest.name, code: Int(code), message: message,
                                       data: error["data"].map { $0.text() })
        }
        throw PluginFailure("the plugin's response has neither result nor error")
    }

    public var info: PluginInfo {
        health.read { h in
            PluginInfo(name: manifest.name, version: manifest.version, kind: manifest.kind, extensionPoints: manifest.extensionPoints,
                       formats: manifest.formats.isEmpty ? nil : manifest.formats, manifest: manifestPath,
                       status: Plugin.status(h), lastError: h.lastError, calls: h.calls, callMicroseconds: h.callMicroseconds,
                       restarts: h.restarts, reason: nil,
                       wasm: (transport as? WasmTransport).map { WasmInfo(limits: manifest.wasmLimits, grants: manifest.grants,
                                                                           moduleBytes: $0.moduleBytes, usage: $0.usageNow) },
                       reads: manifest.reads)
        }
    }
}

/// What plugin.list says of one plugin, or of a manifest that did not load.
public struct PluginInfo: Codable, Sendable {
    public var name: String?
    public var version: String?
    public var kind: String?
    public var extensionPoints: [String]?
    public var formats: [String]?
    /// The parts of a portfolio a check plugin is shown (absent: all of it).
    public var reads: [String]?
    public var manifest: String
    /// "ready", "backoff" (failed, waiting to restart), "restarting" (will start on the next call) or
    /// "error" (did not load).
    public var status: String
    public var lastError: String?
    public var calls: Int?
    /// Microseconds spent in calls to the plugin, from its request written to its response read.
    public var callMicroseconds: Int?
    public var restarts: Int?
    /// For a manifest that did not load: every reason, with its pointer into the manifest.
    public var reason: [ValidationIssue]?
    /// For a wasm plugin: its limits, grants and use.
    public var wasm: WasmInfo?

    public init(name: String? = nil, version: String? = nil, kind: String? = nil, extensionPoints: [String]? = nil, formats: [String]? = nil,
                manifest: String, status: String, lastError: String? = nil, calls: Int? = nil, callMicroseconds: Int? = nil, restarts: Int? = nil,
                reason: [ValidationIssue]? = nil, wasm: WasmInfo? = nil, reads: [String]? = nil) {
        self.name = name; self.version = version; self.kind = kind; self.extensionPoints = extensionPoints; self.formats = formats; self.reads = reads
        self.manifest = manifest; self.status = status; self.lastError = lastError; self.calls = calls; self.callMicroseconds = callMicroseconds; self.restarts = restarts
        self.reason = reason; self.wasm = wasm
    }
}

/// What plugin.list says of a wasm plugin beyond the rest.
public struct WasmInfo: Codable, Sendable {
    public var limits: WasmLimits
    public var grants: [String]
    public var moduleBytes: Int
    public var usage: WasmUsage
}

/// The loaded plugins. Thread-safe: the registry is reachable only under its lock.
public final class PluginHost: Sendable {
    private struct Registry {
        var plugins: [String: Plugin] = [:]
        var order: [String] = []
        var failedManifests: [PluginInfo] = []
    }
    private let registry = Locked(Registry())
    /// How wasm plugins granted "engine" call the engine; the engine sets it once it can answer.
    public let link = EngineLink()

    /// Loads every manifest in `folder`: folder/*/plugin.json and folder/*.json. A manifest that does
    /// not load is kept in `list()` with its reasons; it does not stop the others.
    public init(folder: String?) {
        guard let folder else { return }
        for file in PluginHost.manifests(in: folder) {
            let failure: [ValidationIssue]
            do { _ = try load(file); continue } catch let e as ManifestError { failure = e.issues } catch {
                failure = [ValidationIssue(pointer: "", reason: "\(error)")]
            }
            registry.write { $0.failedManifests.append(PluginInfo(manifest: file, status: "error", reason: failure)) }
        }
    }

    static func manifests(in folder: String) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            let full = folder + "/" + name
            var st = stat()
            guard stat(full, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let m = full + "/plugin.json"
                if access(m, R_OK) == 0 { out.append(m) }
            } else if name.hasSuffix(".json") {
                out.append(full)
            }
        }
        return out.sorted()
    }

    /// Loads one manifest; replaces nothing: a plugin of the same name must be unloaded first.
    /// `confined`: the path was resolved and checked against the plugin folders; a symlink there now is refused.
    @discardableResult
    public func load(_ manifestFile: String, confined: Bool = false) throws -> Plugin {
        let (m, folder): (Manifest, String)
        switch Manifest.load(manifestFile, noFollow: confined) {
        case .failure(let e): throw e
        case .success(let r): (m, folder) = r
        }
        if registry.read({ $0.plugins[m.name] != nil }) {
            throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/name", reason: "a plugin named \"\(m.name)\" is loaded already")])
        }
        let plugin: Plugin
        do { plugin = try Plugin(manifest: m, manifestPath: manifestFile, folder: folder, link: link) } catch let e as PluginFailure {
            throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/path", reason: e.reason)])
        }
        return try registry.write { r in
            if r.plugins[m.name] != nil {
                throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/name", reason: "a plugin named \"\(m.name)\" is loaded already")])
            }
            r.plugins[m.name] = plugin
            r.order.append(m.name)
            r.failedManifests.removeAll { $0.manifest == manifestFile }
            return plugin
        }
    }

    /// Stops a plugin (a process plugin's process ends; a library stays mapped). false when unknown.
    @discardableResult
    public func unload(_ name: String) -> Bool {
        let p: Plugin? = registry.write { r in
            r.order.removeAll { $0 == name }
            return r.plugins.removeValue(forKey: name)
        }
        // Under the plugin's own lock, as its calls are: a call in progress finishes first.
        p?.stop()
        return p != nil
    }

    public func plugin(_ name: String) -> Plugin? { registry.read { $0.plugins[name] } }

    /// Kills every process plugin at once, without waiting for the calls in progress (they fail at once):
    /// the last step of a stop that must end. In-process and wasm plugins cannot be killed; a wasm call ends
    /// with its fuel. Returns how many processes were sent SIGKILL.
    @discardableResult
    public func killProcesses() -> Int {
        let all = registry.read { Array($0.plugins.values) }
        var n = 0
        for p in all {
            if let k = p.transport as? Killable {
                k.kill()
                n += 1
            }
        }
        return n
    }

    /// Loaded plugins serving an extension point, in load order.
    public func serving(_ point: String) -> [Plugin] {
        registry.read { r in r.order.compactMap { r.plugins[$0] }.filter { $0.manifest.extensionPoints.contains(point) } }
    }

    public func list() -> [PluginInfo] {
        let (loaded, failed) = registry.read { r in (r.order.compactMap { r.plugins[$0] }, r.failedManifests) }
        return loaded.map(\.info) + failed
    }
}
