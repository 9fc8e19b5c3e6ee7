import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// One non-blocking keep-alive socket of an `UpstreamClient`, owned by its loop's thread. It
/// carries one exchange at a time, or several in order on a pipelined endpoint.
final class UpstreamConnection {
    typealias Completion = (Result<HTTPClientResponse, HTTPClientError>) -> Void

    /// One request on this socket and the caller waiting for its answer.
    struct Exchange {
        /// The request as encoded, kept for a replay on another socket.
        var bytes: [UInt8]
        var method: HTTPMethod
        var deadline: UInt64
        /// May go out again on a fresh socket if this one dies before its answer starts.
        var mayReplay: Bool
        /// Whether the caller may ever be offered a replay (a replayed request is not replayed again).
        var replay: Bool
        /// Nil once the caller was answered with a timeout: the late answer is read and dropped.
        var completion: Completion?
        /// Where this request ends in the socket's byte stream (set when queued).
        var end = 0
    }

    /// What the response parser has seen so far.
    enum Body {
        case head
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    let transport: PlainSocketTransport
    let endpoint: HTTPEndpoint
    /// Requests may be queued behind one whose answer has not come (HTTP/1.1 pipelining).
    let pipelined: Bool
    /// A TCP connect is in progress.
    var connecting = false
    /// True once an exchange completed on this socket (a failure before any answer byte may then
    /// be the server closing an idle connection: replayed once on a fresh socket).
    var reused = false
    /// Exchanges sent or queued, oldest first (`exchanges[first]` is the one being answered).
    var exchanges: [Exchange] = []
    var first = 0
    /// Exchanges given up on (timed out) and still waiting for their answer: no new one joins.
    var abandoned = 0
    /// Bytes of queued requests not written yet.
    var output: [UInt8] = []
    var sent = 0
    /// Request bytes queued and written over the socket's life (an answer that comes before its
    /// request was all written ends the socket).
    var queuedBytes = 0
    /// Exchanges queued since the last write.
    var unflushed = 0
    var writtenBytes = 0
    /// Listed in the client's `unflushed`.
    var flushQueued = false
    var input = ByteBuffer()
    var scanResume = 0
    var body = Body.head
    var status = 0
    var headers = HTTPHeaders()
    var keepAlive = true
    var responseBody: [UInt8] = []
    var gotResponseBytes = false
    var connectDeadline: UInt64 = 0
    /// EPOLLOUT is in this socket's epoll interest (connecting, or a request waiting for room).
    var watchingWritable = false

    init(fd: Int32, endpoint: HTTPEndpoint, pipelined: Bool) {
        transport = PlainSocketTransport(fd: fd)
        self.endpoint = endpoint
        self.pipelined = pipelined
    }

    var fd: Int32 { transport.fd }
    /// Exchanges waiting for an answer.
    var inFlight: Int { exchanges.count - first }

    func enqueue(_ exchange: consuming Exchange) {
        if output.isEmpty { output = exchange.bytes } else { output += exchange.bytes }
        queuedBytes += exchange.bytes.count
        exchange.end = queuedBytes
        exchanges.append(exchange)
    }

    /// Removes the oldest exchange once its answer is complete.
    func popFirst() -> Exchange {
        let done = exchanges[first]
        first += 1
        if first == exchanges.count {
            exchanges.removeAll(keepingCapacity: true)
            first = 0
        } else {
            exchanges[first - 1].bytes = []
            exchanges[first - 1].completion = nil
        }
        if done.completion == nil { abandoned -= 1 }
        reused = true
        return done
    }

    /// Every exchange not answered yet, oldest first; the connection forgets them.
    func takeAll() -> ArraySlice<Exchange> {
        let rest = exchanges[first...]
        exchanges = []
        first = 0
        abandoned = 0
        return rest
    }

    /// Parser state for the next answer.
    func resetAnswer() {
        scanResume = 0
        body = .head
        status = 0
        headers = HTTPHeaders()
        keepAlive = true
        responseBody = []
        gotResponseBytes = false
    }

    enum Progress {
        case needMore
        case done
        case failed(HTTPClientError)
    }

    /// Parses what is buffered for the oldest exchange. `eof`: the peer closed (completes an
    /// until-close body).
    func parse(eof: Bool) -> Progress {
        while true {
            switch body {
            case .head:
                let scanner = RequestHeadParser(maxHeaderBytes: ResponseHeadParser.maxHeadBytes, maxHeaderCount: 1000)
                let scan: RequestHeadParser.Scan
                do { scan = try scanner.scan(input.readable, from: scanResume) } catch {
                    return .failed(.malformedResponse("response head too large"))
                }
                guard case .complete(let start, let end) = scan else {
                    if case .incomplete(let resume) = scan { scanResume = resume }
                    return eof ? .failed(.connectionClosed) : .needMore
                }
                let head: ResponseHeadParser.Head
                do {
                    head = try ResponseHeadParser.parse(
                        input.readable, start: start, end: end, requestMethod: exchanges[first].method)
                } catch let error as HTTPClientError {
                    return .failed(error)
                } catch {
                    return .failed(.malformedResponse("response head"))
                }
                input.consume(end)
                scanResume = 0
                if head.status >= 100 && head.status < 200 { continue }  // 100 Continue and friends
                status = head.status
                headers = head.headers
                keepAlive = head.keepAlive
                switch head.framing {
                case .none where head.untilClose: body = .untilClose
                case .none: return .done
                case .contentLength(let n):
                    responseBody.reserveCapacity(n)
                    body = .length(remaining: n)
                case .chunked: body = .chunked(ChunkedDecoder())
                }
            case .length(let remaining):
                let take = min(remaining, input.count)
                responseBody.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.readable[0..<take]))
                input.consume(take)
                if take == remaining { return .done }
                body = .length(remaining: remaining - take)
                return eof ? .failed(.connectionClosed) : .needMore
            case .chunked(var decoder):
                do {
                    let used = try decoder.decode(input.readable) { responseBody.append(contentsOf: $0) }
                    input.consume(used)
                } catch {
                    return .failed(.malformedResponse("chunked framing"))
                }
                body = .chunked(decoder)
                if decoder.isDone { return .done }
                return eof ? .failed(.connectionClosed) : .needMore
            case .untilClose:
                responseBody.append(contentsOf: input.readable)
                input.consume(input.count)
                keepAlive = false
                return eof ? .done : .needMore
            }
        }
    }
}
