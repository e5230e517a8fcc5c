import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedPlugins
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore
import TwoSpeedSync

/// The engine: the portfolios of one store, held in memory for reading and written through to SQLite
/// before any write is acknowledged. One engine may be called from many threads at once.
public final class Engine: @unchecked Sendable {
    /// A StaticString so that the C ABI can hand out a pointer that never moves.
    public static let versionC: StaticString = "0.1.0"
    public static let version = versionC.description
    public static let abiVersion = 1

    /// Thread-safe by itself: it owns its connections.
    let store: any PortfolioStore
    /// What the engine holds in memory, reachable only under its lock: reads side by side, writes alone.
    let state: Locked<State>
    struct State {
        var portfolios: [String: StoredPortfolio] = [:]
        /// The JSON of each portfolio's entities, kept in step with `portfolios`.
        var caches: [String: EntityCache] = [:]
        /// Custom assessment models by id; the default model is not stored.
        var customModels: [String: AssessmentModel] = [:]
        /// Models provided by model plugins, with the plugin's name.
        var pluginModels: [String: (model: AssessmentModel, plugin: String)] = [:]
    }
    public private(set) var dispatcher: Dispatcher!

    /// Extensions in any language; see include/twospeed_plugin.h.
    public let plugins: PluginHost

    /// Opens the store at `path` (nil or ":memory:" for memory), loads what it holds, and loads the
    /// plugins of `plugins`, a folder of manifests.
    /// `fileMode` is the mode a new store file is created with (less the umask).
    public convenience init(path: String?, fileMode: UInt32 = 0o600, maxRequestBytes: Int = Dispatcher.defaultMaxRequestBytes,
                            plugins pluginFolder: String? = nil) throws {
        try self.init(store: try StoreName.open(path, fileMode: fileMode), maxRequestBytes: maxRequestBytes, plugins: pluginFolder)
    }

    /// An engine over any store.
    public init(store: any PortfolioStore, maxRequestBytes: Int = Dispatcher.defaultMaxRequestBytes, plugins pluginFolder: String? = nil) throws {
        self.store = store
        var s = State()
        for sp in try store.loadAll() {
            s.portfolios[sp.portfolio.id] = sp
            s.caches[sp.portfolio.id] = EntityCache()
        }
        for m in try store.models() {
            guard let model = try? JanssonDecoder().decode(AssessmentModel.self, from: m.body) else {
                throw StoreError(kind: .corrupt, message: "assessment model \(m.id) does not decode")
            }
            s.customModels[m.id] = model
        }
        state = Locked(s)
        plugins = PluginHost(folder: pluginFolder.map(absolutePath))
        dispatcher = Dispatcher(methods: methodTable() + assessmentMethods() + reportMethods() + pluginMethods() + deliveryMethods()
                                    + importMethods() + adviceMethods() + outcomeMethods(), info: OpenRPCInfo(
            title: "TwoSpeed",
            version: Engine.version,
            description: "Holds a company's two-speed operating model as data: journeys, products, managers, teams, "
                + "systems, metrics, OKRs and experiments."), maxRequestBytes: maxRequestBytes)
        // A wasm plugin granted "engine" reads through the same method table, read-only.
        plugins.link.set { [weak self] text in
            self?.call(text, context: CallContext(readOnly: true, admin: false))
                ?? #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":{"reason":"a notification has no answer"}},"id":null}"#
        }
        fetchPluginModels()
    }

    public var storePath: String { store.path }

    /// One request or batch as text; the response text, or nil for notifications only.
    public func call(_ text: String, context: CallContext = CallContext()) -> String? {
        var t = text
        let r = t.withUTF8 { dispatcher.handleValue(text: UnsafeRawBufferPointer($0), context: context) }
        guard let r else { return nil }
        defer { r.release() }
        return JSONText.dump(r)
    }

    // MARK: Reads

    func snapshot(_ id: String, _ pointer: JSONPointer) throws -> StoredPortfolio {
        guard let sp = state.read({ $0.portfolios[id] }) else {
            throw RPCError(.notFound, pointer: pointer.description, "no portfolio with id \"\(id)\"")
        }
        return sp
    }

    public func portfolio(_ id: String) -> StoredPortfolio? { state.read { $0.portfolios[id] } }

    // MARK: Writes

    /// What a change to one portfolio writes, answers, and does to the entity cache once committed.
    struct Change<R> {
        var store: [StoreChange]
        var result: R
        var cache: ((EntityCache) -> Void)? = nil
    }

    /// Runs a change on a copy of one portfolio under the write lock; the copy (and the cache update)
    /// replaces what readers see only after the store has committed it.
    func change<R>(_ id: String, _ pointer: JSONPointer, ifRevision: Int?,
                   _ body: (inout StoredPortfolio) throws -> Change<R>) throws -> R {
        try state.write { s in
            guard var sp = s.portfolios[id] else {
                throw RPCError(.notFound, pointer: pointer.description, "no portfolio with id \"\(id)\"")
            }
            try checkRevision(ifRevision, current: sp.revision)
            let c = try body(&sp)
            sp.revision += 1
            sp.updated = nowTimestamp()
            try commit(c.store + [.setRevision(portfolio: id, revision: sp.revision, updated: sp.updated)])
            s.portfolios[id] = sp
            if let update = c.cache, let cache = s.caches[id] { update(cache) }
            return c.result
        }
    }

    func checkRevision(_ expected: Int?, current: Int) throws {
        guard let expected, expected != current else { return }
        var d = ErrorData(pointer: "/ifRevision", reason: "expected revision \(expected); the portfolio is at \(current)")
        d.revision = current
        throw RPCError(.revisionMismatch, d)
    }

    func commit(_ changes: [StoreChange]) throws {
        do { try store.apply(changes) } catch let e as StoreError {
            throw RPCError(.storeError, pointer: nil, e.message)
        }
    }
}
