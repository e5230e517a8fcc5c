import TwoSpeedContract
import TwoSpeedJSON
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema
import TwoSpeedStore

/// A reference to a catalog entity, `[kind:][namespace/]name`, compared without case as Backstage does.
struct CatalogRef: Hashable, CustomStringConvertible {
    var kind: String
    var namespace: String
    var name: String

    /// Parses a reference; the kind and namespace default to the ones given (Backstage resolves a
    /// reference's namespace against the entity that writes it).
    init?(_ text: String, defaultKind: String?, defaultNamespace: String) {
        // The common case, a bare lower-case name, without splitting or case folding.
        if let defaultKind, text.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }),
           !text.isEmpty {
            kind = defaultKind; namespace = defaultNamespace; name = text
            return
        }
        // An ASCII reference (the rest of the common cases: `group:default/team`, `api:name`) split by its
        // bytes: the Character-wise search below costs more than the rest of an import's mapping.
        if let r = CatalogRef.ascii(text, defaultKind: defaultKind, defaultNamespace: defaultNamespace) {
            guard let r = r else { return nil }
            self = r
            return
        }
        var rest = Substring(text.trimmingSpaces)
        var kind = defaultKind
        if let colon = rest.firstIndex(of: ":") {
            kind = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        var ns = defaultNamespace
        if let slash = rest.firstIndex(of: "/") {
            ns = String(rest[..<slash])
            rest = rest[rest.index(after: slash)...]
        }
        guard let kind, !kind.isEmpty, !ns.isEmpty, !rest.isEmpty, !rest.contains("/"), !rest.contains(":") else { return nil }
        self.kind = kind.lowercased(); namespace = ns.lowercased(); name = rest.lowercased()
    }

    /// The parse of an all-ASCII reference (nil when the text is not all ASCII: the general path reads it),
    /// the same as the general path's: spaces and tabs trimmed, `kind:` up to the first colon, `namespace/`
    /// up to the first slash after it, parts lower-cased.
    private static func ascii(_ text: String, defaultKind: String?, defaultNamespace: String) -> CatalogRef?? {
        var t = text
        return t.withUTF8 { u -> CatalogRef?? in
            var lo = 0, hi = u.count
            if u.contains(where: { $0 >= 0x80 }) { return .none }
            while lo < hi, u[lo] == 0x20 || u[lo] == 0x09 { lo += 1 }
            while hi > lo, u[hi - 1] == 0x20 || u[hi - 1] == 0x09 { hi -= 1 }
            func part(_ a: Int, _ b: Int) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: u[a..<b]), as: UTF8.self)
            }
            var start = lo
            var kind = defaultKind
            if let colon = (lo..<hi).first(where: { u[$0] == 0x3A }) {
                kind = part(lo, colon)
                start = colon + 1
            }
            var ns = defaultNamespace
            if let slash = (start..<hi).first(where: { u[$0] == 0x2F }) {
                ns = part(start, slash)
                start = slash + 1
            }
            guard let kind, !kind.isEmpty, !ns.isEmpty, start < hi,
                  !(start..<hi).contains(where: { u[$0] == 0x2F || u[$0] == 0x3A }) else { return .some(nil) }
            return .some(CatalogRef(lowercased: kind.lowercasedIfNeeded, namespace: ns.lowercasedIfNeeded, name: part(start, hi).lowercasedIfNeeded))
        }
    }

    private init(lowercased kind: String, namespace: String, name: String) {
        self.kind = kind; self.namespace = namespace; self.name = name
    }

    init(kind: String, namespace: String, name: String) {
        self.kind = kind.lowercased(); self.namespace = namespace.lowercased(); self.name = name.lowercased()
    }

    var description: String { "\(kind):\(namespace)/\(name)" }
}

/// A rule choosing a system's layer from what its catalog entity says; the first that matches wins.
/// Every condition given must hold; `layer` "skip" leaves the entity out (a library is not a system).
struct LayerRule {
    var kind: String?
    var type: [String]?
    var tag: [String]?
    var system: String?
    var lifecycle: String?
    var name: String?
    var layer: String

    init(kind: String? = nil, type: [String]? = nil, tag: [String]? = nil, layer: String) {
        self.kind = kind; self.type = type; self.tag = tag; self.layer = layer
    }

    init(json: JSONRef) {
        func list(_ k: String) -> [String]? {
            guard let v = json[k] else { return nil }
            if let s = v.stringValue { return [s.lowercased()] }
            return v.elements.compactMap { $0.stringValue?.lowercased() }
        }
        kind = json["kind"]?.stringValue?.lowercased()
        type = list("type")
        tag = list("tag")
        system = json["system"]?.stringValue?.lowercased()
        lifecycle = json["lifecycle"]?.stringValue?.lowercased()
        name = json["name"]?.stringValue?.lowercased()
        layer = json["layer"]?.stringValue ?? "back-end"
    }

    func matches(kind k: String, type t: String, tags: [String], system s: String?, lifecycle l: String, name n: String) -> Bool {
        if let kind, kind != k { return false }
        if let type, !type.contains(t) { return false }
        if let tag, !tags.contains(where: { tag.contains($0) }) { return false }
        if let system, system != s { return false }
        if let lifecycle, lifecycle != l { return false }
        if let name {
            // A trailing * matches any rest of the name.
            if name.hasSuffix("*") { if !n.hasPrefix(String(name.dropLast())) { return false } } else if name != n { return false }
        }
        return true
    }

    /// After the caller's rules: front ends by their usual component types, platform services by tag,
    /// other services and every resource (database, queue, bucket) in the back end, and what does
    /// not run on its own (libraries, documentation, templates) left out.
    static let defaults: [LayerRule] = [
        LayerRule(kind: "component", type: ["website", "web", "frontend", "front-end", "mobile-app", "mobile", "ios", "android",
                                            "app", "spa", "micro-frontend", "desktop", "desktop-app"], layer: "front-end"),
        LayerRule(kind: "component", type: ["library", "documentation", "docs", "template", "sdk"], layer: "skip"),
        LayerRule(kind: "component", tag: ["platform", "infrastructure", "infra", "shared-platform"], layer: "platform"),
        LayerRule(kind: "resource", tag: ["platform", "infrastructure", "infra"], layer: "platform"),
        LayerRule(layer: "back-end"),
    ]

}

/// A catalog document being mapped.
final class CatalogRecord {
    let index: Int
    let entity: JSONRef
    let file: String?
    let line: Int?
    let lines: JSONRef?
    let kind: String
    let ref: CatalogRef
    let spec: JSONRef
    let metadata: JSONRef
    /// The TwoSpeed id it maps to.
    let id: String
    var skipped = false
    /// References to entities neither in the catalog (or skipped there) nor in the portfolio: the
    /// Backstage field, the target as written canonically, the pointer of the value.
    var dangling: [(key: String, target: CatalogRef, pointer: String)] = []
    /// For groups: a team (true) or a department.
    var isTeam = false
    var parent: CatalogRecord?

    init(index: Int, entity: JSONRef, file: String?, line: Int?, lines: JSONRef?, kind: String, ref: CatalogRef,
         spec: JSONRef, metadata: JSONRef, id: String) {
        self.index = index; self.entity = entity; self.file = file; self.line = line; self.lines = lines
        self.kind = kind; self.ref = ref; self.spec = spec; self.metadata = metadata; self.id = id
    }

    var title: String {
        if kind == "user" || kind == "group", let d = spec["profile"]?["displayName"]?.stringValue, !d.isEmpty { return d }
        if let t = metadata["title"]?.stringValue, !t.isEmpty { return t }
        return metadata["name"]?.stringValue ?? id
    }

    func str(_ key: String) -> String? { spec[key]?.stringValue }
    func strings(_ key: String) -> [String] { spec[key]?.elements.compactMap(\.stringValue) ?? [] }
    var tags: [String] { metadata["tags"]?.elements.compactMap { $0.stringValue?.lowercased() } ?? [] }
    func annotation(_ key: String) -> String? { metadata["annotations"]?[key]?.stringValue }

    /// The line of the value at `pointer` inside the entity: its own, or the nearest enclosing one's.
    func line(of pointer: String) -> Int? {
        guard let lines else { return line }
        var p = pointer
        while true {
            if let l = lines[p]?.intValue { return Int(l) }
            guard let slash = p.lastIndex(of: "/") else { return line }
            p = String(p[..<slash])
        }
    }
}

/// The mapping of a Backstage catalog onto a portfolio (the README's table says it in words).
struct BackstageMapping {
    static let mappedKinds: Set<String> = ["domain", "system", "component", "api", "resource", "group", "user"]
    static let teamTypes: Set<String> = ["team", "squad", "sub-team", "subteam", "crew", "pod"]
    static let divisionTypes: Set<String> = ["business-unit", "division", "product-area", "domain", "tribe", "org", "organization"]

    var problems: [ImportProblem] = []
    var records: [CatalogRecord] = []
    var byRef: [CatalogRef: CatalogRecord] = [:]
    /// Records by document index, for describing refused ones without a scan each.
    var byIndex: [Int: CatalogRecord] = [:]
    let rules: [LayerRule]

    init(rules: [LayerRule]) { self.rules = rules + LayerRule.defaults }

    mutating func problem(_ r: CatalogRecord, _ pointer: String, _ reason: String, skip: Bool = true) {
        problems.append(ImportProblem(record: r.index, file: r.file, line: r.line(of: pointer), entity: r.ref.description,
                                      pointer: "/documents/\(r.index)/entity" + pointer, reason: reason, skipped: skip))
        if skip { r.skipped = true }
    }

    /// Reads the documents: what each is, whether it can be mapped at all.
    mutating func read(_ documents: JSONRef) {
        for (i, doc) in documents.elements.enumerated() {
            let file = doc["file"]?.stringValue
            let line = doc["line"]?.intValue.map { Int($0) }
            func refuse(_ pointer: String, _ reason: String) {
                var p = ImportProblem(record: i, file: file, line: line, pointer: "/documents/\(i)" + pointer, reason: reason, skipped: true)
                p.column = doc["column"]?.intValue.map { Int($0) }
                problems.append(p)
            }
            if let error = doc["error"]?.stringValue { refuse("", error); continue }
            guard let entity = doc["entity"], entity.isObject else { refuse("/entity", "expected the entity as an object"); continue }
            let lines = doc["lines"].flatMap { $0.isObject ? $0 : nil }
            let at = { (p: String) -> Int? in
                var q = p
                while true {
                    if let l = lines?[q]?.intValue { return Int(l) }
                    guard let s = q.lastIndex(of: "/") else { return line }
                    q = String(q[..<s])
                }
            }
            func refuseAt(_ p: String, _ reason: String) {
                problems.append(ImportProblem(record: i, file: file, line: at(p), pointer: "/documents/\(i)/entity" + p,
                                              reason: reason, skipped: true))
            }
            guard let kindText = entity["kind"]?.stringValue, !kindText.isEmpty else { refuseAt("/kind", "kind is missing"); continue }
            if Self.mappedKinds.contains(kindText.lowercased()) {
                guard let api = entity["apiVersion"]?.stringValue, api.hasPrefix("backstage.io/") else {
                    refuseAt("/apiVersion", "apiVersion must be backstage.io/v1alpha1 or v1beta1"); continue
                }
            }
            guard let metadata = entity["metadata"], metadata.isObject,
                  let name = metadata["name"]?.stringValue, !name.isEmpty else {
                refuseAt("/metadata/name", "metadata.name is missing"); continue
            }
            let kind = kindText.lowercased()
            guard Self.mappedKinds.contains(kind) else {
                var p = ImportProblem(record: i, file: file, line: at("/kind"), entity: "\(kind):\(metadata["namespace"]?.stringValue ?? "default")/\(name)",
                                      pointer: "/documents/\(i)/entity/kind",
                                      reason: "kind \(kindText) is not mapped onto the portfolio", skipped: true)
                p.unmapped = true
                problems.append(p)
                continue
            }
            let namespace = metadata["namespace"]?.stringValue ?? "default"
            let spec: JSONRef
            if let s = entity["spec"], s.isObject { spec = s } else if kind == "user" || kind == "group", entity["spec"] == nil {
                spec = JSONMake.object(); entity.set("spec", spec)
            } else { refuseAt("/spec", "spec is missing"); continue }
            // Ids of the default namespace are the names; others carry their namespace.
            let id = namespace.lowercased() == "default" ? name : "\(namespace):\(name)"
            let ref = CatalogRef(kind: kind, namespace: namespace, name: name)
            let r = CatalogRecord(index: i, entity: entity, file: file, line: line, lines: lines, kind: kind, ref: ref,
                                  spec: spec, metadata: metadata, id: id)
            if byRef[ref] != nil { problem(r, "/metadata/name", "\(ref) is defined twice (first at \(byRef[ref]!.file ?? "")" +
                                           "\(byRef[ref]!.line.map { ":\($0)" } ?? ""))"); continue }
            var required: [String] = []
            switch kind {
            case "component": required = ["type", "lifecycle", "owner"]
            case "api": required = ["type", "lifecycle", "owner"]
            case "resource": required = ["type", "owner"]
            case "system", "domain": required = ["owner"]
            default: break
            }
            var bad = false
            for f in required where r.str(f)?.isEmpty ?? true {
                problem(r, "/spec/" + f, "spec.\(f) is required for a \(kindText)"); bad = true
            }
            var idIssues = IssueList()
            let idJSON = JSON(adopting: JSONMake.string(id))
            Schema.identifier().validate(idJSON.ref, at: .root, into: &idIssues)
            if !idIssues.isEmpty { problem(r, "/metadata/name", "\"\(id)\" cannot be an id: \(idIssues.issues[0].reason)"); bad = true }
            byRef[ref] = r
            byIndex[i] = r
            records.append(r)
            _ = bad
        }
    }

    func find(_ ref: CatalogRef) -> CatalogRecord? { byRef[ref] }

    /// The references a record makes, with the default kind of each field, and whether a target that
    /// is in the catalog but skipped makes this record skip too (forward references do; the inverse
    /// lists, a group's children and members, only lose the link).
    func references(_ r: CatalogRecord) -> [(key: String, index: Int, text: String, kind: String, hard: Bool)] {
        // The pointer (/spec/KEY or /spec/KEY/INDEX) is built only for a problem: index -1 for a single value.
        var out: [(String, Int, String, String, Bool)] = []
        func one(_ key: String, _ kind: String) { if let v = r.str(key) { out.append((key, -1, v, kind, true)) } }
        func many(_ key: String, _ kind: String, hard: Bool = true) {
            for (i, v) in r.strings(key).enumerated() { out.append((key, i, v, kind, hard)) }
        }
        switch r.kind {
        case "component", "resource":
            one("owner", "group"); one("system", "system")
            many("dependsOn", "component"); many("providesApis", "api"); many("consumesApis", "api")
        case "api": one("owner", "group"); one("system", "system")
        case "system": one("owner", "group"); one("domain", "domain")
        case "domain": one("owner", "group")
        case "group": one("parent", "group"); many("children", "group", hard: false); many("members", "user", hard: false)
        case "user": many("memberOf", "group")
        default: break
        }
        return out
    }

    /// Whether the portfolio already holds what a catalog entity would map to, for references to
    /// entities imported before and not in this catalog.
    static func existing(_ ref: CatalogRef, _ base: StoredPortfolio) -> Bool {
        let id = ref.namespace == "default" ? ref.name : "\(ref.namespace):\(ref.name)"
        switch ref.kind {
        case "group": return base.position(.team, id) != nil || base.position(.department, id) != nil
        case "domain": return base.position(.department, id) != nil
        case "user": return base.position(.manager, id) != nil
        case "component", "resource": return base.position(.system, id) != nil
        default: return false
        }
    }

    /// Skips the records with a reference that cannot be read; keeps the ones whose references point
    /// outside the catalog and the portfolio (as Backstage keeps them), each such reference a note and
    /// an unresolved reference of the entity it maps to.
    mutating func resolve(_ base: StoredPortfolio) {
        // Each reference parsed once (parsing is a large part of the mapping): a record with one that
        // cannot be read is skipped before any other record looks at it.
        var parsed: [[(key: String, index: Int, kind: String, text: String, hard: Bool, target: CatalogRef)]] = []
        parsed.reserveCapacity(records.count)
        for r in records {
            var mine: [(key: String, index: Int, kind: String, text: String, hard: Bool, target: CatalogRef)] = []
            if !r.skipped {
                for ref in references(r) {
                    guard let target = CatalogRef(ref.text, defaultKind: ref.kind, defaultNamespace: r.ref.namespace) else {
                        problem(r, "/spec/" + ref.key + (ref.index < 0 ? "" : "/\(ref.index)"), "\"\(ref.text)\" is not an entity reference")
                        mine = []
                        break
                    }
                    mine.append((ref.key, ref.index, ref.kind, ref.text, ref.hard, target))
                }
            }
            parsed.append(mine)
        }
        for (r, refs) in zip(records, parsed) where !r.skipped {
            for ref in refs {
                let target = ref.target
                var pointer: String { "/spec/" + ref.key + (ref.index < 0 ? "" : "/\(ref.index)") }
                var t = find(target)
                // dependsOn names components and resources alike.
                if t == nil, ref.kind == "component", !ref.text.contains(":") {
                    t = find(CatalogRef(kind: "resource", namespace: target.namespace, name: target.name))
                }
                if let t {
                    if t.skipped && ref.hard {
                        problem(r, pointer, "\(ref.text) names \(t.ref), which was skipped: kept as an unresolved reference", skip: false)
                        r.dangling.append((ref.key, t.ref, pointer))
                    }
                    continue
                }
                if Self.existing(target, base) { continue }
                if ref.kind == "component", !ref.text.contains(":"),
                   Self.existing(CatalogRef(kind: "resource", namespace: target.namespace, name: target.name), base) { continue }
                problem(r, pointer, "unresolved reference: \(target) is neither in the catalog nor in the portfolio; "
                        + "kept until an import brings it", skip: false)
                if ref.hard { r.dangling.append((ref.key, target, pointer)) }
            }
        }
    }

    /// The portfolio field a Backstage reference fills on the entity the record maps to (nil: none).
    static func field(_ key: String, of r: CatalogRecord) -> String? {
        switch (r.kind, key) {
        case ("component", "owner"), ("resource", "owner"): return "owner"
        case ("component", "system"), ("resource", "system"): return "system"
        case ("component", "dependsOn"), ("resource", "dependsOn"), ("component", "consumesApis"), ("resource", "consumesApis"):
            return "interfaces"
        case ("group", "parent") where r.isTeam: return "department"
        case ("user", "memberOf"): return "department"
        default: return nil
        }
    }

    /// The unresolved references of a record's entity.
    func unresolved(_ r: CatalogRecord, _ kind: EntityKind) -> [UnresolvedReference] {
        var out: [UnresolvedReference] = []
        var seen = Set<String>()
        for d in r.dangling {
            guard let f = Self.field(d.key, of: r), seen.insert(f + " " + d.target.description).inserted else { continue }
            // A user of several groups has a department when one of them is known.
            if f == "department", r.kind == "user", userDepartment(r) != nil { continue }
            let source = r.file.map { $0 + (r.line(of: d.pointer).map { ":\($0)" } ?? "") }
            out.append(UnresolvedReference(kind: kind.rawValue, id: r.id, field: f, ref: d.target.description, source: source))
        }
        return out
    }

    /// Groups: teams by type (or leaves of no telling type), departments otherwise; parents from
    /// `parent` or from another group's `children`.
    func classifyGroups() {
        var hasChildren = Set<ObjectIdentifier>()
        for g in records where g.kind == "group" && !g.skipped {
            for c in g.strings("children") {
                if let ref = CatalogRef(c, defaultKind: "group", defaultNamespace: g.ref.namespace), let child = find(ref), !child.skipped {
                    child.parent = child.parent ?? g
                    hasChildren.insert(ObjectIdentifier(g))
                }
            }
            if let p = g.str("parent"), let ref = CatalogRef(p, defaultKind: "group", defaultNamespace: g.ref.namespace),
               let parent = find(ref), !parent.skipped {
                g.parent = parent
                hasChildren.insert(ObjectIdentifier(parent))
            }
        }
        for g in records where g.kind == "group" {
            let type = g.str("type")?.lowercased() ?? ""
            g.isTeam = Self.teamTypes.contains(type) || (!hasChildren.contains(ObjectIdentifier(g)) && !Self.divisionTypes.contains(type))
        }
    }

    /// The department a group belongs to: itself, or its nearest ancestor that is one.
    func department(of g: CatalogRecord) -> String? {
        var cur: CatalogRecord? = g
        var hops = 0
        while let c = cur, hops < 100 {
            if !c.isTeam { return c.id }
            cur = c.parent; hops += 1
        }
        return nil
    }

    /// The department of an owner reference (a group, or a user through the groups they belong to).
    func ownerDepartment(_ text: String, _ from: CatalogRecord, _ base: StoredPortfolio) -> (department: String?, manager: String?) {
        ownerDepartment(text, namespace: from.ref.namespace, base)
    }

    func ownerDepartment(_ text: String, namespace: String, _ base: StoredPortfolio) -> (department: String?, manager: String?) {
        guard let ref = CatalogRef(text, defaultKind: "group", defaultNamespace: namespace) else { return (nil, nil) }
        if let r = find(ref) {
            if r.kind == "group" { return (department(of: r), nil) }
            if r.kind == "user" { return (userDepartment(r), r.id) }
            return (nil, nil)
        }
        let id = ref.namespace == "default" ? ref.name : "\(ref.namespace):\(ref.name)"
        if ref.kind == "user", let i = base.position(.manager, id) { return (base.portfolio.managers[i].department, id) }
        if ref.kind == "group" {
            if base.position(.department, id) != nil { return (id, nil) }
            if let i = base.position(.team, id) { return (base.portfolio.teams[i].department, nil) }
        }
        return (nil, nil)
    }

    var memberships: [ObjectIdentifier: [CatalogRecord]] = [:]

    /// Users by group and groups by user, from `members` and `memberOf` both.
    mutating func collectMemberships() {
        var seen = Set<String>()
        func link(_ g: CatalogRecord, _ u: CatalogRecord) {
            let key = "\(g.index)/\(u.index)"
            if seen.insert(key).inserted {
                memberships[ObjectIdentifier(g), default: []].append(u)
                memberships[ObjectIdentifier(u), default: []].append(g)
            }
        }
        for r in records where !r.skipped {
            if r.kind == "group" {
                for m in r.strings("members") {
                    if let ref = CatalogRef(m, defaultKind: "user", defaultNamespace: r.ref.namespace), let u = find(ref), !u.skipped { link(r, u) }
                }
            } else if r.kind == "user" {
                for m in r.strings("memberOf") {
                    if let ref = CatalogRef(m, defaultKind: "group", defaultNamespace: r.ref.namespace), let g = find(ref), !g.skipped { link(g, r) }
                }
            }
        }
    }

    func userDepartment(_ u: CatalogRecord) -> String? {
        for g in memberships[ObjectIdentifier(u)] ?? [] where g.kind == "group" { if let d = department(of: g) { return d } }
        return nil
    }

    /// The layer of a component or resource by the rules, or "skip".
    func layer(_ r: CatalogRecord) -> String {
        let type = r.str("type")?.lowercased() ?? ""
        let system = r.str("system").flatMap { CatalogRef($0, defaultKind: "system", defaultNamespace: r.ref.namespace)?.name }
        let lifecycle = r.str("lifecycle")?.lowercased() ?? ""
        let name = r.ref.name
        let tags = r.tags
        if let a = r.annotation("twospeed.io/layer") { return a }
        for rule in rules where rule.matches(kind: r.kind, type: type, tags: tags, system: system, lifecycle: lifecycle, name: name) {
            return rule.layer
        }
        return "back-end"
    }

    static func departmentKind(_ r: CatalogRecord) -> String {
        if let a = r.annotation("twospeed.io/department-kind") { return a }
        if r.kind == "domain" { return "division" }
        let type = r.str("type")?.lowercased() ?? ""
        if Vocabulary.departmentKinds.contains(type) { return type }
        if divisionTypes.contains(type) || type == "department" { return type == "department" ? "other" : "division" }
        return "other"
    }

    /// The portfolio entities of the records that are left.
    mutating func entries(_ base: StoredPortfolio) throws -> [ImportEntry] {
        classifyGroups()
        collectMemberships()
        var out: [ImportEntry] = []
        // The system each component or resource belongs to, and which of them provide each API.
        var providers: [CatalogRef: [CatalogRecord]] = [:]
        var layers: [ObjectIdentifier: String] = [:]
        for r in records where !r.skipped && (r.kind == "component" || r.kind == "resource") {
            let l = layer(r)
            layers[ObjectIdentifier(r)] = l
            guard l != "skip" else { continue }
            for a in r.strings("providesApis") {
                if let ref = CatalogRef(a, defaultKind: "api", defaultNamespace: r.ref.namespace) { providers[ref, default: []].append(r) }
            }
        }
        func systemOf(_ r: CatalogRecord) -> CatalogRef? {
            r.str("system").flatMap { CatalogRef($0, defaultKind: "system", defaultNamespace: r.ref.namespace) }
        }
        for r in records where !r.skipped {
            // JSONMake's builders count a failed allocation (the request then answers "out of memory").
            let v = JSON(adopting: JSONMake.object())
            v.set("id", JSONMake.string(r.id))
            v.set("name", JSONMake.string(String(r.title.prefix(500))))
            switch r.kind {
            case "domain":
                v.set("kind", JSONMake.string(Self.departmentKind(r)))
                out.append(ImportEntry(record: r.index, kind: .department, id: r.id, values: v, owned: [["name"], ["kind"]],
                                       unresolved: []))
            case "group" where !r.isTeam:
                v.set("kind", JSONMake.string(Self.departmentKind(r)))
                out.append(ImportEntry(record: r.index, kind: .department, id: r.id, values: v, owned: [["name"], ["kind"]],
                                       unresolved: []))
            case "group":
                let members = memberships[ObjectIdentifier(r)]?.count ?? 0
                let size = r.annotation("twospeed.io/size").flatMap { Int($0) } ?? max(1, members)
                v.set("size", JSONMake.int(size))
                if let d = r.parent.flatMap({ department(of: $0) }) { v.set("department", JSONMake.string(d)) }
                out.append(ImportEntry(record: r.index, kind: .team, id: r.id, values: v, owned: [["name"], ["size"], ["department"]],
                                       unresolved: unresolved(r, .team)))
            case "user":
                if let d = userDepartment(r) { v.set("department", JSONMake.string(d)) }
                out.append(ImportEntry(record: r.index, kind: .manager, id: r.id, values: v, owned: [["name"], ["department"]],
                                       unresolved: unresolved(r, .manager)))
            case "component", "resource":
                let l = layers[ObjectIdentifier(r)] ?? "back-end"
                if l == "skip" { continue }
                v.set("layer", JSONMake.string(l))
                if let lc = r.str("lifecycle")?.lowercased() {
                    if Vocabulary.systemStatuses.contains(lc) { v.set("status", JSONMake.string(lc)) } else {
                        problem(r, "/spec/lifecycle", "lifecycle \"\(lc)\" is none of \(Vocabulary.systemStatuses.joined(separator: ", ")); no status recorded", skip: false)
                    }
                }
                if let owner = r.str("owner") {
                    let (d, m) = ownerDepartment(owner, r, base)
                    if let m { v.set("owner", JSONMake.string(m)) }
                    if let d { v.set("department", JSONMake.string(d)) }
                }
                if v["department"] == nil, let s = systemOf(r).flatMap({ find($0) }),
                   let dom = s.str("domain").flatMap({ CatalogRef($0, defaultKind: "domain", defaultNamespace: s.ref.namespace) }),
                   let d = find(dom), !d.skipped {
                    v.set("department", JSONMake.string(d.id))
                }
                let interfaces = JSON(adopting: JSONMake.array())
                var seen = Set<String>()
                func add(_ to: String, _ kind: String) {
                    guard to != r.id, seen.insert(to + " " + kind).inserted else { return }
                    interfaces.append(JSONMake.object(["to": JSONMake.string(to), "kind": JSONMake.string(kind)]))
                }
                for (i, a) in r.strings("consumesApis").enumerated() {
                    guard let ref = CatalogRef(a, defaultKind: "api", defaultNamespace: r.ref.namespace) else { continue }
                    let api = find(ref)
                    let kind = api?.str("type")?.lowercased() == "asyncapi" ? "event" : "api"
                    let ps = (providers[ref] ?? []).filter { $0 !== r }
                    // An API the catalog lacks altogether is an unresolved reference, noted once by resolve.
                    if ps.isEmpty, api != nil {
                        problem(r, "/spec/consumesApis/\(i)", "no component of the catalog provides \(ref); no interface recorded", skip: false)
                    }
                    for p in ps { add(p.id, kind) }
                }
                let mySystem = systemOf(r)
                for d in r.strings("dependsOn") {
                    guard let ref = CatalogRef(d, defaultKind: "component", defaultNamespace: r.ref.namespace) else { continue }
                    var t = find(ref)
                    if t == nil, !d.contains(":") { t = find(CatalogRef(kind: "resource", namespace: ref.namespace, name: ref.name)) }
                    if let t {
                        guard !t.skipped, layers[ObjectIdentifier(t)] != "skip" else { continue }
                        // Parts of one Backstage system ship together; a coupling is across systems or to a resource.
                        if t.kind == "component", let mine = mySystem, systemOf(t) == mine { continue }
                        add(t.id, "direct")
                    } else {
                        // Imported before: the system is in the portfolio already (else it is unresolved).
                        let id = ref.namespace == "default" ? ref.name : "\(ref.namespace):\(ref.name)"
                        if base.position(.system, id) != nil { add(id, "direct") }
                    }
                }
                try v.set("interfaces", interfaces)
                out.append(ImportEntry(record: r.index, kind: .system, id: r.id, values: v,
                                       owned: [["name"], ["layer"], ["status"], ["owner"], ["department"], ["interfaces"]],
                                       unresolved: unresolved(r, .system)))
            default:
                // System, API: read for the mapping of others, no entity of their own.
                break
            }
        }
        return out + resolutions(base, besides: out)
    }

    /// Entries for `resolutions` by record number: their own, below every document's.
    var resolutionNotes: [Int: String] = [:]

    /// Entries that fill the fields of stored entities whose unresolved references this catalog now
    /// brings (groups from an org export after the components): one per entity, owning only what it sets.
    mutating func resolutions(_ base: StoredPortfolio, besides out: [ImportEntry]) -> [ImportEntry] {
        let stored = base.portfolio.unresolved
        guard !stored.isEmpty else { return [] }
        var written = Set<String>()
        for e in out { written.insert(e.kind.rawValue + " " + e.id) }
        var byEntity: [(kind: EntityKind, id: String, refs: [UnresolvedReference])] = []
        var slot: [String: Int] = [:]
        for u in stored {
            guard let kind = EntityKind(rawValue: u.kind), !written.contains(u.kind + " " + u.id) else { continue }
            guard let ref = CatalogRef(u.ref, defaultKind: nil, defaultNamespace: "default"), let t = find(ref), !t.skipped else { continue }
            _ = t
            let key = u.kind + " " + u.id
            if let i = slot[key] { byEntity[i].refs.append(u) } else { slot[key] = byEntity.count; byEntity.append((kind, u.id, [u])) }
        }
        var entries: [ImportEntry] = []
        for (kind, id, refs) in byEntity {
            guard let at = base.position(kind, id) else { continue }
            let v = JSON(adopting: JSONMake.object())
            var owned: [[String]] = []
            var resolved: [UnresolvedReference] = []
            for u in refs {
                let ref = CatalogRef(u.ref, defaultKind: nil, defaultNamespace: "default")!
                let t = find(ref)!
                switch (kind, u.field) {
                case (.system, "owner"):
                    let (d, m) = ownerDepartment(u.ref, namespace: ref.namespace, base)
                    if let m { v.set("owner", JSONMake.string(m)); owned.append(["owner"]) }
                    if let d, base.portfolio.systems[at].department == nil { v.set("department", JSONMake.string(d)); owned.append(["department"]) }
                case (.system, "interfaces"):
                    guard t.kind == "component" || t.kind == "resource", layer(t) != "skip" else { continue }
                    if v["interfaces"] == nil {
                        v.set("interfaces", (try? JanssonEncoder().encode(base.portfolio.systems[at].interfaces)) ?? JSONMake.array())
                        owned.append(["interfaces"])
                    }
                    v["interfaces"]!.append(JSONMake.object(["to": JSONMake.string(t.id), "kind": JSONMake.string("direct")]))
                case (.system, "system"):
                    if base.portfolio.systems[at].department == nil, v["department"] == nil,
                       let dom = t.str("domain").flatMap({ CatalogRef($0, defaultKind: "domain", defaultNamespace: t.ref.namespace) }),
                       let d = find(dom), !d.skipped {
                        v.set("department", JSONMake.string(d.id)); owned.append(["department"])
                    }
                case (.team, "department"), (.manager, "department"):
                    guard t.kind == "group", let d = department(of: t) else { continue }
                    v.set("department", JSONMake.string(d)); owned.append(["department"])
                default:
                    break
                }
                resolved.append(u)
            }
            let record = -1 - entries.count
            resolutionNotes[record] = "\(kind.rawValue) \"\(id)\": " + resolved.map(\.ref).joined(separator: ", ")
            entries.append(ImportEntry(record: record, kind: kind, id: id, values: v, owned: owned, resolves: resolved))
        }
        return entries
    }

    /// A refused entry's problems, located at its document.
    func describe(_ record: Int, _ issues: [ValidationIssue], _ entry: ImportEntry?) -> [ImportProblem] {
        if let note = resolutionNotes[record] {
            return issues.map { i in
                ImportProblem(entity: entry.map { "\($0.kind.rawValue):\($0.id)" }, pointer: "/documents",
                              reason: "resolving \(note) fails at \(i.pointer.isEmpty ? "(root)" : i.pointer): \(i.reason); left unresolved",
                              skipped: false)
            }
        }
        guard let r = byIndex[record] else { return [] }
        return issues.map { i in
            ImportProblem(record: record, file: r.file, line: r.line, entity: r.ref.description,
                          pointer: "/documents/\(record)/entity",
                          reason: "the \(entry?.kind.rawValue ?? "entity") \"\(r.id)\" it maps to fails at \(i.pointer.isEmpty ? "(root)" : i.pointer): \(i.reason)",
                          skipped: true)
        }
    }
}

extension String {
    /// `lowercased()`, without a new string when there is nothing to lower.
    var lowercasedIfNeeded: String {
        utf8.contains(where: { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 }) ? lowercased() : self
    }

    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension Engine {
    func importMethods() -> [Method] {
        [
            Method(Contract.importBackstage, raw: { [unowned self] p, call in try importBackstage(p, call) }),
            Method(Contract.importCSV, raw: { [unowned self] p, call in try importCSV(p, call) }),
        ]
    }

    func importBackstage(_ p: BackstageImportReceived, _ call: Call) throws -> JSON {
        let documents = p.documents.ref
        let rules = p.rules?.ref.elements.map(LayerRule.init(json:)) ?? []
        let prune = p.prune ?? false
        var mapping = BackstageMapping(rules: rules)
        mapping.read(documents)
        return try commitImport(pid: p.portfolio, pidPointer: call.pointer("portfolio"),
                                organization: p.organization, ifRevision: p.ifRevision,
                                atomic: p.atomic ?? false, problems: [], records: documents.count,
                                plan: { base, _ in
            mapping.resolve(base)
            var entries = try mapping.entries(base)
            var removals: [(kind: EntityKind, id: String)] = []
            if prune {
                var named: [EntityKind: Set<String>] = [:]
                // Resolutions (negative records) fill stored entities; they name nothing for the catalog.
                for e in entries where e.record >= 0 { named[e.kind, default: []].insert(e.id) }
                // Skipped records keep what they had: a broken document is no reason to delete.
                for r in mapping.records where r.skipped {
                    for k in [EntityKind.department, .team, .manager, .system] { named[k, default: []].insert(r.id) }
                }
                for k in [EntityKind.department, .team, .manager, .system] {
                    for id in base.portfolio.ids(of: k) where !(named[k]?.contains(id) ?? false) { removals.append((k, id)) }
                }
                let gone = Set(removals.map { $0.kind.rawValue + " " + $0.id })
                entries.removeAll { e in
                    e.record < 0 && gone.contains(e.kind.rawValue + " " + e.id)
                }
            }
            return (entries, removals)
        }, describe: { mapping.describe($0, $1, $2) }, extraProblems: { mapping.problems })
    }
}

