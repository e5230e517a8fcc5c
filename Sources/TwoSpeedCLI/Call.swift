import ArgumentParser
import TwoSpeedClient
import TwoSpeedJSON

/// twospeed call METHOD [PARAMS_JSON]
struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Calls one method and prints its result.",
        discussion: """
            PARAMS_JSON is an object (named params) or an array (by position); "-" reads it from standard \
            input. The result is printed on standard output; an error reply's error object goes to \
            standard error with exit status 1. `twospeed call rpc.discover` lists every method.

            Examples:
              twospeed call engine.info
              twospeed call portfolio.get '{"id":"retailer"}'
              echo '["retailer","product"]' | twospeed call entity.list -
            """)

    @Argument(help: ArgumentHelp("The method, e.g. engine.info or portfolio.list.", valueName: "method"))
    var method: String

    @Argument(help: ArgumentHelp("The params as JSON, or - to read them from standard input.", valueName: "params-json"))
    var params: String?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        var value: JSON? = nil
        if let params {
            let text = params == "-" ? try readInput("-") : Array(params.utf8)
            let v = try readJSON(text, what: params == "-" ? "the params on standard input" : "PARAMS_JSON")
            guard v.isObject || v.isArray else {
                throw UsageError("the params must be a JSON object or array")
            }
            value = v
        }
        let client = try connection.client()
        let result = try withExtendedLifetime(value) { try client.callJSON(method, params: value?.view) }
        printJSON(result, compact: output.compact)
    }
}
