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
        for kind in EntityKind.allCases {
            let n = p.count(of: kind)
            var m: [String: JSONRef] = [:]
            m.reserveCapacity(n)
            for i in 0..<n {
                let json = try p.encodeEntity(kind, at: i, enc)
                for member in kind.detachedMembers { json_object_del(json, member) }
                m.updateValue(json, forKey: kind.info.id(p, i))?.release()
            }
            byKind[kind] = m
        }
    }

    /// Stores `json` (taking ownership) as the entity's JSON.
    func put(_ kind: EntityKind, _ id: String, _ json: JSONRef) {
        for member in kind.detachedMembers { json_object_del(json, member) }
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
    func entityReply(_ cache: EntityCache, _ sp: StoredPortfolio, _ kind: EntityKind, _ id: String) throws -> JSONRef? {
        guard let json = cache.retained(kind, id) else { return nil }
        let p = sp.portfolio
        guard kind == .metric, let i = sp.position(.metric, id) else { return json }
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
    func portfolioReply(_ cache: EntityCache, _ sp: StoredPortfolio) throws -> JSONRef {
        let p = sp.portfolio
        let doc = JSONMake.object()
        do {
            doc.set("id", JSONMake.string(p.id))
            let org = JSONMake.object()
            org.set("name", JSONMake.string(p.organization.name))
            if let industry = p.organization.industry { org.set("industry", JSONMake.string(industry)) }
            doc.set("organization", org)
            for kind in EntityKind.allCases {
                // Each collection where its pointer puts it (departments inside the organization).
                let parent = kind.collectionPointer.count > 1 ? org : doc
                parent.set(kind.collection, try list(cache, sp, kind))
            }
            doc.set("answers", try JanssonEncoder().encode(p.answers))
            return doc
        } catch {
            doc.release()
            throw error
        }
    }

    private func list(_ cache: EntityCache, _ sp: StoredPortfolio, _ kind: EntityKind) throws -> JSONRef {
        let arr = JSONMake.array()
        for id in sp.portfolio.ids(of: kind) { arr.append(try entityReply(cache, sp, kind, id)) }
        return arr
    }
}
