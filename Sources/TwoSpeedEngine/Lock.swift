import Glibc

/// A readers-writer lock: reads of the cached portfolios run side by side, writes one at a time.
/// Not reentrant: a waiting writer blocks new readers, so a read must never be taken inside another.
final class RWLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        lock.initialize(to: pthread_rwlock_t())
        // glibc's default lets a steady stream of readers starve a writer; a daemon under read load
        // must still get its writes through.
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        _ = rwlockattrSetKind(&attr, 2 /* PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP */)
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func read<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func write<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

// Declared by glibc only under _GNU_SOURCE, which the Glibc module is not built with.
@_silgen_name("pthread_rwlockattr_setkind_np")
func rwlockattrSetKind(_ attr: UnsafeMutablePointer<pthread_rwlockattr_t>, _ kind: Int32) -> Int32

/// The current time as RFC 3339 UTC with milliseconds, without Foundation.
func nowTimestamp() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = ts.tv_sec
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    func pad(_ v: Int32, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T" +
        "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
}
