import Foundation
import Glibc
import XCTest

/// A throwaway PostgreSQL server for this test process: initdb as the postgres user in a temporary
/// folder, a Unix socket only (no TCP), started on first use and stopped when the process exits.
/// A server that cannot start is a failure, not a skip: `make deps` installs PostgreSQL.
/// (Tests/TwoSpeedDaemonTests/PGServer.swift is a link to this file.)
enum PGServer {
    /// The folder holding the data directory and the socket.
    static let folder: Result<String, PGServerError> = start()

    struct PGServerError: Error, CustomStringConvertible { var description: String }

    static func binary(_ name: String) -> String {
        for dir in ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin", "/usr/local/bin", "/usr/bin"] {
            if access(dir + "/" + name, X_OK) == 0 { return dir + "/" + name }
        }
        return name
    }

    /// Runs a program as the postgres user (initdb refuses root); its output, or why it failed.
    @discardableResult
    static func run(_ args: [String], asPostgres: Bool = true) -> (ok: Bool, output: String) {
        let argv = (asPostgres && geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + args
        // Output to a file, not a pipe: the server pg_ctl starts keeps its inherited descriptors open, and
        // a pipe would never reach its end. posix_spawn and waitpid rather than Foundation's Process,
        // whose child monitoring missed the exit of runuser here.
        let out = "/tmp/twospeed-pg-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cargs, environ)
        guard rc == 0 else { return (false, "\(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return ((status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0, text)
    }

    private static func start() -> Result<String, PGServerError> {
        var template = Array("/tmp/twospeed-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return .failure(PGServerError(description: "mkdtemp failed")) }
        let dir = String(cString: made)
        if geteuid() == 0, let pw = getpwnam("postgres") {
            chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        // A throwaway cluster: fsync off makes it fast; what the tests check is the store's
        // transactions, not the disk under PostgreSQL.
        let initdb = run([binary("initdb"), "-D", dir + "/data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
        guard initdb.ok else {
            return .failure(PGServerError(description: "initdb failed (make deps installs postgresql): \(initdb.output)"))
        }
        let started = run([binary("pg_ctl"), "-D", dir + "/data", "-l", dir + "/server.log", "-w", "-o",
                           "-k \(dir) -c listen_addresses='' -c fsync=off -c max_connections=200", "start"])
        guard started.ok else {
            let log = (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? ""
            return .failure(PGServerError(description: "pg_ctl start failed: \(started.output) \(log)"))
        }
        stopFolder = strdup(dir)
        atexit {
            guard let d = PGServer.stopFolder else { return }
            let dir = String(cString: d)
            PGServer.run([PGServer.binary("pg_ctl"), "-D", dir + "/data", "-m", "immediate", "-w", "stop"])
            PGServer.run(["/bin/rm", "-rf", dir], asPostgres: false)
        }
        return .success(dir)
    }

    nonisolated(unsafe) static var stopFolder: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var counter = 0
    static let counterLock = NSLock()

    /// The socket folder, failing the test when the server is not there.
    static func socketFolder(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        switch folder {
        case .success(let d): return d
        case .failure(let e):
            XCTFail("no PostgreSQL test server: \(e)", file: file, line: line)
            throw e
        }
    }

    /// The URI of a database of the test server.
    static func uri(_ database: String) throws -> String {
        "postgresql:///\(database)?host=\(try socketFolder())&user=postgres"
    }

    /// A new, empty database of its own, for one test.
    static func freshDatabase(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dir = try socketFolder(file: file, line: line)
        let n: Int = counterLock.withLock { counter += 1; return counter }
        let name = "t\(getpid())_\(n)"
        let r = run([binary("createdb"), "-h", dir, "-U", "postgres", name])
        guard r.ok else {
            XCTFail("createdb failed: \(r.output)", file: file, line: line)
            throw PGServerError(description: r.output)
        }
        return try uri(name)
    }

    /// Runs SQL on a database with psql, as the server's superuser; its output (unaligned, tuples only).
    @discardableResult
    static func psql(_ database: String, _ sql: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dir = try socketFolder(file: file, line: line)
        let r = run([binary("psql"), "-h", dir, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        guard r.ok else {
            XCTFail("psql failed: \(r.output)", file: file, line: line)
            throw PGServerError(description: r.output)
        }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The database name in a test URI.
    static func database(of uri: String) -> String {
        let afterSlashes = uri.dropFirst("postgresql:///".count)
        return String(afterSlashes.prefix { $0 != "?" })
    }
}
