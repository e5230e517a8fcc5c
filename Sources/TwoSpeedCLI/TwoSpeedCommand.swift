import ArgumentParser
import Glibc
import TwoSpeedClient
import TwoSpeedEngine

/// twospeed: the command line of TwoSpeed. Each subcommand lives in a file of its own; to add one, write
/// a ParsableCommand (with `@OptionGroup var connection: ConnectionOptions` if it talks to an engine, or
/// its own options if it runs something in-process) and list it in `subcommands` below.
struct TwoSpeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twospeed",
        abstract: "Calls a TwoSpeed engine: through twospeedd's socket, or in this process on a store file.",
        discussion: """
            Every command talks to the daemon at --socket (default: $TWOSPEED_SOCKET), or, with --db PATH, \
            to an engine in this process on that store (:memory: for one in memory).

            Exit status: 0 success; 1 the engine answered with a JSON-RPC error (the error object is \
            printed to stderr); 2 wrong usage; 3 the daemon (or the store) cannot be reached.

            Shell completion: `twospeed --generate-completion-script bash|zsh|fish`; `make install` installs \
            all three.
            """,
        version: Engine.version,
        subcommands: [Call.self, Import.self, Init.self, Assess.self, Report.self,
                      List.self, Show.self, Recommendations.self, History.self, Diff.self, Observe.self, Delete.self, Metrics.self,
                      AdviceCommand.self, CampaignCommand.self, StoreCommand.self])

    /// No subcommand: wrong usage.
    func run() throws {
        writeError(TwoSpeedCommand.helpMessage())
        throw ExitCode(ExitStatus.usage)
    }
}

/// The process's entry: runs the command and turns every outcome into the documented exit status.
@main
enum Main {
    static func main() {
        let status: Int32
        if let unknown = unknownSubcommand(Array(CommandLine.arguments.dropFirst())) {
            writeError(unknown)
            exit(ExitStatus.usage)
        }
        do {
            var command = try TwoSpeedCommand.parseAsRoot()
            try command.run()
            status = ExitStatus.success
        } catch {
            status = report(error)
        }
        exit(status)
    }

    static func report(_ error: Error) -> Int32 {
        switch error {
        case let e as RPCCallError:
            printError(e.errorJSON)
            return ExitStatus.rpcError
        case let e as TransportError:
            writeError("twospeed: \(e)")
            return e.kind == .malformedReply ? ExitStatus.rpcError : ExitStatus.unreachable
        case let e as InvalidJSONError:
            writeError("twospeed: \(e)")
            return ExitStatus.usage
        case let e as UsageError:
            writeError("twospeed: \(e.message)")
            return ExitStatus.usage
        default:
            let code = TwoSpeedCommand.exitCode(for: error)
            if code == .success {  // --help, --version
                TwoSpeedCommand.exit(withError: error)
            }
            let message = TwoSpeedCommand.fullMessage(for: error)
            if !message.isEmpty { writeError(message) }
            return code == .validationFailure ? ExitStatus.usage : code.rawValue
        }
    }
}

/// The message for a first argument that names no subcommand (the root takes no arguments, so the first
/// word is always meant as one), with the nearest names as git and kubectl give them; nil when it is fine.
func unknownSubcommand(_ arguments: [String]) -> String? {
    guard let word = arguments.first, !word.hasPrefix("-") else { return nil }
    let names = TwoSpeedCommand.configuration.subcommands.map { $0._commandName } + ["help"]
    if names.contains(word) { return nil }
    let distances = names.map { (name: $0, distance: editDistance(word, $0)) }
    // Close enough to be a typo: at most a third of the word's letters wrong, or the word begins the name.
    let near = distances.filter { $0.distance <= max(1, word.count / 3) || ($0.name.hasPrefix(word) && word.count >= 2) }
        .sorted { $0.distance < $1.distance }.map(\.name)
    var message = "twospeed: '\(word)' is not a twospeed command. See 'twospeed --help'."
    if !near.isEmpty {
        message += "\n\nDid you mean " + (near.count == 1 ? "this?" : "one of these?") + "\n"
            + near.map { "    \($0)" }.joined(separator: "\n")
    }
    return message
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var previous = row[0]
        row[0] = i
        for j in 1...b.count {
            let current = row[j]
            row[j] = a[i - 1] == b[j - 1] ? previous : 1 + min(previous, row[j], row[j - 1])
            previous = current
        }
    }
    return row[b.count]
}

enum ExitStatus {
    static let success: Int32 = 0
    /// The engine answered with an error.
    static let rpcError: Int32 = 1
    /// Wrong usage: options, arguments, or input that is not what the command takes.
    static let usage: Int32 = 2
    /// The daemon or the store cannot be reached.
    static let unreachable: Int32 = 3
}

/// Wrong usage found after parsing (a file that cannot be read, two transports at once).
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
