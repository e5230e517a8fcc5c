import Glibc
import TwoSpeedJSON

// The one place text formats are read (issues 21 and 25): CSV and JSON Lines, fed in pieces as they
// stream so that a reader holds one record, never the file. import.csv, delivery.import and the
// command line's delivery import all read through these.

/// A UTF-8 byte-order mark at the start of a stream, which may arrive a byte at a time.
struct BOMSkipper {
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private var matched = 0
    private(set) var done = false

    /// The bytes of `piece` after the mark, and any bytes held from earlier pieces that turned out not
    /// to be one (to be read before them).
    mutating func strip(_ piece: UnsafeRawBufferPointer) -> (held: [UInt8], rest: UnsafeRawBufferPointer) {
        var i = 0
        while !done, i < piece.count {
            if piece[i] == BOMSkipper.bom[matched] {
                matched += 1
                i += 1
                if matched == 3 { done = true; return ([], UnsafeRawBufferPointer(rebasing: piece[i...])) }
            } else {
                done = true
                return (Array(BOMSkipper.bom[..<matched]), UnsafeRawBufferPointer(rebasing: piece[i...]))
            }
        }
        return ([], UnsafeRawBufferPointer(rebasing: piece[i...]))
    }

    /// At the end: a partial mark was text after all.
    mutating func finish() -> [UInt8] { defer { done = true }; return done ? [] : Array(BOMSkipper.bom[..<matched]) }
}

/// RFC 4180 CSV as spreadsheets write it: an optional UTF-8 BOM, `,` `;` or tab between fields (the most
/// frequent of them on the header line outside quotes, unless given), LF or CRLF between records, fields
/// quoted with `"` (a doubled `""` inside is one quote) that may hold separators and line breaks.
/// A blank line is no record. Columns are counted from 1, as fields.
public struct CSVReader {
    public struct Failure: Error, Equatable {
        public var line: Int
        public var column: Int
        public var reason: String
    }

    /// The separator in use: given, or detected once the header line has been seen.
    public private(set) var separator: UInt8?
    private var fields: [String] = []
    private var field: [UInt8] = []
    private var line = 1, recordLine = 1
    private var quoted = false, wasQuoted = false, pendingCR = false
    private var bom = BOMSkipper()
    /// The start of the input, held until the header line has ended so that its separator can be counted.
    private var head: [UInt8] = []
    static let headLimit = 1 << 16

    public init(separator: UInt8? = nil) { self.separator = separator }

    /// The separator of the header line: the most frequent of `,` `;` and tab outside quotes.
    public static func detectSeparator<C: Collection>(_ bytes: C) -> UInt8 where C.Element == UInt8 {
        var comma = 0, semicolon = 0, tab = 0
        var quoted = false
        for b in bytes {
            if b == 0x22 { quoted.toggle() } else if !quoted {
                if b == 0x0A { break }
                if b == 0x2C { comma += 1 } else if b == 0x3B { semicolon += 1 } else if b == 0x09 { tab += 1 }
            }
        }
        if semicolon > comma && semicolon >= tab { return 0x3B }
        if tab > comma && tab > semicolon { return 0x09 }
        return 0x2C
    }

    /// Reads `bytes`, calling `record` with each complete record (the line it starts on, its fields).
    public mutating func feed(_ piece: UnsafeRawBufferPointer, _ record: (Int, [String]) throws -> Void) throws {
        var bytes = piece
        if !bom.done {
            let (held, rest) = bom.strip(piece)
            if !held.isEmpty { try held.withUnsafeBytes { try feed($0, record) } }
            bytes = rest
            if bytes.isEmpty { return }
        }
        if separator == nil {
            head.append(contentsOf: bytes)
            guard CSVReader.headerEnded(head) || head.count >= CSVReader.headLimit else { return }
            try flushHead(record)
            return
        }
        try scan(bytes, record)
    }

    /// The end of the input: the last record, if it has no line break after it.
    public mutating func finish(_ record: (Int, [String]) throws -> Void) throws {
        let held = bom.finish()
        if !held.isEmpty { try held.withUnsafeBytes { try feed($0, record) } }
        if separator == nil { try flushHead(record) }
        if quoted { throw Failure(line: recordLine, column: fields.count + 1, reason: "a quoted field is not closed") }
        // A CR at the very end is a line end.
        pendingCR = false
        if !field.isEmpty || !fields.isEmpty || wasQuoted { try endRecord(record) }
    }

    /// Every record of a whole text.
    public static func records(_ text: String, separator: UInt8? = nil) throws -> [(line: Int, fields: [String])] {
        var r = CSVReader(separator: separator)
        var out: [(line: Int, fields: [String])] = []
        var t = text
        try t.withUTF8 { try r.feed(UnsafeRawBufferPointer($0)) { out.append(($0, $1)) } }
        try r.finish { out.append(($0, $1)) }
        return out
    }

    private static func headerEnded(_ b: [UInt8]) -> Bool {
        var quoted = false
        for c in b { if c == 0x22 { quoted.toggle() } else if c == 0x0A && !quoted { return true } }
        return false
    }

    private mutating func flushHead(_ record: (Int, [String]) throws -> Void) throws {
        separator = CSVReader.detectSeparator(head)
        let h = head
        head = []
        try h.withUnsafeBytes { try scan($0, record) }
    }

    private mutating func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        wasQuoted = false
    }

    private mutating func endRecord(_ record: (Int, [String]) throws -> Void) throws {
        endField()
        let blank = fields.count == 1 && fields[0].isEmpty
        if !blank { try record(recordLine, fields) }
        fields.removeAll(keepingCapacity: true)
    }

    private mutating func scan(_ bytes: UnsafeRawBufferPointer, _ record: (Int, [String]) throws -> Void) throws {
        var i = 0
        let sep = separator!
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            i += 1
            if pendingCR {
                pendingCR = false
                // A CR not followed by LF is a character of the field, as RFC 4180 has it.
                if b != 0x0A { field.append(0x0D) }
            }
            if quoted {
                if b == 0x22 {
                    // A doubled quote may straddle two pieces: look at the next byte when it comes.
                    if i < n {
                        if bytes[i] == 0x22 { field.append(0x22); i += 1 } else { quoted = false }
                    } else { quoted = false; pendingQuote = true }
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                continue
            }
            if pendingQuote {
                pendingQuote = false
                if b == 0x22 { field.append(0x22); quoted = true; continue }
            }
            switch b {
            case 0x22:
                if field.isEmpty && !wasQuoted { quoted = true; wasQuoted = true } else {
                    throw Failure(line: line, column: fields.count + 1, reason: "a quote inside an unquoted field")
                }
            case sep: endField()
            case 0x0D: pendingCR = true
            case 0x0A:
                try endRecord(record)
                line += 1
                recordLine = line
            default: field.append(b)
            }
        }
        // Checked once a piece rather than once a byte; a piece is at most what the caller reads at once.
        if field.count > CSVReader.maxField {
            throw Failure(line: recordLine, column: fields.count + 1,
                          reason: "a field longer than \(CSVReader.maxField >> 20) MiB\(quoted ? " (a quote not closed?)" : "")")
        }
    }

    /// A field may not grow past this: a quote never closed would otherwise hold the rest of a file.
    public static let maxField = 16 << 20

    /// A closing quote was the last byte of a piece: it may be the first half of `""`.
    private var pendingQuote = false
}

/// JSON Lines (jsonlines.org), fed in pieces: one JSON value a line, LF or CRLF, an optional BOM, blank
/// lines skipped. A line longer than `maxLine` is refused without being held.
public struct JSONLinesReader {
    public enum Item {
        /// The value, and the length of its line in bytes.
        case value(JSON, bytes: Int)
        case failure(column: Int?, reason: String)
    }

    public static let maxLine = 16 << 20
    private var pending: [UInt8] = []
    private var line = 0
    private var skipping = false
    private var bom = BOMSkipper()

    public init() {}

    /// Reads `bytes`, calling `item` with each line's value or why it is none.
    public mutating func feed(_ piece: UnsafeRawBufferPointer, _ item: (Int, Item) throws -> Void) throws {
        var bytes = piece
        if !bom.done {
            let (held, rest) = bom.strip(piece)
            pending.append(contentsOf: held)
            bytes = rest
        }
        var start = 0
        while start < bytes.count {
            // memchr: a search a byte at a time cost more than parsing the line.
            guard let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else {
                if !skipping {
                    pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                    if pending.count > JSONLinesReader.maxLine { pending = []; skipping = true }
                }
                return
            }
            let nl = UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress!)
            line += 1
            if skipping {
                skipping = false
                try item(line, .failure(column: nil, reason: "a line longer than \(JSONLinesReader.maxLine >> 20) MiB"))
            } else if pending.isEmpty {
                try one(UnsafeRawBufferPointer(rebasing: bytes[start..<nl]), item)
            } else {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<nl]))
                let p = pending
                pending = []
                try p.withUnsafeBytes { try one($0, item) }
            }
            start = nl + 1
        }
    }

    public mutating func finish(_ item: (Int, Item) throws -> Void) throws {
        pending.append(contentsOf: bom.finish())
        if skipping {
            line += 1
            skipping = false
            try item(line, .failure(column: nil, reason: "a line longer than \(JSONLinesReader.maxLine >> 20) MiB"))
        } else if !pending.isEmpty {
            line += 1
            let p = pending
            pending = []
            try p.withUnsafeBytes { try one($0, item) }
        }
    }

    private func one(_ raw: UnsafeRawBufferPointer, _ item: (Int, Item) throws -> Void) throws {
        var text = raw
        if let last = text.last, last == 0x0D { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        // Running out of memory is no fault of the line: it throws (the request answers "out of memory").
        switch try JSON.parse(text) {
        case .failure(let e): try item(line, .failure(column: e.column, reason: "not JSON: \(e.reason)"))
        case .success(let v): try item(line, .value(v, bytes: raw.count + 1))
        }
    }
}
