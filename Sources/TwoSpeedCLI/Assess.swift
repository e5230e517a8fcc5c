import ArgumentParser
import TwoSpeedClient
import TwoSpeedEngine
import TwoSpeedJSON

/// twospeed assess FILE
struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints the assessment of a portfolio file, in this process, on a store in memory.",
        discussion: """
            Loads FILE (a portfolio document; - reads standard input) into an engine in memory, runs \
            assessment.run and prints the dimension scores with their levels, the pitfalls found and the \
            recommendations in order. Nothing is written anywhere. With --json the whole result is printed \
            as JSON instead (scores with the facts and answers behind them, pitfalls, recommendations and \
            every analysis).
            """)

    @Argument(help: ArgumentHelp("The portfolio JSON file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Assess against this model (default twospeed-default).", valueName: "id"))
    var model: String?

    @Option(name: .customLong("model-file"), help: ArgumentHelp(
        "Load a custom assessment model from this JSON file first (see examples/models).", valueName: "file"))
    var modelFile: String?

    @Option(help: ArgumentHelp("Self-assessment answers: a JSON array of {criterion, score, evidence}.", valueName: "file"))
    var answers: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The date the assessment speaks for (YYYY-MM-DD).", valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp("A folder of plugin manifests to load (check plugins add their findings).", valueName: "dir"))
    var plugins: String?

    @Option(help: ArgumentHelp("Line width of the printed report.", valueName: "columns"))
    var width: Int = 100

    @Flag(help: "Print the whole result as JSON instead of the report.")
    var json = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if width < 40 || width > 400 { throw ValidationError("--width takes 40 to 400 columns") }
    }

    func run() throws {
        let document = try parseJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        defer { document.release() }
        let engine: Engine
        do { engine = try Engine(path: nil, plugins: plugins) } catch {
            throw TransportError(.unreachable, endpoint: "in-process :memory:", "cannot open an engine: \(error)")
        }
        let client = TwoSpeedClient(transport: InProcessTransport(engine: engine))
        let putParams = JSONMake.object(["portfolio": document.retained()])
        defer { putParams.release() }
        let put = try client.callJSON("portfolio.put", params: putParams)
        let id = put["id"]?.stringValue ?? ""
        put.release()
        if let modelFile {
            let m = try parseJSON(try readInput(modelFile), what: modelFile)
            let modelParams = JSONMake.object(["model": m])
            defer { modelParams.release() }
            try client.callJSON("assessment.model.put", params: modelParams).release()
        }
        let params = JSONMake.object(["portfolio": JSONMake.string(id), "keep": JSONMake.bool(false)])
        defer { params.release() }
        if let model { params.set("model", JSONMake.string(model)) }
        if let asOf { params.set("asOf", JSONMake.string(asOf)) }
        if let answers { params.set("answers", try parseJSON(try readInput(answers), what: answers)) }
        let result = try client.callJSON("assessment.run", params: params)
        defer { result.release() }
        if json {
            printJSON(result, compact: output.compact)
            return
        }
        let renderParams = JSONMake.object([
            "format": JSONMake.string("text"), "result": result.retained(), "width": JSONMake.int(width)])
        defer { renderParams.release() }
        let rendered = try client.callJSON("report.render", params: renderParams)
        defer { rendered.release() }
        print(rendered["content"]?.stringValue ?? "", terminator: "")
    }
}
