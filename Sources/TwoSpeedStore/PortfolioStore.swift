import TwoSpeedJSON
import TwoSpeedModel

/// A portfolio as the store keeps it: the document plus its write counter and time, an index of its
/// entities by id and its counts, both kept in step by the methods that change it.
public struct StoredPortfolio: Sendable {
    public private(set) var portfolio: Portfolio
    public var revision: Int
    public var updated: String
    public private(set) var index: PortfolioIndex
    public private(set) var counts: Counts

    public init(portfolio: Portfolio, revision: Int, updated: String) {
        self.portfolio = portfolio; self.revision = revision; self.updated = updated
        index = PortfolioIndex(portfolio)
        counts = portfolio.counts
    }

    /// Where the entity sits in its collection, or nil.
    public func position(_ kind: EntityKind, _ id: String) -> Int? { index.position(kind, id) }

    /// Replaces the entity with the same id, or appends it: its index and whether it is new.
    /// A metric given without "observations" keeps the ones it has.
    public mutating func upsert(_ kind: EntityKind, from json: JSONRef) throws -> (index: Int, created: Bool) {
        let existing = json["id"]?.stringValue.flatMap { index.position(kind, $0) }
        let r = try kind.info.put(&portfolio, json, existing, JanssonDecoder())
        if existing == nil { index.added(kind, r.id, at: r.index) }
        // A field set now is resolved: its unresolved reference goes (the caller persists the list).
        portfolio.dropResolved(kind, at: r.index)
        // Counted, not recounted: an import upserts thousands in a row. A metric may bring observations.
        if kind == .metric { counts = portfolio.counts } else if existing == nil { counts[kind] += 1 }
        return (r.index, existing == nil)
    }

    /// Removes the entity; false when there was none.
    public mutating func remove(_ kind: EntityKind, id: String) -> Bool {
        guard let i = index.position(kind, id) else { return false }
        kind.info.removeAt(&portfolio, i)
        portfolio.dropUnresolved(of: kind, id: id)
        // Every later entity moved up by one.
        index.rebuild(kind, portfolio)
        counts = portfolio.counts
        return true
    }

    /// Appends observations to the metric at `metric`; returns how many it had before.
    public mutating func appendObservations(metric i: Int, _ obs: [Observation]) -> Int {
        let first = portfolio.metrics[i].observations.count
        portfolio.metrics[i].observations.append(contentsOf: obs)
        counts.observations += obs.count
        return first
    }
}

/// One change to the store; the engine hands several to `apply`, which writes them all or none.
public enum StoreChange {
    /// Writes the whole portfolio. `document`, when given, is the validated JSON it was decoded from
    /// (borrowed for the call): each entity's row is written from it as sent rather than encoded again.
    case putPortfolio(StoredPortfolio, document: JSONRef?)
    /// Deletes the portfolio and, by the stores' cascades, every row that belongs to it. With `revision`,
    /// only when the store holds it at that revision (checked in the delete itself): a delete based on a
    /// stale read (another engine wrote since) deletes nothing and is a conflict.
    case deletePortfolio(id: String, revision: Int? = nil)
    /// Writes the entity, new or replaced; a metric's observations are written apart.
    case putEntity(portfolio: String, kind: EntityKind, id: String, body: JSONRef)
    case removeEntity(portfolio: String, kind: EntityKind, id: String)
    case replaceObservations(portfolio: String, metric: String, [Observation])
    case appendObservations(portfolio: String, metric: String, firstSeq: Int, [Observation])
    case setRevision(portfolio: String, revision: Int, updated: String)
    /// Replaces the portfolio's unresolved references.
    case setUnresolved(portfolio: String, [UnresolvedReference])
}

extension StoredPortfolio {
    /// Replaces the unresolved references (an import's, once its entities are placed).
    public mutating func setUnresolved(_ refs: [UnresolvedReference]) { portfolio.unresolved = refs }
}

/// A custom assessment model as stored: its JSON text.
public struct StoredModel: Sendable {
    public var id: String
    public var updated: String
    public var body: String
}

/// A kept assessment result: its number within the portfolio, and (when read) its JSON text or summary.
public struct KeptRun: Sendable {
    public var seq: Int
    public var at: String
    public var model: String
    public var body: String
}

/// What the engine needs of a store. SQLite (`SQLiteStore`) is the embedded default; the shape is
/// small enough for a server database to implement too.
///
/// Every method may be called from any thread at any time: a store owns its connections and never lets
/// a caller share one. A method that writes returns only once the write is durable; `apply` writes all
/// of its changes or none.
public protocol PortfolioStore: AnyObject, Sendable {
    /// Where the store lives, as the caller named it, and whether it is lost on close.
    var path: String { get }
    var inMemory: Bool { get }
    /// The schema version the store is at after opening.
    var schemaVersion: Int { get }

    /// Every portfolio, entities in their stored order, observations in their order.
    func loadAll() throws -> [StoredPortfolio]
    /// One portfolio as `loadAll` gives it, read in one consistent state, or nil when the store has none.
    func loadPortfolio(id: String) throws -> StoredPortfolio?
    /// Applies the changes in one transaction.
    func apply(_ changes: [StoreChange]) throws

    func putModel(id: String, body: String, updated: String) throws
    func deleteModel(id: String) throws
    /// Every stored model, by id.
    func models() throws -> [StoredModel]

    /// Keeps an assessment result (`body`) with its summary (`summary`: asOf, revision, overall and
    /// each dimension's score, as JSON text); returns its number within the portfolio: one more than
    /// the last kept.
    func addRun(portfolio: String, at: String, model: String, score: Double, summary: String, body: String) throws -> Int
    /// The kept runs of a portfolio (of one model, when given), oldest first; `body` holds the summary.
    func runSummaries(portfolio: String, model: String?) throws -> [KeptRun]
    /// The kept results' numbers and models, oldest first, without their bodies.
    func runHeaders(portfolio: String) throws -> [(seq: Int, model: String)]
    /// One kept result's JSON text, or nil.
    func runBody(portfolio: String, seq: Int) throws -> String?

    /// The store's own consistency check: "ok" when sound.
    func integrityCheck() throws -> String

    /// Reports changes committed to the store (by any process, this one included), for an engine to
    /// refresh what it caches: a portfolio id with the revision it was committed at (nil when deleted or
    /// unknown), or a nil id when anything may have changed. A store only one engine writes reports
    /// nothing (the default).
    func watch(_ onChange: @escaping @Sendable (_ portfolio: String?, _ revision: Int?) -> Void)
}

extension PortfolioStore {
    public func watch(_ onChange: @escaping @Sendable (_ portfolio: String?, _ revision: Int?) -> Void) {}
}

extension StoreError {
    /// A delete at `revision` found the portfolio at another revision, or gone (another process wrote or
    /// deleted it first).
    public static func deleteConflict(_ pid: String, _ revision: Int) -> StoreError {
        StoreError(kind: .revisionConflict, message: "portfolio \"\(pid)\" was changed or deleted by another process since revision "
                   + "\(revision); nothing was deleted: read it and try again")
    }

    /// A row written for a portfolio the store does not hold (another process deleted it meanwhile): the
    /// foreign key refused it, and nothing was written.
    public static func noSuchPortfolio(_ detail: String) -> StoreError {
        StoreError(kind: .revisionConflict, message: "the portfolio this write belongs to is not in the store (deleted by another "
                   + "process?); nothing was written (\(detail))", currentRevision: 0)
    }

    /// A write that expected the portfolio one revision before `revision` found it otherwise: another
    /// process wrote first (or deleted it). Both stores say it in the same words.
    public static func conflict(_ pid: String, _ revision: Int) -> StoreError {
        StoreError(kind: .revisionConflict, message: revision == 1
                   ? "portfolio \"\(pid)\" was created by another process; nothing was written: read it and try again"
                   : "portfolio \"\(pid)\" was changed or deleted by another process since revision \(revision - 1); nothing was written: read it and try again")
    }
}

/// A stored JSON column decoded as `T`; text that does not parse or decode is a corrupt store, named by `what`.
/// Both stores read a portfolio's organization, answers and unresolved references this way.
func decode<T: Decodable>(_ bytes: UnsafeRawBufferPointer, _ dec: JanssonDecoder, _ what: String) throws -> T {
    switch try JSON.parse(bytes) {
    case .failure(let e): throw StoreError(kind: .corrupt, message: "\(what): \(e.reason)")
    case .success(let v):
        do { return try dec.decode(T.self, from: v.ref) } catch {
            throw StoreError(kind: .corrupt, message: "\(what): \(error)")
        }
    }
}
