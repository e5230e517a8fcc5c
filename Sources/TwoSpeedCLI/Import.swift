import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed import FILE
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Puts a portfolio file into the engine (portfolio.put), replacing one with the same id.",
        discussion: """
            FILE holds one portfolio document as JSON (see examples/portfolios/retailer.json); "-" reads \
            standard input. The engine validates it: every failure is listed with its JSON pointer, and \
            nothing is stored (exit status 1). On success the result (id, revision, counts) is printed.
            """)

    @Argument(help: ArgumentHelp("The portfolio JSON file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(name: .customLong("if-revision"), help: ArgumentHelp(
        "Store only if the stored portfolio is at this revision (0: only if it is new).", valueName: "n"))
    var ifRevision: Int?

    @Option(name: .customLong("from"), help: ArgumentHelp(
        "What FILE holds: json (a portfolio document, the default), or deployments or incidents (delivery events "
            + "as JSON Lines or CSV, recorded with delivery.record: one event a line as delivery.record takes it, or CSV "
            + "columns id,system,time,failed,changes (changes: changeId@commitTime;...) and id,system,started,resolved,cause; "
            + "every bad record is reported as FILE:LINE[:COLUMN] and skipped, exit status 1; a file over 6 MiB goes in "
            + "several calls, one transaction each, unless --atomic).", valueName: "kind"))
    var from: String = "json"

    @OptionGroup var delivery: DeliveryImportOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        if DeliveryImport.kinds.contains(from) {
            return try DeliveryImport.run(kind: from, file: file, options: delivery, connection: connection, output: output)
        }
        guard from == "json" else { throw UsageError("--from takes json, deployments or incidents, not \(from)") }
        let document = try parseJSON(try readInput(file), what: file == "-" ? "standard input" : file)
        defer { document.release() }
        let params = JSONMake.object(["portfolio": document.retained()])
        if let ifRevision { params.set("ifRevision", JSONMake.int(ifRevision)) }
        defer { params.release() }
        let client = try connection.client()
        let result = try client.callJSON("portfolio.put", params: params)
        defer { result.release() }
        printJSON(result, compact: output.compact)
    }
}
