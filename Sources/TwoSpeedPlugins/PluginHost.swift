import Glibc
import TwoSpeedJSON
import TwoSpeedSchema

/// What a plugin's call came back with: its result, or its failure.
public enum PluginError: Error, Sendable {
    /// The plugin could not answer: not running, crashed, timed out, wrote garbage.
    case failed(plugin: String, reason: String)
    /// The plugin answered with a JSON-RPC error.
    case answered(plugin: String, code: Int, message: String, data: String?)
    case noSuchPlugin(String)
}

/// A loaded plugin: its manifest, its transport and its health. Calls to one plugin are serialized.
public final class Plugin: @unchecked Sendable {
    public let manifest: Manifest
    public let manifestPath: String
    let folder: String
    let transport: Transport
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var nextID = 1
    /// Consecutive failures, and when the next start may be tried.
    private(set) var failures = 0
    private(set) var retryAt = 0.0
    private(set) var lastError: String?
    private(set) var calls = 0
    private(set) var restarts = 0

    init(manifest: Manifest, manifestPath: String, folder: String) throws {
        self.manifest = manifest
        self.manifestPath = manifestPath
        self.folder = folder
        let path = manifest.resolvedPath(folder)
        if manifest.kind == "in-process" {
            transport = try InProcessTransport(path: path, expectedName: manifest.name, extensionPoints: manifest.extensionPoints)
        } else {
            let p = ProcessTransport(path: path, args: manifest.args, env: manifest.env, folder: folder)
            try p.start()
            transport = p
        }
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        transport.shutdown()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Backoff after consecutive failures: 0.1 s, 0.2 s, 0.4 s ... up to 30 s.
    static func backoff(_ failures: Int) -> Double { min(30, 0.1 * pow(2, Double(max(0, failures - 1)))) }

    public var status: String {
        lock()
        defer { unlock() }
        if failures == 0 { return "ready" }
        return now() < retryAt ? "backoff" : "restarting"
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    /// Calls `method` with `params` (borrowed; nil for none) and returns the result as a new value.
    public func call(_ method: String, _ params: JSONRef?) throws -> JSONRef {
        lock()
        defer { unlock() }
        if failures > 0 {
            let wait = retryAt - now()
            if wait > 0 {
                throw PluginError.failed(plugin: manifest.name, reason: "restarting after a failure (\(lastError ?? "")); next try in \(Int(wait * 1000)) ms")
            }
            restarts += 1
        }
        let id = nextID
        nextID += 1
        calls += 1
        let request = JSONMake.object(["jsonrpc": JSONMake.string("2.0"), "method": JSONMake.string(method)])
        if let params { request.set("params", params.retained()) }
        request.set("id", JSONMake.int(id))
        let text = JSONText.dump(request)
        request.release()
        do {
            let line = try transport.exchange(text, timeoutMs: manifest.timeout)
            let result = try interpret(line, id: id)
            failures = 0
            lastError = nil
            return result
        } catch let e as PluginFailure {
            failed(e.reason)
            throw PluginError.failed(plugin: manifest.name, reason: e.reason)
        }
    }

    private func failed(_ reason: String) {
        transport.shutdown()
        failures += 1
        lastError = reason
        retryAt = now() + Plugin.backoff(failures)
    }

    /// The response must be one JSON-RPC 2.0 response to this request; anything else is garbage.
    private func interpret(_ line: String, id: Int) throws -> JSONRef {
        let response: JSONRef
        switch JSONText.parse(line) {
        case .failure(let e):
            throw PluginFailure("the plugin wrote something that is not JSON (\(e.reason)): \(line.prefix(80))")
        case .success(let v): response = v
        }
        defer { response.release() }
        guard response.isObject, response["jsonrpc"]?.stringValue == "2.0", response["id"]?.intValue == Int64(id) else {
            throw PluginFailure("the plugin answered with something that is not a response to request \(id): \(line.prefix(80))")
        }
        if let result = response["result"] { return result.retained() }
        if let error = response["error"], let code = error["code"]?.intValue, let message = error["message"]?.stringValue {
            throw PluginError.answered(plugin: manifest.name, code: Int(code), message: message,
                                       data: error["data"].map { JSONText.dump($0) })
        }
        throw PluginFailure("the plugin's response has neither result nor error")
    }

    public var info: PluginInfo {
        lock()
        defer { unlock() }
        return PluginInfo(name: manifest.name, version: manifest.version, kind: manifest.kind, extensionPoints: manifest.extensionPoints,
                          formats: manifest.formats.isEmpty ? nil : manifest.formats, manifest: manifestPath,
                          status: failures == 0 ? "ready" : (now() < retryAt ? "backoff" : "restarting"),
                          lastError: lastError, calls: calls, restarts: restarts, reason: nil)
    }
}

/// What plugin.list says of one plugin, or of a manifest that did not load.
public struct PluginInfo: Codable, Sendable {
    public var name: String?
    public var version: String?
    public var kind: String?
    public var extensionPoints: [String]?
    public var formats: [String]?
    public var manifest: String
    /// "ready", "backoff" (failed, waiting to restart), "restarting" (will start on the next call) or
    /// "error" (did not load).
    public var status: String
    public var lastError: String?
    public var calls: Int?
    public var restarts: Int?
    /// For a manifest that did not load: every reason, with its pointer into the manifest.
    public var reason: [ValidationIssue]?
}

/// The loaded plugins. Thread-safe.
public final class PluginHost: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var plugins: [String: Plugin] = [:]
    private var order: [String] = []
    private var failedManifests: [PluginInfo] = []

    /// Loads every manifest in `folder`: folder/*/plugin.json and folder/*.json. A manifest that does
    /// not load is kept in `list()` with its reasons; it does not stop the others.
    public init(folder: String?) {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        guard let folder else { return }
        for file in PluginHost.manifests(in: folder) {
            do { _ = try load(file) } catch let e as ManifestError {
                failedManifests.append(PluginInfo(manifest: file, status: "error", reason: e.issues))
            } catch {
                failedManifests.append(PluginInfo(manifest: file, status: "error", reason: [ValidationIssue(pointer: "", reason: "\(error)")]))
            }
        }
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
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

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Loads one manifest; replaces nothing: a plugin of the same name must be unloaded first.
    @discardableResult
    public func load(_ manifestFile: String) throws -> Plugin {
        let (m, folder): (Manifest, String)
        switch Manifest.load(manifestFile) {
        case .failure(let e): throw e
        case .success(let r): (m, folder) = r
        }
        if withLock({ plugins[m.name] != nil }) {
            throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/name", reason: "a plugin named \"\(m.name)\" is loaded already")])
        }
        let plugin: Plugin
        do { plugin = try Plugin(manifest: m, manifestPath: manifestFile, folder: folder) } catch let e as PluginFailure {
            throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/path", reason: e.reason)])
        }
        return try withLock {
            if plugins[m.name] != nil {
                throw ManifestError(file: manifestFile, issues: [ValidationIssue(pointer: "/name", reason: "a plugin named \"\(m.name)\" is loaded already")])
            }
            plugins[m.name] = plugin
            order.append(m.name)
            failedManifests.removeAll { $0.manifest == manifestFile }
            return plugin
        }
    }

    /// Stops a plugin (a process plugin's process ends; a library stays mapped). false when unknown.
    @discardableResult
    public func unload(_ name: String) -> Bool {
        let p: Plugin? = withLock {
            order.removeAll { $0 == name }
            return plugins.removeValue(forKey: name)
        }
        p?.transport.shutdown()
        return p != nil
    }

    public func plugin(_ name: String) -> Plugin? { withLock { plugins[name] } }

    /// Loaded plugins serving an extension point, in load order.
    public func serving(_ point: String) -> [Plugin] {
        withLock { order.compactMap { plugins[$0] }.filter { $0.manifest.extensionPoints.contains(point) } }
    }

    public func list() -> [PluginInfo] {
        let (loaded, failed) = withLock { (order.compactMap { plugins[$0] }, failedManifests) }
        return loaded.map(\.info) + failed
    }
}
