import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Streaming request body read straight from the socket by the handler thread that owns the
/// connection while the handler runs. Memory stays bounded (one read buffer) and backpressure is
/// natural: the socket is only read when the handler asks for more.
final class SocketBodySource: HTTPBodySource {
    private struct State: ~Copyable {
        var buffer = ByteBuffer()
        var decoder = ChunkedDecoder()
        var remaining: Int  // Content-Length framing only
        var total = 0
        var finished = false
        var failed = false
        var continuePending: Bool
    }

    private let transport: any ConnectionTransport
    private let chunked: Bool
    private let limit: Int
    private let timeoutMs: Int32
    private let state: Mutex<State>
    let declaredLength: Int?

    init(
        transport: any ConnectionTransport, framing: BodyFraming, limit: Int, timeout: Duration, expectContinue: Bool,
        initial: UnsafeRawBufferPointer
    ) {
        self.transport = transport
        self.limit = limit
        self.timeoutMs = Sys.milliseconds(timeout)
        var remaining = 0
        switch framing {
        case .none:
            chunked = false
            declaredLength = 0
        case .contentLength(let n):
            chunked = false
            declaredLength = n
            remaining = n
        case .chunked:
            chunked = true
            declaredLength = nil
        }
        state = Mutex(State(remaining: remaining, finished: framing == .none, continuePending: expectContinue))
        state.withLock { $0.buffer.append(initial) }
    }

    /// Whether the whole body was read without error (the connection can then be kept alive).
    var finishedCleanly: Bool { state.withLock { $0.finished && !$0.failed } }

    /// Bytes received past the end of the body (the next pipelined request).
    func takeLeftover() -> [UInt8] {
        state.withLock { s in
            let out = s.buffer.copyOut()
            s.buffer.release()
            return out
        }
    }

    func read(maxBytes: Int) throws -> [UInt8]? {
        try state.withLock { s throws -> [UInt8]? in
            if s.failed { throw HTTPBodyError.disconnected }
            do {
                return try next(&s, maxBytes)
            } catch {
                s.failed = true
                throw error
            }
        }
    }

    private func next(_ s: inout State, _ maxBytes: Int) throws -> [UInt8]? {
        if s.finished { return nil }
        if s.continuePending {
            s.continuePending = false
            try Sys.writeAll(transport, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), timeoutMs: timeoutMs)
        }
        while true {
            if !s.buffer.isEmpty {
                var out: [UInt8] = []
                if chunked {
                    let budget = maxBytes
                    let consumed = try s.decoder.decode(s.buffer.readable, budget: budget) { piece in
                        out.append(contentsOf: piece)
                    }
                    s.buffer.consume(consumed)
                    if s.decoder.isDone { s.finished = true }
                } else {
                    let take = min(s.remaining, maxBytes, s.buffer.count)
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s.buffer.readable[0..<take]))
                    s.buffer.consume(take)
                    s.remaining -= take
                    if s.remaining == 0 { s.finished = true }
                }
                s.total += out.count
                if s.total > limit { throw HTTPBodyError.tooLarge(limit: limit) }
                if !out.isEmpty { return out }
                if s.finished { return nil }
            } else if !chunked && s.remaining == 0 {
                s.finished = true
                return nil
            }
            // Need more bytes from the socket.
            let want = chunked ? 64 * 1024 : min(max(s.remaining, 1), 64 * 1024)
            s.buffer.reserveTail(want)
            let r = transport.receive(s.buffer.writableTail, want)
            if r > 0 {
                s.buffer.didWrite(r)
            } else if r == 0 {
                throw HTTPBodyError.disconnected
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if !Sys.poll(transport.fd, events: Int16(POLLIN), timeoutMs: timeoutMs) { throw HTTPBodyError.timedOut }
            } else if errno != EINTR {
                throw HTTPBodyError.disconnected
            }
        }
    }
}
