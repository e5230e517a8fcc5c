import TwoSpeedJSON
import Yams

/// YAML files as the documents `import.backstage` takes: each YAML document becomes
/// `{"file", "line", "entity", "lines"}`, where `lines` maps the JSON pointer of a member inside the
/// entity to the line it was written on, so that the engine can name the line of any problem.
/// A file that does not parse becomes `{"file", "line", "error"}` at the point where parsing stopped:
/// libyaml cannot resume after an error, so the documents after it in that file are not read.
///
/// Lines are kept for what a problem can name: the document's members and theirs (/spec/owner,
/// /metadata/name) and the items of its lists (/spec/dependsOn/1); deeper values (annotations, a
/// profile, an API's definition) take the line of the nearest member that has one. Keeping every
/// value's line costs a fifth of an import. Scalars take the type YAML 1.1's core schema gives them
/// (Yams resolves the tags), so `size: 3` is a number.
///
/// One reader does it all (YAMLEvents, on libyaml's events). This lives outside the engine on purpose:
/// the shared library stays free of a YAML parser, and C, Python and daemon callers send the same
/// documents as JSON.
public enum YAMLDocuments {
    /// The limits of what one file may hold (README.md, "Limits"): each passed ends the file's reading
    /// in an error document with its line, the documents before it kept. Nesting: a catalog entity is a
    /// few levels deep; 100,000 levels overflowed the stack. Alias values: what the aliases of one
    /// document may expand to (a billion-laughs file grew the command line to 11.9 GB).
    /// File size: the text of one file.
    public static let maxDepth = 256
    public static let maxAliasValues = 100_000
    public static let maxFileBytes = 64 << 20

    /// The documents of one file's text, appended to `into` (a JSON array). Returns how many.
    @discardableResult
    public static func append(text: String, file: String, into array: JSONRef) -> Int {
        if text.utf8.count > maxFileBytes {
            array.append(YAMLEvents.LimitError(line: 1, column: 1, reason: "the file is \(text.utf8.count) bytes, over the limit of "
                                               + "\(maxFileBytes) bytes a catalog file may have").document(file: file))
            return 1
        }
        return YAMLEvents.append(text: text, file: file, into: array)
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
}
