import Dispatch
import Synchronization

extension Router {
    /// Registers an asynchronous handler. On a server it runs **on the event loop** (it must not
    /// block) and answers through its `HTTPResponder`, inline or later from any thread. Pipelined
    /// requests of one connection run side by side; their responses still leave in request order.
    /// `request.eventLoop` gives it the loop and its upstream client. Through `Router.handle` (no sockets) it runs on the calling thread, which
    /// then waits for the answer. Streaming request bodies are not supported on async routes.
    public func addAsync(
        _ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(),
        _ handler: @escaping HTTPAsyncHandler
    ) {
        precondition(!options.streamingBody, "async routes take buffered bodies: \(pattern)")
        let names = Router.parameterNames(pattern)
        // The synchronous form, for callers without an event loop: run, then wait for the answer.
        let blocking: HTTPHandler = { request in
            let box = ResponseBox()
            try handler(request, HTTPResponder(box: box))
            return box.wait()
        }
        insert(
            Route(
                method: method, pattern: pattern, parameterNames: names, options: options, handler: blocking,
                asyncHandler: handler))
    }
}

/// Completes one request of an async route, exactly once (later calls are ignored), from any
/// thread. A responder dropped without an answer answers 500 so the connection never hangs.
public final class HTTPResponder: Sendable {
    enum Target: Sendable {
        case loop(EventLoop, fd: Int32, id: UInt64, seq: UInt64, head: RequestHead, info: AccessInfo)
        case box(ResponseBox)
    }

    private let target: Target
    private let done = Atomic<Bool>(false)
    let requestID: String

    init(loop: EventLoop, fd: Int32, id: UInt64, seq: UInt64, head: RequestHead, info: AccessInfo) {
        target = .loop(loop, fd: fd, id: id, seq: seq, head: head, info: info)
        requestID = info.requestID
    }

    init(box: ResponseBox) {
        target = .box(box)
        requestID = ""
    }

    deinit {
        if !done.load(ordering: .acquiring) {
            complete(HTTPResponse.error(500, "internal error", fields: ["request_id": requestID]))
        }
    }

    /// Whether an answer was already given.
    public var isCompleted: Bool { done.load(ordering: .acquiring) }

    /// Sends `response` (the request id header is added). On the connection's own loop thread it is
    /// queued at once; from another thread it is posted to that loop.
    public func complete(_ response: consuming HTTPResponse) {
        guard done.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            response.delivery?(.failed)
            return
        }
        switch target {
        case .box(let box):
            // No socket: handing it to the in-process caller is the delivery.
            let delivery = response.delivery
            var handed = response
            handed.delivery = nil
            delivery?(.sending)
            box.put(handed)
            delivery?(.delivered)
        case .loop(let loop, let fd, let id, let seq, let head, let info):
            // Consumed, so the fields are not shared and this adds in place.
            response.headers.set("X-Request-Id", info.requestID)
            if loop.isCurrentThread {
                loop.finishAsync(fd: fd, id: id, seq: seq, response: response, head: head, info: info)
            } else {
                loop.post(.asyncDone(fd: fd, id: id, seq: seq, response: response, head: head, info: info))
            }
        }
    }

    /// Answers with the JSON error of `error`.
    public func complete(_ error: HTTPError) {
        var response = HTTPResponse.error(error.status, error.message, fields: error.fields)
        for (name, value) in error.headers { response.headers.add(name, value) }
        complete(response)
    }
}

/// Where an async handler's answer lands when it runs without an event loop.
final class ResponseBox: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let value = Mutex<HTTPResponse?>(nil)

    func put(_ response: HTTPResponse) {
        value.withLock { $0 = response }
        semaphore.signal()
    }

    func wait() -> HTTPResponse {
        semaphore.wait()
        return value.withLock { $0 } ?? HTTPResponse.error(500, "internal error")
    }
}
