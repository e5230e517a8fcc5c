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
    func assess(_ document: JSONRef, _ client: TwoSpeedClient) throws -> JSONRef {
        let putParams = JSONMake.object(["portfolio": document.retained()])
        defer { putParams.release() }
        let put = try client.callJSON(Contract.portfolioPut.name, params: putParams)
        let id = put["id"]?.stringValue ?? ""
        put.release()
        return try assessHeld(id, keep: false, client)
    }

    /// Assesses a portfolio the engine holds, with these options; kept when `keep`. The result is the caller's.
    func assessHeld(_ id: String, keep: Bool, _ client: TwoSpeedClient) throws -> JSONRef {
        if let modelFile {
            let modelParams = JSONMake.object(["model": try parseJSON(try readInput(modelFile), what: modelFile)])
            defer { modelParams.release() }
            try client.callJSON(Contract.assessmentModelPut.name, params: modelParams).release()
        }
        let params = JSONMake.object(["portfolio": JSONMake.string(id), "keep": JSONMake.bool(keep)])
        defer { params.release() }
        if let model { params.set("model", JSONMake.string(model)) }
        if let asOf { params.set("asOf", JSONMake.string(asOf)) }
        if let answers { params.set("answers", try parseJSON(try readInput(answers), what: answers)) }
        return try client.callJSON(Contract.assessmentRun.name, params: params)
    }
}
