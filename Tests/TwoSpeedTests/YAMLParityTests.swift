import CJansson
import Glibc
import TwoSpeedJSON
import TwoSpeedYAML
import XCTest

/// The Swift reader of catalog files (YAMLDocuments, as `twospeed import` uses it) and the Python
/// binding's (twospeed._catalog, PyYAML) held to the same documents: anchors, several documents in a
/// file, explicit tags, and the numbers, booleans and nulls where YAML 1.1 and 1.2 disagree
/// (Tests/Fixtures/yaml-parity). Each document's entity, line and lines must be the same JSON.
final class YAMLParityTests: XCTestCase {
    static let folder = repoRoot + "/Tests/Fixtures/yaml-parity"

    /// The Python reader's documents for `file`, as one canonical JSON text per document.
    func python(_ file: String) throws -> [String] {
        let out = temporaryDirectory() + "/docs.jsonl"
        let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            from twospeed._catalog import catalog_documents
            with open(sys.argv[3], "w") as out:
                for d in catalog_documents([sys.argv[2]]):
                    d.pop("file", None)
                    out.write(json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\\n")
            """
        let argv: [String] = ["/usr/bin/env", "python3", "-c", script, repoRoot + "/bindings/python", file, out]
        var args = argv.map { strdup($0) } + [nil]
        defer { for a in args { free(a) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawn(&pid, "/usr/bin/env", nil, nil, &args, environ), 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        XCTAssertEqual(status, 0, "python3 could not read \(file) (PyYAML missing? make deps installs it)")
        return readFile(out).split(separator: "\n").map(String.init)
    }

    /// The Swift reader's documents for `file`, canonical in the same way.
    func swift(_ file: String) -> [String] {
        let docs = JSONMake.array()
        defer { docs.release() }
        YAMLDocuments.append(text: readFile(file), file: file, into: docs)
        return docs.elements.map { d in
            let copy = json_deep_copy(d)!
            defer { copy.release() }
            json_object_del(copy, "file")
            // JSON_REAL_PRECISION(17) is a macro Swift cannot import: the precision sits at bit 11.
            guard let c = json_dumps(copy, Int(JSON_COMPACT | JSON_SORT_KEYS) | (17 << 11)) else { return "null" }
            defer { free(c) }
            return String(cString: c)
        }
    }

    /// Where the two readers differ today, each value as JSON text and why. Held here so that either
    /// side changing is seen; everything else must be equal.
    struct Difference {
        let file: String
        let document: Int
        let path: [String]
        let swift: String
        let python: String
        let why: String
    }

    static let differences: [Difference] = [
        Difference(file: "scalars.yaml", document: 1, path: ["entity", "metadata", "annotations", "exponent"],
                   swift: "1500.0", python: "\"1.5e3\"",
                   why: "YAML 1.1's float (PyYAML) needs a dot and a signed exponent; Yams resolves 1.2's core schema"),
    ]

    /// Removes the member at `path` from `v` and returns it as JSON text ("absent" when there is none).
    func take(_ v: JSONRef, _ path: [String]) -> String {
        var cur = v
        for k in path.dropLast() {
            guard let next = cur[k] else { return "absent" }
            cur = next
        }
        guard let last = path.last, let m = cur[last] else { return "absent" }
        let text = canonical(m)
        json_object_del(cur, last)
        return text
    }

    func canonical(_ v: JSONRef) -> String {
        guard let c = json_dumps(v, Int(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) | (17 << 11)) else { return "null" }
        defer { free(c) }
        return String(cString: c)
    }

    func testTheSwiftAndPythonReadersAgree() throws {
        let files = ["anchors.yaml", "multi.yaml", "scalars.yaml", "tags.yaml"]
        for name in files {
            let file = Self.folder + "/" + name
            let s = swift(file), p = try python(file)
            XCTAssertEqual(s.count, p.count, "\(name): documents")
            for (i, (a, b)) in zip(s, p).enumerated() {
                let sw = parse(a), py = parse(b)
                defer { sw.release(); py.release() }
                // Python keeps the line of every value; Swift those a problem can name (down to a document's
                // members' members and list items, see YAMLDocuments): each it keeps must be Python's.
                if let sl = sw["lines"], let pl = py["lines"] {
                    for k in sl.keys {
                        XCTAssertEqual(sl[k]?.intValue, pl[k]?.intValue, "\(name), document \(i + 1): the line of \(k)")
                    }
                    json_object_del(sw, "lines")
                    json_object_del(py, "lines")
                }
                for d in Self.differences where d.file == name && d.document == i + 1 {
                    let (sv, pv) = (take(sw, d.path), take(py, d.path))
                    XCTAssertEqual(sv, d.swift, "\(name): \(d.path.joined(separator: "/")) in Swift (\(d.why))")
                    XCTAssertEqual(pv, d.python, "\(name): \(d.path.joined(separator: "/")) in PyYAML (\(d.why))")
                }
                XCTAssertEqual(canonical(sw), canonical(py), "\(name), document \(i + 1): Swift (first) and PyYAML (second) differ")
            }
        }
    }
}

