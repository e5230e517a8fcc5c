import TwoSpeedJSON
import TwoSpeedSchema

/// The portfolio document's JSON Schema as the file schema/portfolio.schema.json holds it: the schema
/// the engine validates with, printed, under a draft 2020-12 header so that editors pick it up.
public func portfolioSchemaDocument() -> JSONRef {
    let s = ModelSchemas.portfolio.jsonSchema()
    let o = JSONMake.object()
    o.set("$schema", JSONMake.string("https://json-schema.org/draft/2020-12/schema"))
    o.set("$id", JSONMake.string(portfolioSchemaID))
    s.forEachMember { k, v in o.set(k, v.retained()) }
    s.release()
    return o
}

/// Where the schema file is named from a document's "$schema" (relative to the repository root).
public let portfolioSchemaID = "https://twospeed.dev/schema/portfolio.schema.json"
