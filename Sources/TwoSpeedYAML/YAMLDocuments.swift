import CJansson
import TwoSpeedJSON
import Yams

/// YAML files as the documents `import.backstage` takes: each YAML document becomes
/// `{"file", "line", "entity", "lines"}`, where `lines` maps the JSON pointer of every member inside
/// the entity to the line it was written on, so that the engine can name the line of any problem.
/// A file that does not parse becomes `{"file", "line", "error"}` at the point where parsing stopped:
/// libyaml cannot resume after an error, so the documents after it in that file are not read.
///
/// This lives outside the engine on purpose: the shared library stays free of a YAML parser, and
/// C, Python and daemon callers send the same documents as JSON.
public enum YAMLDocuments {
    /// The limits of what one file may hold (README.md, "Limits"): each passed ends the file's reading
    /// in an error document with its line, the documents before it kept. Nesting: a catalog entity is a
    /// few levels deep; 100,000 levels overflowed the stack. Alias values: what the aliases of one
    /// document may expand to (a billion-laughs file grew the command line to 11.9 GB).
    /// File size: the text of one file.
    public static let maxDepth = 256
    public static let maxAliasValues = 100_000
    public static let maxFileBytes = 64 << 20

    /// The documents of one file's text, appended to `into` (a jansson array). Returns how many.
    @discardableResult
    public static func append(text: String, file: String, into array: JSONRef) -> Int {
        if text.utf8.count > maxFileBytes {
            array.append(YAMLEvents.LimitError(line: 1, column: 1, reason: "the file is \(text.utf8.count) bytes, over the limit of "
                                               + "\(maxFileBytes) bytes a catalog file may have").document(file: file))
            return 1
        }
        // Read from libyaml's events when the file is plain (YAMLEvents); else composed by Yams.
        if let docs = YAMLEvents.documents(text: text, file: file) {
            defer { docs.release() }
            let n = json_array_size(docs)
            for i in 0..<n { array.append(json_array_get(docs, i)!.retained()) }
            return n
        }
        // What the composer would choke on (an alias bomb; nesting past the limit) is found without
        // building anything, and the composer reads only the documents before it.
        if let (k, limit) = YAMLEvents.limitPassed(text: text) {
            return appendComposed(text: text, file: file, into: array, documents: k) + { array.append(limit.document(file: file)); return 1 }()
        }
        return appendComposed(text: text, file: file, into: array)
    }

    /// The same documents read by composing Yams' nodes first: what `append` does with a file the event
    /// reader leaves (an error, an anchor, ...); public so that tests hold the two readings equal.
    @discardableResult
    public static func appendComposed(text: String, file: String, into array: JSONRef, documents limit: Int = .max) -> Int {
        var n = 0
        do {
            // The sequence keeps its error instead of throwing it: check it once it ends.
            var documents = try Yams.compose_all(yaml: text)
            while n < limit, let node = documents.next() {
                let doc = JSONMake.object()
                doc.set("file", JSONMake.string(file))
                doc.set("line", JSONMake.int(node.mark?.line ?? 1))
                let lines = JSONMake.object()
                var pointer = ""
                doc.set("entity", convert(node, &pointer, lines))
                doc.set("lines", lines)
                array.append(doc)
                n += 1
            }
            if n < limit, let e = documents.error { throw e }
        } catch let e as YamlError {
            array.append(errorDocument(e, file: file))
            n += 1
        } catch {
            array.append(JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(1),
                                          "error": JSONMake.string("\(error)")]))
            n += 1
        }
        return n
    }

    static func errorDocument(_ e: YamlError, file: String) -> JSONRef {
        let (problem, mark): (String, Mark?) = {
            switch e {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                return ((context.map { "\($0.text) " } ?? "") + problem, mark)
            default: return ("\(e)", nil)
            }
        }()
        let o = JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(mark?.line ?? 1),
                                 "error": JSONMake.string("YAML: " + problem)])
        if let c = mark?.column { o.set("column", JSONMake.int(c)) }
        return o
    }

    /// One node as jansson, recording the line of every value by its pointer. Scalars take the type
    /// YAML 1.1's core schema gives them (Yams resolves the tags), so `size: 3` is a number.
    /// Lines are kept for what a problem can name: the document's members and theirs (/spec/owner,
    /// /metadata/name) and the items of its lists (/spec/dependsOn/1); deeper values (annotations, a
    /// profile, an API's definition) take the line of the nearest member that has one. Keeping every
    /// value's line costs a fifth of an import.
    static func convert(_ node: Node, _ pointer: inout String, _ lines: JSONRef, depth: Int = 0, inList: Bool = false) -> JSONRef {
        let keep = depth <= 2 || (depth == 3 && inList)
        if keep, let line = node.mark?.line { lines.set(pointer, JSONMake.int(line)) }
        // Below what is kept no pointer is built: the values are converted and nothing else.
        let deeper = depth < 3
        switch node {
        case .mapping(let m):
            let o = JSONMake.object()
            for (k, v) in m {
                let key = k.scalar?.string ?? ""
                if deeper {
                    let saved = pointer.utf8.count
                    pointer += "/"
                    pointer += escape(key)
                    o.set(key, convert(v, &pointer, lines, depth: depth + 1))
                    truncate(&pointer, saved)
                } else {
                    o.set(key, convert(v, &pointer, lines, depth: depth + 1))
                }
            }
            return o
        case .sequence(let s):
            let a = JSONMake.array()
            for (i, v) in s.enumerated() {
                if deeper {
                    let saved = pointer.utf8.count
                    pointer += "/"
                    pointer += String(i)
                    a.append(convert(v, &pointer, lines, depth: depth + 1, inList: true))
                    truncate(&pointer, saved)
                } else {
                    a.append(convert(v, &pointer, lines, depth: depth + 1, inList: true))
                }
            }
            return a
        case .scalar:
            return scalarValue(node)
        }
    }

    /// A scalar node's value, typed by the tag Yams resolves for it.
    static func scalarValue(_ node: Node) -> JSONRef {
        guard case .scalar(let s) = node else { return JSONMake.null() }
        // Node.tag, not the scalar's own: only the node's is resolved (a plain "3" is tagged "?" until then).
        switch node.tag.description {
        case Tag.Name.null.rawValue: return JSONMake.null()
        case Tag.Name.bool.rawValue: if let b = node.bool { return JSONMake.bool(b) }
        // Yams constructs numbers from plain scalars only; a quoted one tagged !!int or !!float is one too
        // (PyYAML and the spec agree), so its text is read as the number it is tagged.
        case Tag.Name.int.rawValue: if let i = node.int ?? Int(s.string) { return JSONMake.int(i) }
        case Tag.Name.float.rawValue: if let d = node.float ?? Double(s.string), d.isFinite { return JSONMake.double(d) }
        default: break
        }
        return JSONMake.string(s.string)
    }

    /// Cuts the pointer back to its first `count` bytes in place (pointers are built of whole tokens).
    static func truncate(_ pointer: inout String, _ count: Int) {
        pointer.removeSubrange(pointer.utf8.index(pointer.utf8.startIndex, offsetBy: count)...)
    }

    static func escape(_ token: String) -> String {
        // Bytes, not String.contains: that goes through Foundation's range(of:), 5% of an import.
        guard token.utf8.contains(where: { $0 == 0x7E || $0 == 0x2F }) else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Substring(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
