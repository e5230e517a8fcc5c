import Glibc
import NIOCore

/// Cuts a byte stream into messages: each is one line, ended by "\n" (a "\r" before it is dropped).
/// Bytes are searched once, however many reads a long message arrives in, and a message that grows
/// past the limit is reported as soon as that is known, without waiting for its end.
public struct LineFramer {
    public enum Next: Equatable {
        /// One message, without its line end (it may be empty: a blank line).
        case message(ByteBuffer)
        /// No whole message is buffered yet.
        case needMore
        /// The message being received is over the limit; `size` is what has been seen of it so far.
        case tooLarge(size: Int)
    }

    public let maxMessageBytes: Int
    private var buffer: ByteBuffer?
    /// How many bytes past the reader index are known to hold no "\n".
    private var scanned = 0
    /// The input has ended: what is left without a line end is the last message.
    private var finished = false

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes received and not yet returned as messages.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    public mutating func append(_ incoming: inout ByteBuffer) {
        guard incoming.readableBytes > 0 else { return }
        if var b = buffer, b.readableBytes > 0 {
            buffer = nil  // keep the storage uniquely referenced, so writing does not copy it
            if b.readerIndex > 0 && b.readerIndex >= b.readableBytes { b.discardReadBytes() }
            b.writeBuffer(&incoming)
            buffer = b
        } else {
            buffer = incoming
            scanned = 0
        }
    }

    /// The input has ended; a last message without a line end is returned by `next()`.
    public mutating func finish() { finished = true }

    /// Forgets a partly received message (when the connection is being closed).
    public mutating func dropAll() {
        buffer = nil
        scanned = 0
    }

    public mutating func next() -> Next {
        guard var b = buffer, b.readableBytes > 0 else { return .needMore }
        let from = scanned
        let newline: Int? = b.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count > from, let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + from, 0x0A, raw.count - from) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        guard let newline else {
            let n = b.readableBytes
            // One byte of slack for a "\r" that may precede the line end.
            if n > maxMessageBytes + 1 { return .tooLarge(size: n) }
            if finished {
                buffer = nil
                scanned = 0
                if n > maxMessageBytes { return .tooLarge(size: n) }
                return .message(Self.trimmingCR(b))
            }
            scanned = n
            return .needMore
        }
        var line = b.readSlice(length: newline)!
        b.moveReaderIndex(forwardBy: 1)
        buffer = b.readableBytes > 0 ? b : nil
        scanned = 0
        line = Self.trimmingCR(line)
        if line.readableBytes > maxMessageBytes { return .tooLarge(size: line.readableBytes) }
        return .message(line)
    }

    private static func trimmingCR(_ line: ByteBuffer) -> ByteBuffer {
        let n = line.readableBytes
        if n > 0, line.getInteger(at: line.readerIndex + n - 1, as: UInt8.self) == 0x0D {
            return line.getSlice(at: line.readerIndex, length: n - 1)!
        }
        return line
    }
}
