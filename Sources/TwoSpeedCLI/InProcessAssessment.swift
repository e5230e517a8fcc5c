import ArgumentParser
import TwoSpeedClientInProcess
import TwoSpeedContract
import TwoSpeedEngine
import TwoSpeedJSON

/// How `assess` and `report` assess a portfolio file in this process, on an engine in memory.
struct AssessmentOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Assess against this model (default twospeed-default).", valueName: "id"))
    var model: String?

    @Option(name: .customLong("model-file"), help: ArgumentHelp(
        "Load a custom assessment model from this JSON file first (see examples/models).", valueName: "file"))
    var modelFile: String?

    @Option(help: ArgumentHelp("Self-assessment answers: a JSON array of {criterion, score, evidence}.", valueName: "file"))
    var answers: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The date the assessment speaks for (YYYY-MM-DD).", valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp("A folder of plugin manifests to load (check plugins add findings, render plugins formats).",
                               valueName: "dir"))
    var plugins: String?

    /// The options that only make sense for a portfolio (not for a result already made).
    var portfolioOnly: [(option: String, value: String?)] {
        [("--model", model), ("--model-file", modelFile), ("--answers", answers), ("--as-of", asOf)]
    }

    /// A client of a new engine in memory, with the plugins loaded.
    func client() throws -> TwoSpeedClient {
        let engine: Engine
        do { engine = try Engine(path: nil, plugins: plugins) } catch {
            throw TransportError(.unreachable, endpoint: "in-process :memory:", "cannot open an engine: \(error)")
        }
        return TwoSpeedClient(transport: InProcessTransport(engine: engine))
    }

    /// Puts the portfolio into the engine and assesses it, keeping nothing; the result is the caller's.
    func assess(_ document: JSONView, _ client: TwoSpeedClient) throws -> JSON {
        let putParams = try JSON.object()
        try putParams.set("portfolio", document)
        let put = try client.callJSON(Contract.portfolioPut.name, params: putParams)
        let id = put["id"]?.stringValue ?? ""
        return try assessHeld(id, keep: false, client)
    }

    /// Assesses a portfolio the engine holds, with these options; kept when `keep`. The result is the caller's.
    func assessHeld(_ id: String, keep: Bool, _ client: TwoSpeedClient) throws -> JSON {
        if let modelFile {
            let modelParams = try JSON.object(["model": try readJSON(try readInput(modelFile), what: modelFile)])
            _ = try client.callJSON(Contract.assessmentModelPut.name, params: modelParams)
        }
        let params = try JSON.object(["portfolio": .string(id), "keep": .bool(keep)])
        if let model { try params.set("model", string: model) }
        if let asOf { try params.set("asOf", string: asOf) }
        if let answers { try params.set("answers", try readJSON(try readInput(answers), what: answers)) }
        return try client.callJSON(Contract.assessmentRun.name, params: params)
    }
}
