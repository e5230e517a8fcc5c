import Glibc

/// One string names a store everywhere (twospeedd --db, twospeed --db, twospeed_open, Python's Engine):
/// a libpq connection URI (postgresql://… or postgres://…) is PostgreSQL; anything else is an SQLite
/// path, nil, "" or ":memory:" keeping it in memory.
public enum StoreName {
    public static func isPostgres(_ name: String) -> Bool {
        let lower = name.prefix(14).lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    /// Opens the store `name` names. `fileMode` applies to a new SQLite file only.
    public static func open(_ name: String?, fileMode: mode_t = SQLiteStore.defaultFileMode) throws -> any PortfolioStore {
        if let name, isPostgres(name) { return try PostgresStore(uri: name) }
        return try SQLiteStore(path: name, fileMode: fileMode)
    }

    /// The name as it may be printed: a password in a URI (user:password@ or ?password=) becomes "***".
    /// Paths are returned as they are. Every place that prints a store name goes through here.
    public static func redacted(_ name: String) -> String {
        guard isPostgres(name), let colon = name.firstIndex(of: ":") else { return name }
        let afterScheme = name.index(colon, offsetBy: 3)  // "://", checked by isPostgres
        let scheme = name[..<afterScheme]
        var rest = name[afterScheme...]
        var query: Substring? = nil
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        var out = String(scheme)
        // Everything up to the last "@" before the query is user information: over-redacting an odd
        // URI is safe, printing half a password is not.
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                out += userinfo[..<colon] + ":***"
            } else {
                out += userinfo
            }
            out += rest[at...]
        } else {
            out += rest
        }
        if let query {
            let params = query.split(separator: "&", omittingEmptySubsequences: false).map { p -> String in
                guard let eq = p.firstIndex(of: "=") else { return String(p) }
                let key = p[..<eq].removingPercentEncoding.lowercased()
                return key == "password" ? p[..<eq] + "=***" : String(p)
            }
            out += "?" + params.joined(separator: "&")
        }
        return out
    }

    /// Why a command line refuses a URI with a password.
    public static let passwordOnCommandLine = "the store URI carries a password, which ps shows to every user: put it in ~/.pgpass "
        + "(or PGPASSFILE) or in PGPASSWORD, and give the URI without it"

    /// Whether the name carries a password (which a command line would show to every `ps`).
    public static func hasPassword(_ name: String) -> Bool { redacted(name) != name }
}

extension Substring {
    /// %XX sequences decoded (for comparing a query key; invalid sequences are kept as they are).
    fileprivate var removingPercentEncoding: String {
        var bytes: [UInt8] = []
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "%"), utf8.distance(from: i, to: utf8.endIndex) >= 3,
               let v = UInt8(String(decoding: utf8[utf8.index(after: i)..<utf8.index(i, offsetBy: 3)], as: UTF8.self), radix: 16) {
                bytes.append(v); i = utf8.index(i, offsetBy: 3)
            } else {
                bytes.append(b); i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
