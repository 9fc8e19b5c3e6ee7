import Foundation

/// Fixed pool of threads running handler jobs from one lock + condition queue.
final class HandlerPool: Sendable {
    // NSCondition guards `jobs`, `stopping` and `running`; they are only touched while it is held,
    // which is what makes the class safe to share.
    private let condition = NSCondition()
    nonisolated(unsafe) private var jobs: [(@Sendable () -> Void)?] = []
    nonisolated(unsafe) private var head = 0
    nonisolated(unsafe) private var stopping = false
    nonisolated(unsafe) private var running = 0
    private let threadCount: Int

    init(threads: Int) {
        threadCount = max(1, threads)
    }

    func start() {
        for i in 0..<threadCount {
            let thread = Thread { [self] in work() }
            thread.name = "http-handler-\(i)"
            thread.stackSize = 4 << 20  // Codable decoding of nested JSON recurses
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.unlock()
        // Signalled after unlocking so the woken thread does not immediately block on the lock.
        condition.signal()
    }

    /// Lets queued jobs finish, then ends the threads.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        running += 1
        while true {
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count && stopping { break }
            let job = jobs[head]
            jobs[head] = nil
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job?()
            condition.lock()
        }
        running -= 1
        condition.unlock()
    }
}
