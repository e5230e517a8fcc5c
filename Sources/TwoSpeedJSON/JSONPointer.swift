/// RFC 6901 JSON pointers, the way every error names the field it is about.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public init(_ tokens: [String] = []) { self.tokens = tokens }

    public static let root = JSONPointer()

    public func appending(_ key: String) -> JSONPointer {
        var p = self
        p.tokens.append(key)
        return p
    }

    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    public static func / (lhs: JSONPointer, rhs: String) -> JSONPointer { lhs.appending(rhs) }
    public static func / (lhs: JSONPointer, rhs: Int) -> JSONPointer { lhs.appending(rhs) }

    public mutating func push(_ key: String) { tokens.append(key) }
    public mutating func push(_ index: Int) { tokens.append(String(index)) }
    public mutating func pop() { tokens.removeLast() }

    /// "~" becomes "~0" and "/" becomes "~1", as RFC 6901 says.
    public var description: String {
        var out = ""
        for t in tokens {
            out.append("/")
            for ch in t {
                switch ch {
                case "~": out.append("~0")
                case "/": out.append("~1")
                default: out.append(ch)
                }
            }
        }
        return out
    }

    public init?(parsing text: String) {
        if text.isEmpty { self.init(); return }
        guard text.first == "/" else { return nil }
        var tokens: [String] = []
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            tokens.append(String(part).replacing("~1", with: "/").replacing("~0", with: "~"))
        }
        self.init(tokens)
    }

    /// The pointer of a Codable coding path.
    public init(codingPath: [CodingKey]) {
        self.init(codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue })
    }
}

