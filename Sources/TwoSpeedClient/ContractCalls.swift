import TwoSpeedContract

// One typed call for every method: name it by its spec in TwoSpeedContract, give its params struct, get
// its result type back (`try client.call(Contract.campaignGet, CampaignIDParams(portfolio: "p", id: "c"))`).
// Errors are the same as callJSON's: RPCFailure for an error reply, TransportError for the transport.
extension TwoSpeedClient {
    /// Calls a method with its params struct; the reply decoded as the spec's result type.
    public func call<P: Encodable, R>(_ spec: MethodSpec<P, R>, _ params: P) throws -> R {
        try call(spec.name, params: params, as: R.self)
    }

    /// Calls a method that takes no params.
    public func call<R>(_ spec: MethodSpec<NoParams, R>) throws -> R {
        try call(spec.name, as: R.self)
    }

    /// Calls a method whose engine keeps a param as the JSON it came as (portfolio.put, entity.upsert,
    /// plugin.call, delivery.record): `params` is any encodable value of the same shape, such as
    /// PutParams, UpsertParams<Product>, PluginCallParams or DeliveryRecordParams.
    public func call<P: CarriesRawJSON, R, Q: Encodable>(_ spec: MethodSpec<P, R>, encoding params: Q) throws -> R {
        try call(spec.name, params: params, as: R.self)
    }
}
