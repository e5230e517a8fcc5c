import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

// The params and results (PutParams, PutResult, EntityChange, ...) with their schemas are
// TwoSpeedContract's, shared with the clients; engine.info and portfolio.list are built as jansson here
// and checked against theirs by a test.

extension Engine {
    func methodTable() -> [Method] {
        [
            Method(Contract.engineInfo, raw: { [unowned self] _, _ in try infoJSON() }),
            Method(Contract.portfolioPut) { [unowned self] p, call in try put(p, call) },
            Method(Contract.portfolioGet, raw: { [unowned self] p, call in try get(p, call) }),
            Method(Contract.portfolioList, raw: { [unowned self] _, _ in try listJSON() }),
            Method(Contract.portfolioDelete) { [unowned self] p, call in try delete(p, call) },
            Method(Contract.entityGet, raw: { [unowned self] p, call in try entityGet(p, call) }),
            Method(Contract.entityList, raw: { [unowned self] p, call in try entityList(p, call) }),
            Method(Contract.entityUpsert) { [unowned self] p, call in try entityUpsert(p, call) },
            Method(Contract.entityRemove) { [unowned self] p, call in try entityRemove(p, call) },
            Method(Contract.metricObserve) { [unowned self] p, call in try observe(p, call) },
        ]
    }

    // MARK: Handlers

    // engine.info and portfolio.list are what callers poll: built directly, without Codable's
    // per-container boxes and generic metadata look-ups.
    func infoJSON() throws -> JSON {
        let all = try portfolios.all()
        let counts = all.reduce(Counts()) { $0 + $1.stored.counts }.json
        return JSON(adopting: JSONMake.object([
            "version": JSONMake.string(Engine.version), "abiVersion": JSONMake.int(Engine.abiVersion),
            "store": JSONMake.object(["path": JSONMake.string(store.path), "inMemory": JSONMake.bool(store.inMemory),
                                      "schemaVersion": JSONMake.int(store.schemaVersion)]),
            "portfolios": JSONMake.int(all.count), "counts": counts]))
    }

    func put(_ p: PutReceived, _ call: Call) throws -> PutResult {
        let doc: Portfolio
        do { doc = try JanssonDecoder().decode(Portfolio.self, from: p.portfolio.ref) } catch let e as DecodingError {
            throw RPCError.fromDecoding(e, base: call.pointer("portfolio"))
        }
        var issues = IssueList()
        doc.checkReferences(at: call.pointer("portfolio"), into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let ifRevision = p.ifRevision
        return try portfolios.write(doc.id, call.pointer("portfolio") / "id", creating: true, ifRevision: ifRevision) { base in
            let old = base?.stored
            try checkRevision(ifRevision, current: old?.revision ?? 0)
            let sp = StoredPortfolio(portfolio: doc, revision: (old?.revision ?? 0) + 1, updated: nowTimestamp())
            try commit([.putPortfolio(sp, document: p.portfolio.ref)])
            return (.replaced(PortfolioSnapshot(sp)),
                    PutResult(id: doc.id, revision: sp.revision, created: old == nil, updated: sp.updated, counts: doc.counts))
        }
    }

    func get(_ p: GetParams, _ call: Call) throws -> JSON {
        let snap = try current(p.id, call.pointer("id"))
        let sp = snap.stored
        let document = try portfolioDocument(snap.cache, sp)
        return try .object(["portfolio": document, "revision": .int(sp.revision), "updated": .string(sp.updated)])
    }

    func listJSON() throws -> JSON {
        let arr = try JSON.array()
        // From the snapshots, by reference: copying a whole portfolio out would cost more than the reply.
        for snap in try portfolios.all() {
            let sp = snap.stored
            // JSONMake's values go straight into the array (taken over, a failure counted): an owned JSON
            // per member cost portfolio.list 3% in bench_call.
            let o = JSONMake.object()
            o.set("id", JSONMake.string(sp.portfolio.id))
            o.set("name", JSONMake.string(sp.portfolio.organization.name))
            if let industry = sp.portfolio.organization.industry { o.set("industry", JSONMake.string(industry)) }
            o.set("revision", JSONMake.int(sp.revision))
            o.set("updated", JSONMake.string(sp.updated))
            o.set("counts", sp.counts.json)
            arr.append(o)
        }
        return try .object(["portfolios": arr])
    }

    func delete(_ p: DeleteParams, _ call: Call) throws -> DeleteResult {
        let id = p.id
        return try portfolios.write(id, call.pointer("id"), creating: false, ifRevision: p.ifRevision) { base in
            try checkRevision(p.ifRevision, current: base!.stored.revision)
            // With ifRevision the store checks it too: another engine over a shared store may have written since.
            try commit([.deletePortfolio(id: id, revision: p.ifRevision)])
            return (.deleted, DeleteResult(id: id, deleted: true))
        }
    }

    func entityGet(_ p: EntityGetParams, _ call: Call) throws -> JSON {
        let kind = p.kind, id = p.id
        let snap = try current(p.portfolio, call.pointer("portfolio"))
        let e = try entityJSON(snap.cache, snap.stored, kind, id)
        guard let e else {
            throw RPCError(.notFound, pointer: call.pointer("id").description, "no \(kind.rawValue) with id \"\(id)\"")
        }
        return try .object(["kind": .string(kind.rawValue), "entity": e])
    }

    func entityList(_ p: EntityListParams, _ call: Call) throws -> JSON {
        let kind = p.kind
        let list = try JSON.array()
        let snap = try current(p.portfolio, call.pointer("portfolio"))
        for id in snap.stored.portfolio.ids(of: kind) {
            if let e = try entityJSON(snap.cache, snap.stored, kind, id) { try list.append(e) }
        }
        return try .object(["kind": .string(kind.rawValue), "entities": list])
    }

    func entityUpsert(_ p: UpsertParams<RawJSON>, _ call: Call) throws -> EntityChange {
        let kind = p.kind
        let json = p.entity.ref
        let at = call.pointer("entity")
        var issues = IssueList()
        ModelSchemas.entity(kind).validate(json, at: at, into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let id = json["id"]?.stringValue ?? ""
        // Kept until the change below has been committed (or refused): the store change borrows it.
        var pending: [JSON] = []
        return try change(p.portfolio, call.pointer("portfolio"), ifRevision: p.ifRevision) { sp in
            let unresolvedBefore = sp.portfolio.unresolved.count
            let (index, created) = try sp.upsert(kind, from: json)
            // Check the whole candidate: failures inside the entity point into the params; failures
            // elsewhere mean the change breaks something that references it.
            var all = IssueList()
            sp.portfolio.checkReferences(into: &all)
            let own = Portfolio.pointer(of: kind, index: index).description
            var mine = IssueList(), others = IssueList()
            for issue in all.issues {
                if issue.pointer == own || issue.pointer.hasPrefix(own + "/") {
                    mine.add(ValidationIssue(pointer: at.description + issue.pointer.dropFirst(own.count), reason: issue.reason))
                } else {
                    others.add(ValidationIssue(pointer: issue.pointer, reason: issue.reason + " (in the stored portfolio)"))
                }
            }
            if !mine.isEmpty { throw RPCError.invalidParams(mine) }
            if !others.isEmpty {
                // The pointer names what the caller sent; errors name what it would break.
                var d = ErrorData(issues: others)
                d.pointer = at.description
                d.reason = "this \(kind.rawValue) would leave references dangling: \(others.issues[0].pointer): \(others.issues[0].reason)"
                throw RPCError(.conflict, d)
            }
            let body = JSON(adopting: try sp.portfolio.encodeEntity(kind, at: index))
            pending.append(body)
            var changes: [StoreChange] = [.putEntity(portfolio: sp.portfolio.id, kind: kind, id: id, body: body.ref)]
            if sp.portfolio.unresolved.count != unresolvedBefore {
                changes.append(.setUnresolved(portfolio: sp.portfolio.id, sp.portfolio.unresolved))
            }
            if kind == .metric, json["observations"] != nil {
                changes.append(.replaceObservations(portfolio: sp.portfolio.id, metric: id,
                                                    sp.portfolio.metrics[index].observations))
            }
            return Change(store: changes, result: EntityChange(kind: kind.rawValue, id: id, created: created, revision: sp.revision + 1),
                          cache: { $0.put(kind, id, body) })
        }
    }

    func entityRemove(_ p: RemoveParams, _ call: Call) throws -> EntityChange {
        let kind = p.kind, id = p.id
        return try change(p.portfolio, call.pointer("portfolio"), ifRevision: p.ifRevision) { sp in
            guard sp.remove(kind, id: id) else {
                throw RPCError(.notFound, pointer: call.pointer("id").description, "no \(kind.rawValue) with id \"\(id)\"")
            }
            var issues = IssueList()
            sp.portfolio.checkReferences(into: &issues)
            if !issues.isEmpty {
                var d = ErrorData(issues: issues)
                d.pointer = call.pointer("id").description
                d.reason = "\(kind.rawValue) \"\(id)\" is still referenced at \(issues.issues[0].pointer)"
                throw RPCError(.conflict, d)
            }
            return Change(store: [.removeEntity(portfolio: sp.portfolio.id, kind: kind, id: id)],
                          result: EntityChange(kind: kind.rawValue, id: id, created: nil, revision: sp.revision + 1),
                          cache: { $0.remove(kind, id) })
        }
    }

    func observe(_ p: ObserveParams, _ call: Call) throws -> ObserveResult {
        let mid = p.metric
        let obs = p.observations
        return try change(p.portfolio, call.pointer("portfolio"), ifRevision: p.ifRevision) { sp in
            guard let i = sp.position(.metric, mid) else {
                throw RPCError(.notFound, pointer: call.pointer("metric").description, "no metric with id \"\(mid)\"")
            }
            let first = sp.appendObservations(metric: i, obs)
            return Change(store: [.appendObservations(portfolio: sp.portfolio.id, metric: mid, firstSeq: first, obs)],
                          result: ObserveResult(metric: mid, appended: obs.count, total: first + obs.count, revision: sp.revision + 1))
        }
    }
}
