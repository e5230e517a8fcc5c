import Glibc

/// libpq, loaded on the first PostgreSQL open: libtwospeed.so does not link it, so that SQLite users
/// (and hosts without PostgreSQL's client) load nothing new. Each function is looked up once by name;
/// the library is never closed (it stays mapped for the life of the process, as dlopen'd C libraries
/// holding live connections must).
final class LibPQ: @unchecked Sendable {
    typealias Conn = OpaquePointer
    typealias Result = OpaquePointer

    let connectdb: @convention(c) (UnsafePointer<CChar>?) -> Conn?
    let status: @convention(c) (Conn?) -> Int32
    let errorMessage: @convention(c) (Conn?) -> UnsafePointer<CChar>?
    let finish: @convention(c) (Conn?) -> Void
    let exec: @convention(c) (Conn?, UnsafePointer<CChar>?) -> Result?
    let execParams: @convention(c) (Conn?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?,
                                    UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?
    let prepare: @convention(c) (Conn?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?) -> Result?
    let execPrepared: @convention(c) (Conn?, UnsafePointer<CChar>?, Int32, UnsafePointer<UnsafePointer<CChar>?>?,
                                      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?
    let resultStatus: @convention(c) (Result?) -> Int32
    let resultErrorMessage: @convention(c) (Result?) -> UnsafePointer<CChar>?
    let resultErrorField: @convention(c) (Result?, Int32) -> UnsafePointer<CChar>?
    let ntuples: @convention(c) (Result?) -> Int32
    let getvalue: @convention(c) (Result?, Int32, Int32) -> UnsafePointer<CChar>?
    let getlength: @convention(c) (Result?, Int32, Int32) -> Int32
    let getisnull: @convention(c) (Result?, Int32, Int32) -> Int32
    let cmdTuples: @convention(c) (Result?) -> UnsafePointer<CChar>?
    let clear: @convention(c) (Result?) -> Void
    let socket: @convention(c) (Conn?) -> Int32
    let consumeInput: @convention(c) (Conn?) -> Int32
    let notifies: @convention(c) (Conn?) -> UnsafeMutableRawPointer?
    let freemem: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let transactionStatus: @convention(c) (Conn?) -> Int32
    let putCopyData: @convention(c) (Conn?, UnsafePointer<CChar>?, Int32) -> Int32
    let putCopyEnd: @convention(c) (Conn?, UnsafePointer<CChar>?) -> Int32
    let getResult: @convention(c) (Conn?) -> Result?
    typealias NoticeProcessor = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void
    let setNoticeProcessor: @convention(c) (Conn?, NoticeProcessor?, UnsafeMutableRawPointer?) -> NoticeProcessor?

    // The values of libpq-fe.h's enums that the store reads.
    static let connectionOK: Int32 = 0
    static let commandOK: Int32 = 1, tuplesOK: Int32 = 2, copyIn: Int32 = 4
    static let transactionIdle: Int32 = 0
    static let diagSQLState = Int32(UInt8(ascii: "C"))

    /// The soname Debian's libpq5 installs; the -dev package's unversioned link is not needed.
    static let soname = "libpq.so.5"

    /// The one loaded library, or why it could not be loaded (kept: a missing library stays missing).
    static let shared: Swift.Result<LibPQ, StoreError> = {
        guard let handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(StoreError(kind: .open, message: "a PostgreSQL store needs libpq, which could not be loaded (\(why)); "
                                       + "install it: apt-get install libpq5 (Debian), or your system's libpq package"))
        }
        do { return .success(try LibPQ(handle)) } catch let e as StoreError { return .failure(e) } catch {
            return .failure(StoreError(kind: .open, message: "\(error)"))
        }
    }()

    static func load() throws -> LibPQ {
        switch shared {
        case .success(let l): return l
        case .failure(let e): throw e
        }
    }

    private init(_ h: UnsafeMutableRawPointer) throws {
        func sym<T>(_ name: String, _: T.Type = T.self) throws -> T {
            guard let p = dlsym(h, name) else {
                throw StoreError(kind: .open, message: "\(LibPQ.soname) has no \(name): it is older than this library needs (PostgreSQL 10 or later)")
            }
            return unsafeBitCast(p, to: T.self)
        }
        connectdb = try sym("PQconnectdb"); status = try sym("PQstatus"); errorMessage = try sym("PQerrorMessage")
        finish = try sym("PQfinish"); exec = try sym("PQexec"); execParams = try sym("PQexecParams")
        prepare = try sym("PQprepare"); execPrepared = try sym("PQexecPrepared")
        resultStatus = try sym("PQresultStatus"); resultErrorMessage = try sym("PQresultErrorMessage")
        resultErrorField = try sym("PQresultErrorField"); ntuples = try sym("PQntuples"); getvalue = try sym("PQgetvalue")
        getlength = try sym("PQgetlength"); getisnull = try sym("PQgetisnull"); cmdTuples = try sym("PQcmdTuples")
        clear = try sym("PQclear"); socket = try sym("PQsocket"); consumeInput = try sym("PQconsumeInput")
        notifies = try sym("PQnotifies"); freemem = try sym("PQfreemem"); transactionStatus = try sym("PQtransactionStatus")
        putCopyData = try sym("PQputCopyData"); putCopyEnd = try sym("PQputCopyEnd"); getResult = try sym("PQgetResult")
        setNoticeProcessor = try sym("PQsetNoticeProcessor")
    }
}
