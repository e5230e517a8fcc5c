import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedStore
import TwoSpeedSync

/// The JSON of the entities of one portfolio at one revision, so that reads (entity.get, entity.list,
/// portfolio.get) hand out references instead of encoding again. Each `PortfolioSnapshot` owns one: a
/// cache is never paired with another revision of its portfolio. A kind's JSON is built at its first read
/// (from the snapshot's own portfolio, so whichever reader builds it builds the same thing); a write
/// builds the next revision's cache with `next()`, which shares every kind's entries with this one
/// (copy on write) and then changes only what the write changed. A metric's JSON leaves its
/// observations out: they grow by appends and are encoded when read.
///
/// Readers may fill a kind side by side, so the kinds sit behind a lock of their own, held only to look
/// up or swap a dictionary. A reader takes its own reference before letting go; jansson (2.11 and later)
/// counts references atomically and dumps shared values safely from several threads, and nothing here
/// mutates a value once it is cached. Each value is an owning `JSON`, released when the last cache
/// sharing it goes: no cache releases what another still holds.
final class EntityCache: @unchecked Sendable {
    private let kinds: Locked<[EntityKind: [String: JSON]]>
    /// The document as text, for check plugins, whole or in the parts a plugin reads (by the manifest's
    /// `reads`, joined): written at the first check of this revision and then handed to every check
    /// plugin as it is, where each would otherwise have the document written out again.
    private let texts = Locked<[String: String]>([:])

    init() { kinds = Locked([:]) }
    private init(sharing k: [EntityKind: [String: JSON]]) { kinds = Locked(k) }

    /// The cache of the next revision: this one's entries, shared; the writer then puts and removes
    /// what it changed, before any reader can see the new cache.
    func next() -> EntityCache { EntityCache(sharing: kinds.read { $0 }) }

    /// The entity's JSON as stored (a metric without observations), shared, building its kind's JSON
    /// from `p` (the snapshot's portfolio) first if no read has yet.
    func entity(_ kind: EntityKind, _ id: String, in p: Portfolio) throws -> JSON? {
        if let hit = kinds.read({ m -> JSON?? in m[kind].map { $0[id] } }) { return hit }
        try fill(kind, p)
        return kinds.read { $0[kind]?[id] }
    }

    private func fill(_ kind: EntityKind, _ p: Portfolio) throws {
        // Encoded outside the lock; a reader that got there first wins and this copy is dropped (the
        // boxes release their values).
        let enc = JanssonEncoder()
        let ids = p.ids(of: kind)
        var m: [String: JSON] = [:]
        m.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            // The encoder's builders count a failed allocation rather than throw: such a value is not kept.
            let (ref, failed) = try JSONAllocation.watching { try p.encodeEntity(kind, at: i, enc) }
            let json = JSON(adopting: ref)
            if failed { throw JSONError.noMemory }
            for member in kind.detachedMembers { json.remove(member) }
            m[id] = json
        }
        kinds.write { k in if k[kind] == nil { k[kind] = m } }
    }

    /// Stores `json` as the entity's JSON, if its kind has been read; a kind not yet read is built from
    /// the portfolio, which holds the change, when it is. For a cache from `next()` that no reader sees
    /// yet, which alone holds `json` from here on.
    func put(_ kind: EntityKind, _ id: String, _ json: JSON) {
        for member in kind.detachedMembers { json.remove(member) }
        kinds.write { k in if k[kind] != nil { k[kind]![id] = json } }
    }

    /// The same taking over a new reference (the handlers' currency until the typed contract lands).
    func put(_ kind: EntityKind, _ id: String, _ json: JSONRef) { put(kind, id, JSON(adopting: json)) }

    func remove(_ kind: EntityKind, _ id: String) {
        _ = kinds.write { $0[kind]?.removeValue(forKey: id) }
    }

    /// The document's text in the parts named by `parts` ("" for all of it), from `make` when none is
    /// kept (a cache belongs to one revision, so the text is that revision's).
    func documentText(parts: String, _ make: () throws -> String) rethrows -> String {
        if let kept = texts.read({ $0[parts] }) { return kept }
        let made = try make()
        texts.write { $0[parts] = made }
        return made
    }
}

extension Engine {
    /// The entity's JSON for a reply: shared when it can be; for a metric, a new object with its
    /// observations where Codable would put them (before "products"). `cache` is `sp`'s snapshot's.
    func entityJSON(_ cache: EntityCache, _ sp: StoredPortfolio, _ kind: EntityKind, _ id: String) throws -> JSON? {
        guard let json = try cache.entity(kind, id, in: sp.portfolio) else { return nil }
        let p = sp.portfolio
        guard kind == .metric, let i = sp.position(.metric, id) else { return json }
        let observations = try JSON.encoding(p.metrics[i].observations)
        let out = try JSON.object()
        try json.forEachMember { key, value in
            if key == "products" { try out.set("observations", observations) }
            try out.set(key, value)
        }
        return out
    }
}

extension Engine {

    /// The whole portfolio document for portfolio.get, assembled from the cached entities in the
    /// order Codable writes a Portfolio; with `parts`, only those collections (and "answers") beside the
    /// id and the organization's name and industry. `cache` is `sp`'s snapshot's.
    func portfolioDocument(_ cache: EntityCache, _ sp: StoredPortfolio, parts: Set<String>? = nil) throws -> JSON {
        let p = sp.portfolio
        let doc = try JSON.object()
        try doc.set("id", string: p.id)
        let org = try JSON.object()
        try org.set("name", string: p.organization.name)
        if let industry = p.organization.industry { try org.set("industry", string: industry) }
        try doc.set("organization", org)
        for kind in EntityKind.allCases where parts?.contains(kind.collection) ?? true {
            // Each collection where its pointer puts it (departments inside the organization).
            let parent = kind.collectionPointer.count > 1 ? org : doc
            try parent.set(kind.collection, try list(cache, sp, kind))
        }
        if parts?.contains("answers") ?? true { try doc.set("answers", JSON.encoding(p.answers)) }
        if parts?.contains("unresolved") ?? true { try doc.set("unresolved", JSON.encoding(p.unresolved)) }
        return doc
    }

    private func list(_ cache: EntityCache, _ sp: StoredPortfolio, _ kind: EntityKind) throws -> JSON {
        let arr = try JSON.array()
        for id in sp.portfolio.ids(of: kind) {
            if let e = try entityJSON(cache, sp, kind, id) { try arr.append(e) }
        }
        return arr
    }
}
