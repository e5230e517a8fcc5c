import TwoSpeedJSON

/// A subset of JSON Schema (draft 2020-12) that is enough to describe every message of the engine.
/// One description serves twice: it validates incoming values, reporting every failure with its JSON
/// pointer, and it prints itself as JSON Schema in the OpenRPC document of rpc.discover.
public struct Schema: Sendable {
    public enum Kind: String, Sendable { case object, array, string, integer, number, boolean, null, any }

    /// Formats checked by hand, so that the engine needs no regular-expression engine at run time.
    public enum Format: String, Sendable {
        /// 1 to 128 of A-Z a-z 0-9 . _ : -, starting with a letter or digit.
        case identifier
        /// "journey/stage", two identifiers.
        case stageRef = "stage-ref"
        /// RFC 3339 full-date (2026-11-24).
        case date
        /// RFC 3339 date-time, or a full-date.
        case timestamp
    }

    public struct Property: Sendable {
        public var name: String
        public var schema: Schema
        public var required: Bool
        public init(name: String, schema: Schema, required: Bool) {
            self.name = name; self.schema = schema; self.required = required
        }
    }

    public var kind: Kind
    public var title: String?
    public var description: String?
    public var properties: [Property] = []
    /// For objects used as maps: the schema of every value. Objects with properties allow no others.
    public var mapValues: [Schema] = []
    public var items: [Schema] = []
    public var minItems: Int?
    public var maxItems: Int?
    public var uniqueItems = false
    public var minLength: Int?
    public var maxLength: Int?
    public var format: Format?
    public var enumValues: [String]?
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Double?
    /// Any of these kinds (for "id": string, number or null).
    public var anyOf: [Schema] = []
    public var nullable = false
    /// Validation here checks only the kind of the first anyOf option; the handler validates the
    /// rest when it knows which option applies (an entity whose schema depends on a "kind" param).
    public var checkedByHandler = false

    public init(kind: Kind) { self.kind = kind }
}

// MARK: - Building schemas

extension Schema {
    /// Free text up to `maxLength` characters (64 KiB by default, so a 100 MiB string is refused).
    public static func string(_ description: String? = nil, minLength: Int? = nil, maxLength: Int = 65_536) -> Schema {
        var s = Schema(kind: .string)
        s.description = description
        s.minLength = minLength
        s.maxLength = maxLength
        return s
    }

    /// A short name: 1 to 500 characters.
    public static func name(_ description: String? = nil) -> Schema {
        string(description, minLength: 1, maxLength: 500)
    }

    public static func identifier(_ description: String? = nil) -> Schema {
        var s = Schema(kind: .string)
        s.description = description
        s.format = .identifier
        return s
    }

    public static func formatted(_ format: Format, _ description: String? = nil) -> Schema {
        var s = Schema(kind: .string)
        s.description = description
        s.format = format
        return s
    }

    public static func oneOf(_ values: [String], _ description: String? = nil) -> Schema {
        var s = Schema(kind: .string)
        s.description = description
        s.enumValues = values
        return s
    }

    public static func integer(_ description: String? = nil, min: Int? = nil, max: Int? = nil) -> Schema {
        var s = Schema(kind: .integer)
        s.description = description
        s.minimum = min.map(Double.init)
        s.maximum = max.map(Double.init)
        return s
    }

    public static func number(_ description: String? = nil, min: Double? = nil, max: Double? = nil,
                              exclusiveMin: Double? = nil) -> Schema {
        var s = Schema(kind: .number)
        s.description = description
        s.minimum = min
        s.maximum = max
        s.exclusiveMinimum = exclusiveMin
        return s
    }

    public static func boolean(_ description: String? = nil) -> Schema {
        var s = Schema(kind: .boolean)
        s.description = description
        return s
    }

    public static let null = Schema(kind: .null)
    public static let anyValue = Schema(kind: .any)

    public static func array(_ items: Schema, _ description: String? = nil, minItems: Int? = nil,
                             maxItems: Int? = nil, unique: Bool = false) -> Schema {
        var s = Schema(kind: .array)
        s.description = description
        s.items = [items]
        s.minItems = minItems
        s.maxItems = maxItems
        s.uniqueItems = unique
        return s
    }

    /// An object with exactly these properties; `required` names the ones that must be there.
    public static func object(_ title: String? = nil, _ description: String? = nil,
                              required: [String] = [], _ properties: KeyValuePairs<String, Schema>) -> Schema {
        var s = Schema(kind: .object)
        s.title = title
        s.description = description
        let req = Set(required)
        s.properties = properties.map { Property(name: $0.key, schema: $0.value, required: req.contains($0.key)) }
        return s
    }

    /// An object whose keys are free and whose values all follow one schema.
    public static func map(_ values: Schema, _ description: String? = nil) -> Schema {
        var s = Schema(kind: .object)
        s.description = description
        s.mapValues = [values]
        return s
    }

    public static func anyOf(_ options: [Schema], _ description: String? = nil) -> Schema {
        var s = Schema(kind: .any)
        s.description = description
        s.anyOf = options
        return s
    }

    /// Documented as any of `options`, validated as an object here and fully by the handler.
    public static func dependent(_ options: [Schema], _ description: String) -> Schema {
        var s = anyOf(options, description)
        s.checkedByHandler = true
        return s
    }

    public func titled(_ t: String) -> Schema { var s = self; s.title = t; return s }
    public func described(_ d: String) -> Schema { var s = self; s.description = d; return s }

    public func property(_ name: String) -> Schema? { properties.first { $0.name == name }?.schema }
}
