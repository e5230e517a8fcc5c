import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

/// One problem of an import, with where it comes from: a file and line (a catalog) or a row and
/// column (a CSV), and the pointer into the params. `skipped` says whether its record was left out.
struct ImportProblem {
    /// The record (document or row index) it refers to, for counting the records skipped.
    var record: Int?
    var file: String?
    var line: Int?
    var column: Int?
    var row: Int?
    var field: String?
    var entity: String?
    var pointer: String
    var reason: String
    var skipped: Bool
    /// A kind the import does not map (a Backstage Template): reported, skipped, never a reason to refuse.
    var unmapped = false

    func json() throws -> JSON {
        let o = try JSON.object()
        if let file { try o.set("file", string: file) }
        if let line { try o.set("line", int: line) }
        if let column { try o.set("column", int: column) }
        if let row { try o.set("row", int: row) }
        if let field { try o.set("field", string: field) }
        if let entity { try o.set("entity", string: entity) }
        try o.set("pointer", string: pointer)
        try o.set("reason", string: reason)
        try o.set("skipped", bool: skipped)
        if unmapped { try o.set("unmapped", bool: true) }
        return o
    }

    /// "file:line: reason", as a person reads it in an error's list.
    var located: String {
        var at = ""
        if let file { at = file + (line.map { ":\($0)" } ?? "") + ": " }
        else if let row { at = "row \(row)" + (column.map { ", column \($0)" } ?? "") + (field.map { " (\($0))" } ?? "") + ": " }
        return at + reason
    }
}

/// One entity an import writes: the members it owns (paths inside the entity) and their new values.
/// Members it does not own keep what the stored entity has, so that re-importing updates in place.
struct ImportEntry {
    var record: Int
    var kind: EntityKind
    var id: String
    /// The new values; a member it owns but leaves out is removed.
    var values: JSON
    var owned: [[String]]
    /// The entity's references to what the portfolio does not hold; nil leaves its stored ones as they
    /// are, a list (empty too) replaces them.
    var unresolved: [UnresolvedReference]? = nil
    /// Stored unresolved references this entry resolves (it fills their field).
    var resolves: [UnresolvedReference] = []
}

/// What became of an import's entities once applied to a copy of the portfolio.
struct BatchOutcome {
    var portfolio: StoredPortfolio
    /// Index in the entries → whether it was created (true), updated (false); unchanged ones are absent.
    var written: [(entry: Int, created: Bool)] = []
    var unchanged: [Int] = []
    /// Records refused, each with its reasons (pointers inside the entity).
    var rejected: [Int: [ValidationIssue]] = [:]
    var removed: [(kind: EntityKind, id: String)] = []
    /// Removals given up because something the import does not write still names the entity.
    var kept: [(kind: EntityKind, id: String, reason: String)] = []
}

enum ImportBatch {
    /// Applies `entries` and `removals` to a copy of `base`: each entry is merged into the stored
    /// entity, validated against its kind's schema and its references checked in the whole candidate.
    /// An entry that fails is rejected whole (its record is reported, never half-applied) and the
    /// rest tried again without it, until the candidate is sound.
    static func apply(base: StoredPortfolio, cache: EntityCache?, entries: [ImportEntry],
                      removals: [(kind: EntityKind, id: String)]) throws -> BatchOutcome {
        var rejected: [Int: [ValidationIssue]] = [:]
        // Merged and validated once: the values do not change between rounds.
        var merged: [JSON?] = Array(repeating: nil, count: entries.count)
        var unchanged: [Int] = []
        var seen: [EntityKind: [String: Int]] = [:]
        for (i, e) in entries.enumerated() {
            if let first = seen[e.kind]?[e.id] {
                rejected[e.record, default: []].append(ValidationIssue(
                    pointer: "/id", reason: "\(e.kind.rawValue) \"\(e.id)\" is written twice by this import (first by record \(entries[first].record))"))
                continue
            }
            seen[e.kind, default: [:]][e.id] = i
            // The stored entity's JSON, as reads serve it (shared: merge copies it).
            let existing = base.position(e.kind, e.id) == nil ? nil : (try? cache?.entity(e.kind, e.id, in: base.portfolio)) ?? nil
            let m = try merge(existing, e)
            var issues = IssueList()
            e.kind.schema.validate(m.ref, at: .root, into: &issues)
            if !issues.isEmpty {
                rejected[e.record, default: []].append(contentsOf: issues.issues)
                continue
            }
            if let existing, existing.view.equals(m.view) { unchanged.append(i); continue }
            merged[i] = m
        }
        var removing = removals
        var kept: [(kind: EntityKind, id: String, reason: String)] = []
        while true {
            var sp = base
            var placedAt: [EntityKind: [Int: Int]] = [:]
            var written: [(entry: Int, created: Bool)] = []
            for r in removing { _ = sp.remove(r.kind, id: r.id) }
            for (i, e) in entries.enumerated() {
                guard let m = merged[i], rejected[e.record] == nil else { continue }
                do {
                    let (index, created) = try sp.upsert(e.kind, from: m.ref)
                    placedAt[e.kind, default: [:]][index] = i
                    written.append((i, created))
                } catch {
                    rejected[e.record, default: []].append(ValidationIssue(pointer: "", reason: "\(error)"))
                }
            }
            // The unresolved references as the entries leave them; each new one remembers its entry.
            let unresolvedBy = unresolved(sp.portfolio.unresolved, entries: entries) { rejected[entries[$0].record] == nil }
            sp.setUnresolved(unresolvedBy.map(\.ref))
            var issues = IssueList(cap: Int.max)
            sp.portfolio.checkReferences(into: &issues)
            if issues.isEmpty {
                var out = BatchOutcome(portfolio: sp)
                out.written = written
                out.unchanged = unchanged.filter { rejected[entries[$0].record] == nil }
                out.rejected = rejected
                out.removed = removing
                out.kept = kept
                return out
            }
            var progress = false
            for issue in issues.issues {
                // The entity the pointer is inside: /<collection>/<index>/... (departments one deeper).
                let tokens = JSONPointer(parsing: issue.pointer)?.tokens ?? []
                var owner: Int?
                var inner = ""
                if tokens.count >= 2, tokens[0] == "unresolved", let k = Int(tokens[1]), k < unresolvedBy.count {
                    owner = unresolvedBy[k].entry
                    inner = "/unresolved"
                }
                for kind in EntityKind.allCases where owner == nil {
                    let cp = kind.collectionPointer
                    if tokens.count > cp.count, Array(tokens[0..<cp.count]) == cp, let index = Int(tokens[cp.count]) {
                        owner = placedAt[kind]?[index]
                        inner = JSONPointer(Array(tokens[(cp.count + 1)...])).description
                        break
                    }
                }
                if let owner {
                    rejected[entries[owner].record, default: []].append(ValidationIssue(pointer: inner, reason: issue.reason))
                    progress = true
                    continue
                }
                // Something the import does not write names an entity being removed: keep that one.
                if let r = removing.firstIndex(where: { issue.reason.contains("\"\($0.id)\"") }) {
                    let gone = removing.remove(at: r)
                    kept.append((gone.kind, gone.id, "still referenced at \(issue.pointer)"))
                    progress = true
                }
            }
            if !progress {
                // Nothing left to blame: report the stored portfolio's own failures on the first entry.
                var out = BatchOutcome(portfolio: base)
                out.rejected = rejected
                for e in entries where rejected[e.record] == nil {
                    out.rejected[e.record] = issues.issues.map {
                        ValidationIssue(pointer: "", reason: "the stored portfolio fails its checks at \($0.pointer): \($0.reason)")
                    }
                }
                return out
            }
        }
    }

    /// `stored` with each accepted entry's unresolved references in place of its entity's, and the
    /// ones it resolves dropped: each with the entry that brought it (nil: stored before).
    static func unresolved(_ stored: [UnresolvedReference], entries: [ImportEntry],
                           accepted: (Int) -> Bool) -> [(ref: UnresolvedReference, entry: Int?)] {
        var replaced = Set<String>(), resolved = Set<UnresolvedReference>()
        var added: [(ref: UnresolvedReference, entry: Int?)] = []
        for (i, e) in entries.enumerated() where accepted(i) {
            resolved.formUnion(e.resolves)
            guard let refs = e.unresolved else { continue }
            replaced.insert(e.kind.rawValue + "\u{0}" + e.id)
            for r in refs { added.append((r, i)) }
        }
        if replaced.isEmpty && resolved.isEmpty { return stored.map { ($0, nil) } }
        var out: [(ref: UnresolvedReference, entry: Int?)] = []
        for r in stored where !replaced.contains(r.kind + "\u{0}" + r.id) && !resolved.contains(r) { out.append((r, nil)) }
        return out + added
    }

    /// The stored entity (or an empty object) with the owned members replaced by the entry's values.
    static func merge(_ existing: JSON?, _ e: ImportEntry) throws -> JSON {
        let out = try existing?.copy() ?? JSON.object()
        try out.set("id", string: e.id)
        for path in e.owned { delete(out.view, path) }
        for path in e.owned {
            var v: JSONView? = e.values.view
            for t in path { v = v?[t] }
            if let v { try set(out.view, path, v) }
        }
        return out
    }

    static func delete(_ o: JSONView, _ path: [String]) {
        guard let last = path.last else { return }
        var cur: JSONView? = o
        for t in path.dropLast() { cur = cur?[t] }
        if let cur, cur.isObject { cur.remove(last) }
    }

    static func set(_ o: JSONView, _ path: [String], _ v: JSONView) throws {
        var cur = o
        for t in path.dropLast() {
            if let next = cur[t], next.isObject { cur = next } else {
                let n = try JSON.object()
                try cur.set(t, n)
                cur = n.view
            }
        }
        try cur.set(path.last!, v)
    }
}

/// Counts by kind, for an import's report.
struct KindCounts {
    var byKind: [EntityKind: Int] = [:]
    mutating func add(_ k: EntityKind) { byKind[k, default: 0] += 1 }
    func json() throws -> JSON {
        let o = try JSON.object()
        for k in EntityKind.allCases { if let n = byKind[k] { try o.set(k.collection, int: n) } }
        return o
    }
}

extension Engine {
    /// Applies an import to the portfolio `pid` (created, with `organization` as its name, when there is
    /// none) in one transaction, and builds its report. With `atomic`, any record refused refuses all.
    func commitImport(pid: String, pidPointer: JSONPointer, organization: String?, ifRevision: Int?, atomic: Bool,
                      problems initial: [ImportProblem], records: Int,
                      plan: (StoredPortfolio, EntityCache?) throws -> (entries: [ImportEntry], removals: [(kind: EntityKind, id: String)]),
                      describe: (Int, [ValidationIssue], ImportEntry?) -> [ImportProblem],
                      extraProblems: () -> [ImportProblem] = { [] }) throws -> JSON {
        try portfolios.write(pid, pidPointer, creating: true, ifRevision: ifRevision) { snap in
            let old = snap?.stored
            try checkRevision(ifRevision, current: old?.revision ?? 0)
            let base = old ?? StoredPortfolio(portfolio: Portfolio(id: pid, organization: Organization(name: organization ?? pid)),
                                              revision: 0, updated: nowTimestamp())
            let cache = snap?.cache
            let (entries, removals) = try plan(base, cache)
            var outcome = try ImportBatch.apply(base: base, cache: cache, entries: entries, removals: removals)
            var problems = initial + extraProblems()
            let byRecord = Dictionary(entries.map { ($0.record, $0) }, uniquingKeysWith: { a, _ in a })
            for (record, issues) in outcome.rejected.sorted(by: { $0.key < $1.key }) {
                problems += describe(record, issues, byRecord[record])
            }
            for k in outcome.kept {
                problems.append(ImportProblem(entity: "\(k.kind.rawValue):\(k.id)", pointer: "/prune",
                                              reason: "not removed: \(k.reason)", skipped: false))
            }
            let refused = problems.filter { $0.skipped && !$0.unmapped }
            if atomic && !refused.isEmpty {
                var issues = IssueList()
                for p in refused { issues.add(ValidationIssue(pointer: p.pointer, reason: p.located)) }
                var d = ErrorData(issues: issues)
                d.reason = "atomic import refused: \(refused.count) problem(s); the first: \(refused[0].located)"
                throw RPCError(.invalidParams, d)
            }
            var created = KindCounts(), updated = KindCounts(), unchanged = KindCounts(), removed = KindCounts()
            for w in outcome.written { if w.created { created.add(entries[w.entry].kind) } else { updated.add(entries[w.entry].kind) } }
            for u in outcome.unchanged { unchanged.add(entries[u].kind) }
            for r in outcome.removed { removed.add(r.kind) }
            var revision = old?.revision ?? 0
            let unresolvedChanged = outcome.portfolio.portfolio.unresolved != base.portfolio.unresolved
            // Every record skipped: a new portfolio is not created empty, and the report says why.
            let allSkipped = old == nil && records > 0 && outcome.written.isEmpty && outcome.unchanged.isEmpty
            if allSkipped {
                problems.append(ImportProblem(pointer: "", reason: "every record was skipped (\(records) read): portfolio \"\(pid)\" "
                                              + "was not created; the problems above say why", skipped: false))
            }
            let changed = !allSkipped && (!outcome.written.isEmpty || !outcome.removed.isEmpty || old == nil || unresolvedChanged)
            var written = Written.unchanged
            if changed {
                var sp = outcome.portfolio
                sp.revision = revision + 1
                sp.updated = nowTimestamp()
                if old == nil {
                    // The rows are encoded from the portfolio; the cache fills a kind at its first read.
                    try commit([.putPortfolio(sp, document: nil)])
                    written = .replaced(PortfolioSnapshot(sp))
                } else {
                    var changes: [StoreChange] = []
                    var bodies: [(EntityKind, String, JSON)] = []
                    for r in outcome.removed { changes.append(.removeEntity(portfolio: pid, kind: r.kind, id: r.id)) }
                    for w in outcome.written {
                        let e = entries[w.entry]
                        guard let i = sp.position(e.kind, e.id) else { continue }
                        let body = JSON(adopting: try sp.portfolio.encodeEntity(e.kind, at: i))
                        bodies.append((e.kind, e.id, body))
                        changes.append(.putEntity(portfolio: pid, kind: e.kind, id: e.id, body: body.ref))
                    }
                    if unresolvedChanged { changes.append(.setUnresolved(portfolio: pid, sp.portfolio.unresolved)) }
                    changes.append(.setRevision(portfolio: pid, revision: sp.revision, updated: sp.updated))
                    try commit(changes)
                    // The next revision's cache: the old one's entries, shared, with this import's changes.
                    let c = snap!.cache.next()
                    for r in outcome.removed { c.remove(r.kind, r.id) }
                    for b in bodies { c.put(b.0, b.1, b.2) }
                    written = .replaced(PortfolioSnapshot(sp, cache: c))
                }
                revision = sp.revision
                outcome.portfolio = sp
            }
            let skippedRecords = Set(refused.compactMap(\.record)).count
            let unmapped = problems.filter(\.unmapped).count
            let list = try JSON.array()
            for p in problems.prefix(1_000) { try list.append(p.json()) }
            let o = try JSON.object([
                "portfolio": .string(pid), "revision": .int(revision),
                "portfolioCreated": .bool(old == nil && !allSkipped),
                "records": .int(records),
                "created": created.json(), "updated": updated.json(), "unchanged": unchanged.json(), "removed": removed.json(),
                "skipped": .int(skippedRecords), "unmapped": .int(unmapped), "problems": list,
                "unresolved": .int(outcome.portfolio.portfolio.unresolved.count)])
            if problems.count > 1_000 { try o.set("problemsTruncated", bool: true) }
            return (written, o)
        }
    }
}
