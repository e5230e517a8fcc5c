import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed metrics [--system ID] [--days N] [--windows N] [--until TIME]
struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints DORA's four keys of each system from the recorded deployments and incidents.",
        discussion: """
            Reads delivery.metrics: for each window (the --days before --until, default the 90 days before \
            now; --windows such windows back, newest first) and each system with events, its deployments, \
            deploys a month, median lead time, change failure rate and median recovery time, with the speed \
            tier and stability label they point to (DORA 2024's clusters). A label that disagrees with its \
            keys one by one is explained on a terminal, under the table. --json prints the delivery.metrics \
            result. Events come in with `twospeed import --from deployments|incidents|fourkeys`.

            Examples:
              twospeed metrics
              twospeed metrics --system web-checkout --days 30 --windows 6
              twospeed metrics --until 2026-12-01T00:00:00Z --portfolio retailer
            """)

    @Option(help: ArgumentHelp("Only this system.", valueName: "id"))
    var system: String?

    @Option(help: ArgumentHelp("Days a window spans (default 90).", valueName: "n"))
    var days: Int?

    @Option(help: ArgumentHelp("How many windows back from --until (default 1).", valueName: "n"))
    var windows: Int?

    @Option(help: ArgumentHelp("The end of the newest window, an RFC 3339 time or a date (default now).", valueName: "time"))
    var until: String?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if let days, days < 1 { throw ValidationError("--days counts from 1") }
        if let windows, windows < 1 { throw ValidationError("--windows counts from 1") }
    }

    func run() throws {
        let client = try connection.client()
        let params = try JSON.object(["portfolio": .string(try portfolio.resolve(client))])
        if let system { try params.set("system", string: system) }
        if let days { try params.set("days", int: days) }
        if let windows { try params.set("windows", int: windows) }
        if let until { try params.set("until", string: until) }
        let result = try client.callJSON("delivery.metrics", params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        var rows: [[String]] = []
        var notes: [String] = []
        for w in result["windows"]?.elements ?? [] {
            let window = String((w["from"]?.stringValue ?? "").prefix(10)) + ".." + String((w["to"]?.stringValue ?? "").prefix(10))
            for s in w["systems"]?.elements ?? [] {
                let rate = s["changeFailureRate"]?.doubleValue.map { number($0 * 100) + "%" } ?? "-"
                rows.append([window, cellValue(s["system"]), cellValue(s["deployments"]), cellValue(s["deploysPerMonth"]),
                             cellValue(s["leadTimeHours"]), rate, cellValue(s["recoveryHours"]), cellValue(s["tier"]),
                             cellValue(s["stability"])])
            }
            for n in w["labelNotes"]?.elements ?? [] {
                for t in n["notes"]?.elements ?? [] { notes.append(window + " " + cellValue(n["system"]) + ": " + cellValue(t)) }
            }
        }
        if rows.isEmpty {
            printHeading("No deployments or incidents recorded in the window: `twospeed import --from deployments` records them.")
            return
        }
        printTable(["window", "system", "deployments", "deploys/month", "lead time h", "change failure", "recovery h", "tier", "stability"], rows)
        if !notes.isEmpty {
            printHeading("")
            for n in notes { printHeading("note: " + n) }
        }
    }
}
