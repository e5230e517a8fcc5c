import CJansson
import CYaml
import Glibc
import TwoSpeedJSON
import Yams

/// The documents of a file read straight from libyaml's events (the parser Yams wraps), without
/// composing Yams' node tree first: composing built a Swift node, a Foundation-decoded String and a
/// Tag for every scalar, and then freed them all, which cost more than reading the YAML itself.
/// The result is the one `YAMLDocuments.convert` gives from Yams' nodes, byte for byte; scalars keep
/// Yams' own tag resolution (a plain scalar that could be a bool, a number, a null or a timestamp is
/// resolved by Yams). A file with anything this reader leaves to the composer — an error, an anchor
/// or alias, a key that is not a scalar, an empty text — returns nil, and the caller reads it with
/// Yams as before, so errors and their marks stay Yams'.
enum YAMLEvents {
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

    static func documents(text: String, file: String) -> JSONRef? {
        var t = text
        return t.withUTF8 { buf -> JSONRef? in
            // Yams reads UTF-8 unless YAMS_DEFAULT_ENCODING says otherwise; then it stays Yams' to read.
            guard let base = buf.baseAddress, buf.count > 0, getenv("YAMS_DEFAULT_ENCODING") == nil else { return nil }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, buf.count)
            var r = Reader()
            let out = JSONMake.array()
            let ok = withUnsafeMutablePointer(to: &parser) { p -> Bool in
                r.parserPointer = p
                return r.stream(file: file, into: out)
            }
            if ok { return out }
            // Too deep: the documents before it and the error, never the composer (it recurses).
            if let limit = r.limit {
                out.append(limit.document(file: file))
                return out
            }
            out.release()
            return nil
        }
    }

    struct Reader {
        var parserPointer: UnsafeMutablePointer<yaml_parser_t>?
        var event = yaml_event_t()
        /// The JSON pointer being built, as bytes.
        var pointer: [UInt8] = []
        /// Set when the text passes a limit (nesting): the reading stops there.
        var limit: LimitError?

        /// The next event into `event` (the previous one deleted); false on a parse error.
        mutating func next() -> Bool {
            yaml_event_delete(&event)
            return yaml_parser_parse(parserPointer!, &event) == 1
        }

        mutating func stream(file: String, into out: JSONRef) -> Bool {
            defer { yaml_event_delete(&event) }
            guard next(), event.type == YAML_STREAM_START_EVENT else { return false }
            while true {
                guard next() else { return false }
                if event.type == YAML_STREAM_END_EVENT { return true }
                guard event.type == YAML_DOCUMENT_START_EVENT, next() else { return false }
                let doc = JSONMake.object()
                doc.set("file", JSONMake.string(file))
                doc.set("line", JSONMake.int(Int(event.start_mark.line) + 1))
                let lines = JSONMake.object()
                pointer.removeAll(keepingCapacity: true)
                guard let entity = node(lines, depth: 0, inList: false) else { doc.release(); lines.release(); return false }
                doc.set("entity", entity)
                doc.set("lines", lines)
                out.append(doc)
                guard next(), event.type == YAML_DOCUMENT_END_EVENT else { return false }
            }
        }

        /// The node whose first event is the current one, as `YAMLDocuments.convert` makes it; on return
        /// the current event is the node's last. nil: left to the composer.
        mutating func node(_ lines: JSONRef, depth: Int, inList: Bool) -> JSONRef? {
            if depth >= YAMLDocuments.maxDepth, event.type == YAML_MAPPING_START_EVENT || event.type == YAML_SEQUENCE_START_EVENT {
                limit = LimitError(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1,
                                   reason: "nesting deeper than \(YAMLDocuments.maxDepth) levels")
                return nil
            }
            let keep = depth <= 2 || (depth == 3 && inList)
            if keep { setLine(lines, Int(event.start_mark.line) + 1) }
            let deeper = depth < 3
            switch event.type {
            case YAML_MAPPING_START_EVENT:
                if event.data.mapping_start.anchor != nil { return nil }
                let o = JSONMake.object()
                while true {
                    guard next() else { o.release(); return nil }
                    if event.type == YAML_MAPPING_END_EVENT { return o }
                    // A key is a scalar's text, whatever its tag; other keys go to the composer.
                    guard event.type == YAML_SCALAR_EVENT, event.data.scalar.anchor == nil else { o.release(); return nil }
                    let key = Array(UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length))
                    let saved = pointer.count
                    if deeper {
                        pointer.append(0x2F)
                        for b in key {
                            if b == 0x7E { pointer.append(0x7E); pointer.append(0x30) }
                            else if b == 0x2F { pointer.append(0x7E); pointer.append(0x31) }
                            else { pointer.append(b) }
                        }
                    }
                    guard next(), let v = node(lines, depth: depth + 1, inList: false) else { o.release(); return nil }
                    pointer.removeSubrange(saved...)
                    YAMLEvents.set(o, key, v)
                }
            case YAML_SEQUENCE_START_EVENT:
                if event.data.sequence_start.anchor != nil { return nil }
                let a = JSONMake.array()
                var i = 0
                while true {
                    guard next() else { a.release(); return nil }
                    if event.type == YAML_SEQUENCE_END_EVENT { return a }
                    let saved = pointer.count
                    if deeper {
                        pointer.append(0x2F)
                        pointer.append(contentsOf: String(i).utf8)
                    }
                    guard let v = node(lines, depth: depth + 1, inList: true) else { a.release(); return nil }
                    pointer.removeSubrange(saved...)
                    a.append(v)
                    i += 1
                }
            case YAML_SCALAR_EVENT:
                if event.data.scalar.anchor != nil { return nil }
                return scalar()
            default:
                return nil // an alias
            }
        }

        mutating func setLine(_ lines: JSONRef, _ line: Int) {
            YAMLEvents.set(lines, pointer, JSONMake.int(line))
        }

        /// The current scalar event's value, typed as Yams types it.
        func scalar() -> JSONRef {
            let s = event.data.scalar
            let bytes = UnsafeBufferPointer(start: s.value, count: s.length)
            func string() -> JSONRef {
                guard let b = s.value, s.length > 0 else { return json_stringn_nocheck("", 0)! }
                return UnsafeRawPointer(b).withMemoryRebound(to: CChar.self, capacity: s.length) { json_stringn_nocheck($0, s.length)! }
            }
            // Yams' tag for it (Parser's Event.scalarTag): quoted or block scalars without a tag are strings.
            if s.quoted_implicit == 1 { return string() }
            if s.tag == nil, s.plain_implicit == 1, YAMLEvents.plainIsString(bytes) { return string() }
            let name = s.tag.map { Tag.Name(rawValue: String(cString: $0)) } ?? .implicit
            let style = Node.Scalar.Style(rawValue: numericCast(s.style.rawValue)) ?? .any
            let node = Node.scalar(.init(String(decoding: bytes, as: UTF8.self), Tag(name), style))
            return YAMLDocuments.scalarValue(node)
        }
    }

    /// Reads the text's events once, building nothing, for what the composer must not be given: nesting
    /// deeper than `maxDepth`, or aliases that expand a document past `maxAliasValues` values (the
    /// "billion laughs": nine anchors of nine aliases each are 9^9 values). Returns the first limit passed
    /// and the index of the document that passes it, or nil: within limits, or a YAML error first (the
    /// composer reports that with its own words). Iterative, so any depth costs no stack.
    static func limitPassed(text: String) -> (document: Int, error: LimitError)? {
        var t = text
        return t.withUTF8 { buf -> (Int, LimitError)? in
            guard let base = buf.baseAddress, buf.count > 0 else { return nil }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, buf.count)
            var event = yaml_event_t()
            defer { yaml_event_delete(&event) }
            // Per open collection: the values inside it so far and its anchor.
            var stack: [(values: Int, anchor: String?)] = []
            var anchors: [String: Int] = [:]
            var earlier: Set<String> = []
            var document = -1, expanded = 0
            func saturating(_ a: Int, _ b: Int) -> Int { a > Int.max / 2 - b ? Int.max / 2 : a + b }
            func add(_ n: Int) { if !stack.isEmpty { stack[stack.count - 1].values = saturating(stack[stack.count - 1].values, n) } }
            func anchor(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            while true {
                yaml_event_delete(&event)
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                let at = { (reason: String) in
                    (document, LimitError(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1, reason: reason))
                }
                switch event.type {
                case YAML_STREAM_END_EVENT: return nil
                case YAML_DOCUMENT_START_EVENT:
                    document += 1; earlier.formUnion(anchors.keys); anchors = [:]; expanded = 0; stack = []
                case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                    if stack.count >= YAMLDocuments.maxDepth { return at("nesting deeper than \(YAMLDocuments.maxDepth) levels") }
                    let a = event.type == YAML_MAPPING_START_EVENT ? anchor(event.data.mapping_start.anchor) : anchor(event.data.sequence_start.anchor)
                    stack.append((1, a))
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    guard let top = stack.popLast() else { return nil }
                    if let a = top.anchor { anchors[a] = top.values }
                    add(top.values)
                case YAML_SCALAR_EVENT:
                    if let a = anchor(event.data.scalar.anchor) { anchors[a] = 1 }
                    add(1)
                case YAML_ALIAS_EVENT:
                    // An anchor belongs to its document (YAML 1.2, 3.2.2.2); Yams' composer would take one
                    // from an earlier document, where PyYAML and the spec say it is undefined.
                    // (An anchor defined nowhere is the composer's error, said as it says it.)
                    let name = anchor(event.data.alias.anchor) ?? ""
                    if anchors[name] == nil, earlier.contains(name), !stack.contains(where: { $0.anchor == name }) {
                        return at("found undefined alias '\(name)'")
                    }
                    let n = anchors[name] ?? 1
                    expanded = saturating(expanded, n)
                    if expanded > YAMLDocuments.maxAliasValues {
                        return at("aliases expand this document past \(YAMLDocuments.maxAliasValues) values (an alias bomb?); "
                                  + "nothing after this line is read")
                    }
                    add(n)
                default: break
                }
            }
        }
    }

    /// Sets member `key` (UTF-8 bytes, possibly empty) of `o`, as JSONRef.set does with a String's bytes.
    static func set(_ o: JSONRef, _ key: [UInt8], _ v: JSONRef) {
        key.withUnsafeBufferPointer { k in
            guard let b = k.baseAddress, k.count > 0 else { _ = json_object_setn_new_nocheck(o, "", 0, v); return }
            UnsafeRawPointer(b).withMemoryRebound(to: CChar.self, capacity: k.count) { _ = json_object_setn_new_nocheck(o, $0, k.count, v) }
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
