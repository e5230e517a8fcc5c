import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

// MARK: Results

struct PutResult: Codable { var id: String; var revision: Int; var created: Bool; var updated: String; var counts: Counts }
struct GetResult: Codable { var portfolio: Portfolio; var revision: Int; var updated: String }
struct DeleteResult: Codable { var id: String; var deleted: Bool }
struct EntityChange: Codable { var kind: String; var id: String; var created: Bool?; var revision: Int }
struct ObserveResult: Codable { var metric: String; var appended: Int; var total: Int; var revision: Int }

// MARK: Schemas of params and results

enum Schemas {
    static let id = Schema.identifier("portfolio id")
    static let ifRevision = Param("ifRevision", .integer(min: 0), required: false,
                                  "apply only if the portfolio is at this revision (optimistic concurrency)")
    static let kind = Schema.oneOf(Vocabulary.entityKinds, "entity kind")
    static let counts = Counts.schema
    static let timestamp = Schema.formatted(.timestamp)
    static let entity = Schema.dependent(EntityKind.allCases.map(\.schema), "the entity, by the schema of its kind")
}

extension Engine {
    func methodTable() -> [Method] {
        [
            Method("engine.info", summary: "Version, store and counts.",
                      result: .object("EngineInfo", required: ["version", "abiVersion", "store", "portfolios", "counts"], [
                          "version": .string(), "abiVersion": .integer(),
                          "store": .object(required: ["path", "inMemory", "schemaVersion"], [
                              "path": .string(), "inMemory": .boolean(), "schemaVersion": .integer()]),
                          "portfolios": .integer(min: 0), "counts": Schemas.counts]),
                      mutates: false) { [unowned self] _ in infoJSON() },

            .encoding("portfolio.put", summary: "Stores a whole portfolio, replacing any with the same id.",
                      params: [Param("portfolio", ModelSchemas.portfolio, "the portfolio document"), Schemas.ifRevision],
                      result: .object("PutResult", required: ["id", "revision", "created", "updated", "counts"], [
                          "id": Schemas.id, "revision": .integer(min: 1), "created": .boolean(),
                          "updated": Schemas.timestamp, "counts": Schemas.counts]),
                      mutates: true, errors: [.revisionMismatch, .storeError, .tooLarge]) { [unowned self] p in try put(p) },

            Method("portfolio.get", summary: "A whole portfolio with its revision.",
                   params: [Param("id", Schemas.id, "the portfolio")],
                   result: .object("GetResult", required: ["portfolio", "revision", "updated"], [
                       "portfolio": ModelSchemas.portfolio, "revision": .integer(min: 1), "updated": Schemas.timestamp]),
                   mutates: false, errors: [.notFound]) { [unowned self] p in try get(p) }.blockingCalls(),

            Method("portfolio.list", summary: "Every portfolio in the store, summarized.",
                      result: .object("ListResult", required: ["portfolios"], [
                          "portfolios": .array(.object("Summary", required: ["id", "name", "revision", "updated", "counts"], [
                              "id": Schemas.id, "name": .name(), "industry": .oneOf(Vocabulary.industries),
                              "revision": .integer(min: 1), "updated": Schemas.timestamp, "counts": Schemas.counts]))]),
                      mutates: false) { [unowned self] _ in listJSON() },

            .encoding("portfolio.delete", summary: "Deletes a portfolio and everything in it.",
                      params: [Param("id", Schemas.id, "the portfolio"), Schemas.ifRevision],
                      result: .object("DeleteResult", required: ["id", "deleted"], ["id": Schemas.id, "deleted": .boolean()]),
                      mutates: true, errors: [.notFound, .revisionMismatch, .storeError]) { [unowned self] p in try delete(p) },

            Method("entity.get", summary: "One entity of a portfolio by kind and id.",
                   params: [Param("portfolio", Schemas.id, "the portfolio"), Param("kind", Schemas.kind, "the kind"),
                            Param("id", .identifier(), "the entity's id")],
                   result: .object("EntityResult", required: ["kind", "entity"], ["kind": Schemas.kind, "entity": Schemas.entity]),
                   mutates: false, errors: [.notFound]) { [unowned self] p in try entityGet(p) },

            Method("entity.list", summary: "Every entity of one kind in a portfolio, in order.",
                   params: [Param("portfolio", Schemas.id, "the portfolio"), Param("kind", Schemas.kind, "the kind")],
                   result: .object("EntityList", required: ["kind", "entities"], [
                       "kind": Schemas.kind, "entities": .array(Schemas.entity)]),
                   mutates: false, errors: [.notFound]) { [unowned self] p in try entityList(p) },

            .encoding("entity.upsert", summary: "Adds an entity or replaces the one with the same id. A metric given "
                        + "without observations keeps the ones it has.",
                      params: [Param("portfolio", Schemas.id, "the portfolio"), Param("kind", Schemas.kind, "the kind"),
                               Param("entity", Schemas.entity, "the entity, by the schema of its kind"), Schemas.ifRevision],
                      result: .object("EntityChange", required: ["kind", "id", "revision"], [
                          "kind": Schemas.kind, "id": .identifier(), "created": .boolean(), "revision": .integer(min: 1)]),
                      mutates: true, errors: [.notFound, .conflict, .revisionMismatch, .storeError]) { [unowned self] p in
                          try entityUpsert(p) },

            .encoding("entity.remove", summary: "Removes an entity that nothing references any more.",
                      params: [Param("portfolio", Schemas.id, "the portfolio"), Param("kind", Schemas.kind, "the kind"),
                               Param("id", .identifier(), "the entity's id"), Schemas.ifRevision],
                      result: .object("EntityChange", required: ["kind", "id", "revision"], [
                          "kind": Schemas.kind, "id": .identifier(), "revision": .integer(min: 1)]),
                      mutates: true, errors: [.notFound, .conflict, .revisionMismatch, .storeError]) { [unowned self] p in
                          try entityRemove(p) },

            .encoding("metric.observe", summary: "Appends observations to a metric without resending the portfolio.",
                      params: [Param("portfolio", Schemas.id, "the portfolio"), Param("metric", .identifier(), "the metric"),
                               Param("observations", .array(ModelSchemas.observation, minItems: 1, maxItems: 1_000_000),
                                     "the observations to append"), Schemas.ifRevision],
                      result: .object("ObserveResult", required: ["metric", "appended", "total", "revision"], [
                          "metric": .identifier(), "appended": .integer(min: 1), "total": .integer(min: 1),
                          "revision": .integer(min: 1)]),
                      mutates: true, errors: [.notFound, .revisionMismatch, .storeError]) { [unowned self] p in try observe(p) },
        ]
    }

    // MARK: Handlers

    // engine.info and portfolio.list are what callers poll: built directly, without Codable's
    // per-container boxes and generic metadata look-ups.
    func infoJSON() -> JSONRef {
        let (n, c) = state.read { s in (s.portfolios.count, s.portfolios.values.reduce(Counts()) { $0 + $1.counts }) }
        let counts = c.json
        return JSONMake.object([
            "version": JSONMake.string(Engine.version), "abiVersion": JSONMake.int(Engine.abiVersion),
            "store": JSONMake.object(["path": JSONMake.string(store.path), "inMemory": JSONMake.bool(store.inMemory),
                                      "schemaVersion": JSONMake.int(store.schemaVersion)]),
            "portfolios": JSONMake.int(n), "counts": counts])
    }

    func put(_ p: Params) throws -> PutResult {
        let doc: Portfolio = try p.decode("portfolio")
        var issues = IssueList()
        doc.checkReferences(at: p.pointer("portfolio"), into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let ifRevision = p.int("ifRevision")
        return try state.write { s in
            let old = s.portfolios[doc.id]
            try checkRevision(ifRevision, current: old?.revision ?? 0)
            let sp = StoredPortfolio(portfolio: doc, revision: (old?.revision ?? 0) + 1, updated: nowTimestamp())
            try commit([.putPortfolio(sp, document: p["portfolio"])])
            s.portfolios[doc.id] = sp
            s.caches[doc.id] = EntityCache()
            return PutResult(id: doc.id, revision: sp.revision, created: old == nil, updated: sp.updated, counts: doc.counts)
        }
    }

    func get(_ p: Params) throws -> JSONRef {
        let id = p.string("id") ?? ""
        return try state.read { s in
            guard let sp = s.portfolios[id], let cache = s.caches[id] else {
                throw RPCError(.notFound, pointer: p.pointer("id").description, "no portfolio with id \"\(id)\"")
            }
            return JSONMake.object(["portfolio": try portfolioReply(cache, sp), "revision": JSONMake.int(sp.revision),
                                    "updated": JSONMake.string(sp.updated)])
        }
    }

    func listJSON() -> JSONRef {
        let arr = JSONMake.array()
        // Built under the read lock from the stored values in place: copying a whole portfolio out
        // would cost more than the reply.
        state.read { s in
            for id in s.portfolios.keys.sorted() {
                guard let sp = s.portfolios[id] else { continue }
                let o = JSONMake.object()
                o.set("id", JSONMake.string(sp.portfolio.id))
                o.set("name", JSONMake.string(sp.portfolio.organization.name))
                if let industry = sp.portfolio.organization.industry { o.set("industry", JSONMake.string(industry)) }
                o.set("revision", JSONMake.int(sp.revision))
                o.set("updated", JSONMake.string(sp.updated))
                o.set("counts", sp.counts.json)
                arr.append(o)
            }
        }
        return JSONMake.object(["portfolios": arr])
    }

    func delete(_ p: Params) throws -> DeleteResult {
        let id = p.string("id") ?? ""
        return try state.write { s in
            guard let sp = s.portfolios[id] else {
                throw RPCError(.notFound, pointer: p.pointer("id").description, "no portfolio with id \"\(id)\"")
            }
            try checkRevision(p.int("ifRevision"), current: sp.revision)
            try commit([.deletePortfolio(id: id)])
            s.portfolios[id] = nil
            s.caches[id] = nil
            return DeleteResult(id: id, deleted: true)
        }
    }

    func entityGet(_ p: Params) throws -> JSONRef {
        let kind = EntityKind(rawValue: p.string("kind") ?? "")!
        let id = p.string("id") ?? ""
        let pid = p.string("portfolio") ?? ""
        let e: JSONRef? = try state.read { s in
            guard let sp = s.portfolios[pid], let cache = s.caches[pid] else {
                throw RPCError(.notFound, pointer: p.pointer("portfolio").description, "no portfolio with id \"\(pid)\"")
            }
            return try entityReply(cache, sp, kind, id)
        }
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
            try state.read { s in
                guard let sp = s.portfolios[pid], let cache = s.caches[pid] else {
                    throw RPCError(.notFound, pointer: p.pointer("portfolio").description, "no portfolio with id \"\(pid)\"")
                }
                for id in sp.portfolio.ids(of: kind) { list.append(try entityReply(cache, sp, kind, id)) }
            }
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
