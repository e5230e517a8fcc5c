import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore
import TwoSpeedSync

/// One committed revision of one portfolio, with the JSON cache of that revision: what a read sees. Never
/// changed once published; a write publishes a new one after its commit.
final class PortfolioSnapshot: @unchecked Sendable {
    let stored: StoredPortfolio
    let cache: EntityCache
    init(_ stored: StoredPortfolio, cache: EntityCache = EntityCache()) { self.stored = stored; self.cache = cache }
}

/// Where one portfolio id lives in the engine: the snapshot readers take (swapped under a lock held for
/// the swap alone) and the lane its writers queue on (held across the write's commit, by writers of this
/// portfolio only).
final class PortfolioSlot: @unchecked Sendable {
    enum Content {
        /// No such portfolio (yet): a writer about to create it holds the lane, or a reload found none.
        case absent
        /// Dropped by `invalidate`: the next read or write loads it from the store.
        case unloaded
        case loaded(PortfolioSnapshot)
        /// Taken out of the table; whoever holds it looks the id up again.
        case retired
    }
    struct State {
        var content: Content
        /// Raised by every invalidation: a snapshot loaded or written from an older view is not installed
        /// over a newer invalidation.
        var epoch = 0
    }
    /// Writers of this portfolio, one at a time.
    let lane = Locked<Void>()
    let state: Locked<State>
    init(_ content: Content) { state = Locked(State(content: content)) }
}

/// What a write did to its portfolio.
enum Written {
    case unchanged
    case replaced(PortfolioSnapshot)
    case deleted
}

/// A write's commit found the portfolio at another revision in the store than the engine's snapshot
/// (a server store shared with other engines); `current` is the store's.
struct StaleRevision: Error { var current: Int }

/// The engine's portfolios: a table of slots by id. The table's own lock is taken for a lookup, or for
/// adding and removing a slot; never while a write commits. Lock order: a slot's lane, then the
/// table, then a slot's state; a reader holds one at a time.
final class PortfolioTable: @unchecked Sendable {
    private struct Table {
        var slots: [String: PortfolioSlot] = [:]
        /// Set by `invalidateAll`: the store may hold portfolios the table does not list.
        var stale = false
        /// Raised by every `invalidateAll`.
        var generation = 0
    }
    private let table: Locked<Table>
    private let store: any PortfolioStore

    init(store: any PortfolioStore, loaded: [StoredPortfolio]) {
        self.store = store
        var t = Table()
        for sp in loaded { t.slots[sp.portfolio.id] = PortfolioSlot(.loaded(PortfolioSnapshot(sp))) }
        table = Locked(t)
    }

    // MARK: Reads

    /// The last committed snapshot of `id`, loading it from the store when it was invalidated; nil when
    /// there is no such portfolio. Waits for no write.
    func current(_ id: String) throws -> PortfolioSnapshot? {
        while true {
            guard let slot = try lookup(id) else { return nil }
            let s = slot.state.read { $0 }
            switch s.content {
            case .loaded(let snap): return snap
            case .absent: return nil
            case .retired: continue
            case .unloaded: return try reload(id, slot, epoch: s.epoch)
            }
        }
    }

    /// Every portfolio's last committed snapshot, by id.
    func all() throws -> [PortfolioSnapshot] {
        if table.read({ $0.stale }) { try reloadAll() }
        let slots = table.read { $0.slots }
        var out: [PortfolioSnapshot] = []
        out.reserveCapacity(slots.count)
        for id in slots.keys.sorted() {
            let slot = slots[id]!
            let s = slot.state.read { $0 }
            switch s.content {
            case .loaded(let snap): out.append(snap)
            case .absent: break
            case .retired: if let snap = try current(id) { out.append(snap) }
            case .unloaded: if let snap = try reload(id, slot, epoch: s.epoch) { out.append(snap) }
            }
        }
        return out
    }

    private func lookup(_ id: String) throws -> PortfolioSlot? {
        let (slot, stale) = table.read { ($0.slots[id], $0.stale) }
        if let slot { return slot }
        guard stale else { return nil }
        // The store may hold it: a slot to load it into.
        return table.write { t in
            if let s = t.slots[id] { return s }
            let s = PortfolioSlot(.unloaded)
            t.slots[id] = s
            return s
        }
    }

    /// Loads `id` from the store outside every lock and installs it, unless a write or an invalidation
    /// changed the slot meanwhile (then what was loaded still answers this read: it was committed).
    private func reload(_ id: String, _ slot: PortfolioSlot, epoch: Int) throws -> PortfolioSnapshot? {
        let loaded = try load(id)
        slot.state.write { s in
            guard s.epoch == epoch, case .unloaded = s.content else { return }
            s.content = loaded.map { .loaded($0) } ?? .absent
        }
        return loaded
    }

    private func load(_ id: String) throws -> PortfolioSnapshot? {
        do { return try store.loadPortfolio(id: id).map { PortfolioSnapshot($0) } } catch let e as StoreError {
            throw RPCError(store: e)
        }
    }

    /// After `invalidateAll`: the store's portfolios, installed where no write or later invalidation got
    /// there first; slots of portfolios the store no longer holds become absent.
    private func reloadAll() throws {
        let (epochs, generation) = table.read { t in (t.slots.mapValues { slot in slot.state.read { $0.epoch } }, t.generation) }
        let stored: [StoredPortfolio]
        do { stored = try store.loadAll() } catch let e as StoreError { throw RPCError(store: e) }
        let byID = Dictionary(stored.map { ($0.portfolio.id, PortfolioSnapshot($0)) }, uniquingKeysWith: { a, _ in a })
        table.write { t in
            for (id, snap) in byID where t.slots[id] == nil { t.slots[id] = PortfolioSlot(.loaded(snap)) }
            for (id, slot) in t.slots {
                guard let e = epochs[id] else { continue }
                slot.state.write { s in
                    guard s.epoch == e, case .unloaded = s.content else { return }
                    s.content = byID[id].map { .loaded($0) } ?? .absent
                }
            }
            if t.generation == generation { t.stale = false }
        }
    }

    /// The revision of the snapshot held for `id`, without loading anything; nil when none is held.
    func heldRevision(_ id: String) -> Int? {
        guard let slot = table.read({ $0.slots[id] }) else { return nil }
        if case .loaded(let snap) = slot.state.read({ $0.content }) { return snap.stored.revision }
        return nil
    }

    // MARK: Invalidation

    /// Drops the snapshot of `id` (known or not): the next read loads it from the store.
    func invalidate(_ id: String) {
        // The slot's state is changed under the table's lock, so that a writer retiring the slot
        // (under both) cannot lose the invalidation.
        table.write { t in
            let slot = t.slots[id] ?? PortfolioSlot(.unloaded)
            t.slots[id] = slot
            slot.state.write { s in
                s.content = .unloaded
                s.epoch += 1
            }
        }
    }

    /// Drops every snapshot, and the list of portfolios: the next reads load them from the store.
    func invalidateAll() {
        table.write { t in
            t.stale = true
            t.generation += 1
            for slot in t.slots.values {
                slot.state.write { s in
                    s.content = .unloaded
                    s.epoch += 1
                }
            }
        }
    }

    /// Loads `id` from the store now, on the caller's thread, and publishes it: readers keep the snapshot
    /// they had until the new one is in, so none waits on the store (an engine over a server store calls
    /// this from the thread that hears another engine's change, never from a daemon's event loop). Taken
    /// on the portfolio's lane, so that no write of this engine interleaves with the load. A load that
    /// fails drops the snapshot instead, as `invalidate` does (the next read retries).
    func refresh(_ id: String) { refresh(id, preloaded: nil) }

    /// `refresh`, unless the snapshot held is at `revision` or later once the lane is taken (the notice of
    /// this engine's own write, heard before the write published it).
    func refresh(_ id: String, unlessAt revision: Int) { refresh(id, preloaded: nil, unlessAt: revision) }

    /// Every portfolio reloaded as `refresh` does, and the list of them: after the engine may have missed
    /// changes (the connection it hears them on was lost). The store is read once, before the lanes are
    /// taken; a portfolio this engine wrote meanwhile keeps its newer revision.
    func refreshAll() {
        let stored: [StoredPortfolio]
        do { stored = try store.loadAll() } catch {
            invalidateAll()
            return
        }
        var byID: [String: PortfolioSnapshot] = [:]
        for sp in stored { byID[sp.portfolio.id] = PortfolioSnapshot(sp) }
        let ids = Set(byID.keys).union(table.read { Array($0.slots.keys) })
        for id in ids.sorted() { refresh(id, preloaded: .some(byID[id])) }
    }

    /// `preloaded`, when given, is what the store held a moment before the lane was taken: installed unless
    /// the engine holds a newer revision (its own write since), dropped for a reload when it says the
    /// portfolio is gone but the engine holds one (created since, or deleted: the next read tells).
    private func refresh(_ id: String, preloaded: PortfolioSnapshot??, unlessAt revision: Int? = nil) {
        while true {
            let slot = table.write { t -> PortfolioSlot in
                if let s = t.slots[id] { return s }
                let s = PortfolioSlot(.unloaded)
                t.slots[id] = s
                return s
            }
            let done: Bool = slot.lane.exclusively {
                if case .retired = slot.state.read({ $0.content }) { return false }
                if let revision, case .loaded(let held) = slot.state.read({ $0.content }), held.stored.revision >= revision { return true }
                defer { retireIfAbsent(id, slot) }
                var loaded: PortfolioSnapshot?? = .none
                if let preloaded { loaded = .some(preloaded) }
                // Nothing preloaded, or the store said "gone" of one this engine holds (created since, or
                // deleted: read it again to know).
                if preloaded == nil || (preloaded! == nil && slot.state.read({ if case .loaded = $0.content { true } else { false } })) {
                    do { loaded = .some(try load(id)) } catch { loaded = .none }
                }
                slot.state.write { s in
                    s.epoch += 1
                    switch (loaded, s.content) {
                    case (.some(.some(let snap)), .loaded(let mine)) where preloaded != nil && mine.stored.revision > snap.stored.revision:
                        break
                    case (.some(let snap), _): s.content = snap.map { .loaded($0) } ?? .absent
                    case (.none, _): s.content = .unloaded
                    }
                }
                return true
            }
            if done { return }
        }
    }

    // MARK: Writes

    /// Runs `body` alone among the writers of `id` (writers of other portfolios run side by side), with
    /// the last committed snapshot (nil when there is none: allowed only when `creating`), and publishes
    /// what it wrote. `body` commits to the store itself; a `StaleRevision` from it reloads the
    /// portfolio from the store and is thrown on as revision-mismatch (-32005).
    func write<R>(_ id: String, _ pointer: JSONPointer, creating: Bool, ifRevision: Int?,
                  _ body: (PortfolioSnapshot?) throws -> (Written, R)) throws -> R {
        while true {
            let slot: PortfolioSlot
            if creating {
                slot = table.write { t in
                    if let s = t.slots[id] { return s }
                    let s = PortfolioSlot(t.stale ? .unloaded : .absent)
                    t.slots[id] = s
                    return s
                }
            } else {
                guard let s = try lookup(id) else { throw Engine.noPortfolio(id, pointer) }
                slot = s
            }
            let done: R? = try slot.lane.exclusively { () throws -> R? in
                let s = slot.state.read { $0 }
                if case .retired = s.content { return nil }
                defer { retireIfAbsent(id, slot) }
                var base: PortfolioSnapshot?
                switch s.content {
                case .loaded(let snap): base = snap
                case .absent, .retired: base = nil
                case .unloaded:
                    let loaded = try load(id)
                    base = loaded
                    slot.state.write { st in
                        if st.epoch == s.epoch { st.content = loaded.map { .loaded($0) } ?? .absent }
                    }
                }
                if base == nil && !creating { throw Engine.noPortfolio(id, pointer) }
                var outcome: (Written, R)?
                var attempts = 0
                while outcome == nil {
                    do { outcome = try body(base) } catch let stale as StaleRevision {
                        let fresh = try load(id)
                        slot.state.write { st in
                            if st.epoch == s.epoch { st.content = fresh.map { .loaded($0) } ?? .absent }
                        }
                        // A write that names no revision applies to whatever is current, as it does on one
                        // engine: it runs again on what was reloaded (a few times at most; each retry follows
                        // another engine's commit). One that names a revision is refused.
                        if ifRevision == nil, attempts < 3, fresh != nil || creating {
                            attempts += 1
                            base = fresh
                            continue
                        }
                        var d = ErrorData(pointer: ifRevision == nil ? nil : "/ifRevision",
                                          reason: "the portfolio is at revision \(fresh?.stored.revision ?? stale.current) in the store; "
                                            + "this engine had read revision \(base?.stored.revision ?? 0) (another engine wrote it since); "
                                            + "nothing was written")
                        d.revision = fresh?.stored.revision ?? stale.current
                        throw RPCError(.revisionMismatch, d)
                    }
                }
                let (written, result) = outcome!
                slot.state.write { st in
                    // An invalidation during the write (another engine wrote too): leave it for a reload.
                    if st.epoch != s.epoch {
                        st.content = .unloaded
                        return
                    }
                    switch written {
                    case .unchanged: break
                    case .replaced(let snap): st.content = .loaded(snap)
                    case .deleted: st.content = .absent
                    }
                }
                return result
            }
            if let done { return done }
        }
    }

    /// Takes a slot whose portfolio does not exist out of the table, so that deleted and never-created
    /// ids leave nothing behind. Called by the lane's holder: no writer is inside, and one waiting finds
    /// the slot retired and looks the id up again.
    private func retireIfAbsent(_ id: String, _ slot: PortfolioSlot) {
        table.write { t in
            slot.state.write { s in
                guard case .absent = s.content else { return }
                if t.slots[id] === slot { t.slots[id] = nil }
                s.content = .retired
            }
        }
    }
}

extension Engine {
    static func noPortfolio(_ id: String, _ pointer: JSONPointer?) -> RPCError {
        RPCError(.notFound, pointer: pointer?.description, "no portfolio with id \"\(id)\"")
    }
}
