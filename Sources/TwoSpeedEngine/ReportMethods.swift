import TwoSpeedAssessment
import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedStore
import TwoSpeedPlugins
import TwoSpeedRPC
import TwoSpeedReport
import TwoSpeedSchema

extension Engine {
    static let reportFormats = Contract.reportFormats

    func reportMethods() -> [Method] {
        [Method(Contract.reportRender) { [unowned self] p, call in try render(p, call) }]
    }

    func render(_ p: RenderParams, _ call: Call) throws -> Rendered {
        let format = p.format
        let renderer = Engine.reportFormats.contains(format) ? nil
            : plugins.serving("render").first { $0.manifest.formats.contains(format) }
        if !Engine.reportFormats.contains(format) && renderer == nil {
            let plugged = plugins.serving("render").flatMap(\.manifest.formats)
            throw RPCError(.invalidParams, pointer: call.pointer("format").description,
                           "no format \"\(format)\"; known: \((Engine.reportFormats + plugged).joined(separator: ", "))")
        }
        let result: AssessmentResult
        var previous: AssessmentResult? = nil
        var trend: [TrendPoint] = []
        // A report of an earlier kept run shows the advice as it stood at that run, not its future.
        var asOfRun: Int? = nil
        var headers: [(seq: Int, model: String)]? = nil
        if let given = p.result {
            if p.portfolio != nil {
                throw RPCError(.invalidParams, pointer: call.pointer("portfolio").description, "give either result or portfolio")
            }
            result = given
        } else if let pid = p.portfolio {
            // Only the headers of the kept runs are read to choose; then the one or two results needed.
            let runs = try keptRunHeaders(pid, call.pointer("portfolio"))
            if let n = p.run {
                guard let r = try keptRun(pid, n) else {
                    throw RPCError(.notFound, pointer: call.pointer("run").description, "no kept run \(n)")
                }
                result = r
            } else if let last = runs.last, let r = try keptRun(pid, last.seq) {
                result = r
            } else {
                let sp = try snapshot(pid, call.pointer("portfolio"))
                var r = Assessor.assess(sp.portfolio, model: DefaultModel.model, at: nowTimestamp())
                r.revision = sp.revision
                result = r
            }
            // A kept run is compared with the kept run of the same model before it (runs come in order).
            if let n = result.run, let before = runs.last(where: { $0.seq < n && $0.model == result.model.id }) {
                previous = try keptRun(pid, before.seq)
            }
            // The trend: every kept run of the model, up to the one reported.
            if let n = result.run, runs.filter({ $0.seq <= n && $0.model == result.model.id }).count >= 2 {
                trend = try trendPoints(pid, model: result.model.id).filter { $0.run <= n }
            }
            asOfRun = result.run == runs.last?.seq ? nil : result.run
            headers = runs
        } else {
            throw RPCError(.invalidParams, pointer: call.pointer("result").description, "give result or portfolio")
        }
        if let given = p.previous { previous = given }
        // The advice followed across the kept runs, for every built-in report's "Advice and outcomes".
        var advice: AdviceReport? = nil
        if renderer == nil, let pid = p.portfolio, adviceStore != nil {
            let history = try adviceHistoryValue(pid, call.pointer("portfolio"), upToRun: asOfRun, upToPointer: call.pointer("run"),
                                             headers: headers)
            if !history.advice.isEmpty {
                let until = asOfRun == nil ? nil : history.runs.last.flatMap { Engine.day($0.asOf) }
                advice = AdviceReport(history: history, outcomes: try outcomeReport(pid, call.pointer("portfolio"), history: history, until: until).outcomes,
                                      campaigns: try campaignReports(pid, call.pointer("portfolio"), history: history))
            }
        }
        if let renderer {
            let params = try JSON.object(["format": JSON.string(format)])
            try params.set("result", JSON.encoding(result))
            let out: JSON
            do { out = JSON(adopting: try renderer.call("report.render", params.ref)) } catch let e as PluginError { throw rpcError(e) }
            let issues = Engine.renderResultSchema.validate(out.ref)
            if !issues.isEmpty { throw contractError(renderer.manifest.name, issues) }
            return try out.decode(Rendered.self)
        }
        switch format {
        case "html":
            return Rendered(format: format, content: HTMLReport.render(result, previous: previous, trend: trend, advice: advice),
                            mediaType: HTMLReport.mediaType)
        case "markdown":
            return Rendered(format: format, content: MarkdownReport.render(result, previous: previous, trend: trend, advice: advice),
                            mediaType: MarkdownReport.mediaType)
        default:
            return Rendered(format: "text", content: TextReport.render(result, previous: previous, width: p.width ?? 100, advice: advice), mediaType: "text/plain; charset=utf-8")
        }
    }
}

extension Engine {
    /// The trend of a portfolio's kept runs of one model, from their summaries: no whole result is read.
    func trendPoints(_ portfolio: String, model: String) throws -> [TrendPoint] {
        let rows: [KeptRun]
        do { rows = try store.runSummaries(portfolio: portfolio, model: model) } catch let e as StoreError {
            throw RPCError(store: e)
        }
        return try rows.compactMap { r in
            guard case .success(let summary) = try JSON.parse(r.body) else { return nil }
            var dims: [String: Double] = [:]
            summary["dimensions"]?.forEachMember { id, v in if let d = v.doubleValue { dims[id] = d } }
            // Without enough evidence the overall score says little: no point, as for a whole result.
            let overall = summary["overall"]?["level"] == nil ? nil : summary["overall"]?["score"]?.doubleValue
            return TrendPoint(run: r.seq, at: r.at, asOf: summary["asOf"]?.stringValue ?? r.at, overall: overall, dimensions: dims)
        }
    }
}
