import CJansson

// What a reader that builds JSON from a parser's byte buffers needs (TwoSpeedYAML reads libyaml's
// events): strings and member names from UTF-8 bytes the parser has already checked, without making a
// Swift String of each, and a copy of a value to place it twice (a YAML alias).

extension JSONMake {
    /// A string value of `bytes`, UTF-8 the caller has checked (NUL bytes included as they are).
    public static func string(utf8 bytes: UnsafeBufferPointer<UInt8>) -> JSONRef {
        guard let b = bytes.baseAddress, bytes.count > 0 else { return json_stringn_nocheck("", 0)! }
        return UnsafeRawPointer(b).withMemoryRebound(to: CChar.self, capacity: bytes.count) { json_stringn_nocheck($0, bytes.count)! }
    }
}

extension UnsafeMutablePointer where Pointee == json_t {
    /// Sets member `key` (UTF-8 bytes the caller has checked, possibly empty) to `value`, taking it; an
    /// existing member of that name keeps its place and takes the new value.
    public func set(utf8Key key: [UInt8], _ value: JSONRef) {
        key.withUnsafeBufferPointer { k in
            guard let b = k.baseAddress, k.count > 0 else { _ = json_object_setn_new_nocheck(self, "", 0, value); return }
            UnsafeRawPointer(b).withMemoryRebound(to: CChar.self, capacity: k.count) { _ = json_object_setn_new_nocheck(self, $0, k.count, value) }
        }
    }

    /// A copy of the value and everything in it, owned by the caller.
    public func deepCopy() -> JSONRef { json_deep_copy(self)! }
}
