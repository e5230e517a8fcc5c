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
            Method(MethodName.engineInfo.rawValue, summary: "Version, store and counts.",
                      result: EngineInfo.schema, mutates: false) { [unowned self] _ in try infoJSON() },

            .encoding(MethodName.portfolioPut.rawValue, summary: "Stores a whole portfolio, replacing any with the same id.",
                      params: PutParams.params,
                      result: PutResult.schema,
                      mutates: true, errors: [.revisionMismatch, .storeError, .tooLarge]) { [unowned self] p in try put(p) },

            Method(MethodName.portfolioGet.rawValue, summary: "A whole portfolio with its revision.",
                   params: GetParams.params,
                   result: PortfolioRecord.schema,
                   mutates: false, errors: [.notFound]) { [unowned self] p in try get(p) }.blockingCalls(),

            Method(MethodName.portfolioList.rawValue, summary: "Every portfolio in the store, summarized.",
                      result: PortfolioList.schema, mutates: false) { [unowned self] _ in try listJSON() },

            .encoding(MethodName.portfolioDelete.rawValue, summary: "Deletes a portfolio and everything in it.",
                      params: DeleteParams.params,
                      result: DeleteResult.schema,
                      mutates: true, errors: [.notFound, .revisionMismatch, .storeError]) { [unowned self] p in try delete(p) },

            Method(MethodName.entityGet.rawValue, summary: "One entity of a portfolio by kind and id.",
                   params: EntityGetParams.params,
                   result: ContractSchemas.entityResult,
                   mutates: false, errors: [.notFound]) { [unowned self] p in try entityGet(p) },

            Method(MethodName.entityList.rawValue, summary: "Every entity of one kind in a portfolio, in order.",
                   params: EntityListParams.params,
                   result: ContractSchemas.entityList,
                   mutates: false, errors: [.notFound]) { [unowned self] p in try entityList(p) },

            .encoding(MethodName.entityUpsert.rawValue, summary: "Adds an entity or replaces the one with the same id. A metric given "
                        + "without observations keeps the ones it has.",
                      params: UpsertParamList.params,
                      result: EntityChange.schema,
                      mutates: true, errors: [.notFound, .conflict, .revisionMismatch, .storeError]) { [unowned self] p in
                          try entityUpsert(p) },

            .encoding(MethodName.entityRemove.rawValue, summary: "Removes an entity that nothing references any more.",
                      params: RemoveParams.params,
                      result: EntityChange.schema,
                      mutates: true, errors: [.notFound, .conflict, .revisionMismatch, .storeError]) { [unowned self] p in
                          try entityRemove(p) },

            .encoding(MethodName.metricObserve.rawValue, summary: "Appends observations to a metric without resending the portfolio.",
                      params: ObserveParams.params,
                      result: ObserveResult.schema,
                      mutates: true, errors: [.notFound, .revisionMismatch, .storeError]) { [unowned self] p in try observe(p) },
        ]
    }

    // MARK: Handlers

    // engine.info and portfolio.list are what callers poll: built directly, without Codable's
    // per-container boxes and generic metadata look-ups.
    func infoJSON() throws -> JSONRef {
        let all = try portfolios.all()
        let counts = all.reduce(Counts()) { $0 + $1.stored.counts }.json
        return JSONMake.object([
            "version": JSONMake.string(Engine.version), "abiVersion": JSONMake.int(Engine.abiVersion),
            "store": JSONMake.object(["path": JSONMake.string(store.path), "inMemory": JSONMake.bool(store.inMemory),
                                      "schemaVersion": JSONMake.int(store.schemaVersion)]),
            "portfolios": JSONMake.int(all.count), "counts": counts])
    }

    func put(_ p: Params) throws -> PutResult {
        let doc: Portfolio = try p.decode("portfolio")
        var issues = IssueList()
        doc.checkReferences(at: p.pointer("portfolio"), into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let ifRevision = p.int("ifRevision")
        return try portfolios.write(doc.id, p.pointer("portfolio") / "id", creating: true, ifRevision: ifRevision) { base in
            let old = base?.stored
            try checkRevision(ifRevision, current: old?.revision ?? 0)
            let sp = StoredPortfolio(portfolio: doc, revision: (old?.revision ?? 0) + 1, updated: nowTimestamp())
            try commit([.putPortfolio(sp, document: p["portfolio"])])
            return (.replaced(PortfolioSnapshot(sp)),
                    PutResult(id: doc.id, revision: sp.revision, created: old == nil, updated: sp.updated, counts: doc.counts))
        }
    }

    func get(_ p: Params) throws -> JSONRef {
        let id = p.string("id") ?? ""
        let snap = try current(id, p.pointer("id"))
        let sp = snap.stored
        return JSONMake.object(["portfolio": try portfolioReply(snap.cache, sp), "revision": JSONMake.int(sp.revision),
                                "updated": JSONMake.string(sp.updated)])
    }

    func listJSON() throws -> JSONRef {
        let arr = JSONMake.array()
        // From the snapshots, by reference: copying a whole portfolio out would cost more than the reply.
        do {
            for snap in try portfolios.all() {
                let sp = snap.stored
                let o = JSONMake.object()
                o.set("id", JSONMake.string(sp.portfolio.id))
                o.set("name", JSONMake.string(sp.portfolio.organization.name))
                if let industry = sp.portfolio.organization.industry { o.set("industry", JSONMake.string(industry)) }
                o.set("revision", JSONMake.int(sp.revision))
                o.set("updated", JSONMake.string(sp.updated))
                o.set("counts", sp.counts.json)
                arr.append(o)
            }
        } catch {
            arr.release()
            throw error
        }
        return JSONMake.object(["portfolios": arr])
    }

    func delete(_ p: Params) throws -> DeleteResult {
        let id = p.string("id") ?? ""
        return try portfolios.write(id, p.pointer("id"), creating: false, ifRevision: p.int("ifRevision")) { base in
            try checkRevision(p.int("ifRevision"), current: base!.stored.revision)
            // With ifRevision the store checks it too: another engine over a shared store may have written since.
            try commit([.deletePortfolio(id: id, revision: p.int("ifRevision"))])
            return (.deleted, DeleteResult(id: id, deleted: true))
        }
    }

    func entityGet(_ p: Params) throws -> JSONRef {
        let kind = EntityKind(rawValue: p.string("kind") ?? "")!
        let id = p.string("id") ?? ""
        let pid = p.string("portfolio") ?? ""
        let snap = try current(pid, p.pointer("portfolio"))
        let e = try entityReply(snap.cache, snap.stored, kind, id)
        guard let e else {
            throw RPCError(.notFound, pointer: p.pointer("id").description, "no \(kind.rawValue) with id \"\(id)\"")
        }
        return JSONMake.object(["kind": JSONMake.string(kind.rawValue), "entity": e])
    }

    func entityList(_ p: Params) throws -> JSONRef {
        let kind = EntityKind(rawValue: p.string("kind") ?? "")!
        let pid = p.string("portfolio") ?? ""
        let list = JSONMake.array()
        do {
            let snap = try current(pid, p.pointer("portfolio"))
            for id in snap.stored.portfolio.ids(of: kind) { list.append(try entityReply(snap.cache, snap.stored, kind, id)) }
        } catch {
            list.release()
            throw error
        }
        return JSONMake.object(["kind": JSONMake.string(kind.rawValue), "entities": list])
    }

    func entityUpsert(_ p: Params) throws -> EntityChange {
        let kind = EntityKind(rawValue: p.string("kind") ?? "")!
        let json = p["entity"]!
        let at = p.pointer("entity")
        var issues = IssueList()
        ModelSchemas.entity(kind).validate(json, at: at, into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let id = json["id"]?.stringValue ?? ""
        var pending: [JSONRef] = []
        defer { for b in pending { b.release() } }
        return try change(p.string("portfolio") ?? "", p.pointer("portfolio"), ifRevision: p.int("ifRevision")) { sp in
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
            let body = try sp.portfolio.encodeEntity(kind, at: index)
            // Released once the change below has been committed (or refused).
            pending.append(body)
            var changes: [StoreChange] = [.putEntity(portfolio: sp.portfolio.id, kind: kind, id: id, body: body)]
            if sp.portfolio.unresolved.count != unresolvedBefore {
                changes.append(.setUnresolved(portfolio: sp.portfolio.id, sp.portfolio.unresolved))
            }
            if kind == .metric, json["observations"] != nil {
                changes.append(.replaceObservations(portfolio: sp.portfolio.id, metric: id,
                                                    sp.portfolio.metrics[index].observations))
            }
            return Change(store: changes, result: EntityChange(kind: kind.rawValue, id: id, created: created, revision: sp.revision + 1),
                          cache: { $0.put(kind, id, body.retained()) })
        }
    }

    func entityRemove(_ p: Params) throws -> EntityChange {
        let kind = EntityKind(rawValue: p.string("kind") ?? "")!
        let id = p.string("id") ?? ""
        return try change(p.string("portfolio") ?? "", p.pointer("portfolio"), ifRevision: p.int("ifRevision")) { sp in
            guard sp.remove(kind, id: id) else {
                throw RPCError(.notFound, pointer: p.pointer("id").description, "no \(kind.rawValue) with id \"\(id)\"")
            }
            var issues = IssueList()
            sp.portfolio.checkReferences(into: &issues)
            if !issues.isEmpty {
                var d = ErrorData(issues: issues)
                d.pointer = p.pointer("id").description
                d.reason = "\(kind.rawValue) \"\(id)\" is still referenced at \(issues.issues[0].pointer)"
                throw RPCError(.conflict, d)
            }
            return Change(store: [.removeEntity(portfolio: sp.portfolio.id, kind: kind, id: id)],
                          result: EntityChange(kind: kind.rawValue, id: id, created: nil, revision: sp.revision + 1),
                          cache: { $0.remove(kind, id) })
        }
    }

    func observe(_ p: Params) throws -> ObserveResult {
        let mid = p.string("metric") ?? ""
        let obs: [Observation] = try p.decode("observations")
        return try change(p.string("portfolio") ?? "", p.pointer("portfolio"), ifRevision: p.int("ifRevision")) { sp in
            guard let i = sp.position(.metric, mid) else {
                throw RPCError(.notFound, pointer: p.pointer("metric").description, "no metric with id \"\(mid)\"")
            }
            let first = sp.appendObservations(metric: i, obs)
            return Change(store: [.appendObservations(portfolio: sp.portfolio.id, metric: mid, firstSeq: first, obs)],
                          result: ObserveResult(metric: mid, appended: obs.count, total: first + obs.count, revision: sp.revision + 1))
        }
    }
}
