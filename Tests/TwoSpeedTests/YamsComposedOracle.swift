import CJansson
import TwoSpeedJSON
@testable import TwoSpeedYAML
import Yams

/// The documents of a YAML text as composing Yams' nodes gives them: how TwoSpeedYAML read files with
/// anchors or errors before its one reader took them over (issue 25), kept here as the reference that
/// reader is held to (ImportTests.testTheReaderMatchesYamsComposing). Not a second reader of the product.
enum YamsComposedOracle {
    @discardableResult
    static func append(text: String, file: String, into array: JSONRef) -> Int {
        var n = 0
        do {
            // The sequence keeps its error instead of throwing it: check it once it ends.
            var documents = try Yams.compose_all(yaml: text)
            while let node = documents.next() {
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
            if let e = documents.error { throw e }
        } catch let e as YamlError {
            array.append(errorDocument(e, file: file))
            n += 1
        } catch {
            array.append(JSONMake.object(["file": JSONMake.string(file), "line": JSONMake.int(1), "error": JSONMake.string("\(error)")]))
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

    static func convert(_ node: Node, _ pointer: inout String, _ lines: JSONRef, depth: Int = 0, inList: Bool = false) -> JSONRef {
        let keep = depth <= 2 || (depth == 3 && inList)
        if keep, let line = node.mark?.line { lines.set(pointer, JSONMake.int(line)) }
        let deeper = depth < 3
        switch node {
        case .mapping(let m):
            let o = JSONMake.object()
            for (k, v) in m {
                let key = k.scalar?.string ?? ""
                if deeper {
                    let saved = pointer
                    pointer += "/" + key.split(separator: "~", omittingEmptySubsequences: false).joined(separator: "~0")
                        .split(separator: "/", omittingEmptySubsequences: false).joined(separator: "~1")
                    o.set(key, convert(v, &pointer, lines, depth: depth + 1))
                    pointer = saved
                } else {
                    o.set(key, convert(v, &pointer, lines, depth: depth + 1))
                }
            }
            return o
        case .sequence(let s):
            let a = JSONMake.array()
            for (i, v) in s.enumerated() {
                if deeper {
                    let saved = pointer
                    pointer += "/\(i)"
                    a.append(convert(v, &pointer, lines, depth: depth + 1, inList: true))
                    pointer = saved
                } else {
                    a.append(convert(v, &pointer, lines, depth: depth + 1, inList: true))
                }
            }
            return a
        case .scalar:
            return YAMLDocuments.scalarValue(node)
        }
    }
}
