import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedEngine
import TwoSpeedJSON

/// twospeed report FILE [-o OUT] [--format html|markdown|text] [--previous RESULT]
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the assessment report of a portfolio file or of an assessment result: HTML, Markdown or text.",
        discussion: """
            FILE is a portfolio document, assessed in this process on a store in memory as `twospeed assess` \
            does, or an assessment result as `twospeed assess --json` and assessment.run give it (told apart by \
            its fields); - reads standard input. The report goes to OUT, or to standard output without -o.

            The format is --format, or else OUT's extension: .html or .htm for one self-contained HTML page with \
            charts (it prints well), .md or .markdown for Markdown tables, anything else text. --previous names an \
            earlier result of the same model: the radar overlays it and the dimension table shows the change.
            """)

    @Argument(help: ArgumentHelp("A portfolio or an assessment result (JSON), or - for standard input.", valueName: "file"))
    var file: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp(
        "Write the report to this file (default: standard output).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("html, markdown or text (default: from the output file's extension, else text); with "
                               + "--plugins, a render plugin's format too.", valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("An earlier assessment result (JSON) to compare with.", valueName: "file"))
    var previous: String?

    @Option(help: ArgumentHelp("Assess a portfolio against this model (default twospeed-default).", valueName: "id"))
    var model: String?

    @Option(name: .customLong("model-file"), help: ArgumentHelp(
        "Load a custom assessment model from this JSON file first (see examples/models).", valueName: "file"))
    var modelFile: String?

    @Option(help: ArgumentHelp("Self-assessment answers for a portfolio: a JSON array of {criterion, score, evidence}.", valueName: "file"))
    var answers: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The date a portfolio's assessment speaks for (YYYY-MM-DD).", valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp("A folder of plugin manifests to load (check plugins add findings, render plugins formats).",
                               valueName: "dir"))
    var plugins: String?

    @Option(help: ArgumentHelp("Line width of the text report.", valueName: "columns"))
    var width: Int = 100

    static let builtInFormats = ["html", "markdown", "text"]

    func validate() throws {
        if width < 40 || width > 400 { throw ValidationError("--width takes 40 to 400 columns") }
        if let format, plugins == nil, !Report.builtInFormats.contains(format) {
            throw ValidationError("--format takes html, markdown or text (render plugins' formats with --plugins)")
        }
    }

    /// The format --format names, or else the one OUT's extension implies.
    static func format(for output: String?) -> String {
        guard let output, let dot = output.lastIndex(of: "."), !output[dot...].contains("/") else { return "text" }
        switch output[output.index(after: dot)...].lowercased() {
        case "html", "htm": return "html"
        case "md", "markdown": return "markdown"
        default: return "text"
        }
    }

    /// An assessment result has these fields; a portfolio has none of them.
    static func isResult(_ doc: JSONRef) -> Bool {
        doc["overall"] != nil && doc["dimensions"] != nil && doc["model"] != nil && doc["analyses"] != nil
    }

    func run() throws {
        let document = try parseJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        defer { document.release() }
        let engine: Engine
        do { engine = try Engine(path: nil, plugins: plugins) } catch {
            throw TransportError(.unreachable, endpoint: "in-process :memory:", "cannot open an engine: \(error)")
        }
        let client = TwoSpeedClient(transport: InProcessTransport(engine: engine))
        let result: JSONRef
        if Report.isResult(document) {
            for (option, given) in [("--model", model), ("--model-file", modelFile), ("--answers", answers), ("--as-of", asOf)] where given != nil {
                throw UsageError("\(option) assesses a portfolio, and \(file) is an assessment result")
            }
            result = document.retained()
        } else {
            result = try assess(document, client)
        }
        defer { result.release() }
        let params = JSONMake.object(["format": JSONMake.string(format ?? Report.format(for: output)), "result": result.retained(),
                                      "width": JSONMake.int(width)])
        defer { params.release() }
        if let previous {
            let earlier = try parseJSON(try readInput(previous), what: previous)
            guard Report.isResult(earlier) else {
                earlier.release()
                throw UsageError("\(previous) is not an assessment result (it has no overall, dimensions, model and analyses)")
            }
            params.set("previous", earlier)
        }
        let rendered = try client.callJSON("report.render", params: params)
        defer { rendered.release() }
        let content = rendered["content"]?.stringValue ?? ""
        if let output { try writeFile(content, to: output) } else { print(content, terminator: "") }
    }

    /// Puts the portfolio into the in-memory engine and assesses it, as `twospeed assess` does.
    func assess(_ document: JSONRef, _ client: TwoSpeedClient) throws -> JSONRef {
        let putParams = JSONMake.object(["portfolio": document.retained()])
        defer { putParams.release() }
        let put = try client.callJSON("portfolio.put", params: putParams)
        let id = put["id"]?.stringValue ?? ""
        put.release()
        if let modelFile {
            let modelParams = JSONMake.object(["model": try parseJSON(try readInput(modelFile), what: modelFile)])
            defer { modelParams.release() }
            try client.callJSON("assessment.model.put", params: modelParams).release()
        }
        let params = JSONMake.object(["portfolio": JSONMake.string(id), "keep": JSONMake.bool(false)])
        defer { params.release() }
        if let model { params.set("model", JSONMake.string(model)) }
        if let asOf { params.set("asOf", JSONMake.string(asOf)) }
        if let answers { params.set("answers", try parseJSON(try readInput(answers), what: answers)) }
        return try client.callJSON("assessment.run", params: params)
    }

    /// Writes the whole report, replacing the file (created with mode 0644 less the umask).
    func writeFile(_ content: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = Array(content.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}
