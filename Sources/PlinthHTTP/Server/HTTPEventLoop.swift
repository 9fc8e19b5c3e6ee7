/// The event loop a request arrived on, as handlers see it (`request.eventLoop`).
///
/// Async handlers run on it; `upstream` is its non-blocking client and may only be used on the
/// loop's thread (inside an async handler, an upstream completion, or a job given to `execute`).
public struct HTTPEventLoop: Sendable {
    let loop: EventLoop

    /// True on this loop's own thread.
    public var inEventLoop: Bool { loop.isCurrentThread }

    /// This loop's number within its server (0-based).
    public var index: Int { loop.index }

    /// Runs `job` on the loop's thread soon (posted through its mailbox; never inline).
    public func execute(_ job: @escaping @Sendable () -> Void) {
        loop.post(.run(job))
    }

    /// Runs `job` on the server's handler pool, where blocking is fine.
    public func offload(_ job: @escaping @Sendable () -> Void) {
        loop.ctx.pool.submit(job)
    }

    /// The loop's upstream client (keep-alive pools per endpoint on the loop's own epoll).
    public var upstream: UpstreamClient {
        precondition(loop.isCurrentThread, "the upstream client is used on its own event loop only")
        return loop.upstream
    }
}
