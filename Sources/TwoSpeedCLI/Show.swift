import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed show KIND ID
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shows one entity of a portfolio, one member a line.",
        discussion: """
            KIND is an entity kind, singular or plural (product, system, metric, ...). Each member is one \
            line, `name: value`; a nested object's members are dotted (rice.reach), a list of names is one \
            line, and a list of objects (a journey's stages, a metric's observations) one line each. --json \
            prints the entity.get result instead.

            Examples:
              twospeed show product checkout
              twospeed show metric front-page-conversion --json | jq '.entity.observations[-1]'
            """)

    @Argument(help: ArgumentHelp("The kind of entity (product, system, ...).", valueName: "kind"))
    var kind: KindArgument

    @Argument(help: ArgumentHelp("The entity's id.", valueName: "id"))
    var id: String

    @OptionGroup var portfolio: PortfolioOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: DisplayOptions

    func run() throws {
        let client = try connection.client()
        let params = try JSON.object(["portfolio": .string(try portfolio.resolve(client)),
                                      "kind": .string(kind.kind), "id": .string(id)])
        let result = try client.callJSON("entity.get", params: params)
        if display.json { return printJSON(result, compact: display.compact) }
        guard let entity = result["entity"] else { return }
        for line in Show.lines(entity, prefix: "") { print(line) }
    }

    /// `name: value` lines of an object, nested members dotted.
    static func lines(_ object: JSONView, prefix: String) -> [String] {
        var out: [String] = []
        object.forEachMember { key, value in
            let name = prefix + cell(key)
            switch value.kind {
            case .object: out += lines(value, prefix: name + ".")
            case .array:
                let items = value.elements
                if items.allSatisfy({ $0.kind != .object && $0.kind != .array }) {
                    out.append("\(name): " + (items.isEmpty ? "-" : items.map(cellValue).joined(separator: ", ")))
                } else {
                    out.append("\(name): \(items.count)")
                    for item in items { out.append("  - " + inline(item)) }
                }
            default: out.append("\(name): \(cellValue(value))")
            }
        }
        return out
    }

    /// An object on one line: `id=x name=y`, nested lists by their length.
    static func inline(_ value: JSONView) -> String {
        guard value.isObject else { return cellValue(value) }
        var parts: [String] = []
        value.forEachMember { key, v in
            parts.append("\(cell(key))=" + (v.isArray && v.elements.allSatisfy { !$0.isObject && !$0.isArray }
                                             ? v.elements.map(cellValue).joined(separator: ",") : cellValue(v)))
        }
        return parts.joined(separator: " ")
    }
}
