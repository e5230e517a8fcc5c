import Logging
import NIOCore
import NIOPosix
import TwoSpeedJSON
import TwoSpeedRPC

/// One error reply, for the log.
struct ErrorNote: Sendable {
    var code: Int
    var method: String?
}

/// A response ready to write, and the errors it carries.
struct Outcome: Sendable {
    var line: ByteBuffer?
    var errors: [ErrorNote] = []
}

extension ServerContext {
    /// Answers one parsed request or batch (borrowed); the response line is appended to `out`.
    func respond(to request: JSONView, call: CallContext, into out: inout ByteBuffer) -> [ErrorNote] {
        switch dispatcher.reply(to: request, context: call) {
        case .none: return []
        case .response(let response):
            Replies.appendLine(response, to: &out)
            return withExtendedLifetime(response) { Self.errors(in: response.view, request: request) }
        case .result(let result, let id, _):
            // Written around the result, with no envelope object (the id is the request's, borrowed).
            Replies.appendResultLine(result, id: id, to: &out)
            return []
        }
    }

    /// Answers text that is not JSON: the dispatcher words the parse error.
    func respond(toUnparsable text: UnsafeRawBufferPointer, call: CallContext, into out: inout ByteBuffer) -> [ErrorNote] {
        guard let response = dispatcher.respond(text: text, context: call) else { return [] }
        Replies.appendLine(response, to: &out)
        return withExtendedLifetime(response) { Self.errors(in: response.view, request: nil) }
    }

    static func errors(in response: JSONView, request: JSONView?) -> [ErrorNote] {
        func note(_ r: JSONView) -> ErrorNote? {
            guard let code = r["error"]?["code"]?.intValue else { return nil }
            // The method of the request this answers, found by id (a batch answers in its own order).
            var method: String? = nil
            if let request {
                if request.isObject { method = request["method"]?.stringValue } else if let id = r["id"], id.kind != .null {
                    for q in request.elements where q["id"].map({ $0.equals(id) }) ?? false {
                        method = q["method"]?.stringValue
                        break
                    }
                }
            }
            return ErrorNote(code: Int(code), method: method)
        }
        if response.isArray { return response.elements.compactMap(note) }
        return note(response).map { [$0] } ?? []
    }
}

/// Serves one connection: cuts the stream into lines, answers each in order, holds reading back while a
/// write is on the thread pool or the peer is not reading its replies, and closes cleanly.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case open, lingering, closed }

    private let server: ServerContext
    private let id: Int
    private let peer: PeerCredentials
    private let call: CallContext
    private var logger: Logger
    private var framer: LineFramer
    private var state = State.open
    /// Replies not yet written.
    private var out: ByteBuffer?
    /// A request is on the thread pool; the next ones wait so that replies keep their order.
    private var busy = false
    private var heldRead = false
    private var inputClosed = false
    private var draining = false
    private var requests = 0
    private var errorReplies = 0
    private var reason = "closed by the peer"
    private let opened = NIODeadline.now()
    /// Set while the framer holds the start of a message and no line end: fires --message-timeout.
    private var unfinished: Scheduled<Void>?

    init(server: ServerContext, id: Int, peer: PeerCredentials, access: Access) {
        self.server = server
        self.id = id
        self.peer = peer
        self.call = server.callContext(peer, access)
        self.framer = LineFramer(maxMessageBytes: server.configuration.maxMessageBytes)
        var logger = server.logger
        logger[metadataKey: "conn"] = "\(id)"
        logger[metadataKey: "peer"] = "\(peer)"
        logger[metadataKey: "access"] = "\(access.name)"
        self.logger = logger
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .open else { return }  // lingering: what the peer still sends is dropped
        var bytes = unwrapInboundIn(data)
        framer.append(&bytes)
        process(context)
    }

    func read(context: ChannelHandlerContext) {
        if state == .open && (busy || draining || !context.channel.isWritable) {
            heldRead = true
            return
        }
        context.read()
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard heldRead else { return }
        if state == .open && (busy || draining || !context.channel.isWritable) { return }
        heldRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context)
        context.fireChannelWritabilityChanged()
    }

    /// Answers every whole message buffered, in order, until one has to wait for the thread pool.
    private func process(_ context: ChannelHandlerContext) {
        defer { watchUnfinished(context) }
        loop: while state == .open && !busy {
            switch framer.next() {
            case .message(let line):
                // The next message's clock starts with its own first byte.
                unfinished?.cancel()
                unfinished = nil
                if line.readableBytes == 0 { continue }  // blank lines are tolerated
                handle(line, context)
            case .tooLarge(let size):
                let limit = server.configuration.maxMessageBytes
                errorReplies += 1
                logger.warning("message too large, closing", metadata: ["size": "\(size)", "limit": "\(limit)"])
                closeAfter(reply: Replies.tooLarge(size: size, limit: limit, allocator: context.channel.allocator),
                           reason: "message over \(limit) bytes", context)
                return
            case .needMore:
                break loop
            }
        }
        flush(context)
        guard state == .open && !busy else { return }
        if inputClosed {
            close(reason: "the peer finished", context)
        } else if draining {
            // Every reply is out; what the peer may still be sending is not read. (A Unix socket
            // delivers the replies before it reports the reset.)
            close(reason: "the daemon is stopping", context)
        }
    }

    /// Starts the message timer when what is buffered is only the start of a message, stops it when
    /// nothing is (or while a request runs: the client is not the one keeping the connection then).
    private func watchUnfinished(_ context: ChannelHandlerContext) {
        guard let seconds = server.configuration.messageTimeoutSeconds, seconds > 0 else { return }
        let waiting = state == .open && !busy && framer.bufferedBytes > 0
        if !waiting {
            unfinished?.cancel()
            unfinished = nil
            return
        }
        guard unfinished == nil else { return }
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        unfinished = context.eventLoop.scheduleTask(in: .seconds(seconds)) {
            me.value.messageTimedOut(seconds, ctx.value)
        }
    }

    private func messageTimedOut(_ seconds: Int64, _ context: ChannelHandlerContext) {
        unfinished = nil
        guard state == .open && !busy && framer.bufferedBytes > 0 else { return }
        let size = framer.bufferedBytes
        errorReplies += 1
        logger.warning("message not finished within \(seconds) s, closing", metadata: ["received": "\(size)"])
        closeAfter(reply: Replies.messageTimeout(seconds: seconds, received: size, allocator: context.channel.allocator),
                   reason: "message not finished within \(seconds) s", context)
    }

    private func handle(_ line: ByteBuffer, _ context: ChannelHandlerContext) {
        requests += 1
        // Out of memory while parsing: the dispatcher tries again and words the -32603 reply.
        let parsed = line.withUnsafeReadableBytes { try? JSON.parse($0) }
        var buffer = out ?? context.channel.allocator.buffer(capacity: 512)
        out = nil
        switch parsed {
        case .failure?, nil:
            let notes = line.withUnsafeReadableBytes { server.respond(toUnparsable: $0, call: call, into: &buffer) }
            out = buffer
            note(notes)
        case .success(let request)?:
            let place = withExtendedLifetime(request) { server.place(request.view, readOnly: call.readOnly) }
            if place != .loop {
                out = buffer
                offload(request, on: place == .writes ? server.pool : server.readPool, context)
            } else {
                let notes = withExtendedLifetime(request) { server.respond(to: request.view, call: call, into: &buffer) }
                out = buffer
                note(notes)
            }
        }
    }

    /// Runs a request on a thread pool; the connection waits for it.
    private func offload(_ request: JSON, on pool: NIOThreadPool, _ context: ChannelHandlerContext) {
        busy = true
        let server = self.server
        let call = self.call
        let allocator = context.channel.allocator
        let job = Transfer(value: request)
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        server.inFlight.write { $0 += 1 }
        pool.runIfActive(eventLoop: context.eventLoop) { () -> Outcome in
            var buffer = allocator.buffer(capacity: 256)
            let notes = withExtendedLifetime(job.value) { server.respond(to: job.value.view, call: call, into: &buffer) }
            return Outcome(line: buffer.readableBytes > 0 ? buffer : nil, errors: notes)
        }.whenComplete { result in
            server.inFlight.write { $0 -= 1 }
            me.value.finished(result, ctx.value)
        }
    }

    private func finished(_ result: Result<Outcome, Error>, _ context: ChannelHandlerContext) {
        busy = false
        guard state != .closed else { return }
        switch result {
        case .success(let outcome):
            if var line = outcome.line {
                if out == nil { out = line } else { out!.writeBuffer(&line) }
            }
            note(outcome.errors)
        case .failure(let error):
            // The pool stopped under the request: the daemon is going down.
            logger.error("request not run: \(error)")
            var buffer = out ?? context.channel.allocator.buffer(capacity: 128)
            Replies.appendLine(RPCError(.internalError, pointer: nil, "the daemon is stopping").response(id: nil), to: &buffer)
            out = buffer
            note([ErrorNote(code: ErrorCode.internalError.rawValue, method: nil)])
        }
        process(context)
        resumeReading(context)
    }

    private func note(_ notes: [ErrorNote]) {
        for n in notes {
            errorReplies += 1
            // The method is the client's text: escaped, so that a newline in it cannot forge a log line.
            logger.info("error reply", metadata: ["code": "\(n.code)", "method": "\(n.method.map { ControlEscape.escaped($0) } ?? "-")"])
        }
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard let buffer = out, buffer.readableBytes > 0 else { return }
        out = nil
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// A future that completes once every reply written so far has gone out (writes complete in order).
    private func allWritten(_ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        return promise.futureResult
    }

    // MARK: Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            if state == .lingering {
                // The peer is done too: close once the last reply is out.
                let channel = context.channel
                allWritten(context).whenComplete { _ in channel.close(promise: nil) }
            } else if state == .open {
                inputClosed = true
                framer.finish()
                process(context)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            if state == .open && !busy && out == nil {
                let seconds = server.configuration.idleTimeoutSeconds ?? 0
                logger.info("idle for \(seconds) s, closing")
                close(reason: "idle for \(seconds) s", context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is DrainEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if state == .open && !draining {
            draining = true
            process(context)
        }
        promise?.succeed(())
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if state != .closed {
            reason = "error: \(error)"
            logger.notice("connection error: \(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        unfinished?.cancel()
        unfinished = nil
        if state != .closed {
            state = .closed
            server.connections.remove(id)
            let seconds = Double((NIODeadline.now() - opened).nanoseconds) / 1e9
            logger.info("connection closed", metadata: [
                "requests": "\(requests)", "errors": "\(errorReplies)",
                "seconds": "\((seconds * 1000).rounded() / 1000)", "reason": "\(reason)",
            ])
        }
        context.fireChannelInactive()
    }

    // MARK: Closing

    /// Closes once every reply is written.
    private func close(reason: String, _ context: ChannelHandlerContext) {
        guard state == .open else { return }
        self.reason = reason
        state = .lingering
        flush(context)
        let channel = context.channel
        allWritten(context).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Writes a last reply, ends the output so that the peer reads it and then end-of-file, and drops
    /// what the peer still sends until it closes (or the linger time is over): closing with unread input
    /// would reset the connection and could lose the reply.
    private func closeAfter(reply: ByteBuffer?, reason: String, _ context: ChannelHandlerContext) {
        guard state == .open else { return }
        self.reason = reason
        if var reply {
            if out == nil { out = reply } else { out!.writeBuffer(&reply) }
        }
        flush(context)
        state = .lingering
        framer.dropAll()
        let channel = context.channel
        allWritten(context).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        context.eventLoop.scheduleTask(in: server.lingerTime) { channel.close(promise: nil) }
        if heldRead {
            heldRead = false
            context.read()
        }
    }
}

/// Answers a peer that may not be served with one error reply and closes, the same lingering way.
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: ByteBuffer
    private let linger: TimeAmount

    init(reply: ByteBuffer, linger: TimeAmount) {
        self.reply = reply
        self.linger = linger
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        context.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
