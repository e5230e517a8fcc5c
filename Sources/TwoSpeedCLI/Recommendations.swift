import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed recommendations [--run N]
struct Recommendations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lists the recommendations of a portfolio's latest kept run (or --run N), in order.",
        discussion: """
            Reads a kept assessment run (assessment.get; the latest when --run is not given) and prints its \
            recommendations in rank order: the expected gain on the overall score, the effort (1 to 5), the \
            title and the subjects it names. --why adds each one's action and reason. --json prints the \
            recommendations as JSON. A portfolio with no kept run is an error: keep one with \
            `twospeed assess --portfolio ID`.

            Examples:
              twospeed recommendations
              twospeed recommendations --portfolio retailer --run 3 --why
            """)

    @Option(name: .customLong("run"), help: ArgumentHelp("The kept run (default: the latest).", valueName: "n"))
    var keptRun: Int?

    @Flag(help: "Print each recommendation's action and reason under it.")
    var why = false

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if let keptRun, keptRun < 1 { throw ValidationError("--run counts from 1") }
    }

    func run() throws {
        let client = try connection.client()
        let id = try portfolio.resolve(client)
        let result = try keptResult(client, portfolio: id, run: keptRun)
        let recommendations = result["recommendations"]
        if display.json {
            guard let recommendations else { return print("[]") }
            return printJSON(recommendations, compact: display.compact)
        }
        printHeading("\(id), run \(cellValue(result["run"])) of \(cellValue(result["at"])) (data as of \(cellValue(result["asOf"]))), "
                     + "model \(cellValue(result["model"]?["id"]))")
        let items = recommendations?.elements ?? []
        if items.isEmpty { printHeading("No recommendations."); return }
        if why && standardOutputIsTerminal {
            for r in items {
                print("\(cellValue(r["rank"])). \(cellValue(r["title"]))  (gain +\(cellValue(r["expectedGain"])), effort \(cellValue(r["effort"])))")
                print("   do:  \(cellValue(r["action"]))")
                print("   why: \(cellValue(r["why"]))")
            }
            return
        }
        let rows = items.map { r in
            [cellValue(r["rank"]), "+" + cellValue(r["expectedGain"]), cellValue(r["effort"]), cellValue(r["title"]),
             (r["subjects"]?.elements ?? []).compactMap { $0["id"]?.stringValue }.map(cell).joined(separator: ",")]
                + (why ? [cellValue(r["action"]), cellValue(r["why"])] : [])
        }
        printTable(["rank", "gain", "effort", "title", "subjects"] + (why ? ["action", "why"] : []), rows)
    }
}

/// A kept run's result: run N, or the latest when nil (assessment.get without run).
func keptResult(_ client: TwoSpeedClient, portfolio: String, run: Int?) throws -> JSON {
    let params = try JSON.object(["portfolio": JSON.string(portfolio)])
    if let run { try params.set("run", JSON.int(run)) }
    return try client.callJSON("assessment.get", params: params)
}
