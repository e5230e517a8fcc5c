import Glibc

/// Progress of a long command on standard error, only once it has run for two seconds: a bar redrawn
/// in place on a terminal, otherwise one line a second (a log or CI keeps every line readable).
/// Updates are cheap (a lock and three stores); a thread of its own draws.
final class Progress: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var phase = ""
    private var done = 0
    private var total = 0
    private var stopped = false
    private var drawn = false
    private let started: Double
    private let terminal: Bool
    private let label: String
    private var thread: pthread_t?
    /// Seconds before anything is drawn: 2, or TWOSPEED_PROGRESS_AFTER (the tests draw at once).
    private let after: Double

    /// Nothing is drawn when `quiet`.
    init(label: String, quiet: Bool) {
        self.label = label
        started = Progress.now()
        terminal = isatty(2) == 1
        after = environment("TWOSPEED_PROGRESS_AFTER").flatMap(Double.init) ?? 2
        pthread_mutex_init(&mutex, nil)
        guard !quiet else { stopped = true; return }
        var t = pthread_t()
        let me = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(&t, nil, { arg in
            let p = Unmanaged<Progress>.fromOpaque(arg!).takeRetainedValue()
            p.loop()
            return nil
        }, me) == 0 { thread = t } else { Unmanaged<Progress>.fromOpaque(me).release() }
    }

    /// What is being done now; `total` 0 when how much is left is unknown.
    func update(_ phase: String, done: Int = 0, total: Int = 0) {
        pthread_mutex_lock(&mutex)
        self.phase = phase; self.done = done; self.total = total
        pthread_mutex_unlock(&mutex)
    }

    /// Stops drawing and clears the bar; call once the work is over.
    func finish() {
        pthread_mutex_lock(&mutex)
        stopped = true
        pthread_mutex_unlock(&mutex)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func loop() {
        var lastLine = 0.0
        while true {
            usleep(100_000)
            pthread_mutex_lock(&mutex)
            let (phase, done, total, stop) = (self.phase, self.done, self.total, self.stopped)
            pthread_mutex_unlock(&mutex)
            let elapsed = Progress.now() - started
            if stop {
                if drawn && terminal { write("\r\u{1B}[K") }
                return
            }
            guard elapsed >= after else { continue }
            let share = total > 0 ? min(1, Double(done) / Double(total)) : nil
            let secs = "\(Int(elapsed)) s"
            if terminal {
                var bar = ""
                if let share {
                    let filled = Int(share * 30)
                    bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] \(Int(share * 100))% "
                }
                write("\r\u{1B}[K\(label): \(bar)\(phase) (\(secs))")
                drawn = true
            } else if lastLine == 0 || elapsed - lastLine >= 1 {
                lastLine = elapsed
                write("\(label): \(share.map { "\(Int($0 * 100))% " } ?? "")\(phase) (\(secs))\n")
            }
        }
    }

    private func write(_ s: String) {
        var bytes = Array(s.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
