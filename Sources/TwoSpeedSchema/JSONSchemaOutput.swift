import TwoSpeedJSON

extension Schema {
    /// This schema as a JSON Schema (draft 2020-12) value; the caller owns the reference.
    public func jsonSchema() -> JSONRef {
        let o = JSONMake.object()
        if let title { o.set("title", JSONMake.string(title)) }
        if let description { o.set("description", JSONMake.string(description)) }
        if !anyOf.isEmpty {
            let arr = JSONMake.array()
            for s in anyOf { arr.append(s.jsonSchema()) }
            o.set("anyOf", arr)
            return o
        }
        if kind == .any { return o }
        if nullable {
            o.set("type", JSONMake.strings([kind.rawValue, "null"]))
        } else {
            o.set("type", JSONMake.string(kind.rawValue))
        }
        switch kind {
        case .object:
            if let values = mapValues.first {
                o.set("additionalProperties", values.jsonSchema())
            } else {
                let props = JSONMake.object()
                for p in properties { props.set(p.name, p.schema.jsonSchema()) }
                o.set("properties", props)
                let req = properties.filter(\.required).map(\.name)
                if !req.isEmpty { o.set("required", JSONMake.strings(req)) }
                o.set("additionalProperties", JSONMake.bool(false))
            }
        case .array:
            if let item = items.first { o.set("items", item.jsonSchema()) }
            if let minItems { o.set("minItems", JSONMake.int(minItems)) }
            if let maxItems { o.set("maxItems", JSONMake.int(maxItems)) }
            if uniqueItems { o.set("uniqueItems", JSONMake.bool(true)) }
        case .string:
            if let enumValues { o.set("enum", JSONMake.strings(enumValues)) }
            if let minLength { o.set("minLength", JSONMake.int(minLength)) }
            if let maxLength { o.set("maxLength", JSONMake.int(maxLength)) }
            if let format {
                switch format {
                case .identifier:
                    o.set("pattern", JSONMake.string("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"))
                case .stageRef:
                    o.set("pattern", JSONMake.string("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}/[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"))
                case .date:
                    o.set("format", JSONMake.string("date"))
                case .timestamp:
                    // A date-time or a date: JSON Schema has no single format for either.
                    let alts = JSONMake.array()
                    alts.append(JSONMake.object(["format": JSONMake.string("date-time")]))
                    alts.append(JSONMake.object(["format": JSONMake.string("date")]))
                    o.set("anyOf", alts)
                }
            }
        case .integer, .number:
            if let minimum { o.set("minimum", number(minimum)) }
            if let maximum { o.set("maximum", number(maximum)) }
            if let exclusiveMinimum { o.set("exclusiveMinimum", number(exclusiveMinimum)) }
        default: break
        }
        return o
    }

    private func number(_ d: Double) -> JSONRef {
        if d == d.rounded(), abs(d) < 1e15 { return JSONMake.int64(Int64(d)) }
        return JSONMake.double(d)
    }
}
