import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedPlugins
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore
import TwoSpeedSync

/// The engine: the portfolios of one store, held in memory for reading and written through to the store
/// before any write is acknowledged. One engine may be called from many threads at once.
///
/// Concurrency: a read takes the last committed snapshot of a portfolio (its document, revision and JSON
/// cache, never changed once published) under a lock held only to copy a reference, and never waits for a
/// write. Writers of one portfolio queue on that portfolio's lane, held across the store's commit; a
/// write to another portfolio does not wait for it (the store may still serialize commits: SQLite has
/// one writer). A write publishes its new snapshot only once the store has committed it.
public final class Engine: @unchecked Sendable {
    /// A StaticString so that the C ABI can hand out a pointer that never moves.
    public static let versionC: StaticString = "0.1.0"
    public static let version = versionC.description
    public static let abiVersion = 1

    /// Thread-safe by itself: it owns its connections.
    let store: any PortfolioStore
    /// The portfolios: a snapshot and a writers' lane each.
    let portfolios: PortfolioTable
    /// The assessment models, swapped whole by their writers (one at a time, on `modelLane`) after the
    /// store has written them.
    let models: Locked<Models>
    let modelLane = Locked<Void>()
    struct Models {
        /// Custom assessment models by id; the default model is not stored.
        var custom: [String: AssessmentModel] = [:]
        /// Models provided by model plugins, with the plugin's name.
        var plugin: [String: (model: AssessmentModel, plugin: String)] = [:]
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
        // Listening starts before the first read, so that no change committed by another engine between
        // that read and this engine's start goes unheard; what is heard before the engine is ready waits.
        let relay = NoticeRelay()
        store.watch { id, revision in relay.deliver(id, revision) }
        portfolios = PortfolioTable(store: store, loaded: try store.loadAll())
        var ms = Models()
        for m in try store.models() {
            guard let model = try? JanssonDecoder().decode(AssessmentModel.self, from: m.body) else {
                throw StoreError(kind: .corrupt, message: "assessment model \(m.id) does not decode")
            }
            ms.custom[m.id] = model
        }
        models = Locked(ms)
        plugins = PluginHost(folder: pluginFolder.map(absolutePath))
        dispatcher = Dispatcher(methods: methodTable() + assessmentMethods() + reportMethods() + pluginMethods() + deliveryMethods()
                                    + importMethods() + adviceMethods() + outcomeMethods(), info: OpenRPCInfo(
            title: "TwoSpeed",
            version: Engine.version,
            description: "Holds a company's two-speed operating model as data: journeys, products, managers, teams, "
                + "systems, metrics, OKRs and experiments."), maxRequestBytes: maxRequestBytes,
                                sharedDocument: "TwoSpeedEngine")
        // A wasm plugin granted "engine" reads through the same method table, read-only.
        plugins.link.set { [weak self] text in
            self?.call(text, context: CallContext(readOnly: true, admin: false))
                ?? #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":{"reason":"a notification has no answer"}},"id":null}"#
        }
        fetchPluginModels()
        relay.attach(self)
    }

    public var storePath: String { store.path }

    /// One request or batch as text; the response text, or nil for notifications only.
    public func call(_ text: String, context: CallContext = CallContext()) -> String? {
        var t = text
        let r = t.withUTF8 { dispatcher.respond(text: UnsafeRawBufferPointer($0), context: context) }
        return r?.text()
    }

    // MARK: Reads

    /// The last committed snapshot of a portfolio; not found names `pointer`.
    func current(_ id: String, _ pointer: JSONPointer?) throws -> PortfolioSnapshot {
        guard let snap = try portfolios.current(id) else { throw Engine.noPortfolio(id, pointer) }
        return snap
    }

    func snapshot(_ id: String, _ pointer: JSONPointer) throws -> StoredPortfolio { try current(id, pointer).stored }

    /// The last committed state of a portfolio, or nil (also when it could not be loaded from the store).
    public func portfolio(_ id: String) -> StoredPortfolio? { (try? portfolios.current(id))?.stored }

    // MARK: Other engines over the same store

    /// Drops what the engine holds of a portfolio (known to it or not): the next read or write of it loads
    /// it from the store. For a store shared with other engines (a server database), when another one
    /// has changed it. A write in progress on it publishes nothing over the drop. The reload runs on the
    /// thread of that next read or write (a daemon's event loop, for a read that runs there).
    public func invalidate(portfolio id: String) { portfolios.invalidate(id) }

    /// Reloads a portfolio from the store at once, on the calling thread, and publishes it; reads meanwhile
    /// answer from the snapshot they had, so none waits on the store. What an engine over a shared store
    /// does when it hears that another engine changed a portfolio.
    public func refresh(portfolio id: String) { portfolios.refresh(id) }

    /// Every portfolio reloaded as `refresh(portfolio:)` does, and the list of them: what an engine does when
    /// it may have missed another engine's changes.
    public func refreshAll() { portfolios.refreshAll() }

    /// Drops every portfolio and the list of them: the next reads load them from the store (portfolios
    /// another engine created are found, ones it deleted are gone).
    public func invalidateAll() { portfolios.invalidateAll() }

    // MARK: Writes

    /// What a change to one portfolio writes, answers, and does to the next revision's entity cache.
    struct Change<R> {
        var store: [StoreChange]
        var result: R
        var cache: ((EntityCache) -> Void)? = nil
    }

    /// Runs a change on a copy of one portfolio, alone among that portfolio's writers; the copy and its
    /// cache (the old one's entries, shared, updated by `cache`) replace what readers see only after the
    /// store has committed them.
    func change<R>(_ id: String, _ pointer: JSONPointer, ifRevision: Int?,
                   _ body: (inout StoredPortfolio) throws -> Change<R>) throws -> R {
        try portfolios.write(id, pointer, creating: false, ifRevision: ifRevision) { base in
            let old = base!
            try checkRevision(ifRevision, current: old.stored.revision)
            var sp = old.stored
            let c = try body(&sp)
            sp.revision += 1
            sp.updated = nowTimestamp()
            try commit(c.store + [.setRevision(portfolio: id, revision: sp.revision, updated: sp.updated)])
            let cache = old.cache.next()
            c.cache?(cache)
            return (.replaced(PortfolioSnapshot(sp, cache: cache)), c.result)
        }
    }

    func checkRevision(_ expected: Int?, current: Int) throws {
        guard let expected, expected != current else { return }
        var d = ErrorData(pointer: "/ifRevision", reason: "expected revision \(expected); the portfolio is at \(current)")
        d.revision = current
        throw RPCError(.revisionMismatch, d)
    }

    /// Writes `changes` in one transaction. A store shared with other engines that finds the portfolio at
    /// another revision than the engine's throws `StaleRevision`, which `PortfolioTable.write` turns into
    /// revision-mismatch after reloading the portfolio.
    func commit(_ changes: [StoreChange]) throws {
        do { try store.apply(changes) } catch let e as StoreError {
            if e.kind == .revisionConflict { throw StaleRevision(current: e.currentRevision ?? 0) }
            throw RPCError(store: e)
        }
    }
}

