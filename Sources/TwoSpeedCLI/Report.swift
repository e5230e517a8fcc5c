import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed report FILE [-o OUT] [--format html|markdown|text] [--previous RESULT], or
/// twospeed report --portfolio ID [--run N] --socket PATH|--db PATH [-o OUT] ...
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the assessment report of a portfolio (a file, or one the engine holds) or of a result: HTML, Markdown or text.",
        discussion: """
            FILE is a portfolio document, assessed in this process on a store in memory as `twospeed assess` \
            does, or an assessment result as `twospeed assess --json` and assessment.run give it (told apart by \
            its fields); - reads standard input. The report goes to OUT, or to standard output without -o.

            --portfolio ID instead reports a portfolio where it lives: held by the daemon at --socket (default \
            $TWOSPEED_SOCKET) or in the store at --db. The report is of its latest kept run (or --run N), \
            compared with the kept run before it, with the trend of every kept run of the model up to it \
            (HTML: a line chart; Markdown: a table); a portfolio with no kept run is assessed afresh.

            The format is --format, or else OUT's extension: .html or .htm for one self-contained HTML page with \
            charts (it prints well), .md or .markdown for Markdown tables, .txt, .text or none for text; any \
            other extension is an error unless --format is given. --previous names an \
            earlier result of the same model: the radar overlays it and the dimension table shows the change.
            """)

    @Argument(help: ArgumentHelp("A portfolio or an assessment result (JSON), or - for standard input.", valueName: "file"))
    var file: String?

    @Option(help: ArgumentHelp("Instead of FILE: a portfolio held by the engine at --socket or --db.", valueName: "id"))
    var portfolio: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("With --portfolio: the kept run to report (default: the latest).", valueName: "n"))
    var keptRun: Int?

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp(
        "Write the report to this file (default: standard output).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("html, markdown or text (default: from the output file's extension, else text); with "
                               + "--plugins, a render plugin's format too.", valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("An earlier assessment result (JSON) to compare with.", valueName: "file"))
    var previous: String?

    @OptionGroup var assessment: AssessmentOptions

    @Option(help: ArgumentHelp("Line width of the text report.", valueName: "columns"))
    var width: Int = 100

    static let builtInFormats = ["html", "markdown", "text"]

    func validate() throws {
        if width < 40 || width > 400 { throw ValidationError("--width takes 40 to 400 columns") }
        switch (file, portfolio) {
        case (nil, nil): throw ValidationError("give FILE, or --portfolio ID with --socket or --db")
        case (.some, .some): throw ValidationError("give FILE or --portfolio, not both")
        case (.some, nil):
            if connection.socket != nil || connection.db != nil { throw ValidationError("--socket and --db go with --portfolio") }
            if keptRun != nil { throw ValidationError("--run goes with --portfolio") }
        case (nil, .some):
            for (option, given) in assessment.portfolioOnly + [("--plugins", assessment.plugins)] where given != nil {
                throw ValidationError("\(option) assesses a file; with --portfolio the engine's own kept runs are reported")
            }
            if let keptRun, keptRun < 1 { throw ValidationError("--run counts from 1") }
        }
        if let format, assessment.plugins == nil, !Report.builtInFormats.contains(format) {
            throw ValidationError("--format takes html, markdown or text (render plugins' formats with --plugins)")
        }
    }

    /// The formats an output file's extension names; no extension (or standard output) means text.
    static let extensions: [(ext: String, format: String)] = [
        ("html", "html"), ("htm", "html"), ("md", "markdown"), ("markdown", "markdown"), ("txt", "text"), ("text", "text"),
    ]

    /// The format OUT's extension implies: text without an extension; an extension that names no format
    /// is wrong usage, so that `-o report.pdf` does not quietly write text into a .pdf.
    static func format(for output: String?) throws -> String {
        guard let output, let dot = output.lastIndex(of: "."), !output[dot...].contains("/"),
              output.index(after: dot) < output.endIndex else { return "text" }
        let ext = output[output.index(after: dot)...].lowercased()
        if let known = extensions.first(where: { $0.ext == ext }) { return known.format }
        let list = extensions.map { ".\($0.ext) (\($0.format))" }.joined(separator: ", ")
        throw UsageError("\(output): the extension .\(ext) names no report format; known: \(list); "
                         + "or give --format html|markdown|text")
    }

    /// An assessment result has these fields; a portfolio has none of them.
    static func isResult(_ doc: JSON) -> Bool {
        doc["overall"] != nil && doc["dimensions"] != nil && doc["model"] != nil && doc["analyses"] != nil
    }

    func run() throws {
        let chosenFormat = try format ?? Report.format(for: output)   // before any work: a wrong -o fails at once
        guard let file else { return try renderHeld(portfolio ?? "", format: chosenFormat) }
        let document = try readJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        let client = try assessment.client()
        let result: JSON
        if Report.isResult(document) {
            for (option, given) in assessment.portfolioOnly where given != nil {
                throw UsageError("\(option) assesses a portfolio, and \(file) is an assessment result")
            }
            result = document
        } else {
            // InProcessAssessment still hands a new jansson reference on: adopted here.
            result = try assessment.assess(document.view, client)
        }
        let params = try JSON.object(["format": JSON.string(chosenFormat), "result": result,
                                      "width": JSON.int(width)])
        if let previous {
            let earlier = try readJSON(try readInput(previous), what: previous)
            guard Report.isResult(earlier) else {
                throw UsageError("\(previous) is not an assessment result (it has no overall, dimensions, model and analyses)")
            }
            try params.set("previous", earlier)
        }
        try write(try client.callJSON("report.render", params: params))
    }

    /// The report of a portfolio the engine holds: report.render with the portfolio (and run), so that the
    /// engine picks the kept runs to compare with and to draw the trend from.
    func renderHeld(_ id: String, format: String) throws {
        let client = try connection.client()
        let params = try JSON.object(["format": JSON.string(format), "portfolio": JSON.string(id), "width": JSON.int(width)])
        if let keptRun { try params.set("run", JSON.int(keptRun)) }
        if let previous {
            let earlier = try readJSON(try readInput(previous), what: previous)
            guard Report.isResult(earlier) else {
                throw UsageError("\(previous) is not an assessment result (it has no overall, dimensions, model and analyses)")
            }
            try params.set("previous", earlier)
        }
        try write(try client.callJSON("report.render", params: params))
    }

    /// Writes a report.render result's content to OUT or standard output.
    func write(_ rendered: JSON) throws {
        let content = rendered["content"]?.stringValue ?? ""
        if let output { try writeFile(content, to: output) } else { printText(content) }
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
