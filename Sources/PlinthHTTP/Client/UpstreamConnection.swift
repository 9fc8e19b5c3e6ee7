import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// One non-blocking keep-alive socket of an `UpstreamClient`, owned by its loop's thread.
final class UpstreamConnection {
    enum State {
        case connecting
        case writing
        case reading
        case idle
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
    var state = State.connecting
    /// True once a request completed on this socket (a failure before any answer byte may then
    /// be the server closing an idle connection: replayed once on a fresh socket).
    var reused = false
    var output: [UInt8] = []
    var sent = 0
    var input = ByteBuffer()
    var scanResume = 0
    var body = Body.head
    var status = 0
    var headers = HTTPHeaders()
    var keepAlive = true
    var responseBody: [UInt8] = []
    var gotResponseBytes = false
    var method = HTTPMethod.GET
    var deadline: UInt64 = 0
    var connectDeadline: UInt64 = 0
    var mayReplay = false
    var completion: ((Result<HTTPClientResponse, HTTPClientError>) -> Void)?
    /// EPOLLOUT is in this socket's epoll interest (connecting, or a request waiting for room).
    var watchingWritable = false

    init(fd: Int32, endpoint: HTTPEndpoint) {
        transport = PlainSocketTransport(fd: fd)
        self.endpoint = endpoint
    }

    var fd: Int32 { transport.fd }

    /// Prepares the connection for the next request.
    func reset() {
        output = []
        sent = 0
        scanResume = 0
        body = .head
        status = 0
        headers = HTTPHeaders()
        keepAlive = true
        responseBody = []
        gotResponseBytes = false
        completion = nil
    }

    enum Progress {
        case needMore
        case done
        case failed(HTTPClientError)
    }

    /// Parses what is buffered. `eof`: the peer closed (completes an until-close body).
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
                    head = try ResponseHeadParser.parse(input.readable, start: start, end: end, requestMethod: method)
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
