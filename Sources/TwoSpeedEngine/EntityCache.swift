import CJansson
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedStore
import TwoSpeedSync

/// The JSON of the entities of one portfolio, so that reads (entity.get, entity.list, portfolio.get)
/// hand out references instead of encoding again. A kind's JSON is built at its first read and kept
/// in step with every write after: opening a store or putting a portfolio encodes nothing it need not,
/// and holds no second copy of the document while it works. A metric's JSON leaves its observations
/// out: they grow by appends and are encoded when read.
///
/// Used under the engine's lock: changed under the write lock, read under the read lock. Readers may
/// fill a kind side by side, so the kinds sit behind a lock of their own. A reader takes its own
/// reference before letting go; jansson (2.11 and later) counts references atomically and dumps shared
/// values safely from several threads, and nothing here mutates a value once it is cached.
final class EntityCache: @unchecked Sendable {
    private let kinds = Locked<[EntityKind: [String: JSONRef]]>([:])
    /// The document as text at one revision, for check plugins, whole or in the parts a plugin reads (by
    /// the manifest's `reads`, joined): written at the first check after a change and then handed to every
    /// check plugin as it is, where each would otherwise have the document written out again.
    private let texts = Locked<(revision: Int, byParts: [String: String])>((0, [:]))

    init() {}

    deinit { kinds.write { for (_, m) in $0 { for (_, v) in m { v.release() } } } }

    /// A new reference to the entity's JSON as stored (a metric without observations), building its
    /// kind's JSON from `p` first if no read has yet. Call under the engine's read or write lock.
    func retained(_ kind: EntityKind, _ id: String, in p: Portfolio) throws -> JSONRef? {
        if let hit = kinds.read({ m -> JSONRef?? in m[kind].map { $0[id]?.retained() } }) { return hit }
        try fill(kind, p)
        return kinds.read { $0[kind]?[id]?.retained() }
    }

    private func fill(_ kind: EntityKind, _ p: Portfolio) throws {
        // Encoded outside the lock; a reader that got there first wins and this copy is dropped.
        let enc = JanssonEncoder()
        let ids = p.ids(of: kind)
        var m: [String: JSONRef] = [:]
        m.reserveCapacity(ids.count)
        do {
            for (i, id) in ids.enumerated() {
                let json = try p.encodeEntity(kind, at: i, enc)
                for member in kind.detachedMembers { json_object_del(json, member) }
                m.updateValue(json, forKey: id)?.release()
            }
        } catch {
            for (_, v) in m { v.release() }
            throw error
        }
        let unused = kinds.write { k -> [String: JSONRef]? in
            if k[kind] != nil { return m }
            k[kind] = m
            return nil
        }
        for (_, v) in unused ?? [:] { v.release() }
    }

    /// Stores `json` (taking ownership) as the entity's JSON, if its kind has been read; a kind not yet
    /// read is built from the portfolio, which holds the change, when it is.
    func put(_ kind: EntityKind, _ id: String, _ json: JSONRef) {
        for member in kind.detachedMembers { json_object_del(json, member) }
        let old: JSONRef? = kinds.write { k in
            guard k[kind] != nil else { return json }
            return k[kind]!.updateValue(json, forKey: id)
        }
        old?.release()
    }

    func remove(_ kind: EntityKind, _ id: String) {
        kinds.write { $0[kind]?.removeValue(forKey: id) }?.release()
    }

    /// The document's text at `revision` in the parts named by `parts` ("" for all of it), from `make`
    /// when none is kept for it (every write raises the revision, so an older text is never handed out).
    /// Call under the engine's read or write lock.
    func documentText(revision: Int, parts: String, _ make: () throws -> String) rethrows -> String {
        if let kept = texts.read({ $0.revision == revision ? $0.byParts[parts] : nil }) { return kept }
        let made = try make()
        texts.write { t in
            if t.revision != revision { t = (revision, [:]) }
            t.byParts[parts] = made
        }
        return made
    }
}

extension Engine {
    /// The entity's JSON for a reply: shared when it can be; for a metric, a new object with its
    /// observations where Codable would put them (before "products"). Call under the read lock.
    func entityReply(_ cache: EntityCache, _ sp: StoredPortfolio, _ kind: EntityKind, _ id: String) throws -> JSONRef? {
        guard let json = try cache.retained(kind, id, in: sp.portfolio) else { return nil }
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
    /// order Codable writes a Portfolio; with `parts`, only those collections (and "answers") beside the
    /// id and the organization's name and industry. Call under the read lock.
    func portfolioReply(_ cache: EntityCache, _ sp: StoredPortfolio, parts: Set<String>? = nil) throws -> JSONRef {
        let p = sp.portfolio
        let doc = JSONMake.object()
        do {
            doc.set("id", JSONMake.string(p.id))
            let org = JSONMake.object()
            org.set("name", JSONMake.string(p.organization.name))
            if let industry = p.organization.industry { org.set("industry", JSONMake.string(industry)) }
            doc.set("organization", org)
            for kind in EntityKind.allCases where parts?.contains(kind.collection) ?? true {
                // Each collection where its pointer puts it (departments inside the organization).
                let parent = kind.collectionPointer.count > 1 ? org : doc
                parent.set(kind.collection, try list(cache, sp, kind))
            }
            if parts?.contains("answers") ?? true { doc.set("answers", try JanssonEncoder().encode(p.answers)) }
            if parts?.contains("unresolved") ?? true { doc.set("unresolved", try JanssonEncoder().encode(p.unresolved)) }
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
