// A synthetic Backstage catalog of 10,000 components, 1,000 APIs and 500 groups (with 200 systems, 20
// domains and 2,000 users), imported as `twospeed import --from backstage --db FILE` does it: YAML to
// documents with their lines (TwoSpeedYAML), then import.backstage on an engine over a SQLite file.
// Its floor, measured in the same run on the same text: Yams composing the YAML alone. The figure is
// the fastest of RUNS (default 5) beside the floor's fastest, taken in turns: on a machine shared with
// other builds the fastest of each is the least disturbed. The ratio goes in make bench's closing table.
import CJansson
import Glibc
import TwoSpeedClient
import TwoSpeedClientInProcess
import TwoSpeedEngine
import TwoSpeedJSON
import TwoSpeedYAML
import Yams

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}


let components = 10_000, apis = 1_000, groups = 500, systems = 200, domains = 20, users = 2_000
var y = ""
y.reserveCapacity(8 << 20)
@MainActor func doc(_ kind: String, _ name: String, _ spec: String, tags: String = "") {
    y += "---\napiVersion: backstage.io/v1alpha1\nkind: \(kind)\nmetadata:\n  name: \(name)\n"
    y += "  description: \(kind) \(name) of the synthetic catalog\n"
    if !tags.isEmpty { y += "  tags: [\(tags)]\n" }
    y += "spec:\n" + spec
}
// 50 business units, each the parent of 9 teams.
for u in 0..<50 {
    doc("Group", "unit-\(u)", "  type: business-unit\n  children: [\((0..<9).map { "team-\(u * 9 + $0)" }.joined(separator: ", "))]\n")
}
for t in 0..<(groups - 50) {
    doc("Group", "team-\(t)", "  type: team\n  parent: group:default/unit-\(t / 9)\n  children: []\n")
}
for i in 0..<users {
    doc("User", "user-\(i)", "  profile:\n    displayName: User \(i)\n  memberOf: [team-\(i % (groups - 50))]\n")
}
for d in 0..<domains { doc("Domain", "domain-\(d)", "  owner: unit-\(d)\n") }
for s in 0..<systems { doc("System", "system-\(s)", "  owner: team-\(s % (groups - 50))\n  domain: domain-\(s % domains)\n") }
for a in 0..<apis {
    doc("API", "api-\(a)", "  type: \(a % 5 == 0 ? "asyncapi" : "openapi")\n  lifecycle: production\n  owner: team-\(a % (groups - 50))\n  definition: \"openapi: 3.0.0\"\n")
}
let types = ["service", "service", "service", "website", "mobile-app", "library"]
let lifecycles = ["production", "production", "experimental", "deprecated"]
for c in 0..<components {
    var spec = "  type: \(types[c % types.count])\n  lifecycle: \(lifecycles[c % 4])\n  owner: group:default/team-\(c % (groups - 50))\n"
    spec += "  system: system-\(c % systems)\n"
    if c < apis { spec += "  providesApis: [api-\(c)]\n" }
    spec += "  consumesApis: [api-\((c * 7) % apis), api:default/api-\((c * 13 + 1) % apis)]\n"
    if c > 0 { spec += "  dependsOn: [component:comp-\((c * 31) % c)]\n" }
    doc("Component", "comp-\(c)", spec, tags: c % 50 == 0 ? "platform, java" : "java")
}

let runs = max(1, Int(CommandLine.arguments.dropFirst().first ?? "") ?? 5)
var floors: [Double] = [], imports: [Double] = []
var report = ""
var phases: [String] = []
for run in 0..<runs {
    // The floor: Yams composing every document, nothing else.
    var t0 = now()
    var n = 0
    var seq = try Yams.compose_all(yaml: y)
    while seq.next() != nil { n += 1 }
    if let e = seq.error { fatalError("the synthetic catalog does not parse: \(e)") }
    floors.append(now() - t0)

    // The import: what the CLI does with --db, into a new store file.
    var template = Array("/tmp/twospeed-bench-catalog-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    let engine = try Engine(path: dir + "/store.sqlite")
    t0 = now()
    let documents = JSONMake.array()
    YAMLDocuments.append(text: y, file: "catalog.yaml", into: documents)
    let t1 = now()
    let params = JSONMake.object(["portfolio": JSONMake.string("bench"), "documents": documents])
    // As the command line calls it with --db: the client over an engine in this process.
    let client = TwoSpeedClient(transport: InProcessTransport(engine: engine))
    let t2 = now()
    let result = try client.callJSON("import.backstage", params: params)
    let t3 = now()
    imports.append(t3 - t0)
    // Freed outside the figure, as the command line leaves them to the process's end.
    params.release()
    let reply = JSONText.dump(result)
    result.release()
    phases.append("YAML to documents \(Int((t1 - t0) * 1000)) ms, engine \(Int((t3 - t2) * 1000)) ms")
    guard reply.contains("\"created\":{\"departments\":70") else {
        fatalError("unexpected reply: \(reply.prefix(2000))")
    }
    if run == 0 {
        if case .success(let v) = JSONText.parse(reply) {
            report = "created \(JSONText.dump(v["created"]!)), skipped \(v["skipped"]!.intValue!)"
            v.release()
        }
    }
    _ = n
    unlink(dir + "/store.sqlite"); unlink(dir + "/store.sqlite-wal"); unlink(dir + "/store.sqlite-shm"); rmdir(dir)
}
let f = floors.min()!, i = imports.min()!
let ratio = i / f
print("catalog import (\(components) components, \(apis) APIs, \(groups) groups, \(y.utf8.count >> 10) KiB of YAML): "
      + "\(Int(i * 1000)) ms; floor (Yams parses it alone): \(Int(f * 1000)) ms; ratio \(format2(ratio)) (at most 3) [\(report)]")
print("  phases of the last run: \(phases.last ?? "")")
// A line of make bench's closing table (Tests/Bench/summary.sh), which says whether the target holds.
if let path = getenv("BENCH_SUMMARY"), let f = fopen(path, "a") {
    fputs("catalog import (10,000 components) / Yams parse\t\(String(format2(ratio)))\t<= 3\n", f)
    fclose(f)
}

// Into a portfolio that exists against into a new one: the same 20,000 components (and their group),
// once into a new portfolio and once into one an earlier import created. Writing into an existing
// portfolio goes entity by entity (issue 21: a MAX(position) per row made it quadratic, 25.5 s against
// 1.1 s); the target is at most twice the new one. The fastest of RUNS each, taken in turns.
var many = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: owners\nspec:\n  type: team\n  children: []\n"
many.reserveCapacity(6 << 20)
for c in 0..<20_000 {
    many += "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c\(c)\nspec:\n"
        + "  type: service\n  lifecycle: production\n  owner: owners\n"
}
let seed = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: seed\nspec:\n  type: team\n  children: []\n"
@MainActor func importInto(existing: Bool) throws -> Double {
    var template = Array("/tmp/twospeed-bench-catalog-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    defer { unlink(dir + "/store.sqlite"); unlink(dir + "/store.sqlite-wal"); unlink(dir + "/store.sqlite-shm"); rmdir(dir) }
    let engine = try Engine(path: dir + "/store.sqlite")
    let client = TwoSpeedClient(transport: InProcessTransport(engine: engine))
    func call(_ text: String) throws -> (Double, String) {
        let documents = JSONMake.array()
        YAMLDocuments.append(text: text, file: "catalog.yaml", into: documents)
        let params = JSONMake.object(["portfolio": JSONMake.string("bench"), "documents": documents])
        defer { params.release() }
        let t0 = now()
        let result = try client.callJSON("import.backstage", params: params)
        let t = now() - t0
        defer { result.release() }
        return (t, JSONText.dump(result["created"]!))
    }
    if existing { _ = try call(seed) }
    let (t, created) = try call(many)
    guard created.contains("\"systems\":20000") else { fatalError("unexpected reply: \(created)") }
    return t
}
var intoNew: [Double] = [], intoExisting: [Double] = []
for _ in 0..<min(runs, 3) {
    intoNew.append(try importInto(existing: false))
    intoExisting.append(try importInto(existing: true))
}
let existingRatio = intoExisting.min()! / intoNew.min()!
print("20,000 components into an existing portfolio: \(Int(intoExisting.min()! * 1000)) ms; into a new one: "
      + "\(Int(intoNew.min()! * 1000)) ms; ratio \(format2(existingRatio)) (at most 2)")
if let path = getenv("BENCH_SUMMARY"), let f = fopen(path, "a") {
    fputs("import into an existing portfolio / into a new one (20,000 components)\t\(String(format2(existingRatio)))\t<= 2\n", f)
    fclose(f)
}

func format2(_ x: Double) -> String {
    let c = Int((x * 100).rounded())
    return "\(c / 100).\(c % 100 < 10 ? "0" : "")\(c % 100)"
}
