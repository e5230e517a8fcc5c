import Glibc

/// The folders a daemon takes plugin manifests from, and the check that a named manifest is inside one.
public enum PluginFolders {
    /// `path` with every symlink, "." and ".." resolved; nil when it does not exist or cannot be resolved.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The real path of `file` when it lies inside one of `folders` (real paths themselves), else nil.
    /// A relative `file` is taken inside the first folder. Symlinks are resolved before the check, so a
    /// link inside a folder that leads out of it is refused, as is "..".
    public static func confine(_ file: String, to folders: [String]) -> String? {
        guard !file.isEmpty, !file.utf8.contains(0), let first = folders.first else { return nil }
        let named = file.hasPrefix("/") ? file : first + "/" + file
        guard let real = realPath(named) else { return nil }
        for folder in folders where folder.hasPrefix("/") {
            let base = folder == "/" ? "/" : folder + "/"
            if real.hasPrefix(base) && real.count > base.count { return real }
        }
        return nil
    }
}

/// Why a file could not be read as a plugin's manifest or module. Says nothing of the file's contents.
public struct FileReadFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Reads a regular file of at most `limit` bytes without ever blocking on it: opened with O_NONBLOCK (a
/// FIFO or a device named in its place is refused at once, not waited on), checked to be a regular file
/// with fstat on the open descriptor, and, when `noFollow`, refused if its last component is a symlink
/// (the caller has resolved the path already, so a link put there since is an attack).
func readRegularFile(_ path: String, limit: Int, noFollow: Bool = false) -> Result<[UInt8], FileReadFailure> {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (noFollow ? O_NOFOLLOW : 0))
    if fd < 0 {
        let e = errno
        return .failure(FileReadFailure(description: e == ELOOP && noFollow ? "cannot open \(path): it is a symbolic link"
                                                                             : "cannot open \(path): \(String(cString: strerror(e)))"))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return .failure(FileReadFailure(description: "cannot stat \(path)")) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(FileReadFailure(description: "\(path) is not a regular file")) }
    guard st.st_size <= limit else {
        return .failure(FileReadFailure(description: "\(path) is \(st.st_size) bytes; the limit is \(limit)"))
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(st.st_size))
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(FileReadFailure(description: "cannot read \(path): \(String(cString: strerror(errno)))"))
        }
        if n == 0 { break }
        bytes.append(contentsOf: buf[0..<n])
        // The file grew since fstat: the limit still holds.
        if bytes.count > limit { return .failure(FileReadFailure(description: "\(path) is over the limit of \(limit) bytes")) }
    }
    return .success(bytes)
}
