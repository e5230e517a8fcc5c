/// A coding path kept as a chain of nodes, so that descending into a member costs one small node
/// rather than a copy of the whole path; the array form is built only when an error needs it.
final class PathNode: @unchecked Sendable {
    let parent: PathNode?
    let key: PathKey

    init(parent: PathNode?, key: PathKey) { self.parent = parent; self.key = key }

    static func extend(_ parent: PathNode?, _ key: CodingKey) -> PathNode { PathNode(parent: parent, key: .key(key)) }
    static func extend(_ parent: PathNode?, _ index: Int) -> PathNode { PathNode(parent: parent, key: .index(index)) }

    var codingPath: [CodingKey] {
        var out: [CodingKey] = []
        var n: PathNode? = self
        while let x = n { out.append(x.key.codingKey); n = x.parent }
        return out.reversed()
    }
}

/// A member name or an array index; an index stays an Int until a path is printed.
enum PathKey {
    case key(CodingKey)
    case index(Int)

    var codingKey: CodingKey {
        switch self {
        case .key(let k): return k
        case .index(let i): return AnyKey(intValue: i)
        }
    }
}

func path(_ node: PathNode?) -> [CodingKey] { node?.codingPath ?? [] }
