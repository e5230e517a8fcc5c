import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

extension Engine {
    func assessmentMethods() -> [Method] {
        [
            Method(Contract.assessmentRun, raw: { [unowned self] p, call in try run(p, call) }),
            Method(Contract.assessmentGet, raw: { [unowned self] p, call in try getRun(p, call) }),
            Method(Contract.assessmentHistory, raw: { [unowned self] p, call in try history(p, call) }),
            Method(Contract.assessmentModelPut) { [unowned self] p, call in try putModel(p, call) },
            Method(Contract.assessmentModelList) { [unowned self] _, _ in listModels() },
            Method(Contract.assessmentModelGet) { [unowned self] p, call in ModelResult(model: try model(p.id, call.pointer("id"))) },
            Method(Contract.assessmentModelDelete) { [unowned self] p, call in try deleteModel(p, call) },
            Method(Contract.analysisCoverage) { [unowned self] p, call in Coverage.map(try context(p.portfolio, call)) },
            Method(Contract.analysisPrioritize) { [unowned self] p, call in
                Prioritizer.rank(try context(p.portfolio, call), method: (p.method ?? .value).rawValue) },
            Method(Contract.analysisSpeed) { [unowned self] p, call in SpeedTiers.analyze(try context(p.portfolio, call)) },
            Method(Contract.analysisOkrs) { [unowned self] p, call in OKRs.align(try context(p.portfolio, call)) },
            Method(Contract.analysisAccountability) { [unowned self] p, call in AccountabilityAnalysis.analyze(try context(p.portfolio, call)) },
            Method(Contract.analysisPitfalls) { [unowned self] p, call in
                PitfallList(pitfalls: Pitfalls.detect(try context(p.portfolio, call), limit: nil)) },
            Method(Contract.experimentEvaluate) { [unowned self] p, call in try evaluate(p, call) },
        ]
    }

    // MARK: Handlers

    /// The analyses read the speed tiers as assessment.run does: from recorded events where a system has
    /// them (the 90 days up to now), from the entered figures elsewhere.
    func context(_ id: String, _ call: Call) throws -> PortfolioContext {
        let portfolio = try snapshot(id, call.pointer("portfolio")).portfolio
        return try deliveryOverlay(portfolio, asOf: nil)?.context(portfolio) ?? PortfolioContext(portfolio)
    }

    func model(_ id: String, _ pointer: JSONPointer) throws -> AssessmentModel {
        if id == DefaultModel.id { return DefaultModel.model }
        guard let m = models.read({ $0.custom[id] ?? $0.plugin[id]?.model }) else {
            throw RPCError(.notFound, pointer: pointer.description, "no assessment model with id \"\(id)\"; assessment.model.list lists them")
        }
        return m
    }

    func run(_ p: AssessmentRunParams, _ call: Call) throws -> JSON {
        let sp = try snapshot(p.portfolio, call.pointer("portfolio"))
        let m = try model(p.model ?? DefaultModel.id, call.pointer("model"))
        let answers = p.answers ?? []
        let known = Set(m.criteria.map(\.id))
        var issues = IssueList()
        for (i, a) in answers.enumerated() where !known.contains(a.criterion) {
            issues.add(call.pointer("answers") / i / "criterion", "model \"\(m.id)\" has no criterion \"\(a.criterion)\"")
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let extra = try pluginFindings(sp.portfolio.id)
        var result = Assessor.assess(sp.portfolio, model: m, answers: answers, asOf: p.asOf, at: nowTimestamp(),
                                     prioritization: (p.prioritization ?? .value).rawValue, extraFindings: extra,
                                     delivery: try deliveryOverlay(sp.portfolio, asOf: p.asOf))
        result.revision = sp.revision
        let keep = p.keep ?? true
        if keep { result.engine = Engine.version }
        // Encoded once, outside any lock. A kept result gets its number after the insert; a placeholder
        // keeps "run" first among the members, where Codable puts it.
        if keep { result.run = 0 }
        let json = try JSON.encoding(result)
        guard keep else { return json }
        do {
            let summary = try Engine.runSummary(json.view)
            // The run and its advice record in one transaction, where the store keeps advice.
            let seq = try adviceStore.map { a in
                let absent = try absentSubjects(a, sp, before: Int.max)
                return try a.addRun(portfolio: sp.portfolio.id, at: result.at, model: m.id, score: result.overall.score, summary: summary.text(),
                             body: json.text()) { seq, previous in try adviceRecordText(result, seq: seq, previous: previous, portfolio: sp, absent: absent) }
            } ?? store.addRun(portfolio: sp.portfolio.id, at: result.at, model: m.id, score: result.overall.score,
                              summary: summary.text(), body: json.text())
            try json.set("run", int: seq)
            return json
        } catch let e as StoreError {
            throw RPCError(store: e)
        }
    }

    /// What assessment.history lists of a run, taken from its encoded result: kept beside it in the store.
    static func runSummary(_ result: JSONView) throws -> JSON {
        let o = try JSON.object()
        for key in ["asOf", "revision", "overall"] { if let v = result[key] { try o.set(key, v) } }
        let dims = try JSON.object()
        for d in result["dimensions"]?.elements ?? [] {
            if let id = d["id"]?.stringValue, let score = d["score"], score.isNumber { try dims.set(id, score) }
        }
        try o.set("dimensions", dims)
        return o
    }

    func decodeRun(_ body: String, seq: Int) throws -> AssessmentResult {
        do {
            var r = try JanssonDecoder().decode(AssessmentResult.self, from: body)
            r.run = seq
            return r
        } catch { throw RPCError(.storeError, pointer: nil, "kept run \(seq) does not decode: \(error)") }
    }

    /// The kept runs' numbers and models, without reading any result.
    func keptRunHeaders(_ portfolio: String, _ pointer: JSONPointer) throws -> [(seq: Int, model: String)] {
        _ = try snapshot(portfolio, pointer)
        do { return try store.runHeaders(portfolio: portfolio) } catch let e as StoreError {
            throw RPCError(store: e)
        }
    }

    /// One kept run, read and decoded alone; nil when there is none of that number.
    func keptRun(_ portfolio: String, _ seq: Int) throws -> AssessmentResult? {
        let body: String?
        do { body = try store.runBody(portfolio: portfolio, seq: seq) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        return try body.map { try decodeRun($0, seq: seq) }
    }

    /// Served from the stored text: parsed, numbered, returned; never decoded into Swift and encoded again.
    func getRun(_ p: AssessmentGetParams, _ call: Call) throws -> JSON {
        let pid = p.portfolio
        let n: Int
        if let given = p.run {
            n = given
            _ = try snapshot(pid, call.pointer("portfolio"))
        } else {
            guard let latest = try keptRunHeaders(pid, call.pointer("portfolio")).last?.seq else {
                throw RPCError(.notFound, pointer: call.pointer("portfolio").description,
                               "\(pid) has no kept run; assessment.run keeps one")
            }
            n = latest
        }
        let body: String?
        do { body = try store.runBody(portfolio: pid, seq: n) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        guard let body else { throw RPCError(.notFound, pointer: call.pointer("run").description, "no kept run \(n)") }
        switch try JSON.parse(body) {
        case .failure(let e): throw RPCError(.storeError, pointer: nil, "kept run \(n) is not JSON: \(e.reason)")
        case .success(let json):
            // Served as stored, without a decode: a row that holds no result (hand-edited, damaged) is
            // caught by the members every result has.
            let missing = json.isObject ? ResultSchemas.result.properties.filter { $0.required && json[$0.name] == nil }.map(\.name) : ["all"]
            if !missing.isEmpty {
                throw RPCError(.storeError, pointer: nil, "kept run \(n) is not an assessment result: missing \(missing.joined(separator: ", "))")
            }
            try json.set("run", int: n)
            return json
        }
    }

    /// Built from the runs' summaries; only the two runs compared are read whole.
    func history(_ p: AssessmentHistoryParams, _ call: Call) throws -> JSON {
        let portfolio = p.portfolio
        _ = try snapshot(portfolio, call.pointer("portfolio"))
        let rows: [KeptRun]
        do { rows = try store.runSummaries(portfolio: portfolio, model: p.model) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        var pair: [Int]? = nil
        if let asked = p.compare {
            for (i, n) in asked.enumerated() where !rows.contains(where: { $0.seq == n }) {
                throw RPCError(.notFound, pointer: (call.pointer("compare") / i).description, "no kept run \(n)")
            }
            pair = asked
        } else if rows.count >= 2 {
            pair = [rows[rows.count - 2].seq, rows[rows.count - 1].seq]
        }
        var change: JSON? = nil
        if let pair {
            guard let a = try keptRun(portfolio, pair[0]), let b = try keptRun(portfolio, pair[1]) else {
                throw RPCError(.storeError, pointer: nil, "a kept run vanished while it was read")
            }
            change = try JSON.encoding(AssessmentChange(from: a, to: b))
        }
        let runs = try JSON.array()
        for r in rows {
            guard case .success(let summary) = try JSON.parse(r.body), summary.isObject else {
                throw RPCError(.storeError, pointer: nil, "the summary of kept run \(r.seq) is not JSON")
            }
            let o = try JSON.object()
            try o.set("run", int: r.seq)
            try o.set("at", string: r.at)
            if let asOf = summary["asOf"] { try o.set("asOf", asOf) }
            try o.set("model", string: r.model)
            if let rev = summary["revision"], rev.isNumber { try o.set("revision", rev) }
            if let overall = summary["overall"] { try o.set("overall", overall) }
            if let dims = summary["dimensions"] { try o.set("dimensions", dims) } else { try o.set("dimensions", JSON.object()) }
            try runs.append(o)
        }
        let trend = try deliveryOverlay(try snapshot(portfolio, call.pointer("portfolio")).portfolio, asOf: nil)
            .map { try JSON.encoding($0.trend) }
        return try JSON.object(["portfolio": JSON.string(portfolio), "runs": runs, "change": change, "delivery": trend])
    }

    func putModel(_ p: ModelPutParams, _ call: Call) throws -> ModelPutResult {
        let m = p.model
        var issues = IssueList()
        m.check(at: call.pointer("model"), into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        if m.id == DefaultModel.id {
            throw RPCError(.conflict, pointer: (call.pointer("model") / "id").description,
                           "\"\(DefaultModel.id)\" is the built-in model; give a custom model another id")
        }
        let body = try JanssonEncoder().encodeText(m)
        // Model writers one at a time; readers see the models as they were until the store has this one.
        return try modelLane.exclusively {
            if let owner = models.read({ $0.plugin[m.id]?.plugin }) {
                throw RPCError(.conflict, pointer: (call.pointer("model") / "id").description, "plugin \"\(owner)\" provides the model \"\(m.id)\"")
            }
            do { try store.putModel(id: m.id, body: body, updated: nowTimestamp()) } catch let e as StoreError {
                throw RPCError(store: e)
            }
            let created = models.write { s in
                defer { s.custom[m.id] = m }
                return s.custom[m.id] == nil
            }
            return ModelPutResult(id: m.id, created: created, dimensions: m.dimensions.count, criteria: m.criteria.count)
        }
    }

    func listModels() -> ModelList {
        models.read { s in
            ModelList(models: [ModelSummary(DefaultModel.model, builtIn: true)]
                + s.custom.values.sorted { $0.id < $1.id }.map { ModelSummary($0, builtIn: false) }
                + s.plugin.values.sorted { $0.model.id < $1.model.id }.map { ModelSummary($0.model, builtIn: false, plugin: $0.plugin) })
        }
    }

    func deleteModel(_ p: ModelIDParams, _ call: Call) throws -> Deleted {
        let id = p.id
        if id == DefaultModel.id {
            throw RPCError(.conflict, pointer: call.pointer("id").description, "the built-in model cannot be deleted")
        }
        return try modelLane.exclusively {
            guard models.read({ $0.custom[id] }) != nil else {
                throw RPCError(.notFound, pointer: call.pointer("id").description, "no assessment model with id \"\(id)\"")
            }
            do { try store.deleteModel(id: id) } catch let e as StoreError { throw RPCError(store: e) }
            models.write { $0.custom[id] = nil }
            return Deleted(id: id, deleted: true)
        }
    }

    func evaluate(_ p: ExperimentParams, _ call: Call) throws -> ExperimentEvaluation {
        let confidence = p.confidence ?? 0.95
        if let pid = p.portfolio {
            guard let eid = p.experiment else {
                throw RPCError(.invalidParams, pointer: call.pointer("experiment").description, "required with portfolio")
            }
            let sp = try snapshot(pid, call.pointer("portfolio"))
            guard let e = sp.portfolio.experiments.first(where: { $0.id == eid }) else {
                throw RPCError(.notFound, pointer: call.pointer("experiment").description, "no experiment with id \"\(eid)\"")
            }
            guard let r = try ExperimentEvaluator.evaluate(e, in: sp.portfolio, confidence: confidence) else {
                throw RPCError(.invalidParams, pointer: call.pointer("experiment").description,
                               "experiment \"\(eid)\" has no control and variant counts yet")
            }
            return r
        }
        var issues = IssueList()
        if p.control == nil { issues.add(call.pointer("control"), "required without portfolio") }
        if p.variant == nil { issues.add(call.pointer("variant"), "required without portfolio") }
        if p.experiment != nil { issues.add(call.pointer("experiment"), "needs portfolio") }
        guard issues.isEmpty, let control = p.control, let variant = p.variant else { throw RPCError.invalidParams(issues) }
        for (k, a) in [("control", control), ("variant", variant)] {
            if a.conversions > a.users { issues.add(call.pointer(k) / "conversions", "\(a.conversions) conversions exceed \(a.users) users") }
            if a.users == 0 { issues.add(call.pointer(k) / "users", "an arm needs at least one user") }
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let rollout = p.rollout ?? [p.plannedShare ?? 0.5]
        let stage = p.stage ?? 0
        guard rollout.indices.contains(stage) else {
            throw RPCError(.invalidParams, pointer: call.pointer("stage").description, "stage \(stage) is past the last rollout stage")
        }
        let share = p.plannedShare ?? rollout[stage]
        return try ExperimentEvaluator.evaluate(.init(control: control, variant: variant, plannedShare: share, rollout: rollout,
                                                      stage: stage, confidence: confidence, direction: (p.direction ?? .higher).rawValue))
    }
}
