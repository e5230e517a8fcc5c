import Glibc

/// The one lock of the code base: a state that is reachable only while its lock is held. Reads run side
/// by side, writes one at a time; a waiting writer goes before new readers, so steady reads cannot
/// starve a write (glibc's default would let them). Because the state is never handed out by reference,
/// no caller can touch it unlocked, and a class holding its mutable state only in `Locked` values is
/// thread-safe by construction.
///
/// Not reentrant: a `read` or `write` must never be taken inside another on the same lock (a waiting
/// writer would block the inner read, and the outer one would wait for ever).
public final class Locked<State>: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    private var state: State

    public init(_ state: State) {
        self.state = state
        lock.initialize(to: pthread_rwlock_t())
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        _ = rwlockattrSetKind(&attr, 2 /* PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP */)
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Runs `body` with shared access: other reads may run at the same time, no write does.
    public func read<T>(_ body: (State) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(state)
    }

    /// Runs `body` with exclusive access.
    public func write<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&state)
    }
}

extension Locked where State == Void {
    public convenience init() { self.init(()) }

    /// Runs `body` alone: for work that must not overlap (a plugin's exchange on its one pipe, the writes
    /// of one portfolio). The empty state is not touched: Swift's access instrumentation puts an inout
    /// access to a zero-sized property at the object's address, where ThreadSanitizer then takes any
    /// unlocked read of the object's header (its type, read before locking) for a race.
    public func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

// Declared by glibc only under _GNU_SOURCE, which the Glibc module is not built with.
@_silgen_name("pthread_rwlockattr_setkind_np")
func rwlockattrSetKind(_ attr: UnsafeMutablePointer<pthread_rwlockattr_t>, _ kind: Int32) -> Int32

/// Something that happens once and may be waited for: a POSIX semaphore, which any thread may signal
/// (async-signal-safe too) without holding a lock. After the first `signal`, `wait` returns at once.
public final class Event: @unchecked Sendable {
    private let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    public init() { sem_init(sem, 0, 0) }

    deinit {
        sem_destroy(sem)
        sem.deallocate()
    }

    public func signal() { sem_post(sem) }

    /// Blocks until `signal` has been called, and leaves the event signalled for later waits.
    public func wait() {
        while sem_wait(sem) != 0 && errno == EINTR {}
        sem_post(sem)
    }
}
