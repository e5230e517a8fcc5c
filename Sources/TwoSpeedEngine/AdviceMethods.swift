import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

extension Engine {
    func adviceMethods() -> [Method] {
        [
            Method(Contract.recommendationHistory) { [unowned self] p, call in
                try adviceHistoryValue(p.portfolio, call.pointer("portfolio"), upToRun: p.upToRun, upToPointer: call.pointer("upToRun"))
            },
            Method(Contract.recommendationDismiss) { [unowned self] p, call in try dismiss(p, call) },
            Method(Contract.recommendationReopen) { [unowned self] p, call in try reopen(p, call) },
            Method(Contract.campaignPut) { [unowned self] p, call in try putCampaign(p, call) },
            Method(Contract.campaignGet) { [unowned self] p, call in try getCampaign(p, call) },
            Method(Contract.campaignList) { [unowned self] p, call in
                CampaignList(portfolio: p.portfolio, campaigns: try campaignReports(p.portfolio, call.pointer("portfolio"),
                    history: try adviceHistoryValue(p.portfolio, call.pointer("portfolio"))))
            },
            Method(Contract.campaignDelete) { [unowned self] p, call in try deleteCampaign(p, call) },
        ]
    }

    var adviceStore: AdviceStore? { store as? AdviceStore }

    func requireAdviceStore() throws -> AdviceStore {
        guard let s = adviceStore else { throw RPCError(.storeError, pointer: nil, "this store keeps no advice history, dismissals or campaigns") }
        return s
    }

    /// Store errors and revision conflicts in the engine's words.
    func adviceStoreCall<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StoreError {
            throw RPCError(store: e)
        } catch let e as AdviceRevisionMismatch {
            var d = ErrorData(pointer: "/ifRevision", reason: "expected another revision; it is at \(e.current)")
            d.revision = e.current
            throw RPCError(.revisionMismatch, d)
        }
    }

    // MARK: Recording a kept run's advice

    /// The advice record of kept run `seq` (JSON text): its advice, and which advice the previous tracked
    /// run (`previous`, read in the transaction that keeps this run) gave that this one does not because
    /// a subject left the portfolio. Kept with the run in one transaction (AdviceStore.addRun).
    /// `absent`: absentSubjects, read before the transaction (the store's reads do not run inside it).
    func adviceRecordText(_ result: AssessmentResult, seq: Int, previous last: (seq: Int, body: String)?,
                          portfolio sp: StoredPortfolio, absent: [String]) throws -> String {
        let keys = Set(result.recommendations.compactMap(\.key))
        var gone: [String] = []
        if let last, let previous = try? JanssonDecoder().decode(AdviceRunRecord.self, from: last.body) {
            for item in previous.items where !keys.contains(item.key) {
                let removed = item.subjects.contains { s in
                    guard let kind = EntityKind(rawValue: s.kind) else { return false }
                    return sp.position(kind, s.id) == nil
                }
                if removed { gone.append(item.key) }
            }
        }
        let record = AdviceRunRecord(run: seq, result: result, engine: result.engine ?? Engine.version, gone: gone, absent: absent)
        return try JanssonEncoder().encodeText(record)
    }

    /// The subjects named by advice of the tracked runs before `seq` that are not in the portfolio now.
    func absentSubjects(_ store: AdviceStore, _ sp: StoredPortfolio, before seq: Int) throws -> [String] {
        var named = Set<String>(), absent = Set<String>()
        for row in try store.adviceRuns(portfolio: sp.portfolio.id) where row.seq < seq {
            guard let r = AdviceRunRecord(storedJSON: row.body) ?? (try? JanssonDecoder().decode(AdviceRunRecord.self, from: row.body)) else { continue }
            for s in r.items.flatMap(\.subjects) where named.insert("\(s.kind)/\(s.id)").inserted {
                if let kind = EntityKind(rawValue: s.kind), sp.position(kind, s.id) == nil { absent.insert("\(s.kind)/\(s.id)") }
            }
        }
        return absent.sorted()
    }

    // MARK: History

    /// The history of every tracked run, or with `upToRun` as it stood at that kept run: the runs up to
    /// it, and the dismissals made by the time its record was kept (a dismissal reopened since is not
    /// known any more: reopening deletes it).
    /// `headers`: the kept runs when the caller has read them already.
    func adviceHistoryValue(_ pid: String, _ pointer: JSONPointer, upToRun: Int? = nil, upToPointer: JSONPointer? = nil,
                            headers known: [(seq: Int, model: String)]? = nil) throws -> AdviceHistory {
        var headers = try known ?? keptRunHeaders(pid, pointer)
        if let n = upToRun {
            guard headers.contains(where: { $0.seq == n }) else {
                throw RPCError(.notFound, pointer: (upToPointer ?? pointer).description, "no kept run \(n) of \(pid)")
            }
            headers = headers.filter { $0.seq <= n }
        }
        let store = try requireAdviceStore()
        let (rows, dismissals) = try adviceStoreCall { (try store.adviceRuns(portfolio: pid), try store.adviceRows(.dismissal, portfolio: pid)) }
        let dec = JanssonDecoder()
        var records: [AdviceRunRecord] = []
        // Only records of runs that are kept: a record written as its portfolio was deleted outlives its run.
        let kept = Set(headers.map(\.seq))
        for r in rows where kept.contains(r.seq) {
            if let record = AdviceRunRecord(storedJSON: r.body) { records.append(record); continue }
            do { records.append(try dec.decode(AdviceRunRecord.self, from: r.body)) } catch {
                throw RPCError(.storeError, pointer: nil, "the advice record of kept run \(r.seq) does not decode: \(error)")
            }
        }
        var ds: [AdviceDismissal] = []
        for d in dismissals {
            do { ds.append(try dec.decode(AdviceDismissal.self, from: d.body)) } catch {
                throw RPCError(.storeError, pointer: nil, "the dismissal of \(d.id) does not decode: \(error)")
            }
        }
        if upToRun != nil, let cutoff = records.max(by: { $0.run < $1.run })?.at { ds = ds.filter { $0.at <= cutoff } }
        let tracked = Set(records.map(\.run))
        return AdviceHistory.build(portfolio: pid, records: records, dismissals: ds,
                                   untracked: headers.map(\.seq).filter { !tracked.contains($0) })
    }

    func dismiss(_ p: DismissParams, _ call: Call) throws -> DismissResult {
        let pid = p.portfolio, key = p.key
        let history = try adviceHistoryValue(pid, call.pointer("portfolio"))
        guard history.advice.contains(where: { $0.key == key }) else {
            throw RPCError(.notFound, pointer: call.pointer("key").description,
                           "no advice with key \"\(key)\" in the kept runs of \(pid); recommendation.history lists them")
        }
        let store = try requireAdviceStore()
        let d = AdviceDismissal(key: key, reason: p.reason, by: call.context.peer ?? "unknown", at: nowTimestamp())
        let rev = try adviceStoreCall {
            try store.putAdviceRow(.dismissal, portfolio: pid, id: key, ifRevision: p.ifRevision, updated: d.at,
                                   body: try JanssonEncoder().encodeText(d))
        }
        return DismissResult(key: key, dismissed: true, by: d.by, at: d.at, revision: rev)
    }

    func reopen(_ p: ReopenParams, _ call: Call) throws -> ReopenResult {
        let pid = p.portfolio, key = p.key
        _ = try snapshot(pid, call.pointer("portfolio"))
        let store = try requireAdviceStore()
        let deleted = try adviceStoreCall { try store.deleteAdviceRow(.dismissal, portfolio: pid, id: key, ifRevision: p.ifRevision) }
        guard deleted else {
            throw RPCError(.notFound, pointer: call.pointer("key").description, "advice \"\(key)\" is not dismissed")
        }
        return ReopenResult(key: key, reopened: true)
    }

    // MARK: Campaigns

    func putCampaign(_ p: CampaignPutParams, _ call: Call) throws -> CampaignPutResult {
        let pid = p.portfolio
        let sp = try snapshot(pid, call.pointer("portfolio"))
        let c = p.campaign
        let at = call.pointer("campaign")
        var issues = IssueList()
        if sp.position(.manager, c.owner) == nil { issues.add(at / "owner", "no manager with id \"\(c.owner)\" in \(pid)") }
        if c.target < c.start { issues.add(at / "target", "the target date \(c.target) is before the start \(c.start)") }
        for (name, kind, ids) in [("products", EntityKind.product, c.scope?.products), ("systems", .system, c.scope?.systems),
                                  ("teams", .team, c.scope?.teams), ("departments", .department, c.scope?.departments)] {
            for (i, id) in (ids ?? []).enumerated() where sp.position(kind, id) == nil {
                issues.add(at / "scope" / name / i, "no \(kind.rawValue) with id \"\(id)\" in \(pid)")
            }
        }
        let layers = Set(sp.portfolio.systems.map(\.layer))
        for (i, l) in (c.scope?.layers ?? []).enumerated() where !layers.contains(l) {
            issues.add(at / "scope" / "layers" / i, "no system of \(pid) is in layer \"\(l)\"")
        }
        if (c.advice.pitfalls ?? []).isEmpty && (c.advice.keys ?? []).isEmpty {
            issues.add(at / "advice", "name the pitfalls (or criteria) or the keys the campaign drives")
        }
        let knownRules = Set(Pitfalls.ids).union(DefaultModel.model.criteria.map(\.id))
            .union(models.read { s in s.custom.values.flatMap { $0.criteria.map(\.id) } })
        for (i, r) in (c.advice.pitfalls ?? []).enumerated() where !knownRules.contains(r) {
            issues.add(at / "advice" / "pitfalls" / i, "\"\(r)\" is neither a pitfall nor a criterion of a model")
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let store = try requireAdviceStore()
        let rev = try adviceStoreCall {
            try store.putAdviceRow(.campaign, portfolio: pid, id: c.id, ifRevision: p.ifRevision, updated: nowTimestamp(),
                                   body: try JanssonEncoder().encodeText(c))
        }
        return CampaignPutResult(id: c.id, revision: rev, created: rev == 1)
    }

    func campaignReport(_ row: AdviceRow, _ sp: StoredPortfolio, _ history: AdviceHistory) throws -> CampaignReport {
        let c: Campaign
        do { c = try JanssonDecoder().decode(Campaign.self, from: row.body) } catch {
            throw RPCError(.storeError, pointer: nil, "campaign \(row.id) does not decode: \(error)")
        }
        return CampaignReport.compute(c, revision: row.revision, updated: row.updated, history: history,
                                      today: String(nowTimestamp().prefix(10)), inScope: Engine.scopeTest(c.scope, sp.portfolio))
    }

    /// Whether a subject is in a campaign's scope: named by id, of a named department, or (systems, and
    /// products built on them) of a named layer.
    static func scopeTest(_ scope: Campaign.Scope?, _ p: Portfolio) -> (Subject) -> Bool {
        guard let scope, !scope.isEmpty else { return { _ in true } }
        let products = Set(scope.products ?? []), systems = Set(scope.systems ?? []), teams = Set(scope.teams ?? [])
        let departments = Set(scope.departments ?? []), layers = Set(scope.layers ?? [])
        var department: [String: String] = [:]
        for x in p.products { if let d = x.department { department["product/" + x.id] = d } }
        for x in p.systems { if let d = x.department { department["system/" + x.id] = d } }
        for x in p.teams { if let d = x.department { department["team/" + x.id] = d } }
        for x in p.managers { if let d = x.department { department["manager/" + x.id] = d } }
        let layerSystems = Set(p.systems.filter { layers.contains($0.layer) }.map(\.id))
        let layerProducts = Set(p.products.filter { $0.systems.contains { layerSystems.contains($0) } }.map(\.id))
        return { s in
            switch s.kind {
            case "product" where products.contains(s.id) || layerProducts.contains(s.id): return true
            case "system" where systems.contains(s.id) || layerSystems.contains(s.id): return true
            case "team" where teams.contains(s.id): return true
            default: return department[s.kind + "/" + s.id].map { departments.contains($0) } ?? false
            }
        }
    }

    func getCampaign(_ p: CampaignIDParams, _ call: Call) throws -> CampaignReport {
        let pid = p.portfolio, id = p.id
        let sp = try snapshot(pid, call.pointer("portfolio"))
        let store = try requireAdviceStore()
        guard let row = try adviceStoreCall({ try store.adviceRow(.campaign, portfolio: pid, id: id) }) else {
            throw RPCError(.notFound, pointer: call.pointer("id").description, "no campaign with id \"\(id)\" in \(pid)")
        }
        return try campaignReport(row, sp, try adviceHistoryValue(pid, call.pointer("portfolio")))
    }

    func campaignReports(_ pid: String, _ pointer: JSONPointer, history: AdviceHistory) throws -> [CampaignReport] {
        let sp = try snapshot(pid, pointer)
        let store = try requireAdviceStore()
        let rows = try adviceStoreCall { try store.adviceRows(.campaign, portfolio: pid) }
        return try rows.map { try campaignReport($0, sp, history) }
    }

    func deleteCampaign(_ p: CampaignDeleteParams, _ call: Call) throws -> Deleted {
        let pid = p.portfolio, id = p.id
        _ = try snapshot(pid, call.pointer("portfolio"))
        let store = try requireAdviceStore()
        guard try adviceStoreCall({ try store.deleteAdviceRow(.campaign, portfolio: pid, id: id, ifRevision: p.ifRevision) }) else {
            throw RPCError(.notFound, pointer: call.pointer("id").description, "no campaign with id \"\(id)\" in \(pid)")
        }
        return Deleted(id: id, deleted: true)
    }
}
