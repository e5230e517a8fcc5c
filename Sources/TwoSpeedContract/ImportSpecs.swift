import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema

// The import methods (import.backstage, import.csv, delivery.import): their params, results and specs.
// The engine's handlers (Backstage.swift, CSVImport.swift, DeliveryImport.swift) get these params decoded.

// MARK: Params

/// import.backstage as the engine receives it. The documents (up to a million) and the rules stay the
/// caller's JSON: the import walks them in place and reports a bad entity as a problem of its own.
public struct BackstageImportReceived: Decodable, CarriesRawJSON {
    public var portfolio: String
    public var documents: RawJSON
    public var rules: RawJSON?
    public var prune: Bool?
    public var atomic: Bool?
    public var organization: String?
    public var ifRevision: Int?
}

/// import.csv.
public struct CSVImportParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var kind: EntityKind
    public var text: String
    public var file: String?
    public var separator: String?
    public var atomic: Bool?
    public var organization: String?
    public var ifRevision: Int?
    public init(portfolio: String, kind: EntityKind, text: String, file: String? = nil, separator: String? = nil, atomic: Bool? = nil,
                organization: String? = nil, ifRevision: Int? = nil) {
        self.portfolio = portfolio; self.kind = kind; self.text = text; self.file = file; self.separator = separator
        self.atomic = atomic; self.organization = organization; self.ifRevision = ifRevision
    }
}

/// One exported Four Keys table of delivery.import.
public struct FourKeysTableText: Codable, Sendable, Equatable {
    public var text: String
    public var file: String?
    public init(text: String, file: String? = nil) { self.text = text; self.file = file }
}

/// delivery.import. `kind` and `format` are the engine's DeliveryKind and DeliveryLogReader.Format (plus
/// "fourkeys") by name; SpecTests holds the spec's lists to those enums.
public struct DeliveryImportParams: Codable, Sendable, Equatable {
    public var portfolio: String
    public var kind: String?
    public var format: String
    public var text: String?
    public var tables: [FourKeysTableText]?
    public var system: String?
    public var file: String?
    public var atomic: Bool?
    public init(portfolio: String, kind: String? = nil, format: String, text: String? = nil, tables: [FourKeysTableText]? = nil,
                system: String? = nil, file: String? = nil, atomic: Bool? = nil) {
        self.portfolio = portfolio; self.kind = kind; self.format = format; self.text = text; self.tables = tables
        self.system = system; self.file = file; self.atomic = atomic
    }
}

// MARK: Results

/// One problem of an import (import.backstage, import.csv).
public struct ImportProblemRecord: Codable, Sendable, Equatable {
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var row: Int?
    public var field: String?
    public var entity: String?
    /// Into the params.
    public var pointer: String
    public var reason: String
    /// Its record was left out.
    public var skipped: Bool
    /// Its record is of a kind the import does not map (present only when true).
    public var unmapped: Bool?
}

/// import.backstage and import.csv. The counts are by collection ("systems": 3); a collection the import
/// did not touch is absent.
public struct ImportResult: Codable, Sendable, Equatable {
    public var portfolio: String
    public var revision: Int
    public var portfolioCreated: Bool
    public var records: Int
    public var created: [String: Int]
    public var updated: [String: Int]
    public var unchanged: [String: Int]
    public var removed: [String: Int]
    public var skipped: Int
    public var unmapped: Int
    public var problems: [ImportProblemRecord]
    public var unresolved: Int?
    public var problemsTruncated: Bool?

    public static let schema: Schema = {
        let counts = Schema.map(.integer(min: 0), "entities by collection")
        return .object("ImportResult", required: ["portfolio", "revision", "portfolioCreated", "records", "created", "updated",
                                                  "unchanged", "removed", "skipped", "unmapped", "problems"], [
            "portfolio": .identifier(), "revision": .integer(min: 0), "portfolioCreated": .boolean(),
            "records": .integer("records read (catalog documents or CSV rows)", min: 0),
            "created": counts, "updated": counts, "unchanged": counts, "removed": counts,
            "skipped": .integer("records left out, each with a problem", min: 0),
            "unmapped": .integer("records of kinds the import does not map (reported, left out)", min: 0),
            "unresolved": .integer("references of the portfolio's entities to entities it does not hold, after the import", min: 0),
            "problems": .array(.object("ImportProblem", required: ["pointer", "reason", "skipped"], [
                "file": .string(), "line": .integer(min: 1), "column": .integer(min: 1),
                "row": .integer(min: 1), "field": .string(), "entity": .string(),
                "pointer": .string("into the params"), "reason": .string(),
                "skipped": .boolean("its record was left out"),
                "unmapped": .boolean("its record is of a kind the import does not map")]), maxItems: 1_000),
            "problemsTruncated": .boolean(),
        ])
    }()
}

/// One record of a delivery log that delivery.import skipped.
public struct DeliveryImportProblem: Codable, Sendable, Equatable {
    /// Into the params: the text (or table) the record was read from.
    public var pointer: String
    public var file: String?
    public var line: Int
    public var column: Int?
    public var member: String?
    public var reason: String
    public init(pointer: String, file: String?, line: Int, column: Int?, member: String?, reason: String) {
        self.pointer = pointer; self.file = file; self.line = line; self.column = column; self.member = member; self.reason = reason
    }
}

/// delivery.import.
public struct DeliveryImportResult: Codable, Sendable, Equatable {
    public var portfolio: String
    public var deployments: RecordKindResult
    public var incidents: RecordKindResult
    /// Records read from the text (events and records skipped before they became events).
    public var records: Int
    public var problems: [DeliveryImportProblem]
    public var problemCount: Int
    /// What the import could not give (Four Keys: changes without a commit time, incidents whose root cause no
    /// deployment carries); absent when there is nothing to say.
    public var notes: [String]?
    public init(portfolio: String, deployments: RecordKindResult, incidents: RecordKindResult, records: Int,
                problems: [DeliveryImportProblem], problemCount: Int, notes: [String]?) {
        self.portfolio = portfolio; self.deployments = deployments; self.incidents = incidents; self.records = records
        self.problems = problems; self.problemCount = problemCount; self.notes = notes
    }

    public static let schema = Schema.object("DeliveryImportResult",
        required: ["portfolio", "deployments", "incidents", "records", "problems", "problemCount"], [
        "portfolio": .identifier(), "deployments": DeliverySchemas.counts, "incidents": DeliverySchemas.counts,
        "records": .integer(min: 0),
        "problems": .array(.object("DeliveryImportProblem", required: ["pointer", "line", "reason"], [
            "pointer": .string(), "file": .string(), "line": .integer(min: 0), "column": .integer(min: 1),
            "member": .string(), "reason": .string()])),
        "problemCount": .integer(min: 0),
        "notes": .array(.string(), "what the import could not give, such as lead times for changes without a commit time")])
}

// MARK: Specs

extension Contract {
    /// A catalog import's layer rule (import.backstage's rules).
    public static let layerRule = Schema.object("LayerRule", "the layer of the components and resources it matches; all conditions must hold",
                                                required: ["layer"], [
        "kind": .oneOf(["component", "resource"]),
        "type": .anyOf([.string(), .array(.string())], "spec.type, or any of several"),
        "tag": .anyOf([.string(), .array(.string())], "any of these in metadata.tags"),
        "system": .string("the Backstage system (its name)"),
        "lifecycle": .string("spec.lifecycle"),
        "name": .string("metadata.name; a trailing * matches any rest"),
        "layer": .oneOf(Vocabulary.layers + ["skip"], "the layer, or skip to leave the entity out"),
    ])

    static let importAtomic = Param("atomic", .boolean(), required: false, "refuse the whole import if any record is refused")
    static let importOrganization = Param("organization", .name(), required: false, "the organization's name when the portfolio is created")
    static let importErrors: [ErrorCode] = [.invalidParams, .revisionMismatch, .storeError]

    public static let importBackstage = MethodSpec<BackstageImportReceived, ImportResult>(MethodName.importBackstage.rawValue,
        summary: "Maps Backstage catalog entities (as JSON; the CLI and the Python helper "
            + "read the YAML) onto departments, teams, managers and systems, in one transaction.",
        params: [
            Param("portfolio", ContractSchemas.portfolioID, "the portfolio, created when there is none"),
            Param("documents", .array(.object("CatalogDocument", required: [], [
                "file": .string("where the document was read, for problems"),
                "line": .integer("the line the document starts on", min: 1),
                "column": .integer(min: 1),
                // Checked as objects here and member by member by the import, which reports a bad
                // entity as a problem of its own; walking every member twice is a twentieth of an import.
                "entity": .dependent([.map(.anyValue)], "the Backstage entity: apiVersion, kind, metadata, spec"),
                "lines": .dependent([.map(.integer(min: 1))], "the line of each value, by its JSON pointer inside the entity"),
                "error": .string("the document could not be read (bad YAML): reported and skipped"),
            ]), maxItems: 1_000_000), "the catalog's documents"),
            Param("rules", .array(layerRule, maxItems: 1_000), required: false, "layer rules tried before the defaults"),
            Param("prune", .boolean(), required: false, "remove departments, teams, managers and systems the catalog does not name"),
            importAtomic, importOrganization, ContractParams.ifRevision,
        ],
        result: ImportResult.schema, mutates: true, errors: importErrors, blocking: true)

    public static let importCSV = MethodSpec<CSVImportParams, ImportResult>(MethodName.importCSV.rawValue,
        summary: "Upserts entities of one kind from CSV text: a header row of field names "
            + "(dotted paths for nested fields, lists separated by ;), one entity per row, in one transaction.",
        params: [
            Param("portfolio", ContractSchemas.portfolioID, "the portfolio, created when there is none"),
            Param("kind", ContractSchemas.kind, "the kind of every row"),
            Param("text", .string(maxLength: 1 << 30), "the CSV text (a UTF-8 BOM, CRLF, ; or tab separators are fine)"),
            Param("file", .string(), required: false, "where the text was read, for problems"),
            Param("separator", .oneOf([",", ";", "\t"]), required: false, "the field separator (found from the header when absent)"),
            importAtomic, importOrganization, ContractParams.ifRevision,
        ],
        result: ImportResult.schema, mutates: true, errors: importErrors, blocking: true)

    /// delivery.import's kinds and formats, as the engine's DeliveryKind and DeliveryLogReader.Format name them.
    public static let deliveryImportKinds = ["deployments", "incidents"]
    public static let deliveryImportFormats = ["jsonl", "csv", "fourkeys"]

    public static let deliveryImport = MethodSpec<DeliveryImportParams, DeliveryImportResult>(MethodName.deliveryImport.rawValue,
        summary: "Records deployments or incidents from a delivery log's text, JSON Lines or CSV, as `twospeed import "
            + "--from deployments|incidents` reads a file: each bad record is reported with its line (and column) and "
            + "skipped, the rest written in one transaction. A log none of whose records can be recorded (a portfolio "
            + "naming none of its systems) is an error, not a silent skip.",
        params: [portfolioParam,
                 Param("kind", .oneOf(deliveryImportKinds), required: false, "what the log holds (jsonl, csv)"),
                 Param("format", .oneOf(deliveryImportFormats),
                       "jsonl: one event a line as delivery.record takes it; csv: a header row naming the columns; fourkeys: "
                       + "DORA Four Keys' tables (changes, deployments, incidents) as BigQuery exports them, CSV or JSON, in tables"),
                 Param("text", .string(maxLength: 1 << 30), required: false, "the log (jsonl, csv)"),
                 Param("tables", .array(.object("FourKeysTableText", required: ["text"], [
                     "text": .string(maxLength: 1 << 30), "file": .string()]), maxItems: 64), required: false,
                       "fourkeys: each exported table's text (which table is told by its id column) and its file name"),
                 Param("system", .identifier(), required: false,
                       "fourkeys: the system every event belongs to (Four Keys' tables name none) unless a row has a system or service column"),
                 Param("file", .string(), required: false, "where the text was read, for problems (default \"text\")"),
                 Param("atomic", .boolean(), required: false, "record nothing if any record is bad (default false)")],
        result: DeliveryImportResult.schema, mutates: true, errors: [.notFound, .invalidParams, .storeError], blocking: true)
}
