import TwoSpeedJSON

/// Reading and changing one entity of a portfolio by kind and id, as the entity.* methods do.
extension Portfolio {
    /// Where the entity sits: its index in its collection, or nil.
    public func index(of kind: EntityKind, id: String) -> Int? {
        switch kind {
        case .department: return organization.departments.firstIndex { $0.id == id }
        case .journey: return journeys.firstIndex { $0.id == id }
        case .product: return products.firstIndex { $0.id == id }
        case .manager: return managers.firstIndex { $0.id == id }
        case .team: return teams.firstIndex { $0.id == id }
        case .system: return systems.firstIndex { $0.id == id }
        case .metric: return metrics.firstIndex { $0.id == id }
        case .okr: return okrs.firstIndex { $0.id == id }
        case .experiment: return experiments.firstIndex { $0.id == id }
        }
    }

    /// The ids of one kind, in document order.
    public func ids(of kind: EntityKind) -> [String] {
        switch kind {
        case .department: return organization.departments.map(\.id)
        case .journey: return journeys.map(\.id)
        case .product: return products.map(\.id)
        case .manager: return managers.map(\.id)
        case .team: return teams.map(\.id)
        case .system: return systems.map(\.id)
        case .metric: return metrics.map(\.id)
        case .okr: return okrs.map(\.id)
        case .experiment: return experiments.map(\.id)
        }
    }

    /// The pointer of the entity at `index` inside the portfolio document.
    public static func pointer(of kind: EntityKind, index: Int) -> JSONPointer {
        JSONPointer(kind.collectionPointer + [String(index)])
    }

    /// The entity as a new jansson value, or nil when there is none.
    public func encodeEntity(_ kind: EntityKind, id: String) throws -> JSONRef? {
        guard let i = index(of: kind, id: id) else { return nil }
        let enc = JanssonEncoder()
        switch kind {
        case .department: return try enc.encode(organization.departments[i])
        case .journey: return try enc.encode(journeys[i])
        case .product: return try enc.encode(products[i])
        case .manager: return try enc.encode(managers[i])
        case .team: return try enc.encode(teams[i])
        case .system: return try enc.encode(systems[i])
        case .metric: return try enc.encode(metrics[i])
        case .okr: return try enc.encode(okrs[i])
        case .experiment: return try enc.encode(experiments[i])
        }
    }

    /// Replaces the entity with the same id, or appends it. Returns its index and whether it is new.
    /// A metric given without "observations" keeps the ones it has.
    @discardableResult
    public mutating func upsert(_ kind: EntityKind, from json: JSONRef) throws -> (index: Int, created: Bool) {
        let dec = JanssonDecoder()
        switch kind {
        case .department: return put(&organization.departments, try dec.decode(Department.self, from: json))
        case .journey: return put(&journeys, try dec.decode(Journey.self, from: json))
        case .product: return put(&products, try dec.decode(Product.self, from: json))
        case .manager: return put(&managers, try dec.decode(Manager.self, from: json))
        case .team: return put(&teams, try dec.decode(Team.self, from: json))
        case .system: return put(&systems, try dec.decode(System.self, from: json))
        case .metric:
            var m = try dec.decode(Metric.self, from: json)
            if json["observations"] == nil, let old = metrics.first(where: { $0.id == m.id }) {
                m.observations = old.observations
            }
            return put(&metrics, m)
        case .okr: return put(&okrs, try dec.decode(OKR.self, from: json))
        case .experiment: return put(&experiments, try dec.decode(Experiment.self, from: json))
        }
    }

    private func put<T: Identified>(_ list: inout [T], _ value: T) -> (index: Int, created: Bool) {
        if let i = list.firstIndex(where: { $0.id == value.id }) {
            list[i] = value
            return (i, false)
        }
        list.append(value)
        return (list.count - 1, true)
    }

    /// Removes the entity; false when there was none.
    @discardableResult
    public mutating func remove(_ kind: EntityKind, id: String) -> Bool {
        guard let i = index(of: kind, id: id) else { return false }
        switch kind {
        case .department: organization.departments.remove(at: i)
        case .journey: journeys.remove(at: i)
        case .product: products.remove(at: i)
        case .manager: managers.remove(at: i)
        case .team: teams.remove(at: i)
        case .system: systems.remove(at: i)
        case .metric: metrics.remove(at: i)
        case .okr: okrs.remove(at: i)
        case .experiment: experiments.remove(at: i)
        }
        return true
    }
}
