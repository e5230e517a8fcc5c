import Glibc
import NIOCore
import XCTest
@testable import TwoSpeedDaemon

/// The line framer and the peer check, without a socket.
final class FramingTests: XCTestCase {
    func text(_ next: LineFramer.Next) -> String? {
        guard case .message(let b) = next else { return nil }
        return String(buffer: b)
    }

    func testLinesAcrossReads() {
        var f = LineFramer(maxMessageBytes: 100)
        var a = ByteBuffer(string: "{\"a\":1}\n{\"b\"")
        f.append(&a)
        XCTAssertEqual(text(f.next()), "{\"a\":1}")
        XCTAssertEqual(f.next(), .needMore)
        var b = ByteBuffer(string: ":2}\r\n\n{\"c\":3}\n")
        f.append(&b)
        XCTAssertEqual(text(f.next()), "{\"b\":2}")
        XCTAssertEqual(text(f.next()), "")
        XCTAssertEqual(text(f.next()), "{\"c\":3}")
        XCTAssertEqual(f.next(), .needMore)
        XCTAssertEqual(f.bufferedBytes, 0)
    }

    func testOversizedIsReportedBeforeItsEnd() {
        var f = LineFramer(maxMessageBytes: 10)
        var a = ByteBuffer(string: "0123456789")
        f.append(&a)
        XCTAssertEqual(f.next(), .needMore)
        var b = ByteBuffer(string: "ab")
        f.append(&b)
        XCTAssertEqual(f.next(), .tooLarge(size: 12))
    }

    func testExactLimitPasses() {
        var f = LineFramer(maxMessageBytes: 10)
        var a = ByteBuffer(string: "0123456789\r\n0123456789A\n")
        f.append(&a)
        XCTAssertEqual(text(f.next()), "0123456789")
        XCTAssertEqual(f.next(), .tooLarge(size: 11))
    }

    func testLastMessageWithoutLineEnd() {
        var f = LineFramer(maxMessageBytes: 100)
        var a = ByteBuffer(string: "{\"a\":1}\n{\"b\":2}")
        f.append(&a)
        XCTAssertEqual(text(f.next()), "{\"a\":1}")
        XCTAssertEqual(f.next(), .needMore)
        f.finish()
        XCTAssertEqual(text(f.next()), "{\"b\":2}")
        XCTAssertEqual(f.next(), .needMore)
    }

    func testManySmallReadsOfOneLongLine() {
        var f = LineFramer(maxMessageBytes: 1 << 20)
        let piece = String(repeating: "x", count: 1000)
        for _ in 0..<500 {
            var b = ByteBuffer(string: piece)
            f.append(&b)
            XCTAssertEqual(f.next(), .needMore)
        }
        var end = ByteBuffer(string: "\nrest")
        f.append(&end)
        guard case .message(let line) = f.next() else { return XCTFail("no line") }
        XCTAssertEqual(line.readableBytes, 500_000)
        XCTAssertEqual(f.bufferedBytes, 4)
    }

    func testAccessPolicy() {
        let p = AccessPolicy(allowedUIDs: [1000, 0], allowedGIDs: [50], readOnlyUIDs: [2000], readOnlyGIDs: [60])
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 1000, gid: 1000)), .readWrite)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 0, gid: 0)), .readWrite)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 3000, gid: 50)), .readWrite)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 2000, gid: 2000)), .readOnly)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 1000, gid: 60)), .readOnly, "read-only wins")
        guard case .refused(let reason) = p.access(for: PeerCredentials(pid: 1, uid: 65534, gid: 65534)) else {
            return XCTFail("nobody admitted")
        }
        XCTAssertTrue(reason.contains("uid 65534"))
    }

    func testAccessPolicySupplementaryGroups() {
        let p = AccessPolicy(allowedUIDs: [0], allowedGIDs: [50], readOnlyUIDs: [], readOnlyGIDs: [60])
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 3000, gid: 3000, groups: [7, 50])), .readWrite)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 3000, gid: 3000, groups: [60])), .readOnly)
        XCTAssertEqual(p.access(for: PeerCredentials(pid: 1, uid: 3000, gid: 50, groups: [60])), .readOnly, "read-only wins")
        guard case .refused(let reason) = p.access(for: PeerCredentials(pid: 1, uid: 3000, gid: 3000, groups: [7, 8])) else {
            return XCTFail("admitted without an allowed group")
        }
        XCTAssertTrue(reason.contains("groups 7,8"), reason)
    }

    func testPeerGroupsOfAConnectedSocket() {
        // SO_PEERGROUPS on a socket pair gives this process's own supplementary groups.
        var fds: [CInt] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        var own = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        _ = getgroups(Int32(own.count), &own)
        let peer = Acceptor.credentials(fds[0])
        XCTAssertEqual(peer?.uid, geteuid())
        XCTAssertEqual(peer?.pid, getpid())
        XCTAssertEqual(Set(peer?.groups ?? []), Set(own))
    }

    func testPeerGroupsLongerThanTheFirstBuffer() throws {
        // More groups than the first SO_PEERGROUPS buffer holds (64): the kernel answers ERANGE with the
        // size it needs, and the second call gets them all. The socket keeps the groups it was made with.
        guard geteuid() == 0 else { throw XCTSkip("setgroups needs root") }
        var saved = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        _ = getgroups(Int32(saved.count), &saved)
        let many = (0..<150).map { gid_t(40_000 + $0) }
        XCTAssertEqual(setgroups(many.count, many), 0)
        var fds: [CInt] = [-1, -1]
        let rc = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
        XCTAssertEqual(setgroups(saved.count, saved), 0)
        XCTAssertEqual(rc, 0)
        defer { close(fds[0]); close(fds[1]) }
        XCTAssertEqual(Acceptor.peerGroups(fds[0]).map { Set($0) }, Set(many))
    }

    func testFixModeGoesThroughTheFileNotTheLink() throws {
        // When a default ACL has narrowed the new socket's mode, fixMode sets it through a descriptor of
        // the socket itself; a symlink put at the path instead is refused and its target left alone.
        var template = Array("/tmp/twospeed-fixmode-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { _ = unlink(dir + "/s.sock"); _ = unlink(dir + "/victim"); _ = rmdir(dir) }
        let (fd, inode) = try ListeningSocket.bind(dir + "/s.sock", mode: 0o600)
        defer { close(fd) }
        XCTAssertEqual(chmod(dir + "/s.sock", 0o600 & 0o400), 0)  // as a narrowing ACL would leave it
        XCTAssertTrue(ListeningSocket.fixMode(dir + "/s.sock", inode: inode, mode: 0o660))
        var st = stat()
        XCTAssertEqual(lstat(dir + "/s.sock", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o660)

        let victim = open(dir + "/victim", O_CREAT | O_WRONLY, 0o644)
        close(victim)
        XCTAssertEqual(unlink(dir + "/s.sock"), 0)
        XCTAssertEqual(symlink(dir + "/victim", dir + "/s.sock"), 0)
        XCTAssertFalse(ListeningSocket.fixMode(dir + "/s.sock", inode: inode, mode: 0o666))
        XCTAssertEqual(stat(dir + "/victim", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o644)
    }

    func testPrincipalNames() {
        XCTAssertEqual(Principal.uid("root"), 0)
        XCTAssertEqual(Principal.uid("42"), 42)
        XCTAssertNil(Principal.uid("no-such-user-here"))
        XCTAssertEqual(Principal.gid("root"), 0)
    }
}
