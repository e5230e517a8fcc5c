import ArgumentParser
import Glibc
import TwoSpeedJSON
import TwoSpeedModel

/// twospeed init [--template empty|retailer] FILE
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes a starter portfolio document that validates, with notes on where to go next.",
        discussion: """
            empty (the default) holds an organization and nothing else; retailer is the bundled example \
            (examples/portfolios/retailer.json). Both carry "$schema" and "$comment" notes that the engine \
            accepts and does not keep. "$schema" is the path of the portfolio's JSON Schema for editors: \
            PREFIX/share/twospeed/portfolio.schema.json, which make install puts beside PREFIX/bin/twospeed \
            (or the checkout's schema/portfolio.schema.json for a build tree's program); the schema's $id, \
            \(portfolioSchemaID), where neither is found. An existing FILE is not overwritten unless --force.
            """)

    enum Template: String, ExpressibleByArgument, CaseIterable { case empty, retailer }

    @Option(help: ArgumentHelp("The starter: empty or retailer.", valueName: "name"))
    var template: Template = .empty

    @Flag(help: "Overwrite FILE if it exists.")
    var force = false

    @Argument(help: ArgumentHelp("Where to write the starter; - for standard output.", valueName: "file"))
    var file: String

    static let notes = [
        "A TwoSpeed portfolio: the operating model as data. Members starting with $ are notes for people and editors; the engine accepts them and does not keep them.",
        "Check and assess it: twospeed assess FILE (in this process), or store it: twospeed import FILE --db store.sqlite",
        "Bring in what your tools already hold: twospeed import --from backstage --portfolio ID catalog-info.yaml (departments, teams, managers, systems from a Backstage catalog); twospeed import --from csv --kind product --portfolio ID products.csv (any kind, one row each)",
        "Then add what only TwoSpeed holds: journeys (a customer journey's stages), products (owner, team, stages, status), metrics with observations, OKRs and experiments",
        "The fields and their words: schema/portfolio.schema.json; the README's portfolio section; examples/portfolios/retailer.json for a full example",
    ]

    /// The starter's JSON text.
    static func document(_ template: Template) throws -> String {
        let doc: JSON
        switch template {
        case .empty:
            doc = try JSON.object([
                "id": JSON.string("my-company"),
                "organization": JSON.object(["name": JSON.string("My company"), "industry": JSON.string("other"),
                                                 "departments": JSON.array()]),
                "journeys": JSON.array(), "products": JSON.array(), "managers": JSON.array(),
                "teams": JSON.array(), "systems": JSON.array(), "metrics": JSON.array(),
                "okrs": JSON.array(), "experiments": JSON.array(), "answers": JSON.array()])
        case .retailer:
            guard case .success(let v) = try JSON.parse(retailerStarter) else { throw UsageError("the bundled retailer is not JSON") }
            doc = v
        }
        // The notes first, where a person opening the file reads them.
        let out = try JSON.object(["$schema": JSON.string(schemaLocation()), "$comment": JSON.strings(notes)])
        try doc.forEachMember { k, v in try out.set(k, v) }
        return out.text(pretty: true) + "\n"
    }

    /// The portfolio schema's file for an editor: where make install puts it (PREFIX/share/twospeed, beside
    /// this program's PREFIX/bin), or the checkout's schema/ beside a build tree's build/bin or
    /// .build-release/release; else the schema's $id, which names it but is not fetched.
    static func schemaLocation() -> String {
        guard let exe = realpath("/proc/self/exe", nil) else { return portfolioSchemaID }
        defer { free(exe) }
        let bin = String(cString: exe).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        for candidate in [bin + "/../share/twospeed/portfolio.schema.json", bin + "/../../schema/portfolio.schema.json"] {
            guard let found = realpath(candidate, nil) else { continue }
            defer { free(found) }
            var st = stat()
            if stat(found, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { return String(cString: found) }
        }
        return portfolioSchemaID
    }

    func run() throws {
        let text = try Init.document(template)
        if file == "-" { print(text, terminator: ""); return }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = open(file, flags, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw UsageError("\(file) exists; give --force to overwrite it") }
            throw UsageError("cannot write \(file): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw UsageError("cannot write \(file): \(String(cString: strerror(errno)))") }
            done += n
        }
        writeError("wrote \(file) (\(template.rawValue)); next: twospeed assess \(file), then its \"$comment\" notes")
    }
}
