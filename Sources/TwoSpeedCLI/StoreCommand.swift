import ArgumentParser
import Glibc
import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedStore

/// twospeed store: what is done to a whole store rather than through an engine.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Works on a whole store: copy one into another (SQLite to PostgreSQL and back).",
        subcommands: [StoreCopyCommand.self])
}

/// twospeed store copy FROM TO
struct StoreCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copies every portfolio (with its revision), model, kept run and delivery event of one store into an empty one.",
        discussion: """
            FROM and TO are store names as --db takes them: an SQLite file, or a PostgreSQL URI \
            (postgresql://...; the password from ~/.pgpass or PGPASSWORD). TO must hold no portfolio and no \
            model (a new SQLite file is created). After copying, both stores are read back and compared: \
            their counts, every portfolio, run and event, and each portfolio's assessment.history as an \
            engine answers it; any difference is an error (exit status 1). Stop the daemons on FROM first, \
            so that nothing is written to it during the copy.

            Exit status: 0 copied and checked; 1 the copy failed or the stores differ; 2 wrong usage; \
            3 a store cannot be opened.

            Example:
              twospeed store copy /var/lib/twospeed/store.sqlite 'postgresql://twospeed_writer@db/twospeed'
            """)

    @Argument(help: ArgumentHelp("The store to copy.", valueName: "from"))
    var from: String

    @Argument(help: ArgumentHelp("The empty store to copy into.", valueName: "to"))
    var to: String

    func validate() throws {
        for s in [from, to] where StoreName.hasPassword(s) { throw ValidationError(StoreName.passwordOnCommandLine) }
        if from == to { throw ValidationError("FROM and TO are the same store") }
        if from == ":memory:" || to == ":memory:" { throw ValidationError("a store in memory is lost when the command ends: give a file or a URI") }
    }

    func run() throws {
        let source: any PortfolioStore, target: any PortfolioStore
        do {
            source = try StoreName.open(from)
            target = try StoreName.open(to)
        } catch {
            writeError("twospeed: \(error)")
            throw ExitCode(ExitStatus.unreachable)
        }
        do {
            let counts = try StoreCopy.copy(from: source, to: target)
            // The same history through an engine on each: what a client of either would be answered.
            let a = try Engine(store: source), b = try Engine(store: target)
            let ids = try source.loadAll().map(\.portfolio.id)
            for id in ids {
                let request = #"{"jsonrpc":"2.0","method":"assessment.history","params":{"portfolio":"# + JSONText.quoted(id) + #"},"id":1}"#
                guard let ha = a.call(request), let hb = b.call(request), ha == hb else {
                    throw StoreError(kind: .io, message: "after the copy, assessment.history of \(id) differs between the stores")
                }
            }
            print("copied \(StoreName.redacted(from)) into \(StoreName.redacted(to)): \(counts); assessment.history the same for all \(ids.count)")
        } catch {
            writeError("twospeed: store copy: \(error)")
            throw ExitCode(ExitStatus.rpcError)
        }
    }
}
