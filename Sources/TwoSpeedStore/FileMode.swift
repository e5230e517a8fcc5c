import Glibc

/// A file mode as chmod takes it, in octal ("0640", "640" or "0o640"), permission bits only; nil for
/// anything else. One reading for every place a mode is given: the store's, the daemon's socket's.
public func parseFileMode(_ text: String) -> mode_t? {
    let digits = text.hasPrefix("0o") ? text.dropFirst(2) : Substring(text)
    guard !digits.isEmpty, digits.allSatisfy({ ("0"..."7").contains($0) }),
          let m = mode_t(digits, radix: 8), m <= 0o777 else { return nil }
    return m
}
