import TwoSpeedJSON
import TwoSpeedSchema

/// The portfolio document's JSON Schema as the file schema/portfolio.schema.json holds it: the schema
/// the engine validates with, printed, under a draft 2020-12 header so that editors pick it up.
public func portfolioSchemaDocument() throws -> JSON {
    let s = JSON(adopting: ModelSchemas.portfolio.jsonSchema())
    let o = try JSON.object()
    try o.set("$schema", string: "https://json-schema.org/draft/2020-12/schema")
    try o.set("$id", string: portfolioSchemaID)
    try s.forEachMember { k, v in try o.set(k, v) }
    return o
}

/// Where the schema file is named from a document's "$schema" (relative to the repository root).
public let portfolioSchemaID = "https://twospeed.dev/schema/portfolio.schema.json"
