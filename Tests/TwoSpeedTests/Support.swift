import CJansson
import Synchronization
import XCTest
@testable import TwoSpeedEngine
import TwoSpeedJSON

/// Parses text that the test knows is JSON; the caller releases it.
func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONRef {
    switch JSONText.parse(text) {
    case .success(let v): return v
    case .failure(let e):
        XCTFail("not JSON: \(e.reason)", file: file, line: line)
        return JSONMake.null()
    }
}

/// A parsed response, with accessors for what tests look at.
struct Response {
    let text: String
    let json: JSONRef

    init(_ text: String) {
        self.text = text
        json = parse(text)
    }

    var result: JSONRef? { json["result"] }
    var error: JSONRef? { json["error"] }
    var code: Int? { error?["code"]?.intValue.map { Int($0) } }
    var pointer: String? { error?["data"]?["pointer"]?.stringValue }
    var pointers: [String] { error?["data"]?["errors"]?.elements.compactMap { $0["pointer"]?.stringValue } ?? [] }
    var id: JSONRef? { json["id"] }
}

extension Engine {
    /// Calls `method` with `params` (JSON text) and returns the parsed response.
    func request(_ method: String, _ params: String? = nil, id: Int = 1) -> Response {
        let p = params.map { ",\"params\":\($0)" } ?? ""
        return Response(call("{\"jsonrpc\":\"2.0\",\"method\":\"\(method)\"\(p),\"id\":\(id)}") ?? "null")
    }
}

let repoRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

func readFile(_ path: String) -> String {
    guard let f = fopen(path, "rb") else { return "" }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

let retailerText = readFile(repoRoot + "/examples/portfolios/retailer.json")

/// A fresh temporary directory for store files.
func temporaryDirectory() -> String {
    var template = Array("/tmp/twospeed-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    madeFolders.withLock { if $0 == nil { atexit { removeMadeFolders() } }; $0 = ($0 ?? []) + [path] }
    return path
}

/// Every folder temporaryDirectory() made, removed when the test process ends: the tests that forget
/// theirs had left thousands in /tmp.
private let madeFolders = Mutex<[String]?>(nil)
private func removeMadeFolders() {
    // mkdtemp's names need no quoting.
    if let paths = madeFolders.withLock({ $0 }), !paths.isEmpty { _ = system("rm -rf " + paths.joined(separator: " ")) }
}
