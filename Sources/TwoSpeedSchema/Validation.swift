import TwoSpeedJSON

/// One failure: where (a JSON pointer) and why.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var pointer: String
    public var reason: String
    public init(pointer: String, reason: String) { self.pointer = pointer; self.reason = reason }
    public init(_ pointer: JSONPointer, _ reason: String) { self.pointer = pointer.description; self.reason = reason }
    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(reason)" }
}

/// Collects failures up to a cap, so that a million wrong elements cost a bounded reply.
public struct IssueList: Sendable {
    public static let defaultCap = 100
    public private(set) var issues: [ValidationIssue] = []
    public private(set) var truncated = false
    public let cap: Int

    public init(cap: Int = IssueList.defaultCap) { self.cap = cap }

    public var isEmpty: Bool { issues.isEmpty }
    public var isFull: Bool { issues.count >= cap }

    public mutating func add(_ pointer: JSONPointer, _ reason: String) {
        add(ValidationIssue(pointer, reason))
    }

    public mutating func add(_ issue: ValidationIssue) {
        if issues.count < cap { issues.append(issue) } else { truncated = true }
    }

    public mutating func append(contentsOf other: IssueList) {
        for i in other.issues { add(i) }
        if other.truncated { truncated = true }
    }
}

extension Schema {
    /// Checks `value` and adds every failure under `pointer`. Recursion follows the schema, never the
    /// value alone, so a value nested 100,000 deep costs no more stack than the schema is deep.
    public func validate(_ value: JSONRef, at pointer: JSONPointer, into issues: inout IssueList) {
        var path = pointer
        check(value, &path, &issues)
    }

    /// The walk itself: one pointer grows and shrinks as it goes (push, check, pop), so that a value
    /// that passes costs no pointer of its own; a copy is taken only for a failure.
    func check(_ value: JSONRef, _ pointer: inout JSONPointer, _ issues: inout IssueList) {
        if issues.isFull { issues.add(pointer, "more failures"); return }
        if nullable && value.kind == .null { return }
        switch kind {
        case .any:
            if anyOf.isEmpty { return }
            if checkedByHandler, let first = anyOf.first {
                if value.kind.schemaName != first.kind.rawValue {
                    issues.add(pointer, "expected \(first.kind.rawValue), found \(value.kind.schemaName)")
                }
                return
            }
            for option in anyOf {
                var trial = IssueList(cap: 1)
                option.check(value, &pointer, &trial)
                if trial.isEmpty { return }
            }
            let kinds = anyOf.map { $0.kind.rawValue }.joined(separator: ", ")
            issues.add(pointer, "expected one of: \(kinds); found \(value.kind.schemaName)")
        case .object: validateObject(value, &pointer, &issues)
        case .array: validateArray(value, &pointer, &issues)
        case .string: validateString(value, pointer, &issues)
        case .integer:
            guard let i = value.intValue else {
                return issues.add(pointer, wrongType(value))
            }
            checkRange(Double(i), pointer, &issues)
        case .number:
            guard let d = value.doubleValue else { return issues.add(pointer, wrongType(value)) }
            checkRange(d, pointer, &issues)
        case .boolean:
            if value.kind != .bool { issues.add(pointer, wrongType(value)) }
        case .null:
            if value.kind != .null { issues.add(pointer, wrongType(value)) }
        }
    }

    /// Convenience: all failures of `value`, or none.
    public func validate(_ value: JSONRef, at pointer: JSONPointer = .root) -> IssueList {
        var list = IssueList()
        validate(value, at: pointer, into: &list)
        return list
    }

    private func wrongType(_ value: JSONRef) -> String {
        let expected = kind == .number ? "number" : kind.rawValue
        return "expected \(expected), found \(value.kind.schemaName)"
    }

    private func checkRange(_ d: Double, _ pointer: JSONPointer, _ issues: inout IssueList) {
        if let m = minimum, d < m { issues.add(pointer, "must be at least \(fmt(m)), found \(fmt(d))") }
        if let m = maximum, d > m { issues.add(pointer, "must be at most \(fmt(m)), found \(fmt(d))") }
        if let m = exclusiveMinimum, d <= m { issues.add(pointer, "must be greater than \(fmt(m)), found \(fmt(d))") }
    }

    private func validateObject(_ value: JSONRef, _ pointer: inout JSONPointer, _ issues: inout IssueList) {
        guard value.isObject else { return issues.add(pointer, wrongType(value)) }
        if let values = mapValues.first {
            value.forEachMember { key, member in
                pointer.push(key)
                values.check(member, &pointer, &issues)
                pointer.pop()
            }
            return
        }
        var known = 0
        for p in properties {
            if let member = value[p.name] {
                known += 1
                pointer.push(p.name)
                p.schema.check(member, &pointer, &issues)
                pointer.pop()
            } else if p.required {
                issues.add(pointer / p.name, "required")
            }
        }
        // Every member was one of the properties: no need to look for unknown ones by name.
        if value.count > known {
            value.forEachMember { key, _ in
                if !properties.contains(where: { $0.name == key }) {
                    issues.add(pointer / key, "unknown field; expected one of: \(properties.map(\.name).joined(separator: ", "))")
                }
            }
        }
    }

    private func validateArray(_ value: JSONRef, _ pointer: inout JSONPointer, _ issues: inout IssueList) {
        guard value.isArray else { return issues.add(pointer, wrongType(value)) }
        let n = value.count
        if let m = minItems, n < m { issues.add(pointer, "needs at least \(m) item\(m == 1 ? "" : "s"), found \(n)") }
        if let m = maxItems, n > m { issues.add(pointer, "takes at most \(m) items, found \(n)") }
        guard let item = items.first else { return }
        var seen = Set<String>()
        for i in 0..<n {
            guard let e = value[i] else { continue }
            pointer.push(i)
            item.check(e, &pointer, &issues)
            pointer.pop()
            if issues.isFull { return }
            if uniqueItems, let s = e.stringValue, !seen.insert(s).inserted {
                issues.add(pointer / i, "duplicate \"\(s)\"")
            }
        }
    }

    private func validateString(_ value: JSONRef, _ pointer: JSONPointer, _ issues: inout IssueList) {
        guard value.isString else { return issues.add(pointer, wrongType(value)) }
        let s = value.stringValue ?? ""
        if let values = enumValues {
            if !values.contains(s) {
                issues.add(pointer, "must be one of: \(values.joined(separator: ", ")); found \"\(clip(s))\"")
            }
            return
        }
        // Byte count bounds the character count from above, so long strings are measured only when needed.
        let bytes = s.utf8.count
        if let m = maxLength, bytes > m {
            let n = s.unicodeScalars.count
            if n > m { issues.add(pointer, "longer than \(m) characters (\(n))") }
        }
        if let m = minLength, s.unicodeScalars.count < m {
            issues.add(pointer, m == 1 ? "must not be empty" : "shorter than \(m) characters")
        }
        if let f = format, let why = Formats.check(f, s) {
            issues.add(pointer, why)
        }
    }
}

func fmt(_ d: Double) -> String {
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return String(d)
}

func clip(_ s: String) -> String {
    s.unicodeScalars.count <= 60 ? s : String(String.UnicodeScalarView(s.unicodeScalars.prefix(57))) + "..."
}

/// The string formats, checked without a regular-expression engine.
public enum Formats {
    /// nil when `s` is well-formed, else the reason.
    public static func check(_ f: Schema.Format, _ s: String) -> String? {
        switch f {
        case .identifier:
            return isIdentifier(s) ? nil : "not an identifier (1 to 128 of A-Z a-z 0-9 . _ : -, starting with a letter or digit): \"\(clip(s))\""
        case .stageRef:
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, isIdentifier(String(parts[0])), isIdentifier(String(parts[1])) { return nil }
            return "not a stage reference \"journey/stage\": \"\(clip(s))\""
        case .date:
            return bytes(s) { parseDate($0) } == s.utf8.count ? nil : "not a date (YYYY-MM-DD): \"\(clip(s))\""
        case .timestamp:
            return isTimestamp(s) ? nil : "not an RFC 3339 date-time or date: \"\(clip(s))\""
        }
    }

    public static func isIdentifier(_ s: String) -> Bool { bytes(s) { isIdentifier($0) } }

    /// The same check on bytes in place (a JSON string's, say), with no String made.
    public static func isIdentifier(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !u.isEmpty, u.count <= 128 else { return false }
        for i in 0..<u.count {
            let c = u[i]
            let alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            if i == 0 { if !alnum { return false } } else if !(alnum || c == 46 || c == 95 || c == 58 || c == 45) { return false }
        }
        return true
    }

    /// Parses YYYY-MM-DD at the start; returns the bytes consumed, or nil.
    static func parseDate(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count >= 10, b[4] == 45, b[7] == 45,
              let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2) else { return nil }
        guard (1...12).contains(m), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days ? 10 : nil
    }

    /// The string's UTF-8 bytes, read in place (native strings are contiguous) rather than copied.
    static func bytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(s.utf8).withUnsafeBufferPointer(body)
    }

    public static func isTimestamp(_ s: String) -> Bool { bytes(s) { isTimestamp($0) } }

    static func isTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let n = parseDate(b) else { return false }
        if n == b.count { return true }
        // date-time: T or t or space, HH:MM:SS, optional fraction, then Z or an offset.
        guard b.count >= 20, b[10] == 84 || b[10] == 116 || b[10] == 32, b[13] == 58, b[16] == 58,
              let h = digits(b, 11, 2), let mi = digits(b, 14, 2), let sec = digits(b, 17, 2),
              h < 24, mi < 60, sec <= 60 else { return false }
        var i = 19
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            if i == start { return false }
        }
        guard i < b.count else { return false }
        if b[i] == 90 || b[i] == 122 { return i + 1 == b.count }
        guard b[i] == 43 || b[i] == 45, b.count == i + 6, b[i + 3] == 58,
              let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh < 24, om < 60 else { return false }
        return true
    }

    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ n: Int) -> Int? {
        guard at + n <= b.count else { return nil }
        var v = 0
        for i in at..<(at + n) {
            guard b[i] >= 48, b[i] <= 57 else { return nil }
            v = v * 10 + Int(b[i] - 48)
        }
        return v
    }
}
