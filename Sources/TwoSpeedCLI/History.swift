import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed history
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lists a portfolio's kept assessment runs: when each was made, the date its data speaks for, its scores.",
        discussion: """
            One row per kept run (assessment.history): its number, when it was made, the date its data speaks \
            for (asOf), the model, the overall score and level, and the score of each dimension. --json prints \
            the assessment.history result. `twospeed diff A B` compares two runs.
            """)

    @Option(help: ArgumentHelp("Only runs of this model.", valueName: "id"))
    var model: String?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let client = try connection.client()
        let params = try JSON.object(["portfolio": .string(try portfolio.resolve(client))])
        if let model { try params.set("model", string: model) }
        let result = try client.callJSON("assessment.history", params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        let runs = result["runs"]?.elements ?? []
        if runs.isEmpty { printHeading("No kept runs: `twospeed assess --portfolio ID` keeps one."); return }
        // The dimensions in the order the first run lists them, so that every row has the same columns.
        let dimensions = runs[0]["dimensions"]?.keys ?? []
        let rows = runs.map { r in
            [cellValue(r["run"]), cellValue(r["at"]), cellValue(r["asOf"]), cellValue(r["model"]),
             cellValue(r["overall"]?["score"]), cellValue(r["overall"]?["levelName"])]
                + dimensions.map { cellValue(r["dimensions"]?[$0]) }
        }
        printTable(["run", "made", "as of", "model", "overall", "level"] + dimensions, rows)
    }
}

/// twospeed diff A B
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compares two kept runs: each score's change, and the pitfalls resolved and new between them.",
        discussion: """
            A and B are kept run numbers (twospeed history lists them); without them, the last two runs. \
            Prints the overall score and each dimension's from A to B with its change and level, then the \
            pitfalls resolved and the pitfalls new in B. --json prints assessment.history's change.

            Examples:
              twospeed diff
              twospeed diff 1 4 --portfolio retailer
            """)

    @Argument(help: ArgumentHelp("The earlier run.", valueName: "a"))
    var from: Int?

    @Argument(help: ArgumentHelp("The later run.", valueName: "b"))
    var to: Int?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if (from == nil) != (to == nil) { throw ValidationError("give two runs, or none for the last two") }
        if let from, from < 1 { throw ValidationError("runs count from 1") }
        if let to, to < 1 { throw ValidationError("runs count from 1") }
    }

    func run() throws {
        let client = try connection.client()
        let id = try portfolio.resolve(client)
        let params = try JSON.object(["portfolio": .string(id)])
        if let from, let to {
            let compare = try JSON.array()
            try compare.append(.int(from))
            try compare.append(.int(to))
            try params.set("compare", compare)
        }
        let result = try client.callJSON("assessment.history", params: params)
        guard let change = result["change"] else {
            throw UsageError("\(id) has fewer than two kept runs to compare")
        }
        if display.json { return printJSON(change, compact: display.compact) }
        printHeading("\(id): run \(cellValue(change["from"])) to run \(cellValue(change["to"]))")
        func row(_ d: JSONView) -> [String] {
            let delta = d["delta"]?.doubleValue
            return [cellValue(d["id"]), cellValue(d["from"]), cellValue(d["to"]),
                    delta.map { ($0 > 0 ? "+" : "") + number($0) } ?? "-",
                    "\(cellValue(d["levelFrom"])) -> \(cellValue(d["levelTo"]))"]
        }
        var rows: [[String]] = []
        if let overall = change["overall"] { rows.append(row(overall)) }
        for d in change["dimensions"]?.elements ?? [] { rows.append(row(d)) }
        printTable(["dimension", "from", "to", "change", "level"], rows)
        for (key, label) in [("pitfallsResolved", "resolved"), ("pitfallsNew", "new")] {
            let items = change[key]?.elements ?? []
            if standardOutputIsTerminal {
                print("")
                print("Pitfalls \(label): " + (items.isEmpty ? "none" : ""))
                for p in items { print("  \(Diff.pitfall(p))") }
            } else {
                for p in items { print("\(label)\t\(Diff.pitfall(p))") }
            }
        }
    }

    /// A pitfall of a change, by its name and id when it has them.
    static func pitfall(_ p: JSONView) -> String {
        if p.isString { return cellValue(p) }
        let name = p["name"]?.stringValue ?? p["pitfall"]?.stringValue ?? p["id"]?.stringValue ?? "?"
        let subjects = (p["subjects"]?.elements ?? []).compactMap { $0["id"]?.stringValue ?? $0.stringValue }
        return cell(name) + (subjects.isEmpty ? "" : " (\(subjects.map(cell).joined(separator: ", ")))")
    }
}
