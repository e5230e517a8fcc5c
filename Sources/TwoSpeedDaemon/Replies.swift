import CJansson
import NIOCore
import TwoSpeedJSON
import TwoSpeedRPC

enum Replies {
    /// `{"jsonrpc":"2.0","error":{...},"id":null}` and a newline, encoded by jansson.
    static func errorLine(code: Int, message: String, data: JSONRef, allocator: ByteBufferAllocator) -> ByteBuffer {
        let error = JSONMake.object(["code": JSONMake.int(code), "message": JSONMake.string(message), "data": data])
        let response = JSONMake.object(["jsonrpc": JSONMake.string("2.0"), "error": error, "id": JSONMake.null()])
        defer { response.release() }
        var buffer = allocator.buffer(capacity: 256)
        appendLine(response, to: &buffer)
        return buffer
    }

    static func tooLarge(size: Int, limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var d = ErrorData(pointer: nil, reason: "the message is over \(limit) bytes (\(size) received without a line end); "
                                                + "the connection closes since its framing is lost")
        d.limit = limit
        d.size = size
        let response = RPCError(.tooLarge, d).responseJSON(id: nil)
        defer { response.release() }
        var buffer = allocator.buffer(capacity: 256)
        appendLine(response, to: &buffer)
        return buffer
    }

    static func refused(_ peer: PeerCredentials, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let groups = JSONMake.array()
        for g in peer.groups { groups.append(JSONMake.int(Int(g))) }
        return errorLine(code: ErrorCode.peerRefused.rawValue, message: ErrorCode.peerRefused.message,
                  data: JSONMake.object(["reason": JSONMake.string(reason), "uid": JSONMake.int(Int(peer.uid)),
                                         "gid": JSONMake.int(Int(peer.gid)),
                                         "groups": groups]),
                  allocator: allocator)
    }

    static func tooManyClients(limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.tooManyClients.rawValue, message: ErrorCode.tooManyClients.message,
                  data: JSONMake.object(["reason": JSONMake.string("\(limit) clients are connected already (--max-clients); try again later"),
                                         "limit": JSONMake.int(limit), "option": JSONMake.string("--max-clients")]),
                  allocator: allocator)
    }

    static func tooManyClientsOfUID(_ uid: uid_t, limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.tooManyClients.rawValue, message: ErrorCode.tooManyClients.message,
                  data: JSONMake.object(["reason": JSONMake.string("uid \(uid) has \(limit) connections open already (--max-clients-per-uid); "
                                                                   + "close one or try again later"),
                                         "limit": JSONMake.int(limit), "uid": JSONMake.int(Int(uid)),
                                         "option": JSONMake.string("--max-clients-per-uid")]),
                  allocator: allocator)
    }

    /// -32600: a message was begun and not finished in time (JSON-RPC's "not a valid request"; no new
    /// code, so that every client already knows it).
    static func messageTimeout(seconds: Int64, received: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.invalidRequest.rawValue, message: ErrorCode.invalidRequest.message,
                  data: JSONMake.object(["reason": JSONMake.string("the message was not finished (no line end) within \(seconds) s of its "
                                                                   + "first byte (--message-timeout); the connection closes"),
                                         "timeout": JSONMake.int(Int(seconds)), "size": JSONMake.int(received)]),
                  allocator: allocator)
    }

    /// Appends the compact encoding of `value` and "\n", written by jansson straight into the buffer
    /// (json_dumpb: one pass, no intermediate copy), with the same flags as JSONText.dump: reals with
    /// the fewest digits that keep them exact.
    static func appendLine(_ value: JSONRef, to buffer: inout ByteBuffer) {
        let flags = JSONText.encodeFlags | ((JSONText.digitsNeeded(value) & 0x1F) << 11)  // JSON_REAL_PRECISION
        // One pass: jansson hands its output over in small pieces, gathered in a staging area on the stack
        // and moved into the buffer a block at a time (a reply of any size is dumped once).
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { stage in
            var sink = Sink(stage: stage, buffer: buffer)
            buffer = ByteBuffer()  // the sink holds the only reference while it writes
            withUnsafeMutablePointer(to: &sink) { s in
                _ = json_dump_callback(value, { piece, size, data in
                    guard let piece, let data else { return -1 }
                    data.assumingMemoryBound(to: Sink.self).pointee.add(UnsafeRawBufferPointer(start: piece, count: size))
                    return 0
                }, s, flags)
            }
            withUnsafeBytes(of: UInt8(0x0A)) { sink.add($0) }
            sink.flush()
            buffer = sink.buffer
        }
    }

    private struct Sink {
        let stage: UnsafeMutableRawBufferPointer
        var used = 0
        var buffer: ByteBuffer

        init(stage: UnsafeMutableRawBufferPointer, buffer: ByteBuffer) { self.stage = stage; self.buffer = buffer }

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            if used + bytes.count > stage.count { flush() }
            if bytes.count > stage.count { buffer.writeBytes(bytes); return }
            (stage.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            used += bytes.count
        }

        mutating func flush() {
            guard used > 0 else { return }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stage[0..<used]))
            used = 0
        }
    }


}
