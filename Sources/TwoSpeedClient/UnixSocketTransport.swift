import Glibc
import TwoSpeedSync

/// A connection to twospeedd: one line out, one line back. Calls from several threads are taken one at
/// a time, so replies never cross.
public final class UnixSocketTransport: RPCTransport {
    public let path: String
    public var endpoint: String { "unix:\(path)" }

    private struct State {
        var fd: CInt
        /// Bytes received past the last reply's line end.
        var pending: [UInt8] = []
    }

    private let state: Locked<State>

    /// Connects to the socket at `path`. `timeoutSeconds` bounds every send and receive (nil: none).
    public init(path: String, timeoutSeconds: Double? = nil) throws {
        self.path = path
        let endpoint = "unix:\(path)"
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw TransportError(.unreachable, endpoint: endpoint, "the socket path is empty or too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError(.unreachable, endpoint: endpoint, Self.errnoText()) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let reason = Self.errnoText()
            Glibc.close(fd)
            throw TransportError(.unreachable, endpoint: endpoint, reason)
        }
        if let timeoutSeconds {
            var tv = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - timeoutSeconds.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        state = Locked(State(fd: fd))
    }

    deinit {
        state.write { s in
            if s.fd >= 0 { Glibc.close(s.fd) }
        }
    }

    /// Closes the connection; later calls fail as disconnected.
    public func close() {
        state.write { s in
            if s.fd >= 0 { Glibc.close(s.fd) }
            s.fd = -1
        }
    }

    public func exchange(_ message: String, expectsReply: Bool) throws -> String? {
        let endpoint = self.endpoint
        return try state.write { s -> String? in
            guard s.fd >= 0 else { throw TransportError(.disconnected, endpoint: endpoint, "the connection is closed") }
            var out = Array(message.utf8)
            out.append(0x0A)
            try Self.sendAll(s.fd, out, endpoint)
            guard expectsReply else { return nil }
            return try Self.readLine(&s, endpoint)
        }
    }

    private static func sendAll(_ fd: CInt, _ bytes: [UInt8], _ endpoint: String) throws(TransportError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TransportError(.disconnected, endpoint: endpoint, "send: \(errnoText())")
            }
            sent += n
        }
    }

    private static func readLine(_ s: inout State, _ endpoint: String) throws(TransportError) -> String {
        var searched = 0
        while true {
            if let i = s.pending[searched...].firstIndex(of: 0x0A) {
                var line = Array(s.pending[..<i])
                s.pending.removeSubrange(...i)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            searched = s.pending.count
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(s.fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN ? "no reply in time" : "recv: \(errnoText())"
                throw TransportError(.disconnected, endpoint: endpoint, reason)
            }
            if n == 0 {
                throw TransportError(.disconnected, endpoint: endpoint,
                                     s.pending.isEmpty ? "the daemon closed the connection" : "the daemon closed the connection mid-reply")
            }
            s.pending.append(contentsOf: chunk[..<n])
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
