import Glibc

/// `path` made absolute against the current directory. The plugin host starts process plugins in
/// their manifest's folder, where a folder named relative to the caller's directory (`--plugins
/// plugins`) would no longer be found: it is resolved once, here, where the caller's directory counts.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    let base = String(cString: cwd)
    return path == "." ? base : (base.hasSuffix("/") ? base : base + "/") + path
}
