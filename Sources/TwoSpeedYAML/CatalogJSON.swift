import TwoSpeedJSON

/// The JSON that Backstage's catalog API returns, as the documents `import.backstage` takes: an array of
/// entities (`GET /api/catalog/entities`), `{"items": [...]}` (`/api/catalog/entities/by-query`), or one
/// entity. Each document gets the line its entity starts on, found by one pass over the text (jansson
/// gives no positions), so that problems name a line as they do for YAML; compact output (`curl`'s) is
/// all line 1. A text that is not JSON becomes one error document with jansson's line and column.
public enum CatalogJSON {
    /// Whether the text reads as JSON rather than YAML: its first non-blank byte opens an array or object.
    public static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        var i = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        return i < bytes.count && (bytes[i] == 0x5B || bytes[i] == 0x7B)
    }

    /// Appends the documents of `bytes` to `array`; returns how many.
    @discardableResult
    public static func append(bytes: [UInt8], file: String, into array: JSONRef) -> Int {
        func error(_ line: Int, _ column: Int?, _ reason: String) -> Int {
            let o = JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(line), "error": JSONMake.string(reason)])
            if let column { o.set("column", JSONMake.int(column)) }
            array.append(o)
            return 1
        }
        if bytes.count > YAMLDocuments.maxFileBytes {
            return error(1, nil, "the file is \(bytes.count) bytes, over the limit of \(YAMLDocuments.maxFileBytes) bytes a catalog file may have")
        }
        var body = bytes
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { body.removeFirst(3) }
        let root: JSON
        do {
            switch try body.withUnsafeBytes({ try JSON.parse($0) }) {
            case .failure(let e): return error(max(1, e.line), max(1, e.column), "JSON: \(e.reason)")
            case .success(let v): root = v
            }
        } catch let e {
            return error(1, nil, "JSON: \(e)")
        }
        // The entities are borrowed from root: it is held until they are all appended.
        return withExtendedLifetime(root) {
            if root.isArray { return appendEntities(root.view, lines: elementLines(body, nested: false), file: file, into: array) }
            if let items = root["items"], items.isArray {
                return appendEntities(items, lines: elementLines(body, nested: true), file: file, into: array)
            }
            if root.isObject {
                appendEntity(root.view, line: startLine(body), file: file, into: array)
                return 1
            }
            return error(1, nil, "expected an array of entities, {\"items\": [...]} or one entity")
        }
    }

    static func appendEntities(_ entities: JSONView, lines: [Int], file: String, into array: JSONRef) -> Int {
        for (i, e) in entities.elements.enumerated() { appendEntity(e, line: i < lines.count ? lines[i] : 1, file: file, into: array) }
        return entities.count
    }

    /// `{"file", "line", "entity"}`, the entity shared (not copied). A failed allocation is counted
    /// (JSONAllocation) for whoever answers, as JSONMake's are.
    static func appendEntity(_ e: JSONView, line: Int, file: String, into array: JSONRef) {
        let doc = JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(line)])
        try? JSONView(doc).set("entity", e)
        array.append(doc)
    }

    static func startLine(_ b: [UInt8]) -> Int {
        var line = 1
        for c in b { if c == 0x0A { line += 1 } else if c != 0x20 && c != 0x0D && c != 0x09 { break } }
        return line
    }

    /// The line each element of the entity array starts on: the top-level array's elements, or those of
    /// the array one level inside the top-level object (`items`). Strings are skipped whole.
    static func elementLines(_ b: [UInt8], nested: Bool) -> [Int] {
        var out: [Int] = []
        var line = 1, inString = false, escaped = false, expectElement = false
        var stack: [UInt8] = []
        // Inside the entity array itself: its elements start after '[' and after each ','.
        func inEntityArray() -> Bool {
            nested ? (stack.count == 2 && stack[0] == 0x7B && stack[1] == 0x5B) : (stack.count == 1 && stack[0] == 0x5B)
        }
        for c in b {
            if c == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                continue
            }
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            if expectElement, c != 0x5D { out.append(line) }
            expectElement = false
            switch c {
            case 0x22: inString = true
            case 0x7B, 0x5B:
                stack.append(c)
                if inEntityArray() { expectElement = true }
            case 0x7D, 0x5D: _ = stack.popLast()
            case 0x2C: if inEntityArray() { expectElement = true }
            default: break
            }
        }
        return out
    }
}
