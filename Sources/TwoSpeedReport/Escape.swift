/// Escaping for every text that comes from data (names, evidence, criteria, a custom model's words):
/// the renderers put nothing from a portfolio or a model on the page without passing it through here.
public enum Escape {
    /// Text for HTML (and SVG inside it), in element content and in quoted attribute values alike.
    /// `& < > " '` become entities; control characters that HTML and XML refuse are dropped, a CR becomes a space.
    public static func html(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(u)
            // A page saved and shown on a terminal would obey a CR; in HTML it is only white space.
            case "\r": out += " "
            default:
                if u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Text for Markdown inside a line or a table cell: it shows as the same text in CommonMark and GitHub
    /// Markdown, whatever it holds. Line breaks become spaces (a table row is one line), `|` cannot end
    /// a cell, `< > &` become entities (no raw HTML), and emphasis, code, link and strike-through marks
    /// are escaped.
    public static func markdownInline(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "\n", "\r", "\t": out += " "
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "|", "~": out += "\\"; out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Text for Markdown anywhere, at the start of a line or a list item too: `markdownInline`, and
    /// what would open a block there (a heading, a list, a numbered item, a setext underline) escaped.
    /// A heading's text ends with no `#` of its own (it would close the heading).
    public static func markdown(_ s: String) -> String {
        var out = markdownInline(s)
        if out.hasSuffix("#") { out.insert("\\", at: out.index(before: out.endIndex)) }
        // What would open a block at the start of a line or a list item: a heading, a list, a rule, a
        // setext underline, a numbered item ("1." or "1)").
        let trimmed = out.drop { $0 == " " }
        let lead = out.count - trimmed.count
        if let first = trimmed.first {
            if "#-+=".contains(first) {
                out.insert("\\", at: out.index(out.startIndex, offsetBy: lead))
            } else if first.isASCII && first.isNumber {
                let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
                let after = trimmed.dropFirst(digits.count).first
                if after == "." || after == ")" {
                    out.insert("\\", at: out.index(out.startIndex, offsetBy: lead + digits.count))
                }
            }
        }
        return out
    }
}

/// Numbers as people read them, without Foundation.
public enum Num {
    /// Exactly `decimals` decimals: fixed(3.4, 2) is "3.40", fixed(-0.004, 2) is "0.00".
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "–" : (v < 0 ? "−∞" : "∞") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e15 else { return String(v) }
        let n = Int64(scaled), base = Int64(scale)
        var s = String(n / base)
        if decimals > 0 {
            let frac = String(n % base)
            s += "." + String(repeating: "0", count: decimals - frac.count) + frac
        }
        return (v < 0 && n != 0 ? "-" : "") + s
    }

    /// At most `decimals` decimals, trailing zeros dropped: short(3.40, 2) is "3.4", short(60000, 2) is "60000".
    public static func short(_ v: Double, _ decimals: Int = 2) -> String {
        var s = fixed(v, decimals)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// A share as a percentage: pct(0.062, 1) is "6.2%".
    public static func pct(_ share: Double, _ decimals: Int = 1) -> String { short(share * 100, decimals) + "%" }

    /// Percentage points with their sign: points(0.0539) is "+5.39".
    public static func points(_ share: Double, _ decimals: Int = 2) -> String {
        let s = short(share * 100, decimals)
        return (share > 0 && s != "0" ? "+" : "") + s
    }

    /// A whole number in groups of three: grouped(45120) is "45,120".
    public static func grouped(_ n: Int) -> String { group(String(n)) }

    /// At most `decimals` decimals and the whole part in groups of three: readable(29166.667) is "29,166.67".
    public static func readable(_ v: Double, _ decimals: Int = 2) -> String { group(short(v, decimals)) }

    static func group(_ s: String) -> String {
        let negative = s.hasPrefix("-")
        let body = negative ? s.dropFirst() : Substring(s)
        let whole = Array(body.prefix { $0 != "." }), rest = body.dropFirst(whole.count)
        var out = ""
        for (i, d) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return (negative ? "-" : "") + out + rest
    }

    /// A p-value: "< 0.0001" for the tiny ones.
    public static func p(_ p: Double) -> String { p < 0.0001 ? "< 0.0001" : short(p, 4) }

    /// An SVG coordinate: one decimal at most.
    static func c(_ v: Double) -> String { short(v, 1) }
}
