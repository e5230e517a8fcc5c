import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed observe METRIC VALUE [--at TIME] [--source TEXT]
struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Records one observation of a metric: its value, when it was measured and where it came from.",
        discussion: """
            Appends to the metric's observations (metric.observe) and prints how many it holds now. --at is a \
            date (YYYY-MM-DD) or a timestamp (2026-11-30T09:00:00Z); without it, now (UTC).

            Examples:
              twospeed observe front-page-conversion 2.6 --at 2026-11-30 --source "web analytics"
              twospeed observe nps 42 --portfolio retailer
            """)

    @Argument(help: ArgumentHelp("The metric's id.", valueName: "metric"))
    var metric: String

    @Argument(help: ArgumentHelp("The value measured.", valueName: "value"))
    var value: Double

    @Option(help: ArgumentHelp("When it was measured: a date or a timestamp (default: now, UTC).", valueName: "time"))
    var at: String?

    @Option(help: ArgumentHelp("Where the value came from (a survey, a tool).", valueName: "text"))
    var source: String?

    @Option(name: .customLong("if-revision"), help: ArgumentHelp("Record only if the portfolio is at this revision.", valueName: "n"))
    var ifRevision: Int?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if !value.isFinite { throw ValidationError("the value must be a finite number") }
    }

    func run() throws {
        let client = try connection.client()
        let observation = try JSON.object(["at": JSON.string(at ?? Observe.now()), "value": JSON.double(value)])
        if let source { try observation.set("source", JSON.string(source)) }
        let observations = try JSON.array()
        try observations.append(observation)
        let params = try JSON.object(["portfolio": JSON.string(try portfolio.resolve(client)),
                                      "metric": JSON.string(metric), "observations": observations])
        if let ifRevision { try params.set("ifRevision", JSON.int(ifRevision)) }
        let result = try client.callJSON("metric.observe", params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        print("\(cellValue(result["metric"])): \(cellValue(result["total"])) observations (revision \(cellValue(result["revision"])))")
    }

    /// The current time as a UTC timestamp, to the second.
    static func now() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// twospeed delete KIND ID
struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deletes an entity of a portfolio, or a whole portfolio.",
        discussion: """
            `twospeed delete product ID` removes one entity (entity.remove; refused, with what still refers to \
            it, while other entities name it). `twospeed delete portfolio ID` deletes the portfolio with its \
            kept runs and delivery events (portfolio.delete), and asks for --yes. Prints the new revision.

            Examples:
              twospeed delete experiment exp-checkout-onepage --portfolio retailer
              twospeed delete portfolio old-shop --yes
            """)

    @Argument(help: ArgumentHelp("portfolio, or a kind of entity (product, system, ...).", valueName: "kind"))
    var kind: String

    @Argument(help: ArgumentHelp("The id of what to delete.", valueName: "id"))
    var id: String

    @Flag(help: "Delete a whole portfolio without asking (it is required for a portfolio).")
    var yes = false

    @Option(name: .customLong("if-revision"), help: ArgumentHelp("Delete only if the portfolio is at this revision.", valueName: "n"))
    var ifRevision: Int?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    var wholePortfolio: Bool { kind.lowercased() == "portfolio" }

    func validate() throws {
        if wholePortfolio {
            if portfolio.portfolio != nil { throw ValidationError("delete portfolio ID takes the portfolio as ID, not --portfolio") }
            if !yes { throw ValidationError("deleting a portfolio deletes its kept runs and delivery events too: add --yes") }
        } else if KindArgument(argument: kind) == nil {
            throw ValidationError("no kind \(kind); one of: portfolio, \(KindArgument.kinds.joined(separator: ", "))")
        }
    }

    func run() throws {
        let client = try connection.client()
        let params: JSON
        let method: String
        if wholePortfolio {
            method = "portfolio.delete"
            params = try JSON.object(["id": JSON.string(id)])
        } else {
            method = "entity.remove"
            params = try JSON.object(["portfolio": JSON.string(try portfolio.resolve(client)),
                                      "kind": JSON.string(KindArgument(argument: kind)!.kind), "id": JSON.string(id)])
        }
        if let ifRevision { try params.set("ifRevision", JSON.int(ifRevision)) }
        let result = try client.callJSON(method, params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        print("deleted \(wholePortfolio ? "portfolio" : KindArgument(argument: kind)!.kind) \(cell(id))"
              + (result["revision"].map { " (revision \(cellValue($0)))" } ?? ""))
    }
}
