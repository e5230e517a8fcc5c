import Glibc

/// Who is at the other end of a Unix socket, as the kernel says: pid, uid and primary gid
/// (SO_PEERCRED) and the supplementary groups (SO_PEERGROUPS), all as they were when the peer connected.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var pid: pid_t
    public var uid: uid_t
    public var gid: gid_t
    public var groups: [gid_t]

    public init(pid: pid_t, uid: uid_t, gid: gid_t, groups: [gid_t] = []) {
        self.pid = pid; self.uid = uid; self.gid = gid; self.groups = groups
    }

    /// The primary gid and every supplementary one.
    public var allGIDs: Set<gid_t> { Set(groups).union([gid]) }

    public var description: String {
        "pid \(pid) uid \(uid) gid \(gid)" + (groups.isEmpty ? "" : " groups \(groups.map(String.init).joined(separator: ","))")
    }
}

/// What a peer may do.
public enum Access: Sendable, Equatable {
    case readWrite
    case readOnly
    case refused(reason: String)

    public var name: String {
        switch self {
        case .readWrite: return "read-write"
        case .readOnly: return "read-only"
        case .refused: return "refused"
        }
    }
}

/// The peer check: a peer is admitted when its uid, primary gid or one of its supplementary gids is on
/// an allow list or a read-only list, and it is read-only when it matches any read-only entry.
public struct AccessPolicy: Sendable, Equatable {
    public var allowedUIDs: Set<uid_t>
    public var allowedGIDs: Set<gid_t>
    public var readOnlyUIDs: Set<uid_t>
    public var readOnlyGIDs: Set<gid_t>
    public var adminUIDs: Set<uid_t>
    public var adminGIDs: Set<gid_t>

    public init(allowedUIDs: Set<uid_t>, allowedGIDs: Set<gid_t> = [], readOnlyUIDs: Set<uid_t> = [], readOnlyGIDs: Set<gid_t> = [],
                adminUIDs: Set<uid_t> = [], adminGIDs: Set<gid_t> = []) {
        self.allowedUIDs = allowedUIDs; self.allowedGIDs = allowedGIDs
        self.readOnlyUIDs = readOnlyUIDs; self.readOnlyGIDs = readOnlyGIDs
        self.adminUIDs = adminUIDs; self.adminGIDs = adminGIDs
    }

    /// An administrator may load and unload plugins: a peer that may write and whose uid or one of whose
    /// gids is on an admin list. Being an administrator admits no one who is not admitted otherwise.
    public func isAdmin(_ peer: PeerCredentials) -> Bool {
        guard access(for: peer) == .readWrite else { return false }
        return adminUIDs.contains(peer.uid) || !adminGIDs.isDisjoint(with: peer.allGIDs)
    }

    public func access(for peer: PeerCredentials) -> Access {
        let gids = peer.allGIDs
        if readOnlyUIDs.contains(peer.uid) || !readOnlyGIDs.isDisjoint(with: gids) { return .readOnly }
        if allowedUIDs.contains(peer.uid) || !allowedGIDs.isDisjoint(with: gids) { return .readWrite }
        let groups = peer.groups.isEmpty ? "no supplementary groups" : "groups \(peer.groups.map(String.init).joined(separator: ","))"
        return .refused(reason: "uid \(peer.uid), gid \(peer.gid) and \(groups) are not allowed to connect")
    }
}

/// A user or group given by number or by name.
public enum Principal {
    public static func uid(_ text: String) -> uid_t? {
        if let n = UInt32(text) { return n }
        guard let pw = getpwnam(text) else { return nil }
        return pw.pointee.pw_uid
    }

    public static func gid(_ text: String) -> gid_t? {
        if let n = UInt32(text) { return n }
        guard let gr = getgrnam(text) else { return nil }
        return gr.pointee.gr_gid
    }
}
