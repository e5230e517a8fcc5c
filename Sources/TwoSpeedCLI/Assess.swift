import ArgumentParser
import TwoSpeedClient
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

    @OptionGroup var assessment: AssessmentOptions

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
        let client = try assessment.client()
        let result = try assessment.assess(document, client)
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
        printText(rendered["content"]?.stringValue ?? "")
    }
}
