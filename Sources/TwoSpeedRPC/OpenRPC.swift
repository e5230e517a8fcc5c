import TwoSpeedJSON
import TwoSpeedSchema

/// The info block of the OpenRPC document.
public struct OpenRPCInfo: Sendable {
    public var title: String
    public var version: String
    public var description: String
    public init(title: String, version: String, description: String) {
        self.title = title; self.version = version; self.description = description
    }
}

/// Builds the OpenRPC 1.3 document (spec.open-rpc.org) from the method table.
enum OpenRPC {
    static func document(methods: [Method], info: OpenRPCInfo) -> JSONRef {
        let doc = JSONMake.object()
        doc.set("openrpc", JSONMake.string("1.3.2"))
        doc.set("info", JSONMake.object([
            "title": JSONMake.string(info.title),
            "version": JSONMake.string(info.version),
            "description": JSONMake.string(info.description),
        ]))
        let list = JSONMake.array()
        for m in methods {
            let o = JSONMake.object()
            o.set("name", JSONMake.string(m.name))
            o.set("summary", JSONMake.string(m.summary))
            // Named or by position: the position is the order of this list.
            o.set("paramStructure", JSONMake.string("either"))
            let params = JSONMake.array()
            for p in m.params {
                params.append(JSONMake.object([
                    "name": JSONMake.string(p.name),
                    "summary": JSONMake.string(p.summary),
                    "required": JSONMake.bool(p.required),
                    "schema": p.schema.jsonSchema(),
                ]))
            }
            o.set("params", params)
            o.set("result", JSONMake.object(["name": JSONMake.string("result"), "schema": m.result.jsonSchema()]))
            let errs = JSONMake.array()
            let codes: [ErrorCode] = [.invalidParams] + m.errors + (m.mutates ? [.readOnly] : [])
            for c in codes { errs.append(JSONMake.object(["$ref": JSONMake.string("#/components/errors/\(c.rawValue)")])) }
            o.set("errors", errs)
            o.set("x-mutates", JSONMake.bool(m.mutates))
            o.set("x-blocking", JSONMake.bool(m.blocking))
            o.set("x-admin", JSONMake.bool(m.adminOnly))
            list.append(o)
        }
        doc.set("methods", list)
        let errors = JSONMake.object()
        for c in ErrorCode.allCases {
            errors.set(String(c.rawValue), JSONMake.object([
                "code": JSONMake.int(c.rawValue),
                "message": JSONMake.string(c.message),
                "data": JSONMake.string(c.meaning),
                // The name the other copies use, so that a test can hold them to this list.
                "x-name": JSONMake.string(c.constantName),
            ]))
        }
        doc.set("components", JSONMake.object(["errors": errors]))
        return doc
    }
}

extension ErrorCode {
    /// The code's name in the other languages: TWOSPEED_RPC_NOT_FOUND in twospeed.h, ErrorCode.NOT_FOUND
    /// in Python. Derived from the case name, so that a new case cannot be listed without one.
    public var constantName: String {
        var out = ""
        for ch in String(describing: self) {
            if ch.isUppercase { out += "_" }
            out += ch.uppercased()
        }
        return out
    }
}
