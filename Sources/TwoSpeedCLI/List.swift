import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed list KIND
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lists the portfolios, or one kind of entity of a portfolio, as a table.",
        discussion: """
            KIND is portfolios, or an entity kind, singular or plural: departments, journeys, products, \
            managers, teams, systems, metrics, okrs, experiments. On a terminal the table has a header; in a \
            pipe each row is tab-separated with no header. --json prints the engine's result instead \
            (portfolio.list or entity.list).

            Examples:
              twospeed list portfolios
              twospeed list products --portfolio retailer
              twospeed list systems --json | jq -r '.entities[].id'
            """)

    @Argument(help: ArgumentHelp("portfolios, or a kind of entity (products, systems, ...).", valueName: "kind"))
    var kind: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if kind.lowercased().hasPrefix("portfolio") {
            guard ["portfolio", "portfolios"].contains(kind.lowercased()) else { throw ValidationError("no kind \(kind)") }
            if portfolio.portfolio != nil { throw ValidationError("list portfolios takes no --portfolio") }
        } else if KindArgument(argument: kind) == nil {
            throw ValidationError("no kind \(kind); one of: portfolios, \(KindArgument.allValueStrings.joined(separator: ", "))")
        }
    }

    /// The columns of each kind after its id and name: members of the entity, dotted for nested ones;
    /// a list shows its length.
    static let columns: [String: [String]] = [
        "department": ["kind"],
        "journey": ["segment", "stages"],
        "product": ["status", "owner", "team", "stages"],
        "manager": ["department", "decisionRights"],
        "team": ["size", "manager"],
        "system": ["layer", "owner", "delivery.deploysPerMonth"],
        "metric": ["category", "observations"],
        "okr": ["period", "keyResults"],
        "experiment": ["product", "metric", "stage"],
    ]
    static let headers = ["delivery.deploysPerMonth": "deploys/month", "decisionRights": "decision rights", "keyResults": "key results"]
    /// The member that names an entity of the kind (its name, or what stands for one).
    static func nameMember(_ kind: String) -> String { kind == "okr" ? "objective" : kind == "experiment" ? "hypothesis" : "name" }

    func run() throws {
        let client = try connection.client()
        guard let k = KindArgument(argument: kind)?.kind else { return try listPortfolios(client) }
        let id = try portfolio.resolve(client)
        let params = try JSON.object(["portfolio": .string(id), "kind": .string(k)])
        let result = try client.callJSON("entity.list", params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        let extra = List.columns[k] ?? []
        let rows = (result["entities"]?.elements ?? []).map { e in
            [cellValue(e["id"]), cellValue(e[List.nameMember(k)])] + extra.map { cellValue(member(e, $0)) }
        }
        printTable(["id", List.nameMember(k)] + extra.map { List.headers[$0] ?? $0 }, rows)
    }

    func listPortfolios(_ client: TwoSpeedClient) throws {
        let result = try client.callJSON("portfolio.list")
        if display.json { return printJSON(result, compact: display.compact) }
        let rows = (result["portfolios"]?.elements ?? []).map { p in
            [cellValue(p["id"]), cellValue(p["name"]), cellValue(p["revision"]), cellValue(p["updated"])]
        }
        printTable(["id", "name", "revision", "updated"], rows)
    }
}
