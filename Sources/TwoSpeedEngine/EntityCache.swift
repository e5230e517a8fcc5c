import CJansson
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedStore

/// The JSON of every entity of one portfolio, built once when the entity is written, so that reads
/// (entity.get, entity.list, portfolio.get) hand out references instead of encoding again.
/// A metric's JSON leaves its observations out: they grow by appends and are encoded when read.
///
/// Guarded by the engine's lock: written under the write lock; read under the read lock, where a
/// reader takes its own reference before letting go. jansson (2.11 and later) counts references
/// atomically and dumps shared values safely from several threads, and nothing here mutates a value
/// once it is cached.
final class EntityCache: EntityJSONSource {
    private var byKind: [EntityKind: [String: JSONRef]] = [:]

    deinit { for (_, m) in byKind { for (_, v) in m { v.release() } } }

    /// The cache of a whole portfolio.
    init(_ p: Portfolio) throws {
        let enc = JanssonEncoder()
        func add<T: Encodable & Identified>(_ kind: EntityKind, _ items: [T]) throws {
            var m: [String: JSONRef] = [:]
            m.reserveCapacity(items.count)
            for e in items { m[e.id] = try enc.encode(e) }
            byKind[kind] = m
        }
        try add(.department, p.organization.departments)
        try add(.journey, p.journeys)
        try add(.product, p.products)
        try add(.manager, p.managers)
        try add(.team, p.teams)
        try add(.system, p.systems)
        try add(.metric, p.metrics)
        for (_, v) in byKind[.metric] ?? [:] { json_object_del(v, "observations") }
        try add(.okr, p.okrs)
        try add(.experiment, p.experiments)
    }

    /// Stores `json` (taking ownership) as the entity's JSON.
    func put(_ kind: EntityKind, _ id: String, _ json: JSONRef) {
        if kind == .metric { json_object_del(json, "observations") }
        byKind[kind, default: [:]].updateValue(json, forKey: id)?.release()
    }

    func remove(_ kind: EntityKind, _ id: String) {
        byKind[kind]?.removeValue(forKey: id)?.release()
    }

    /// The entity's JSON, borrowed: for the store, under the write lock.
    func json(_ kind: EntityKind, _ id: String) -> JSONRef? { byKind[kind]?[id] }

    /// A new reference to the entity's JSON as stored (a metric without observations).
    func retained(_ kind: EntityKind, _ id: String) -> JSONRef? {
        byKind[kind]?[id]?.retained()
    }
}

extension Engine {
    /// The entity's JSON for a reply: shared when it can be; for a metric, a new object with its
    /// observations where Codable would put them (before "products"). Call under the read lock.
    func entityReply(_ cache: EntityCache, _ p: Portfolio, _ kind: EntityKind, _ id: String) throws -> JSONRef? {
        guard let json = cache.retained(kind, id) else { return nil }
        guard kind == .metric, let i = p.index(of: .metric, id: id) else { return json }
        defer { json.release() }
        let observations = try JanssonEncoder().encode(p.metrics[i].observations)
        let out = JSONMake.object()
        json.forEachMember { key, value in
            if key == "products" { out.set("observations", observations.retained()) }
            out.set(key, value.retained())
        }
        observations.release()
        return out
    }
}

extension Engine {
    /// The whole portfolio document for portfolio.get, assembled from the cached entities in the
    /// order Codable writes a Portfolio. Call under the read lock.
    func portfolioReply(_ cache: EntityCache, _ p: Portfolio) throws -> JSONRef {
        let doc = JSONMake.object()
        do {
            doc.set("id", JSONMake.string(p.id))
            let org = JSONMake.object()
            org.set("name", JSONMake.string(p.organization.name))
            if let industry = p.organization.industry { org.set("industry", JSONMake.string(industry)) }
            org.set("departments", try list(cache, p, .department))
            doc.set("organization", org)
            for kind in [EntityKind.journey, .product, .manager, .team, .system, .metric, .okr, .experiment] {
                doc.set(kind.collection, try list(cache, p, kind))
            }
            doc.set("answers", try JanssonEncoder().encode(p.answers))
            return doc
        } catch {
            doc.release()
            throw error
        }
    }

    private func list(_ cache: EntityCache, _ p: Portfolio, _ kind: EntityKind) throws -> JSONRef {
        let arr = JSONMake.array()
        for id in p.ids(of: kind) { arr.append(try entityReply(cache, p, kind, id)) }
        return arr
    }
}
