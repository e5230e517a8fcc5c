import Glibc
import NIOCore
import TwoSpeedJSON
import TwoSpeedRPC

enum Replies {
    /// `{"jsonrpc":"2.0","error":{...},"id":null}` and a newline, encoded by jansson.
    static func errorLine(code: Int, message: String, data: () throws -> JSON, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        do {
            let error = try JSON.object()
            try error.set("code", int: code)
            try error.set("message", string: message)
            try error.set("data", data())
            let response = try JSON.object()
            try response.set("jsonrpc", string: "2.0")
            try response.set("error", error)
            try response.set("id", JSON.null)
            appendLine(response, to: &buffer)
        } catch {
            appendOutOfMemory(to: &buffer)
        }
        return buffer
    }

    static func tooLarge(size: Int, limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var d = ErrorData(pointer: nil, reason: "the message is over \(limit) bytes (\(size) received without a line end); "
                                                + "the connection closes since its framing is lost")
        d.limit = limit
        d.size = size
        var buffer = allocator.buffer(capacity: 256)
        appendLine(RPCError(.tooLarge, d).response(id: nil), to: &buffer)
        return buffer
    }

    /// An object of reply data from its members, in order.
    static func data(_ members: KeyValuePairs<String, JSON>) throws -> JSON {
        let o = try JSON.object()
        for (k, v) in members { try o.set(k, v) }
        return o
    }

    static func refused(_ peer: PeerCredentials, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.peerRefused.rawValue, message: ErrorCode.peerRefused.message, data: {
            let groups = try JSON.array()
            for g in peer.groups { try groups.append(.int(Int(g))) }
            return try data(["reason": .string(reason), "uid": .int(Int(peer.uid)), "gid": .int(Int(peer.gid)), "groups": groups])
        }, allocator: allocator)
    }

    static func tooManyClients(limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.tooManyClients.rawValue, message: ErrorCode.tooManyClients.message, data: {
            try data(["reason": .string("\(limit) clients are connected already (--max-clients); try again later"),
                      "limit": .int(limit), "option": .string("--max-clients")])
        }, allocator: allocator)
    }

    static func tooManyClientsOfUID(_ uid: uid_t, limit: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.tooManyClients.rawValue, message: ErrorCode.tooManyClients.message, data: {
            try data(["reason": .string("uid \(uid) has \(limit) connections open already (--max-clients-per-uid); "
                                        + "close one or try again later"),
                      "limit": .int(limit), "uid": .int(Int(uid)), "option": .string("--max-clients-per-uid")])
        }, allocator: allocator)
    }

    /// -32600: a message was begun and not finished in time (JSON-RPC's "not a valid request"; no new
    /// code, so that every client already knows it).
    static func messageTimeout(seconds: Int64, received: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        errorLine(code: ErrorCode.invalidRequest.rawValue, message: ErrorCode.invalidRequest.message, data: {
            try data(["reason": .string("the message was not finished (no line end) within \(seconds) s of its "
                                        + "first byte (--message-timeout); the connection closes"),
                      "timeout": .int(Int(seconds)), "size": .int(received)])
        }, allocator: allocator)
    }

    /// The -32603 "out of memory" reply, written from text when not even an error reply could be built.
    static func appendOutOfMemory(to buffer: inout ByteBuffer) {
        buffer.writeString(Dispatcher.outOfMemoryText)
        buffer.writeInteger(UInt8(0x0A))
    }

    /// Appends the compact encoding of `value` and "\n", written by jansson straight into the buffer
    /// (one pass, no intermediate copy), with the same flags as JSONText.dump. When jansson runs out of
    /// memory half-way, the partial line is dropped and the "out of memory" reply goes instead.
    static func appendLine(_ value: JSON, to buffer: inout ByteBuffer) {
        // The parameter keeps the value alive for the call; a view alone would not (a temporary's goes).
        appendLine(view: value.view, to: &buffer)
        withExtendedLifetime(value) {}
    }

    /// Appends {"jsonrpc":"2.0","result":<result>,"id":<id>} and "\n" as `appendLine` would that object,
    /// without building it; the "out of memory" reply instead when jansson runs out half-way.
    static func appendResultLine(_ result: JSON, id: JSONView?, to buffer: inout ByteBuffer) {
        var b = buffer
        buffer = ByteBuffer()  // b holds the only reference while jansson writes
        let start = b.writerIndex
        if withExtendedLifetime(result, { JSONText.dumpResult(result.view, id: id) { b.writeBytes($0) } }) {
            b.writeInteger(UInt8(0x0A))
        } else {
            b.moveWriterIndex(to: start)
            appendOutOfMemory(to: &b)
        }
        buffer = b
    }

    static func appendLine(view value: JSONView, to buffer: inout ByteBuffer) {
        var b = buffer
        buffer = ByteBuffer()  // b holds the only reference while jansson writes
        let start = b.writerIndex
        if JSONText.dump(value, { b.writeBytes($0) }) {
            b.writeInteger(UInt8(0x0A))
        } else {
            b.moveWriterIndex(to: start)
            appendOutOfMemory(to: &b)
        }
        buffer = b
    }
}
