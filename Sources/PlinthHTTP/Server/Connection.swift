/// One client connection, owned by its event loop's thread.
final class Connection {
    enum Phase {
        /// Waiting for the first byte of a request (idle timeout).
        case idle
        /// Reading a request head (header timeout from its first byte).
        case head
        /// Reading a buffered body (body timeout per gap).
        case body
        /// A handler thread owns the connection until it posts `handlerDone`.
        case handler
    }

    /// A buffered body being collected before the handler runs.
    struct PendingBody {
        var head: RequestHead
        var route: Route
        var values: [Substring]
        var bytes: [UInt8]
        var remaining: Int
        var decoder: ChunkedDecoder?
        var started: UInt64
        /// Chosen once, when the head arrived.
        var requestID: String
    }

    let transport: PlainSocketTransport
    let id: UInt64
    let remote: String
    var input = ByteBuffer()
    var scanResume = 0
    var output: [UInt8] = []
    var outputSent = 0
    var phase = Phase.idle
    var since: UInt64
    var closeAfterFlush = false
    var pendingBody: PendingBody?
    /// A pool job waiting for earlier responses to be flushed (responses go out in order).
    var deferredJob: (@Sendable () -> Void)?
    var closed = false
    /// An async handler is being called right now: an inline answer is only queued, the caller
    /// flushes and goes on parsing.
    var inDispatch = false
    /// Async requests dispatched and not answered yet. Pipelined requests of one connection run
    /// at once; `nextSeq` numbers them as dispatched and `sendSeq` is the next one whose answer
    /// may be written, so answers leave in request order.
    var asyncOpen = 0
    var nextSeq: UInt64 = 0
    var sendSeq: UInt64 = 0
    /// Answers that completed before an earlier request's.
    var parked: [ParkedAnswer] = []
    /// The next request needs the connection to itself (not an async one, an error, or one after
    /// `Connection: close`): parsing waits until every open async answer is out.
    var waitsForAnswers = false
    /// A pipelined request's body broke while earlier ones were open: the error to answer, and
    /// close with, once their answers are out.
    var failAfterAnswers: (status: Int, message: String)?
    /// An answer said `Connection: close`: the answers of later pipelined requests are dropped.
    var closeAnswered = false
    /// The parse phase to go back to when a handler thread hands the connection back (a streamed
    /// async answer may be written while a pipelined request is half read).
    var resumePhase = Phase.idle
    /// Listed in the loop's `answered`: an async answer waits to be sent when the round ends.
    var answerWaiting = false
    /// epoll reported RDHUP/HUP/ERR: read to EOF instead of stopping at a short read.
    var hangupSeen = false
    /// The socket may hold unread bytes (readiness seen while not reading, or the last read filled
    /// the buffer). When false, resuming after a handler skips a recv that would only say EAGAIN.
    var mayHaveInput = false
    /// Observers of responses in `output`, in order, with the offset just past each response.
    var deliveries: [(end: Int, observer: HTTPDeliveryObserver)] = []

    init(fd: Int32, id: UInt64, remote: String, now: UInt64) {
        transport = PlainSocketTransport(fd: fd)
        self.id = id
        self.remote = remote
        since = now
    }

    /// EPOLLOUT is in this socket's epoll interest (only while output waits for room).
    var watchingWritable = false

    var fd: Int32 { transport.fd }
    var pendingOutput: Int { output.count - outputSent }

    /// No request in a handler and none answered out of turn: the connection may close.
    var quiet: Bool { phase != .handler && deferredJob == nil && asyncOpen == 0 }

    /// After a send: responses whose last byte went out are delivered, the others fell short.
    func settleDeliveries() {
        var done = 0
        for d in deliveries {
            if d.end <= outputSent {
                d.observer(.delivered)
                done += 1
            } else {
                d.observer(.incomplete)
            }
        }
        deliveries.removeFirst(done)
    }

    /// The connection is gone: what was not sent never will be.
    func failDeliveries() {
        for d in deliveries { d.observer(.failed) }
        deliveries.removeAll()
        for p in parked { p.response.delivery?(.failed) }
        parked.removeAll()
    }
}

/// An async answer waiting for the answers of earlier pipelined requests.
struct ParkedAnswer {
    var seq: UInt64
    var response: HTTPResponse
    var head: RequestHead
    var info: AccessInfo
}

/// Messages handler threads and the server post to a loop.
enum LoopMessage: Sendable {
    case handlerDone(fd: Int32, id: UInt64, output: [UInt8], leftover: [UInt8]?, close: Bool)
    case asyncDone(fd: Int32, id: UInt64, seq: UInt64, response: HTTPResponse, head: RequestHead, info: AccessInfo)
    case run(@Sendable () -> Void)
    case shutdown
}
