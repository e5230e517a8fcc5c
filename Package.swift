// swift-tools-version:6.1
import PackageDescription

// The engine's C libraries come from Debian: jansson encodes every JSON message, SQLite keeps the store.
// Each Swift module has one job; `twospeed` is the shared library other programs embed.
let package = Package(
    name: "TwoSpeed",
    products: [
        .library(name: "twospeed", type: .dynamic, targets: ["TwoSpeedCABI"]),
        .library(name: "TwoSpeedEngine", targets: ["TwoSpeedEngine"]),
        // The daemon, its reference client and the command line. The executable is named twospeed-cli
        // here because the library product owns the name twospeed; the Makefile installs it as bin/twospeed.
        .executable(name: "twospeedd", targets: ["twospeedd"]),
        .executable(name: "twospeed-cli", targets: ["TwoSpeedCLI"]),
        // The client links the contract only; the in-process transport, which brings the whole engine, is apart.
        .library(name: "TwoSpeedClient", targets: ["TwoSpeedClient"]),
        .library(name: "TwoSpeedClientInProcess", targets: ["TwoSpeedClientInProcess"]),
        .library(name: "TwoSpeedContract", targets: ["TwoSpeedContract"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // YAML for the Backstage catalog import. Only the command line links it: the engine takes the
        // parsed documents as JSON, so libtwospeed.so carries no YAML parser.
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        // WebAssembly plugins: an interpreter in Swift with fuel metering, no JIT and no C++ runtime. Only the
        // MultiThread trait (stores on several threads share one engine); the file system, disassembler and
        // component-model code are left out of the library.
        .package(url: "https://github.com/swiftwasm/WasmKit.git", from: "0.4.2", traits: ["MultiThread"]),
    ],
    targets: [
        .systemLibrary(name: "CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // Codable over jansson's json_t: no message passes through Foundation's JSON.
        .target(name: "TwoSpeedJSON", dependencies: ["CJansson"]),
        // A JSON Schema subset that validates json_t values (all failures, with JSON pointers)
        // and prints itself as JSON Schema for rpc.discover.
        .target(name: "TwoSpeedSchema", dependencies: ["TwoSpeedJSON"]),
        // The portfolio of DOMAIN.md as plain Swift types, their schemas and reference checks.
        .target(name: "TwoSpeedModel", dependencies: ["TwoSpeedJSON", "TwoSpeedSchema"]),
        // The one lock primitive: state reachable only under its lock.
        .target(name: "TwoSpeedSync"),
        // The store behind a small protocol; SQLite (schema versions, migrations, durable writes, a
        // writer and a pool of readers) is the embedded default.
        .target(name: "TwoSpeedStore", dependencies: ["TwoSpeedModel", "TwoSpeedJSON", "TwoSpeedSync", "CSQLite"]),
        // The maturity assessment, the pitfalls and the analyses: pure functions of a portfolio.
        .target(name: "TwoSpeedAssessment", dependencies: ["TwoSpeedModel", "TwoSpeedSchema", "TwoSpeedJSON"]),
        // The assessment as something people read: text for terminals, a self-contained HTML page with charts, Markdown.
        .target(name: "TwoSpeedReport", dependencies: ["TwoSpeedAssessment", "TwoSpeedJSON"]),
        // The plugin contract of include/twospeed_plugin.h, for the host to call in-process plugins.
        .systemLibrary(name: "CTwoSpeedPlugin", path: "Sources/CTwoSpeedPlugin"),
        // The plugin host: manifests, in-process libraries and supervised plugin processes.
        .target(name: "TwoSpeedPlugins", dependencies: ["TwoSpeedJSON", "TwoSpeedSchema", "TwoSpeedSync", "TwoSpeedModel", "CTwoSpeedPlugin",
                                                       .product(name: "WasmKit", package: "WasmKit")]),
        // JSON-RPC 2.0 to the letter: envelopes, batches, errors, one method table.
        .target(name: "TwoSpeedRPC", dependencies: ["TwoSpeedJSON", "TwoSpeedSchema"]),
        // What the engine and its clients agree on: method names, result types and their schemas, error codes.
        .target(name: "TwoSpeedContract", dependencies: ["TwoSpeedModel", "TwoSpeedSchema", "TwoSpeedRPC", "TwoSpeedAssessment"]),
        // The engine: the method table over the model and the store.
        .target(name: "TwoSpeedEngine",
                dependencies: ["TwoSpeedContract", "TwoSpeedRPC", "TwoSpeedModel", "TwoSpeedStore", "TwoSpeedSchema", "TwoSpeedJSON",
                               "TwoSpeedAssessment", "TwoSpeedReport", "TwoSpeedPlugins", "TwoSpeedSync"]),
        // The C ABI of include/twospeed.h. Linked with the Swift runtime inside, so that a C or Python
        // host needs no Swift installed.
        // Only the twospeed_* functions are exported (twospeed.map); the path is absolute so that the
        // link works wherever swift build runs from.
        .target(name: "TwoSpeedCABI", dependencies: ["TwoSpeedEngine", "TwoSpeedRPC", "TwoSpeedSchema", "TwoSpeedJSON", "CJansson"],
                exclude: ["twospeed.map"],
                linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-soname",
                                               "-Xlinker", "libtwospeed.so.0", "-use-ld=lld",
                                               "-Xlinker", "--version-script",
                                               "-Xlinker", Context.packageDirectory + "/Sources/TwoSpeedCABI/twospeed.map"])]),
        // The Unix-socket server: line framing, peer credentials, limits, lifecycle. Not linked into libtwospeed.
        .target(name: "TwoSpeedDaemon",
                dependencies: ["TwoSpeedEngine", "TwoSpeedRPC", "TwoSpeedJSON", "TwoSpeedSync", "TwoSpeedStore",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")]),
        // twospeedd: options and signals around TwoSpeedDaemon.
        .executableTarget(name: "twospeedd",
                          dependencies: ["TwoSpeedDaemon", "TwoSpeedStore", "TwoSpeedEngine",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")]),
        // The reference client: typed calls over one small transport protocol. Only the contract and the
        // socket: no store, reports or plugin host.
        .target(name: "TwoSpeedClient", dependencies: ["TwoSpeedContract", "TwoSpeedModel", "TwoSpeedJSON", "TwoSpeedSync"]),
        // The client's transport to an engine in this process.
        .target(name: "TwoSpeedClientInProcess", dependencies: ["TwoSpeedClient", "TwoSpeedEngine", "TwoSpeedStore"]),
        // Backstage catalog files (YAML) as the JSON documents import.backstage takes, each value's line kept.
        .target(name: "TwoSpeedYAML", dependencies: ["TwoSpeedJSON", .product(name: "Yams", package: "Yams")]),
        // The twospeed command: one file per subcommand.
        .executableTarget(name: "TwoSpeedCLI",
                          dependencies: ["TwoSpeedClient", "TwoSpeedClientInProcess", "TwoSpeedEngine", "TwoSpeedStore", "TwoSpeedJSON", "TwoSpeedYAML",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // make bench: a synthetic Backstage catalog imported beside Yams parsing it alone (its floor).
        .executableTarget(name: "bench-catalog", dependencies: ["TwoSpeedEngine", "TwoSpeedClient", "TwoSpeedClientInProcess", "TwoSpeedYAML", "TwoSpeedJSON", "CJansson",
                                                                .product(name: "Yams", package: "Yams")],
                          path: "Tests/Bench/CatalogBench"),
        // Tests only: SQLite's I/O and allocations failed on purpose (a wrapping VFS and allocator).
        .target(name: "CSQLiteFault", dependencies: ["CSQLite"], path: "Tests/CSQLiteFault"),
        // The store under faults: I/O errors, disk full, allocation failure, another process's lock.
        .testTarget(name: "TwoSpeedFaultTests",
                    dependencies: ["TwoSpeedEngine", "TwoSpeedRPC", "TwoSpeedStore", "TwoSpeedJSON", "TwoSpeedSchema", "CSQLiteFault", "CSQLite", "CJansson"]),
        // The daemon tests run twospeedd and twospeed-cli as programs ($TWOSPEED_DAEMON, $TWOSPEED_CLI, or the
        // ones `swift build`/`swift test` build beside the bundle), never import them: no dependency on
        // their targets, so that make test's `swift build --product TwoSpeedPackageTests` skips them.
        .testTarget(name: "TwoSpeedDaemonTests",
                    dependencies: ["TwoSpeedDaemon", "TwoSpeedClient", "TwoSpeedClientInProcess", "TwoSpeedJSON", "CJansson"]),
        .testTarget(name: "TwoSpeedTests",
                    dependencies: ["TwoSpeedEngine", "TwoSpeedContract", "TwoSpeedRPC", "TwoSpeedModel", "TwoSpeedStore", "TwoSpeedAssessment", "TwoSpeedReport",
                                   "TwoSpeedSchema", "TwoSpeedJSON", "TwoSpeedSync", "TwoSpeedYAML", "CJansson",
                                   // Yams composing: the reference the YAML reader is held to (YamsComposedOracle).
                                   .product(name: "Yams", package: "Yams"),
                                   // WAT: the failing wasm plugins of WasmPluginTests are written as text.
                                   .product(name: "WAT", package: "WasmKit")]),
    ]
)
