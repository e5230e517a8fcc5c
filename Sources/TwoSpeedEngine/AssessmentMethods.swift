import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

struct ModelSummary: Codable {
    var id: String; var name: String; var version: String; var builtIn: Bool; var dimensions: Int; var criteria: Int
    /// The plugin that provides the model, for plugin models.
    var plugin: String?
    init(_ m: AssessmentModel, builtIn: Bool, plugin: String? = nil) {
        id = m.id; name = m.name; version = m.version; self.builtIn = builtIn
        dimensions = m.dimensions.count; criteria = m.criteria.count; self.plugin = plugin
    }
}
struct ModelList: Codable { var models: [ModelSummary] }
struct ModelPutResult: Codable { var id: String; var created: Bool; var dimensions: Int; var criteria: Int }
struct PitfallList: Codable { var pitfalls: [Finding] }

extension Engine {
    static let portfolioParam = Param("portfolio", .identifier(), "the portfolio's id")

    func assessmentMethods() -> [Method] {
        // Each of these works through a whole portfolio or a kept result: off an event loop.
        assessmentTable().map { $0.blockingCalls() }
    }

    private func assessmentTable() -> [Method] {
        let modelID = Schema.identifier("an assessment model's id (default \"\(DefaultModel.id)\")")
        let answers = Schema.array(ModelSchemas.answer, "self-assessment answers; they override the portfolio's own", maxItems: 10_000)
        let arm = ModelSchemas.arm
        return [
            Method("assessment.run", summary: "Assesses a portfolio: dimension scores with the facts and answers behind them, "
                    + "pitfalls, ranked recommendations and the analyses. Kept for assessment.history unless keep is false.",
                   params: [Engine.portfolioParam,
                            Param("model", modelID, required: false, "the model to assess against"),
                            Param("answers", answers, required: false, "answers for this run"),
                            Param("asOf", .formatted(.date), required: false, "the date the assessment speaks for (default: the latest date in the data)"),
                            Param("prioritization", .oneOf(Prioritizer.methods), required: false, "ranking method for the prioritization analysis"),
                            Param("keep", .boolean(), required: false, "keep the result (default true)")],
                   result: ResultSchemas.result, mutates: true, errors: [.notFound, .storeError]) { [unowned self] p in try run(p) },

            Method("assessment.get", summary: "A kept assessment result by its run number, or the latest kept run.",
                   params: [Engine.portfolioParam, Param("run", .integer(min: 1), required: false, "the run number (default: the latest kept run)")],
                   result: ResultSchemas.result, mutates: false, errors: [.notFound]) { [unowned self] p in try getRun(p) },

            Method("assessment.history", summary: "Scores per dimension over time, and what changed between two runs "
                        + "(the last two unless compare names them).",
                      params: [Engine.portfolioParam, Param("model", modelID, required: false, "only runs of this model"),
                               Param("compare", .array(.integer(min: 1), minItems: 2, maxItems: 2), required: false, "two run numbers")],
                      result: .object("History", required: ["portfolio", "runs"], [
                          "portfolio": .identifier(),
                          "runs": .array(.object("RunSummary", required: ["run", "at", "asOf", "model", "overall", "dimensions"], [
                              "run": .integer(min: 1), "at": .formatted(.timestamp), "asOf": .formatted(.timestamp),
                              "model": .identifier(), "revision": .integer(min: 1), "overall": ResultSchemas.overall,
                              "dimensions": .map(.number(min: 1, max: 5))])),
                          "change": ResultSchemas.change,
                          "delivery": DeliveryTrend.schema.described("the four keys of recorded delivery events by window, newest first")]),
                      mutates: false, errors: [.notFound]) { [unowned self] p in try history(p) },

            .encoding("assessment.model.put", summary: "Stores a custom assessment model (a company's own, or a public one), validated like a portfolio.",
                      params: [Param("model", AssessmentModel.schema, "the model document")],
                      result: .object("ModelPutResult", required: ["id", "created", "dimensions", "criteria"], [
                          "id": .identifier(), "created": .boolean(), "dimensions": .integer(min: 1), "criteria": .integer(min: 1)]),
                      mutates: true, errors: [.conflict, .storeError]) { [unowned self] p in try putModel(p) },

            .encoding("assessment.model.list", summary: "The assessment models: the built-in default and the custom ones.",
                      result: .object("ModelList", required: ["models"], [
                          "models": .array(.object("ModelSummary", required: ["id", "name", "version", "builtIn", "dimensions", "criteria"], [
                              "id": .identifier(), "name": .name(), "version": .name(), "builtIn": .boolean(),
                              "dimensions": .integer(min: 1), "criteria": .integer(min: 1), "plugin": .identifier()]))]),
                      mutates: false) { [unowned self] _ in listModels() },

            .encoding("assessment.model.get", summary: "One assessment model, whole.",
                      params: [Param("id", modelID, "the model")],
                      result: .object("ModelResult", required: ["model"], ["model": AssessmentModel.schema]),
                      mutates: false, errors: [.notFound]) { [unowned self] p in ["model": try model(p.string("id") ?? "", p.pointer("id"))] },

            .encoding("assessment.model.delete", summary: "Deletes a custom assessment model (kept results stay).",
                      params: [Param("id", modelID, "the model")],
                      result: .object(required: ["id", "deleted"], ["id": .identifier(), "deleted": .boolean()]),
                      mutates: true, errors: [.notFound, .conflict, .storeError]) { [unowned self] p in try deleteModel(p) },

            .encoding("analysis.coverage", summary: "Journeys × stages → owners, products and metrics; unowned and doubly owned stages.",
                      params: [Engine.portfolioParam], result: ResultSchemas.coverage, mutates: false, errors: [.notFound]) { [unowned self] p in
                          Coverage.map(try context(p)) },

            .encoding("analysis.prioritize", summary: "Active products ranked by value against resources, RICE or WSJF.",
                      params: [Engine.portfolioParam, Param("method", .oneOf(Prioritizer.methods), required: false, "value (default), rice or wsjf")],
                      result: ResultSchemas.prioritization, mutates: false, errors: [.notFound]) { [unowned self] p in
                          Prioritizer.rank(try context(p), method: p.string("method") ?? "value") },

            .encoding("analysis.speed", summary: "Systems by DORA performance cluster and layer, and the couplings that hold fast systems to slow ones.",
                      params: [Engine.portfolioParam], result: ResultSchemas.speed, mutates: false, errors: [.notFound]) { [unowned self] p in
                          SpeedTiers.analyze(try context(p)) },

            .encoding("analysis.okrs", summary: "OKR alignment: shared objectives, orphan key results, products per objective.",
                      params: [Engine.portfolioParam], result: ResultSchemas.okrs, mutates: false, errors: [.notFound]) { [unowned self] p in
                          OKRs.align(try context(p)) },

            .encoding("analysis.accountability", summary: "Each manager's share of their metrics that they can influence directly.",
                      params: [Engine.portfolioParam], result: ResultSchemas.accountability, mutates: false, errors: [.notFound]) { [unowned self] p in
                          AccountabilityAnalysis.analyze(try context(p)) },

            .encoding("analysis.pitfalls", summary: "The pitfalls of the two-speed operating model found in the portfolio.",
                      params: [Engine.portfolioParam],
                      result: .object("PitfallList", required: ["pitfalls"], ["pitfalls": .array(ResultSchemas.finding)]),
                      mutates: false, errors: [.notFound]) { [unowned self] p in PitfallList(pitfalls: Pitfalls.detect(try context(p), limit: nil)) },

            .encoding("experiment.evaluate", summary: "Lift with its confidence interval, a two-proportion z-test, a sample-ratio "
                        + "check and the next rollout step: for an experiment of a portfolio, or for counts given directly.",
                      params: [Param("portfolio", .identifier(), required: false, "with experiment: the portfolio"),
                               Param("experiment", .identifier(), required: false, "with portfolio: the experiment's id"),
                               Param("control", arm, required: false, "without portfolio: the control arm's counts"),
                               Param("variant", arm, required: false, "without portfolio: the variant arm's counts"),
                               Param("plannedShare", .number(exclusiveMin: 0).withMaximum(0.999_999), required: false,
                                     "without portfolio: the variant's planned share of traffic (default 0.5)"),
                               Param("rollout", .array(.number(exclusiveMin: 0).withMaximum(1), minItems: 1, maxItems: 20), required: false,
                                     "without portfolio: the rollout stages' shares, to name the next step"),
                               Param("stage", .integer(min: 0), required: false, "without portfolio: the running stage's index"),
                               Param("confidence", .number(min: 0.5).withMaximum(0.9999), required: false, "confidence level (default 0.95)"),
                               Param("direction", .oneOf(["higher", "lower"]), required: false,
                                     "without portfolio: which way the counted outcome is better (default higher)")],
                      result: ResultSchemas.experiment, mutates: false, errors: [.notFound]) { [unowned self] p in try evaluate(p) },
        ]
    }

    // MARK: Handlers

    /// The analyses read the speed tiers as assessment.run does: from recorded events where a system has
    /// them (the 90 days up to now), from the entered figures elsewhere.
    func context(_ p: Params) throws -> PortfolioContext {
        let portfolio = try snapshot(p.string("portfolio") ?? "", p.pointer("portfolio")).portfolio
        return try deliveryOverlay(portfolio, asOf: nil)?.context(portfolio) ?? PortfolioContext(portfolio)
    }

    func model(_ id: String, _ pointer: JSONPointer) throws -> AssessmentModel {
        if id == DefaultModel.id { return DefaultModel.model }
        guard let m = models.read({ $0.custom[id] ?? $0.plugin[id]?.model }) else {
            throw RPCError(.notFound, pointer: pointer.description, "no assessment model with id \"\(id)\"; assessment.model.list lists them")
        }
        return m
    }

    func run(_ p: Params) throws -> JSONRef {
        let sp = try snapshot(p.string("portfolio") ?? "", p.pointer("portfolio"))
        let m = try model(p.string("model") ?? DefaultModel.id, p.pointer("model"))
        let answers: [Answer] = try p.decodeIfPresent("answers") ?? []
        let known = Set(m.criteria.map(\.id))
        var issues = IssueList()
        for (i, a) in answers.enumerated() where !known.contains(a.criterion) {
            issues.add(p.pointer("answers") / i / "criterion", "model \"\(m.id)\" has no criterion \"\(a.criterion)\"")
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let extra = try pluginFindings(sp.portfolio.id)
        var result = Assessor.assess(sp.portfolio, model: m, answers: answers, asOf: p.string("asOf"), at: nowTimestamp(),
                                     prioritization: p.string("prioritization") ?? "value", extraFindings: extra,
                                     delivery: try deliveryOverlay(sp.portfolio, asOf: p.string("asOf")))
        result.revision = sp.revision
        let keep = p.bool("keep") ?? true
        if keep { result.engine = Engine.version }
        // Encoded once, outside any lock. A kept result gets its number after the insert; a placeholder
        // keeps "run" first among the members, where Codable puts it.
        if keep { result.run = 0 }
        let json = try JanssonEncoder().encode(result)
        guard keep else { return json }
        do {
            let summary = Engine.runSummary(json)
            defer { summary.release() }
            // The run and its advice record in one transaction, where the store keeps advice.
            let seq = try adviceStore.map { a in
                let absent = try absentSubjects(a, sp, before: Int.max)
                return try a.addRun(portfolio: sp.portfolio.id, at: result.at, model: m.id, score: result.overall.score, summary: JSONText.dump(summary),
                             body: JSONText.dump(json)) { seq, previous in try adviceRecordText(result, seq: seq, previous: previous, portfolio: sp, absent: absent) }
            } ?? store.addRun(portfolio: sp.portfolio.id, at: result.at, model: m.id, score: result.overall.score,
                              summary: JSONText.dump(summary), body: JSONText.dump(json))
            json.set("run", JSONMake.int(seq))
            return json
        } catch let e as StoreError {
            json.release()
            throw RPCError(store: e)
        } catch {
            json.release()
            throw error
        }
    }

    /// What assessment.history lists of a run, taken from its encoded result: kept beside it in the store.
    static func runSummary(_ result: JSONRef) -> JSONRef {
        let o = JSONMake.object()
        for key in ["asOf", "revision", "overall"] { o.set(key, result[key]?.retained()) }
        let dims = JSONMake.object()
        for d in result["dimensions"]?.elements ?? [] {
            if let id = d["id"]?.stringValue, let score = d["score"], score.isNumber { dims.set(id, score.retained()) }
        }
        o.set("dimensions", dims)
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
    func getRun(_ p: Params) throws -> JSONRef {
        let pid = p.string("portfolio") ?? ""
        let n: Int
        if let given = p.int("run") {
            n = given
            _ = try snapshot(pid, p.pointer("portfolio"))
        } else {
            guard let latest = try keptRunHeaders(pid, p.pointer("portfolio")).last?.seq else {
                throw RPCError(.notFound, pointer: p.pointer("portfolio").description,
                               "\(pid) has no kept run; assessment.run keeps one")
            }
            n = latest
        }
        let body: String?
        do { body = try store.runBody(portfolio: pid, seq: n) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        guard let body else { throw RPCError(.notFound, pointer: p.pointer("run").description, "no kept run \(n)") }
        switch JSONText.parse(body) {
        case .failure(let e): throw RPCError(.storeError, pointer: nil, "kept run \(n) is not JSON: \(e.reason)")
        case .success(let json):
            // Served as stored, without a decode: a row that holds no result (hand-edited, damaged) is
            // caught by the members every result has.
            let missing = json.isObject ? ResultSchemas.result.properties.filter { $0.required && json[$0.name] == nil }.map(\.name) : ["all"]
            if !missing.isEmpty {
                json.release()
                throw RPCError(.storeError, pointer: nil, "kept run \(n) is not an assessment result: missing \(missing.joined(separator: ", "))")
            }
            json.set("run", JSONMake.int(n))
            return json
        }
    }

    /// Built from the runs' summaries; only the two runs compared are read whole.
    func history(_ p: Params) throws -> JSONRef {
        let portfolio = p.string("portfolio") ?? ""
        _ = try snapshot(portfolio, p.pointer("portfolio"))
        let rows: [KeptRun]
        do { rows = try store.runSummaries(portfolio: portfolio, model: p.string("model")) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        var pair: [Int]? = nil
        if let asked: [Int] = try p.decodeIfPresent("compare") {
            for (i, n) in asked.enumerated() where !rows.contains(where: { $0.seq == n }) {
                throw RPCError(.notFound, pointer: (p.pointer("compare") / i).description, "no kept run \(n)")
            }
            pair = asked
        } else if rows.count >= 2 {
            pair = [rows[rows.count - 2].seq, rows[rows.count - 1].seq]
        }
        var change: JSONRef? = nil
        if let pair {
            guard let a = try keptRun(portfolio, pair[0]), let b = try keptRun(portfolio, pair[1]) else {
                throw RPCError(.storeError, pointer: nil, "a kept run vanished while it was read")
            }
            change = try JanssonEncoder().encode(AssessmentChange(from: a, to: b))
        }
        let runs = JSONMake.array()
        for r in rows {
            guard case .success(let summary) = JSONText.parse(r.body), summary.isObject else {
                runs.release()
                change?.release()
                throw RPCError(.storeError, pointer: nil, "the summary of kept run \(r.seq) is not JSON")
            }
            defer { summary.release() }
            let o = JSONMake.object()
            o.set("run", JSONMake.int(r.seq))
            o.set("at", JSONMake.string(r.at))
            o.set("asOf", summary["asOf"]?.retained())
            o.set("model", JSONMake.string(r.model))
            if let rev = summary["revision"], rev.isNumber { o.set("revision", rev.retained()) }
            o.set("overall", summary["overall"]?.retained())
            o.set("dimensions", summary["dimensions"]?.retained() ?? JSONMake.object())
            runs.append(o)
        }
        let trend = try deliveryOverlay(try snapshot(portfolio, p.pointer("portfolio")).portfolio, asOf: nil)
            .map { try JanssonEncoder().encode($0.trend) }
        return JSONMake.object(["portfolio": JSONMake.string(portfolio), "runs": runs, "change": change, "delivery": trend])
    }

    func putModel(_ p: Params) throws -> ModelPutResult {
        let m: AssessmentModel = try p.decode("model")
        var issues = IssueList()
        m.check(at: p.pointer("model"), into: &issues)
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        if m.id == DefaultModel.id {
            throw RPCError(.conflict, pointer: (p.pointer("model") / "id").description,
                           "\"\(DefaultModel.id)\" is the built-in model; give a custom model another id")
        }
        let body = try JanssonEncoder().encodeText(m)
        // Model writers one at a time; readers see the models as they were until the store has this one.
        return try modelLane.exclusively {
            if let owner = models.read({ $0.plugin[m.id]?.plugin }) {
                throw RPCError(.conflict, pointer: (p.pointer("model") / "id").description, "plugin \"\(owner)\" provides the model \"\(m.id)\"")
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

    func deleteModel(_ p: Params) throws -> [String: JSONScalar] {
        let id = p.string("id") ?? ""
        if id == DefaultModel.id {
            throw RPCError(.conflict, pointer: p.pointer("id").description, "the built-in model cannot be deleted")
        }
        return try modelLane.exclusively {
            guard models.read({ $0.custom[id] }) != nil else {
                throw RPCError(.notFound, pointer: p.pointer("id").description, "no assessment model with id \"\(id)\"")
            }
            do { try store.deleteModel(id: id) } catch let e as StoreError { throw RPCError(store: e) }
            models.write { $0.custom[id] = nil }
            return ["id": .string(id), "deleted": .bool(true)]
        }
    }

    func evaluate(_ p: Params) throws -> ExperimentEvaluation {
        let confidence = p.object["confidence"]?.doubleValue ?? 0.95
        if let pid = p.string("portfolio") {
            guard let eid = p.string("experiment") else {
                throw RPCError(.invalidParams, pointer: p.pointer("experiment").description, "required with portfolio")
            }
            let sp = try snapshot(pid, p.pointer("portfolio"))
            guard let e = sp.portfolio.experiments.first(where: { $0.id == eid }) else {
                throw RPCError(.notFound, pointer: p.pointer("experiment").description, "no experiment with id \"\(eid)\"")
            }
            guard let r = try ExperimentEvaluator.evaluate(e, in: sp.portfolio, confidence: confidence) else {
                throw RPCError(.invalidParams, pointer: p.pointer("experiment").description,
                               "experiment \"\(eid)\" has no control and variant counts yet")
            }
            return r
        }
        var issues = IssueList()
        for k in ["control", "variant"] where p[k] == nil { issues.add(p.pointer(k), "required without portfolio") }
        if p["experiment"] != nil { issues.add(p.pointer("experiment"), "needs portfolio") }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let control: ArmCounts = try p.decode("control"), variant: ArmCounts = try p.decode("variant")
        for (k, a) in [("control", control), ("variant", variant)] {
            if a.conversions > a.users { issues.add(p.pointer(k) / "conversions", "\(a.conversions) conversions exceed \(a.users) users") }
            if a.users == 0 { issues.add(p.pointer(k) / "users", "an arm needs at least one user") }
        }
        if !issues.isEmpty { throw RPCError.invalidParams(issues) }
        let rollout: [Double] = try p.decodeIfPresent("rollout") ?? [p.object["plannedShare"]?.doubleValue ?? 0.5]
        let stage = p.int("stage") ?? 0
        guard rollout.indices.contains(stage) else {
            throw RPCError(.invalidParams, pointer: p.pointer("stage").description, "stage \(stage) is past the last rollout stage")
        }
        let share = p.object["plannedShare"]?.doubleValue ?? rollout[stage]
        return try ExperimentEvaluator.evaluate(.init(control: control, variant: variant, plannedShare: share, rollout: rollout,
                                                      stage: stage, confidence: confidence, direction: p.string("direction") ?? "higher"))
    }
}

/// A scalar for small ad-hoc results.
enum JSONScalar: Encodable {
    case string(String), bool(Bool)
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        }
    }
}

extension Schema {
    func withMaximum(_ m: Double) -> Schema { var s = self; s.maximum = m; return s }
}
