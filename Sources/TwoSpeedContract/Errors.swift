// The error codes and the shape of an error's data are part of the contract, but they stay in
// TwoSpeedRPC: the dispatcher itself answers -32700 to -32603 and lists every code in rpc.discover,
// and TwoSpeedRPC is a layer below the portfolio model that these results need. Re-exported here
// (only these types, not the dispatcher), so that a client imports one module for the whole contract.
@_exported import enum TwoSpeedRPC.ErrorCode
@_exported import struct TwoSpeedRPC.ErrorData
@_exported import struct TwoSpeedRPC.PluginErrorObject
@_exported import struct TwoSpeedSchema.ValidationIssue
// The spec type and what its params may hold, so that a client names any method by its spec.
@_exported import struct TwoSpeedRPC.MethodSpec
@_exported import protocol TwoSpeedRPC.AnyMethodSpec
@_exported import struct TwoSpeedRPC.NoParams
@_exported import struct TwoSpeedRPC.RawJSON
@_exported import protocol TwoSpeedRPC.CarriesRawJSON
@_exported import struct TwoSpeedRPC.Param
