import Glibc
import TwoSpeedClient
import TwoSpeedJSON

/// Reads a whole file, or standard input for "-".
func readInput(_ path: String) throws -> [UInt8] {
    let name = path == "-" ? "standard input" : path
    let fd: CInt = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw UsageError("cannot read \(name): \(String(cString: strerror(errno)))")
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[..<n])
    }
}
/// Parses JSON text with jansson.
func readJSON(_ bytes: [UInt8], what: String) throws -> JSON {
    let result = try bytes.withUnsafeBytes { try JSON.parse($0) }
    switch result {
    case .success(let v): return v
    case .failure(let e): throw InvalidJSONError(what: what, reason: e.reason, line: e.line, column: e.column)
    }
}

/// Prints a value as JSON on standard output.
func printJSON(_ value: JSONView, compact: Bool) {
    print(value.text(pretty: !compact))
}

func printJSON(_ value: JSON, compact: Bool) { printJSON(value.view, compact: compact) }

/// Prints an error object (compact JSON text) on standard error, indented.
func printError(_ errorJSON: String) {
    if case .success(let v)? = try? JSON.parse(errorJSON) {
        writeError(v.text(pretty: true))
    } else {
        writeError(errorJSON)
    }
}

/// Writes a line on standard error (fd 2, unbuffered).
func writeError(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(0x0A)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + done, $0.count - done) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        done += n
    }
}
