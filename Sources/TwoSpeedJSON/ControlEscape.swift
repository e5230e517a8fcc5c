/// Control characters made visible, for text that goes to a terminal or a log line: ESC and the other C0
/// controls, DEL, the C1 controls (U+0080 to U+009F; U+009B is a CSI on many terminals) and the Unicode line
/// and paragraph separators become \e, \r, \u{9b} and the like, and a backslash is doubled, so that text
/// from a client or a document can neither drive the terminal nor forge a line.
public enum ControlEscape {
    /// `text` with every control character escaped; `keepingLines` leaves line feeds, tabs and CR LF line
    /// ends as they are (a report's own layout; a lone CR, which overwrites a line on a terminal, is escaped).
    public static func escaped(_ text: String, keepingLines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingLines) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            let lineEnd = keepingLines && s == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n"
            guard needsEscape(s, keepingLines) && !lineEnd else {
                out.unicodeScalars.append(s)
                continue
            }
            switch s {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1b}": out += "\\e"
            default: out += "\\u{" + String(s.value, radix: 16) + "}"
            }
        }
        return out
    }

    static func needsEscape(_ s: Unicode.Scalar, _ keepingLines: Bool) -> Bool {
        switch s.value {
        case 0x0A, 0x09: return !keepingLines
        // A backslash is escaped only where escapes are (a log line); a report keeps its text.
        case 0x5C: return !keepingLines
        case 0x00..<0x20, 0x7F, 0x80...0x9F, 0x2028, 0x2029: return true
        default: return false
        }
    }
}
