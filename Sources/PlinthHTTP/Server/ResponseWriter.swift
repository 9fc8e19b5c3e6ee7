import PlinthCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a response from a handler thread, which owns the connection's socket while its handler
/// runs. Buffered bodies are sent without blocking (the unsent tail goes back to the loop); streamed
/// bodies block per chunk for backpressure, bounded by the body timeout.
enum ResponseWriter {
    /// Returns the bytes the loop must still send and whether to close afterwards.
    static func write(
        _ response: HTTPResponse, head: RequestHead, transport: any ConnectionTransport, ctx: ServerContext,
        info: AccessInfo, bodySource: SocketBodySource?
    ) -> (output: [UInt8], close: Bool) {
        var keepAlive = head.keepAlive && !ctx.shuttingDown.load(ordering: .relaxed) && !asksToClose(response)
        if let bodySource, !bodySource.finishedCleanly { keepAlive = false }
        var out: [UInt8] = []
        switch response.body {
        case .bytes(let body):
            out.reserveCapacity(256 + body.count)
            ResponseHead.write(
                status: response.status, headers: response.headers, contentLength: body.count, keepAlive: keepAlive,
                http10: head.isHTTP10, into: &out)
            if head.method != .HEAD { out.append(contentsOf: body) }
            ctx.logAccess(info, status: response.status, bytes: body.count)
            if let observer = response.delivery {
                return writeObserved(out, transport: transport, timeoutMs: ctx.bodyTimeoutMs, observer)
                    ? ([], !keepAlive) : ([], true)
            }
            let (written, _) = out.withUnsafeBytes { Sys.send(transport, $0.baseAddress!, $0.count) }
            if written < 0 { return ([], true) }
            if written == out.count { return ([], !keepAlive) }
            return (Array(out[written...]), !keepAlive)
        case .stream(let length, let produce):
            let chunked = length == nil
            if chunked && head.isHTTP10 { keepAlive = false }
            ResponseHead.write(
                status: response.status, headers: response.headers, contentLength: length, keepAlive: keepAlive,
                http10: head.isHTTP10, into: &out)
            let timeout = ctx.bodyTimeoutMs
            do {
                try Sys.writeAll(transport, out, timeoutMs: timeout)
                if head.method == .HEAD {
                    ctx.logAccess(info, status: response.status, bytes: 0)
                    return ([], !keepAlive)
                }
                let counter = StreamCounter()
                let frame = chunked && !head.isHTTP10
                let writer = HTTPBodyWriter { bytes in
                    counter.add(bytes.count)
                    if let length, counter.total > length { throw HTTPBodyError.tooLarge(limit: length) }
                    if frame {
                        var framed: [UInt8] = []
                        framed.reserveCapacity(bytes.count + 16)
                        framed.append(contentsOf: String(bytes.count, radix: 16).utf8)
                        framed.append(contentsOf: [0x0D, 0x0A])
                        framed.append(contentsOf: bytes)
                        framed.append(contentsOf: [0x0D, 0x0A])
                        try Sys.writeAll(transport, framed, timeoutMs: timeout)
                    } else {
                        try Sys.writeAll(transport, bytes, timeoutMs: timeout)
                    }
                }
                try produce(writer)
                if frame { try Sys.writeAll(transport, Array("0\r\n\r\n".utf8), timeoutMs: timeout) }
                ctx.logAccess(info, status: response.status, bytes: counter.total)
                if let length, counter.total != length {
                    response.delivery?(.failed)
                    return ([], true)
                }
                response.delivery?(.delivered)
                return ([], !keepAlive || (chunked && head.isHTTP10))
            } catch {
                response.delivery?(.failed)
                // Mid-body failure: the only honest signal left is closing without the final chunk.
                ctx.logger.warning(
                    "streamed response aborted",
                    ["request_id": .string(info.requestID), "error": .string(String(describing: error))])
                return ([], true)
            }
        }
    }

    /// Writes all of `out` from the handler thread, telling `observer` around each send; false
    /// when the write failed or stalled past the timeout.
    private static func writeObserved(
        _ out: [UInt8], transport: any ConnectionTransport, timeoutMs: Int32, _ observer: HTTPDeliveryObserver
    ) -> Bool {
        out.withUnsafeBytes { raw in
            var done = 0
            while true {
                observer(.sending)
                let (written, blocked) = Sys.send(transport, raw.baseAddress! + done, raw.count - done)
                if written < 0 { break }
                done += written
                if done == raw.count {
                    observer(.delivered)
                    return true
                }
                observer(.incomplete)
                if blocked, !Sys.poll(transport.fd, events: Int16(POLLOUT), timeoutMs: timeoutMs) { break }
            }
            observer(.failed)
            return false
        }
    }

    static func asksToClose(_ response: HTTPResponse) -> Bool {
        guard let value = response.headers["Connection"] else { return false }
        return value.lowercased().contains("close")
    }
}

/// Byte count shared with the writer closure (called on the one handler thread that owns it).
final class StreamCounter: @unchecked Sendable {
    // Only the handler thread running the stream touches `total`; the class exists to share it with
    // the @Sendable writer closure.
    var total = 0
    func add(_ n: Int) { total += n }
}
