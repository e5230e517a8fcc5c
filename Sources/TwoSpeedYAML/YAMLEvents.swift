import CYaml
import Glibc
import TwoSpeedJSON
import Yams

/// The one YAML reader: a file's documents read straight from libyaml's events (the parser Yams wraps),
/// without composing Yams' node tree (which built a Swift node, a String and a Tag for every scalar and
/// then freed them all, costing more than reading the YAML itself). It gives what composing with Yams
/// gave, byte for byte, including anchors and aliases, Yams' error texts and marks, and its tag
/// resolution (a plain scalar that could be a bool, a number, a null or a timestamp is resolved by
/// Yams); and it holds the limits (nesting, alias expansion) as it reads, so that nothing past one is
/// ever built. Iterative over documents, recursive over nesting only up to the nesting limit.
///
/// Anchors and aliases: an anchored node is read once into its value and the lines within it (relative
/// to it, to the depth lines are kept); the node and each alias to it are placed from that, as if written
/// there. An anchor belongs to its document (YAML 1.2, 3.2.2.2, as PyYAML reads it): an alias to one of
/// an earlier document is an error, as an alias to none is.
enum YAMLEvents {
    /// Where reading a file stopped: the error document that ends its documents. Thrown and caught
    /// inside one reading, on one thread.
    struct Stop: Error {
        var document: JSON
    }

    /// A limit the text passes, where: the error document that ends the file's reading.
    struct LimitError: Error {
        var line: Int
        var column: Int
        var reason: String

        func document(file: String) -> JSONRef {
            JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(line), "column": JSONMake.int(column),
                             "error": JSONMake.string("YAML: " + reason)])
        }
    }

    /// The line a node was written on, by its pointer relative to the anchored node that holds it.
    struct LineRecord {
        var pointer: [UInt8]
        var depth: Int
        var inList: Bool
        var line: Int
    }

    /// An anchored node as read: its value (placed as a copy for each alias), its raw text when it is a
    /// scalar (what a mapping key names), the lines inside it, and how many values it holds.
    final class Anchored {
        let value: JSON
        let text: [UInt8]?
        let lines: [LineRecord]
        let values: Int
        init(value: JSON, text: [UInt8]?, lines: [LineRecord], values: Int) {
            self.value = value; self.text = text; self.lines = lines; self.values = values
        }
    }

    /// Appends the documents of `text` to `out`; returns how many (an error document counts as one).
    static func append(text: String, file: String, into out: JSONRef) -> Int {
        var t = text
        return t.withUTF8 { buf -> Int in
            // Nothing to read: no document (as Yams composes an empty text).
            guard let base = buf.baseAddress, buf.count > 0 else { return 0 }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                out.append(errorDocument(file: file, line: 1, column: nil, "\(YamlError.memory)"))
                return 1
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, buf.count)
            return withUnsafeMutablePointer(to: &parser) { p -> Int in
                var r = Reader(parser: p, file: file, text: text)
                return r.stream(into: out)
            }
        }
    }

    /// `{"file", "line", "error"[, "column"]}`, in that order, as the composer's errors were given.
    static func errorDocument(file: String, line: Int, column: Int?, _ problem: String) -> JSONRef {
        let o = JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(line), "error": JSONMake.string("YAML: " + problem)])
        if let column { o.set("column", JSONMake.int(column)) }
        return o
    }

    struct Reader {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        let file: String
        let text: String
        var event = yaml_event_t()
        /// The JSON pointer of the node being read, as bytes (relative to `base`'s node inside an anchor).
        var pointer: [UInt8] = []
        /// The document's lines by pointer.
        var lines: JSON? = nil
        /// While an anchored node is read: the lines inside it, relative to it; `base` is its depth.
        var relative: [LineRecord]? = nil
        var base = 0
        /// This document's anchors, and the names of earlier documents' (an alias to one is an error).
        var anchors: [String: Anchored] = [:]
        var earlier: Set<String> = []
        /// Values read in this document so far, and those aliases added (held to maxAliasValues).
        var count = 0
        var expanded = 0

        init(parser: UnsafeMutablePointer<yaml_parser_t>, file: String, text: String) {
            self.parser = parser; self.file = file; self.text = text
        }

        /// The next event into `event` (the previous one deleted).
        mutating func next() throws {
            yaml_event_delete(&event)
            guard yaml_parser_parse(parser, &event) == 1 else { throw Stop(document: JSON(adopting: parseError())) }
        }

        mutating func stream(into out: JSONRef) -> Int {
            defer { yaml_event_delete(&event) }
            var n = 0
            do {
                try next()
                while true {
                    try next()
                    if event.type == YAML_STREAM_END_EVENT { return n }
                    // A document start.
                    earlier.formUnion(anchors.keys)
                    anchors = [:]
                    count = 0
                    expanded = 0
                    pointer.removeAll(keepingCapacity: true)
                    try next()
                    let line = Int(event.start_mark.line) + 1
                    let docLines = try JSON.object()
                    lines = docLines
                    let entity = try node(depth: 0, inList: false)
                    lines = nil
                    let doc = try JSON.object()
                    try doc.set("file", string: file)
                    try doc.set("line", int: line)
                    try doc.set("entity", entity)
                    try doc.set("lines", docLines)
                    try next()
                    try JSONView(out).append(doc)
                    n += 1
                }
            } catch let stop as Stop {
                // A failed append is counted (JSONAllocation) for whoever answers.
                try? JSONView(out).append(stop.document)
                return n + 1
            } catch {
                out.append(errorDocument(file: file, line: 1, column: nil, "\(error)"))
                return n + 1
            }
        }

        /// Yams' error for the parser's failure, as the composer gave it: the problem (after its context)
        /// at the problem's mark; a reader error in Yams' words, at line 1.
        func parseError() -> JSONRef {
            let p = parser.pointee
            switch p.error {
            case YAML_MEMORY_ERROR:
                return errorDocument(file: file, line: 1, column: nil, "\(YamlError.memory)")
            case YAML_READER_ERROR:
                let index = text.utf8.index(text.utf8.startIndex, offsetBy: p.problem_offset, limitedBy: text.utf8.endIndex)?.samePosition(in: text)
                let offset = index.map { text.distance(from: text.startIndex, to: $0) }
                let e = YamlError.reader(problem: p.problem.map { String(cString: $0) } ?? "", offset: offset, value: p.problem_value, yaml: text)
                return errorDocument(file: file, line: 1, column: nil, "\(e)")
            default:
                let problem = (p.context.map { String(cString: $0) + " " } ?? "") + (p.problem.map { String(cString: $0) } ?? "")
                return errorDocument(file: file, line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1, problem)
            }
        }

        func at(_ mark: yaml_mark_t, _ reason: String) -> Stop {
            Stop(document: JSON(adopting: LimitError(line: Int(mark.line) + 1, column: Int(mark.column) + 1, reason: reason).document(file: file)))
        }

        /// Records the line of the node at `pointer`: in the document's lines for what a problem can name
        /// (a document's members and theirs, and list items one level further: see YAMLDocuments), or
        /// inside an anchored node, every line down to that depth, for placing it later.
        mutating func record(depth: Int, inList: Bool, line: Int) {
            let d = depth - base
            if relative != nil {
                if d <= 3 { relative!.append(LineRecord(pointer: pointer, depth: d, inList: inList, line: line)) }
            } else if d <= 2 || (d == 3 && inList) {
                setLine(pointer, line)
            }
        }

        mutating func setLine(_ p: [UInt8], _ line: Int) {
            lines?.ref.set(utf8Key: p, JSONMake.int(line))
        }

        /// An anchored node's lines placed at the current pointer and depth, as if it were written there.
        mutating func place(_ records: [LineRecord], depth: Int, inList: Bool) {
            let d = depth - base
            for r in records {
                let at = d + r.depth, listed = r.depth == 0 ? inList : r.inList
                if relative != nil {
                    if at <= 3 { relative!.append(LineRecord(pointer: pointer + r.pointer, depth: at, inList: listed, line: r.line)) }
                } else if at <= 2 || (at == 3 && listed) {
                    setLine(pointer + r.pointer, r.line)
                }
            }
        }

        /// The anchor of the current event, when it has one.
        func anchorName() -> String? {
            let a: UnsafeMutablePointer<yaml_char_t>?
            switch event.type {
            case YAML_MAPPING_START_EVENT: a = event.data.mapping_start.anchor
            case YAML_SEQUENCE_START_EVENT: a = event.data.sequence_start.anchor
            case YAML_SCALAR_EVENT: a = event.data.scalar.anchor
            default: a = nil
            }
            return a.map { String(cString: $0) }
        }

        /// The node whose first event is the current one; on return the current event is its last.
        mutating func node(depth: Int, inList: Bool) throws -> JSON {
            if event.type == YAML_ALIAS_EVENT { return try alias(depth: depth, inList: inList).value.copy() }
            guard let name = anchorName() else { return try content(depth: depth, inList: inList) }
            // Read apart, relative to itself, then placed here; registered once read (as Yams does: an
            // alias inside its own anchor is undefined).
            let saved = (pointer, relative, base)
            pointer = []
            relative = []
            base = depth
            let before = count
            let text = event.type == YAML_SCALAR_EVENT ? Array(UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length)) : nil
            let value: JSON
            do { value = try content(depth: depth, inList: inList) } catch {
                (pointer, relative, base) = saved
                throw error
            }
            let records = relative!
            (pointer, relative, base) = saved
            // Shared with the anchor, which is only ever copied from (aliases place copies).
            anchors[name] = Anchored(value: value, text: text, lines: records, values: count - before)
            place(records, depth: depth, inList: inList)
            return value
        }

        /// The anchored node the current alias event names, counted against the document's limit and
        /// its lines placed here.
        mutating func alias(depth: Int, inList: Bool) throws -> Anchored {
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            guard let a = anchors[name] else {
                // An anchor of an earlier document is PyYAML's and the spec's undefined alias; one defined
                // nowhere is the composer's, said in its words.
                if earlier.contains(name) { throw at(event.start_mark, "found undefined alias '\(name)'") }
                throw Stop(document: JSON(adopting: errorDocument(file: file, line: Int(event.start_mark.line) + 1,
                                                                  column: Int(event.start_mark.column) + 1, "found undefined alias")))
            }
            expanded = min(expanded + a.values, Int.max / 2)
            if expanded > YAMLDocuments.maxAliasValues {
                throw at(event.start_mark, "aliases expand this document past \(YAMLDocuments.maxAliasValues) values (an alias bomb?); "
                         + "nothing after this line is read")
            }
            count += a.values
            place(a.lines, depth: depth, inList: inList)
            return a
        }

        /// A mapping, a sequence or a scalar (not an alias), its anchor aside.
        mutating func content(depth: Int, inList: Bool) throws -> JSON {
            if depth >= YAMLDocuments.maxDepth, event.type == YAML_MAPPING_START_EVENT || event.type == YAML_SEQUENCE_START_EVENT {
                throw at(event.start_mark, "nesting deeper than \(YAMLDocuments.maxDepth) levels")
            }
            count += 1
            record(depth: depth, inList: inList, line: Int(event.start_mark.line) + 1)
            let deeper = depth - base < 3
            switch event.type {
            case YAML_MAPPING_START_EVENT:
                let o = try JSON.object()
                while true {
                    try next()
                    if event.type == YAML_MAPPING_END_EVENT { return o }
                    let key = try self.key(depth: depth + 1)
                    let saved = pointer.count
                    if deeper {
                        pointer.append(0x2F)
                        for b in key {
                            if b == 0x7E { pointer.append(0x7E); pointer.append(0x30) }
                            else if b == 0x2F { pointer.append(0x7E); pointer.append(0x31) }
                            else { pointer.append(b) }
                        }
                    }
                    try next()
                    let v = try node(depth: depth + 1, inList: false)
                    pointer.removeSubrange(saved...)
                    try o.set(utf8Key: key, v)
                }
            case YAML_SEQUENCE_START_EVENT:
                let a = try JSON.array()
                var i = 0
                while true {
                    try next()
                    if event.type == YAML_SEQUENCE_END_EVENT { return a }
                    let saved = pointer.count
                    if deeper {
                        pointer.append(0x2F)
                        pointer.append(contentsOf: String(i).utf8)
                    }
                    let v = try node(depth: depth + 1, inList: true)
                    pointer.removeSubrange(saved...)
                    try a.append(v)
                    i += 1
                }
            default:
                return JSON(adopting: scalar())
            }
        }

        /// A mapping key's name: a scalar's text whatever its tag (an alias to a scalar: that scalar's);
        /// a key that is a mapping or a sequence is read (its anchors count) and named "", as Yams' nodes
        /// had it. Keys record no lines.
        mutating func key(depth: Int) throws -> [UInt8] {
            switch event.type {
            case YAML_SCALAR_EVENT:
                let text = Array(UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length))
                count += 1
                if let name = anchorName() {
                    // An alias to it as a value takes the key's line, as the composed node had it.
                    let line = LineRecord(pointer: [], depth: 0, inList: false, line: Int(event.start_mark.line) + 1)
                    anchors[name] = Anchored(value: JSON(adopting: scalar()), text: text, lines: [line], values: 1)
                }
                return text
            case YAML_ALIAS_EVENT:
                // Its lines are not the key's to place: read it as a value inside a throwaway anchor.
                let saved = (relative, base)
                relative = []
                base = depth
                defer { (relative, base) = saved }
                return try alias(depth: depth, inList: false).text ?? []
            default:
                let saved = (pointer, relative, base)
                pointer = []
                relative = []
                base = depth
                defer { (pointer, relative, base) = saved }
                _ = try node(depth: depth, inList: false)
                return []
            }
        }

        /// The current scalar event's value, typed as Yams types it.
        func scalar() -> JSONRef {
            let s = event.data.scalar
            let bytes = UnsafeBufferPointer(start: s.value, count: s.length)
            // Yams' tag for it (Parser's Event.scalarTag): quoted or block scalars without a tag are strings.
            if s.quoted_implicit == 1 { return JSONMake.string(utf8: bytes) }
            if s.tag == nil, s.plain_implicit == 1, YAMLEvents.plainIsString(bytes) { return JSONMake.string(utf8: bytes) }
            let name = s.tag.map { Tag.Name(rawValue: String(cString: $0)) } ?? .implicit
            let style = Node.Scalar.Style(rawValue: numericCast(s.style.rawValue)) ?? .any
            let node = Node.scalar(.init(String(decoding: bytes, as: UTF8.self), Tag(name), style))
            return YAMLDocuments.scalarValue(node)
        }
    }

    /// A plain scalar that Yams' default resolver can only call a string: one that starts with an ASCII
    /// letter and is none of YAML 1.1's bool and null words. (Every other rule of the resolver — int,
    /// float, merge, timestamp, value, and null's `~` and empty — needs a digit, sign, dot, `<`, `=` or
    /// `~` first.)
    static func plainIsString(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let c = b.first, (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) else { return false }
        guard b.count <= 5 else { return true }
        switch String(decoding: b, as: UTF8.self) {
        case "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
             "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL":
            return false
        default:
            return true
        }
    }
}
