import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedJSON

// What the commands for people share: the portfolio they work on, the kind of entity named on the
// command line, and tables that read well on a terminal and split cleanly in a pipe (as gh prints them).

/// --portfolio, defaulting to $TWOSPEED_PORTFOLIO, else to the only portfolio the engine holds.
struct PortfolioOption: ParsableArguments {
    @Option(name: [.customShort("p"), .long], help: ArgumentHelp(
        "The portfolio (default: $TWOSPEED_PORTFOLIO, else the only one the engine holds).", valueName: "id"))
    var portfolio: String?

    func resolve(_ client: TwoSpeedClient) throws -> String {
        if let portfolio { return portfolio }
        if let id = environment("TWOSPEED_PORTFOLIO"), !id.isEmpty { return id }
        let list = try client.callJSON("portfolio.list")
        let ids = (list["portfolios"]?.elements ?? []).compactMap { $0["id"]?.stringValue }
        switch ids.count {
        case 1: return ids[0]
        case 0: throw UsageError("the engine holds no portfolio: put one first (twospeed import, or portfolio.put)")
        default:
            throw UsageError("the engine holds \(ids.count) portfolios: give --portfolio ID or set TWOSPEED_PORTFOLIO "
                             + "(one of: \(ids.prefix(10).joined(separator: ", "))\(ids.count > 10 ? ", ..." : ""))")
        }
    }
}

/// How the commands for people print: a table (or text) for people, JSON with --json.
struct DisplayOptions: ParsableArguments {
    @Flag(help: "Print the engine's result as JSON (stable, for jq) instead of a table.")
    var json = false

    @Flag(help: "With --json: print JSON on one line instead of indented.")
    var compact = false
}

/// A kind of entity as people type it: singular or plural ("product", "products").
struct KindArgument: ExpressibleByArgument {
    static let kinds = ["department", "journey", "product", "manager", "team", "system", "metric", "okr", "experiment"]
    let kind: String

    init?(argument: String) {
        let word = argument.lowercased()
        guard let k = KindArgument.kinds.first(where: { word == $0 || word == $0 + "s" }) else { return nil }
        kind = k
    }

    static var allValueStrings: [String] { kinds.map { $0 + "s" } }
}

/// Text as one table cell or line: control characters (a terminal's escape sequences among them) are
/// shown escaped, never sent to the terminal, and tabs and line ends cannot break the columns.
func cell(_ text: String) -> String { ControlEscape.escaped(text) }

/// A member's value as a cell: "-" when absent, a list's length, numbers without a needless ".0".
func cellValue(_ value: JSONView?) -> String {
    guard let value else { return "-" }
    switch value.kind {
    case .null: return "-"
    case .string: return cell(value.stringValue ?? "")
    case .array: return String(value.count)
    case .object: return "{\(value.count)}"
    case .bool: return value.boolValue == true ? "yes" : "no"
    case .integer: return value.intValue.map { String($0) } ?? "-"
    case .real: return value.doubleValue.map(number) ?? "-"
    }
}

/// A number as people read it: integers without a fraction, others with at most two decimals.
func number(_ d: Double) -> String {
    let r = (d * 100).rounded() / 100
    if r == r.rounded() && abs(r) < 1e15 { return String(Int64(r)) }
    return String(r)
}

/// A member by a dotted path ("delivery.deploysPerMonth").
func member(_ value: JSONView, _ path: String) -> JSONView? {
    var v: JSONView? = value
    for part in path.split(separator: ".") { v = v?[String(part)] }
    return v
}

let standardOutputIsTerminal = isatty(1) == 1

/// Prints rows under headers: aligned columns with the headers on a terminal; tab-separated rows and no
/// header in a pipe, so that `cut -f2` and `while read` work.
func printTable(_ headers: [String], _ rows: [[String]]) {
    guard standardOutputIsTerminal else {
        for row in rows { print(row.joined(separator: "\t")) }
        return
    }
    var widths = headers.map(\.count)
    for row in rows { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        var parts: [String] = []
        for (i, c) in cells.enumerated() {
            parts.append(i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0))
        }
        return parts.joined(separator: "  ")
    }
    print(line(headers.map { $0.uppercased() }))
    for row in rows { print(line(row)) }
}

/// A line for people only: shown on a terminal, left out of a pipe (where only the rows go).
func printHeading(_ text: String) {
    if standardOutputIsTerminal { print(cell(text)) }
}
