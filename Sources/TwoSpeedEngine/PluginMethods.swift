import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedPlugins
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

struct CollectedObservation: Codable { var metric: String; var at: String; var value: Double; var source: String? }

extension Engine {
    static let checkResultSchema = Schema.object(required: ["findings"], ["findings": .array(PluginFinding.schema, maxItems: 10_000)])
    static let collectResultSchema = Schema.object(required: ["observations"], [
        "observations": .array(.object(required: ["metric", "at", "value"], [
            "metric": .identifier(), "at": .formatted(.timestamp), "value": .number(), "source": .name()]), maxItems: 10_000_000)])
    static let renderResultSchema = Schema.object(required: ["format", "content"], [
        "format": .identifier(), "content": .string(maxLength: 1 << 30), "mediaType": .name()])
    func pluginMethods() -> [Method] {
        [
            // The plugin host's own types, encoded as the contract's PluginList and PluginEntry (ContractTests decodes them).
            Method(Contract.pluginList, raw: { [unowned self] _, _ in try Engine.encoded(["plugins": plugins.list()]) }),
            Method(Contract.pluginLoad, raw: { [unowned self] p, call in
                try Engine.encoded(try loadPlugin(p.manifest, call.pointer("manifest"), confinedTo: call.context.pluginFolders)) }),
            Method(Contract.pluginUnload) { [unowned self] p, call in
                guard plugins.unload(p.name) else {
                    throw RPCError(.notFound, pointer: call.pointer("name").description, "no plugin named \"\(p.name)\"")
                }
                modelLane.exclusively { models.write { s in s.plugin = s.plugin.filter { $0.value.plugin != p.name } } }
                return Unloaded(name: p.name, unloaded: true)
            },
            Method(Contract.pluginCall, raw: { [unowned self] p, call in
                let plugin = try loadedPlugin(p.plugin, call.pointer("plugin"))
                do { return JSON(adopting: try plugin.call(p.method, p.params?.ref)) } catch let e as PluginError { throw rpcError(e) }
            }),
            Method(Contract.pluginCheck, raw: { [unowned self] p, call in try check(p, call) }),
            Method(Contract.pluginCollect) { [unowned self] p, call in try collect(p, call) },
        ]
    }

    /// A value encoded as a result; a failure is an internal error.
    static func encoded<T: Encodable>(_ value: T) throws -> JSON {
        do { return try JSON.encoding(value) } catch JSONError.noMemory { throw JSONError.noMemory } catch {
            throw RPCError(.internalError, pointer: nil, "cannot encode the result: \(error)")
        }
    }

    /// SIGKILL to every process plugin, calls in progress or not (they fail at once); for a stop that must end.
    @discardableResult
    public func killPluginProcesses() -> Int { plugins.killProcesses() }

    func loadedPlugin(_ name: String, _ pointer: JSONPointer) throws -> Plugin {
        guard let plugin = plugins.plugin(name) else {
            throw RPCError(.notFound, pointer: pointer.description, "no plugin named \"\(name)\"; plugin.list lists them")
        }
        return plugin
    }

    func rpcError(_ e: PluginError) -> RPCError {
        switch e {
        case .failed(let plugin, let reason, let cause):
            var d = ErrorData(pointer: nil, reason: reason)
            d.plugin = plugin
            d.failure = cause
            return RPCError(.pluginError, d)
        case .answered(let plugin, let code, let message, let data):
            var d = ErrorData(pointer: nil, reason: "the plugin answered \(code) \(message)")
            d.plugin = plugin
            d.pluginError = PluginErrorObject(code: code, message: message, data: data)
            return RPCError(.pluginError, d)
        case .noSuchPlugin(let name):
            return RPCError(.notFound, pointer: nil, "no plugin named \"\(name)\"")
        }
    }

    /// A plugin whose answer does not follow the contract has failed, like one that crashed.
    func contractError(_ plugin: String, _ issues: IssueList) -> RPCError {
        var d = ErrorData(issues: issues)
        d.reason = "the plugin's result breaks the contract: \(issues.issues.first?.description ?? "")"
        d.plugin = plugin
        return RPCError(.pluginError, d)
    }

    /// Loads a manifest. `folders` (over the socket: the daemon's --plugins folders) confines it: the file,
    /// once every symlink is resolved, must lie inside one of them, or nothing is opened and the caller gets
    /// -32004, worded the same whether or not the file exists.
    func loadPlugin(_ given: String, _ pointer: JSONPointer, confinedTo folders: [String]? = nil) throws -> PluginInfo {
        var file = given
        if let folders {
            guard let real = PluginFolders.confine(given, to: folders) else {
                throw RPCError(.readOnly, pointer: pointer.description,
                               "over the socket, plugin.load takes only manifests inside the daemon's plugin folders (twospeedd --plugins)")
            }
            file = real
        }
        let plugin: Plugin
        do { plugin = try plugins.load(file, confined: folders != nil) } catch let e as ManifestError {
            let first = e.issues.first.map { $0.pointer.isEmpty ? $0.reason : "\($0.pointer): \($0.reason)" } ?? "cannot be used"
            var d = ErrorData(pointer: pointer.description, reason: "\(e.file): \(first)")
            d.errors = e.issues
            throw RPCError(.invalidParams, d)
        }
        if plugin.manifest.extensionPoints.contains("model") {
            do { try fetchModel(plugin) } catch {
                plugins.unload(plugin.manifest.name)
                throw error
            }
        }
        return plugin.info
    }

    /// Asks a model plugin for its model, checks it like assessment.model.put, and registers it.
    func fetchModel(_ plugin: Plugin) throws {
        let result: JSON
        do { result = JSON(adopting: try plugin.call("model.get", nil)) } catch let e as PluginError { throw rpcError(e) }
        var issues = IssueList()
        if let m = result["model"] { AssessmentModel.schema.validate(m.ref, at: JSONPointer(["model"]), into: &issues) } else {
            issues.add(JSONPointer(["model"]), "required")
        }
        if !issues.isEmpty { throw contractError(plugin.manifest.name, issues) }
        let model = try result["model"]!.decode(AssessmentModel.self)
        model.check(at: JSONPointer(["model"]), into: &issues)
        if model.id == DefaultModel.id { issues.add(JSONPointer(["model", "id"]), "the built-in model's id is taken") }
        if !issues.isEmpty { throw contractError(plugin.manifest.name, issues) }
        modelLane.exclusively { models.write { $0.plugin[model.id] = (model, plugin.manifest.name) } }
    }

    /// Loads the models of the plugins found at start-up; a plugin whose model fails stays listed
    /// with the reason, and its model is not offered.
    func fetchPluginModels() {
        for plugin in plugins.serving("model") { try? fetchModel(plugin) }
    }

    /// The params of check.run for a stored portfolio, as text, with the revision they show: the document,
    /// or the parts the plugin's manifest reads, is written out once per revision and handed to every
    /// check plugin as it is.
    func checkParams(_ portfolioID: String, _ pointer: JSONPointer?, reads: [String]?) throws -> (text: String, revision: Int, shown: StoredPortfolio) {
        let snap = try current(portfolioID, pointer)
        let sp = snap.stored
        let parts = reads.map { Set($0) }
        let text = try snap.cache.documentText(parts: parts.map { $0.sorted().joined(separator: ",") } ?? "") {
            let doc = try portfolioDocument(snap.cache, sp, parts: parts)
            return doc.text()
        }
        return ("{\"portfolio\":" + text + "}", sp.revision, sp)
    }

    /// One check plugin's result on `params`, held to the check contract: its shape, and subjects that are in
    /// the portfolio it was shown (`shown`).
    func runCheck(_ plugin: Plugin, _ params: String, shown: StoredPortfolio) throws -> JSON {
        let result: JSON
        do { result = JSON(adopting: try plugin.call("check.run", paramsText: params)) } catch let e as PluginError { throw rpcError(e) }
        var issues = Engine.checkResultSchema.validate(result.ref)
        if issues.isEmpty { Engine.checkSubjects(result["findings"]!.ref, in: shown, into: &issues) }
        if !issues.isEmpty { throw contractError(plugin.manifest.name, issues) }
        return result
    }

    /// The kinds a check plugin's finding may name: an entity kind, or "stage" with the id "journey/stage"
    /// (as the engine's own findings name stages).
    static let subjectKinds = EntityKind.allCases.map(\.rawValue) + ["stage"]

    /// A finding names what is in the portfolio: a subject of a kind that does not exist, or an id the
    /// portfolio does not hold, would be reported (and counted) as if it were there.
    static func checkSubjects(_ findings: JSONRef, in sp: StoredPortfolio, into issues: inout IssueList) {
        for (i, finding) in findings.elements.enumerated() {
            guard let subjects = finding["subjects"] else { continue }
            for (j, subject) in subjects.elements.enumerated() {
                let kind = subject["kind"]?.stringValue ?? "", id = subject["id"]?.stringValue ?? ""
                let at = JSONPointer(["findings", String(i), "subjects", String(j)])
                if kind == "stage" {
                    let parts = id.split(separator: "/", maxSplits: 1).map(String.init)
                    let journey = parts.count == 2 ? sp.position(.journey, parts[0]).map { sp.portfolio.journeys[$0] } : nil
                    if journey?.stages.contains(where: { $0.id == parts[1] }) != true {
                        issues.add(at / "id", "no stage \"\(ControlEscape.escaped(id))\" (journey/stage) in portfolio \"\(sp.portfolio.id)\"")
                    }
                } else if let k = EntityKind(rawValue: kind) {
                    if sp.position(k, id) == nil {
                        issues.add(at / "id", "no \(kind) with id \"\(ControlEscape.escaped(id))\" in portfolio \"\(sp.portfolio.id)\"")
                    }
                } else {
                    issues.add(at / "kind", "unknown subject kind \"\(ControlEscape.escaped(kind))\"; one of: \(subjectKinds.joined(separator: ", "))")
                }
            }
        }
    }

    /// The plugin named by the param "plugin", which must serve `point`.
    func pluginServing(_ point: String, _ name: String, _ call: Call) throws -> Plugin {
        let plugin = try loadedPlugin(name, call.pointer("plugin"))
        guard plugin.manifest.extensionPoints.contains(point) else {
            throw RPCError(.invalidParams, pointer: call.pointer("plugin").description, "plugin \"\(plugin.manifest.name)\" serves no \(point)")
        }
        return plugin
    }

    func check(_ p: PluginCheckParams, _ call: Call) throws -> JSON {
        let plugin = try pluginServing("check", p.plugin, call)
        let pid = p.portfolio
        let (params, revision, shown) = try checkParams(pid, call.pointer("portfolio"), reads: plugin.manifest.reads)
        let result = try runCheck(plugin, params, shown: shown)
        let reply = try JSON.object(["plugin": .string(plugin.manifest.name), "portfolio": .string(pid), "revision": .int(revision)])
        // runCheck held the result to the check schema: "findings" is there.
        try reply.set("findings", result["findings"]!)
        return reply
    }

    /// Runs every check plugin on the portfolio; their findings are marked with their names.
    func pluginFindings(_ portfolioID: String) throws -> [Finding] {
        let checkers = plugins.serving("check")
        guard !checkers.isEmpty else { return [] }
        var out: [Finding] = []
        for plugin in checkers {
            let shown = try checkParams(portfolioID, nil, reads: plugin.manifest.reads)
            let result = try runCheck(plugin, shown.text, shown: shown.shown)
            let found = try result["findings"]!.decode([PluginFinding].self)
            for f in found {
                out.append(Finding(pitfall: f.pitfall, name: f.name, severity: f.severity,
                                   subjects: f.subjects.prefix(Pitfalls.listLimit).map { Subject(kind: $0.kind, id: $0.id, name: $0.name ?? $0.id) },
                                   subjectCount: f.subjects.count, evidence: Array(f.evidence.prefix(Pitfalls.listLimit)),
                                   recommendation: f.recommendation, source: f.source ?? "plugin \(plugin.manifest.name)",
                                   criteria: f.criteria ?? [], plugin: plugin.manifest.name))
            }
        }
        return out
    }

    func collect(_ p: PluginCollectParams, _ call: Call) throws -> CollectResult {
        let plugin = try pluginServing("metrics", p.plugin, call)
        let pid = p.portfolio
        let sp = try snapshot(pid, call.pointer("portfolio"))
        let wanted = p.metrics ?? sp.portfolio.metrics.map(\.id)
        var issues = IssueList()
        for (i, id) in wanted.enumerated() where sp.position(.metric, id) == nil {
            issues.add(call.pointer("metrics") / i, "no metric with id \"\(id)\"")
        }
        if !issues.isEmpty { throw RPCError(.notFound, ErrorData(issues: issues)) }
        let request = try JSON.object(["portfolio": .string(pid)])
        let list = try JSON.array()
        for id in wanted {
            let m = sp.portfolio.metrics[sp.position(.metric, id)!]
            let o = try JSON.object(["id": .string(m.id), "name": .string(m.name)])
            if let unit = m.unit { try o.set("unit", string: unit) }
            try list.append(o)
        }
        try request.set("metrics", list)
        if let since = p.since { try request.set("since", string: since) }
        let result: JSON
        do { result = JSON(adopting: try plugin.call("metrics.collect", request.ref)) } catch let e as PluginError { throw rpcError(e) }
        issues = Engine.collectResultSchema.validate(result.ref)
        // A result without observations has failed the schema above; the decode only lists what was there.
        let observations = (try? result["observations"]?.decode([CollectedObservation].self)) ?? []
        let asked = Set(wanted)
        for (i, o) in observations.enumerated() where !asked.contains(o.metric) {
            issues.add(JSONPointer(["observations", String(i), "metric"]), "\"\(o.metric)\" was not asked for")
        }
        if !issues.isEmpty { throw contractError(plugin.manifest.name, issues) }
        var byMetric: [String: [Observation]] = [:]
        for o in observations { byMetric[o.metric, default: []].append(Observation(at: o.at, value: o.value, source: o.source ?? plugin.manifest.name)) }
        // All metrics in one write: the collection lands whole or not at all.
        return try change(pid, call.pointer("portfolio"), ifRevision: nil) { sp in
            var changes: [StoreChange] = []
            var per: [ObserveResult] = []
            for id in wanted {
                guard let obs = byMetric[id], !obs.isEmpty, let i = sp.position(.metric, id) else { continue }
                let first = sp.appendObservations(metric: i, obs)
                changes.append(.appendObservations(portfolio: pid, metric: id, firstSeq: first, obs))
                per.append(ObserveResult(metric: id, appended: obs.count, total: first + obs.count, revision: sp.revision + 1))
            }
            return Change(store: changes, result: CollectResult(plugin: plugin.manifest.name, appended: observations.count,
                                                               metrics: per, revision: sp.revision + 1))
        }
    }
}
