import TwoSpeedRPC
import TwoSpeedStore

extension RPCError {
    /// A store's failure as the client sees it: -32002 with the store's reason (passwords already
    /// redacted by the store) and `data.retryable` when sending the request again may succeed.
    init(store e: StoreError) {
        var d = ErrorData(reason: e.message)
        if e.retryable { d.retryable = true }
        self.init(.storeError, d)
    }
}
