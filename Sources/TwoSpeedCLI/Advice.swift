import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed advice history|dismiss|reopen|outcomes
struct AdviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advice",
        abstract: "Follows advice across kept runs: its history, dismissals, and what moved once it was acted on.",
        discussion: """
            Every recommendation carries a key that stays the same while the situation behind it does. \
            `twospeed advice history` lists each key's status across the kept runs (open, resolved, dismissed, \
            regressed, obsolete, superseded, model-changed); `dismiss KEY --reason TEXT` and `reopen KEY` mark advice \
            that will not be acted on; `outcomes` shows, for resolved advice, how the measures it aims at \
            moved (an association, not a cause).

            Examples:
              twospeed advice history
              twospeed advice dismiss 'siloed-objectives:okr-it-cost:1355d956fa02' --reason 'IT cost is a board target'
              twospeed advice outcomes --portfolio retailer
            """,
        subcommands: [AdviceHistoryCommand.self, AdviceDismissCommand.self, AdviceReopenCommand.self, AdviceOutcomesCommand.self])
}

/// Calls `method` on the chosen portfolio with the extra params.
func callOnPortfolio(_ method: String, _ portfolio: PortfolioOption, _ connection: ConnectionOptions,
                     _ extra: [String: JSON] = [:]) throws -> (JSON, String) {
    let client = try connection.client()
    let id = try portfolio.resolve(client)
    let params = try JSON.object(["portfolio": JSON.string(id)])
    for (k, v) in extra { try params.set(k, v) }
    return (try client.callJSON(method, params: params), id)
}

struct AdviceHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "One row per piece of advice: key, status now, first and last run given, its status in each run, title.",
        discussion: "--json prints the recommendation.history result.")

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (result, id) = try callOnPortfolio("recommendation.history", portfolio, connection)
        if display.json { return printJSON(result, compact: display.compact) }
        let c = result["counts"]
        printHeading("\(id): \(cellValue(c?["open"])) open, \(cellValue(c?["resolved"])) resolved (acted on), "
                     + "\(cellValue(c?["dismissed"])) dismissed, \(cellValue(c?["regressed"])) regressed, "
                     + "\(cellValue(c?["obsolete"])) obsolete, \(cellValue(c?["superseded"])) superseded, "
                     + "\(cellValue(c?["modelChanged"])) model-changed")
        let items = result["advice"]?.elements ?? []
        if items.isEmpty { printHeading("No advice yet: `twospeed assess` keeps a run."); return }
        let rows = items.map { a in
            [cellValue(a["key"]), cellValue(a["status"]), cellValue(a["firstRun"]), cellValue(a["lastRun"]),
             (a["runs"]?.elements ?? []).map { "\(cellValue($0["run"])):\(cellValue($0["status"]))" }.joined(separator: ","),
             cellValue(a["title"])]
        }
        printTable(["key", "status", "first", "last", "runs", "title"], rows)
    }
}

struct AdviceDismissCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dismiss",
        abstract: "Dismisses a piece of advice with a reason: shown in the history, never counted as acted on.")

    @Argument(help: ArgumentHelp("The advice's key (twospeed advice history lists them).", valueName: "key"))
    var key: String

    @Option(help: ArgumentHelp("Why it is dismissed.", valueName: "text"))
    var reason: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (result, _) = try callOnPortfolio("recommendation.dismiss", portfolio, connection,
                                              ["key": try JSON.string(key), "reason": try JSON.string(reason)])
        if display.json { return printJSON(result, compact: display.compact) }
        print(cell("dismissed \(key) (by \(cellValue(result["by"])) at \(cellValue(result["at"])))"))
    }
}

struct AdviceReopenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Undoes a dismissal.")

    @Argument(help: ArgumentHelp("The advice's key.", valueName: "key"))
    var key: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (result, _) = try callOnPortfolio("recommendation.reopen", portfolio, connection, ["key": try JSON.string(key)])
        if display.json { return printJSON(result, compact: display.compact) }
        print(cell("reopened \(key)"))
    }
}

struct AdviceOutcomesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcomes",
        abstract: "For resolved advice, each measure it aims at before against after: the level shift with its 95% interval.",
        discussion: """
            One row per resolved piece of advice and measure: the key, the run that resolved it, the series \
            (a metric, a system's four key, or a dimension), the estimated shift and its interval, whether it \
            improved, or "insufficient data". An association, not a cause. --json prints the \
            recommendation.outcomes result.
            """)

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (result, id) = try callOnPortfolio("recommendation.outcomes", portfolio, connection)
        if display.json { return printJSON(result, compact: display.compact) }
        let items = result["outcomes"]?.elements ?? []
        printHeading("\(id): \(items.count) outcome\(items.count == 1 ? "" : "s") of resolved advice (associations, not causes)")
        let rows = items.map { o in
            [cellValue(o["key"]), cellValue(o["resolvedAt"]), cellValue(o["source"]) + ":" + cellValue(o["series"]), cellValue(o["measure"]),
             cellValue(o["status"]), cellValue(o["estimate"]?["shift"]), cellValue(o["estimate"]?["low"]), cellValue(o["estimate"]?["high"]),
             cellValue(o["improved"]), cellValue(o["modelChange"])]
        }
        printTable(["key", "resolved at", "series", "measure", "status", "shift", "low", "high", "improved", "model change"], rows)
    }
}

/// twospeed campaign list|show|put|delete
struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Campaigns: a manager drives advice to resolution in a scope by a target date.",
        discussion: """
            Examples:
              twospeed campaign put integrate --name 'Integrate what we bought' --owner pm-front \\
                  --pitfall looking-outside-for-speed --department marketing --start 2026-01-01 --target 2026-06-30
              twospeed campaign list
              twospeed campaign show integrate
              twospeed campaign delete integrate
            """,
        subcommands: [CampaignListCommand.self, CampaignShowCommand.self, CampaignPutCommand.self, CampaignDeleteCommand.self])
}

struct CampaignListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "One row per campaign: id, name, owner, status, resolved of in scope, progress, target.")

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (result, _) = try callOnPortfolio("campaign.list", portfolio, connection)
        if display.json { return printJSON(result, compact: display.compact) }
        let rows = (result["campaigns"]?.elements ?? []).map { r in
            [cellValue(r["campaign"]?["id"]), cellValue(r["campaign"]?["name"]), cellValue(r["campaign"]?["owner"]), cellValue(r["status"]),
             "\(cellValue(r["resolved"]))/\(cellValue(r["inScope"]))", cellValue(r["progress"]), cellValue(r["campaign"]?["target"])]
        }
        printTable(["id", "name", "owner", "status", "resolved", "progress", "target"], rows)
    }
}

struct CampaignShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A campaign's status, progress overall and per rule, its advice and its burn-up.")

    @Argument(help: ArgumentHelp("The campaign's id.", valueName: "id"))
    var id: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (r, _) = try callOnPortfolio("campaign.get", portfolio, connection, ["id": try JSON.string(id)])
        if display.json { return printJSON(r, compact: display.compact) }
        let c = r["campaign"]
        print(cell("\(cellValue(c?["id"])): \(cellValue(c?["name"])), owner \(cellValue(c?["owner"])), "
                   + "\(cellValue(c?["start"])) to \(cellValue(c?["target"]))"))
        print(cell("status: \(cellValue(r["status"])); resolved \(cellValue(r["resolved"])) of \(cellValue(r["inScope"])) in scope; progress \(cellValue(r["progress"]))"))
        for n in r["notes"]?.elements ?? [] { print(cell("note: \(cellValue(n))")) }
        for x in r["byRule"]?.elements ?? [] {
            print(cell("rule \(cellValue(x["rule"])): \(cellValue(x["resolved"]))/\(cellValue(x["inScope"]))"))
        }
        for a in r["advice"]?.elements ?? [] { print(cell("advice \(cellValue(a["key"])): \(cellValue(a["status"]))")) }
        for p in r["burnUp"]?.elements ?? [] {
            print(cell("run \(cellValue(p["run"])): \(cellValue(p["resolved"]))/\(cellValue(p["inScope"])) resolved"))
        }
    }
}

struct CampaignPutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Stores a campaign (replacing the one with the same id).",
        discussion: "Without scope options the campaign covers the whole portfolio. Give at least one --pitfall or --key.")

    @Argument(help: ArgumentHelp("The campaign's id.", valueName: "id"))
    var id: String
    @Option(help: ArgumentHelp("Its name.", valueName: "text")) var name: String
    @Option(help: ArgumentHelp("The manager who owns it.", valueName: "manager")) var owner: String
    @Option(help: ArgumentHelp("The start date.", valueName: "yyyy-mm-dd")) var start: String
    @Option(help: ArgumentHelp("The target date.", valueName: "yyyy-mm-dd")) var target: String
    @Option(help: ArgumentHelp("A pitfall or criterion whose advice it drives (repeatable).", valueName: "id")) var pitfall: [String] = []
    @Option(help: ArgumentHelp("A recommendation key it drives (repeatable).", valueName: "key")) var key: [String] = []
    @Option(help: ArgumentHelp("A product in scope (repeatable).", valueName: "id")) var product: [String] = []
    @Option(help: ArgumentHelp("A system in scope (repeatable).", valueName: "id")) var system: [String] = []
    @Option(help: ArgumentHelp("A team in scope (repeatable).", valueName: "id")) var team: [String] = []
    @Option(help: ArgumentHelp("A department in scope (repeatable).", valueName: "id")) var department: [String] = []
    @Option(help: ArgumentHelp("A layer in scope (repeatable).", valueName: "layer")) var layer: [String] = []
    @Option(name: .customLong("if-revision"), help: ArgumentHelp("Refuse unless the campaign is at this revision (0: new).", valueName: "n"))
    var ifRevision: Int?

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let c = try JSON.object(["id": JSON.string(id), "name": JSON.string(name), "owner": JSON.string(owner),
                                 "start": JSON.string(start), "target": JSON.string(target)])
        let advice = try JSON.object()
        if !pitfall.isEmpty { try advice.set("pitfalls", JSON.strings(pitfall)) }
        if !key.isEmpty { try advice.set("keys", JSON.strings(key)) }
        try c.set("advice", advice)
        let scope = try JSON.object()
        for (k, v) in [("products", product), ("systems", system), ("teams", team), ("departments", department), ("layers", layer)] where !v.isEmpty {
            try scope.set(k, JSON.strings(v))
        }
        if scope.count > 0 { try c.set("scope", scope) }
        var extra = ["campaign": c]
        if let ifRevision { extra["ifRevision"] = try JSON.int(ifRevision) }
        let (r, _) = try callOnPortfolio("campaign.put", portfolio, connection, extra)
        if display.json { return printJSON(r, compact: display.compact) }
        print(cell("\(r["created"]?.boolValue == true ? "created" : "updated") campaign \(id), revision \(cellValue(r["revision"]))"))
    }
}

struct CampaignDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Deletes a campaign.")

    @Argument(help: ArgumentHelp("The campaign's id.", valueName: "id"))
    var id: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let (r, _) = try callOnPortfolio("campaign.delete", portfolio, connection, ["id": try JSON.string(id)])
        if display.json { return printJSON(r, compact: display.compact) }
        print(cell("deleted campaign \(id)"))
    }
}
