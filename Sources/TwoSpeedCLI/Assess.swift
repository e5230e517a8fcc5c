import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed assess FILE, or twospeed assess [--portfolio ID] with --socket or --db
struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints the assessment of a portfolio file (in this process, on a store in memory), or assesses and keeps a run of a portfolio the engine holds.",
        discussion: """
            Loads FILE (a portfolio document; - reads standard input) into an engine in memory, runs \
            assessment.run and prints the dimension scores with their levels, the pitfalls found and the \
            recommendations in order. Nothing is written anywhere. With --json the whole result is printed \
            as JSON instead (scores with the facts and answers behind them, pitfalls, recommendations and \
            every analysis).

            Without FILE, the portfolio the engine at --socket (default $TWOSPEED_SOCKET) or --db holds is \
            assessed (--portfolio, default $TWOSPEED_PORTFOLIO or the only one) and the run is kept for \
            `twospeed history`, `twospeed recommendations` and the report, unless --no-keep.
            """)

    @Argument(help: ArgumentHelp("The portfolio JSON file, or - for standard input.", valueName: "file"))
    var file: String?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .customLong("no-keep"), help: "Without FILE: assess the held portfolio without keeping the run.")
    var noKeep = false

    @OptionGroup var assessment: AssessmentOptions

    @Option(help: ArgumentHelp("Line width of the printed report.", valueName: "columns"))
    var width: Int = 100

    @Flag(help: "Print the whole result as JSON instead of the report.")
    var json = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if width < 40 || width > 400 { throw ValidationError("--width takes 40 to 400 columns") }
        if file != nil {
            if connection.socket != nil || connection.db != nil || portfolio.portfolio != nil {
                throw ValidationError("FILE is assessed in memory; --socket, --db and --portfolio assess a held portfolio instead")
            }
            if noKeep { throw ValidationError("--no-keep goes with a held portfolio: a FILE's run is never kept") }
        } else if assessment.plugins != nil {
            throw ValidationError("--plugins goes with FILE: a held portfolio is assessed with the engine's own plugins")
        }
    }

    func run() throws {
        let client: TwoSpeedClient
        let result: JSON
        if let file {
            let document = try readJSON(try readInput(file), what: file == "-" ? "standard input" : file)
            client = try assessment.client()
            // InProcessAssessment still hands a new jansson reference on: adopted here.
            result = try assessment.assess(document.view, client)
        } else {
            client = try connection.client()
            result = try assessment.assessHeld(try portfolio.resolve(client), keep: !noKeep, client)
        }
        if json {
            printJSON(result, compact: output.compact)
            return
        }
        let renderParams = try JSON.object([
            "format": JSON.string("text"), "result": result, "width": JSON.int(width)])
        let rendered = try client.callJSON("report.render", params: renderParams)
        printText(rendered["content"]?.stringValue ?? "")
    }
}
