import ArgumentParser
import Glibc
import TwoSpeedClientInProcess
import TwoSpeedStore

/// Where the engine is: twospeedd's socket, or a store opened in this process. Shared by every
/// subcommand that calls the engine.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("twospeedd's socket (default: $TWOSPEED_SOCKET).", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Run the engine in this process on this store instead: an SQLite file, :memory:, or a PostgreSQL URI "
                               + "(postgresql://...).", valueName: "store"))
    var db: String?

    @Option(help: ArgumentHelp("Give up waiting for a reply after this many seconds.", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if socket != nil && db != nil { throw ValidationError("give --socket or --db, not both") }
        if let db, StoreName.hasPassword(db) { throw ValidationError(StoreName.passwordOnCommandLine) }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    /// The transport these options name.
    func transport() throws -> any RPCTransport {
        if let db { return try InProcessTransport(store: db) }
        if let path = socket ?? environment("TWOSPEED_SOCKET"), !path.isEmpty {
            return try UnixSocketTransport(path: path, timeoutSeconds: timeout)
        }
        throw UsageError("no engine to call: give --socket PATH, set TWOSPEED_SOCKET, or give --db PATH")
    }

    func client() throws -> TwoSpeedClient { TwoSpeedClient(transport: try transport()) }
}

/// How results are printed.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON on one line instead of indented.")
    var compact = false
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
