/// Async routes: the handler runs on the loop and answers through an `HTTPResponder`.
extension EventLoop {
    /// Calls an async handler on the loop. Parsing goes on: pipelined requests behind it run at
    /// once (up to `maxPipelinedRequests`), and their answers are written in request order.
    func dispatchAsync(
        _ conn: Connection, _ route: Route, _ handler: HTTPAsyncHandler, _ values: [Substring],
        _ request: consuming HTTPRequest, _ head: RequestHead, _ info: AccessInfo
    ) {
        let seq = conn.nextSeq
        conn.nextSeq &+= 1
        conn.asyncOpen += 1
        conn.phase = .idle
        conn.since = now
        // Nothing after a request that closes the connection is read.
        if !head.keepAlive { conn.waitsForAnswers = true }
        conn.inDispatch = true
        let request = Router.withParameters(route, values, consume request)
        let responder = HTTPResponder(loop: self, fd: conn.fd, id: conn.id, seq: seq, head: head, info: info)
        do {
            try handler(request, responder)
        } catch {
            responder.complete(ctx.router.errorResponse(error, route: route, request: request))
        }
        conn.inDispatch = false
    }

    /// Queues an async answer on its connection (on the loop's thread), or parks it until the
    /// answers of earlier pipelined requests are out. Outside the handler call the connection is
    /// flushed and its input resumed when the round ends, like a pool handler's `handlerDone`.
    func finishAsync(
        fd: Int32, id: UInt64, seq: UInt64, response: consuming HTTPResponse, head: RequestHead, info: AccessInfo
    ) {
        guard let conn = connections[fd], conn.id == id, !conn.closed else {
            response.delivery?(.failed)
            return
        }
        if seq != conn.sendSeq || conn.phase == .handler {
            conn.parked.append(ParkedAnswer(seq: seq, response: response, head: head, info: info))
            return
        }
        answer(conn, response, head, info)
        if !conn.parked.isEmpty { deliverParked(conn) }
        if conn.inDispatch { return }
        // Sent when this round of events ends, with the round's other answers (see `run`).
        if !conn.answerWaiting {
            conn.answerWaiting = true
            answered.append(conn)
        }
    }

    /// Parked answers whose turn has come, in order (until a streamed one takes the connection).
    func deliverParked(_ conn: Connection) {
        while conn.phase != .handler, !conn.closed,
            let i = conn.parked.firstIndex(where: { $0.seq == conn.sendSeq })
        {
            let next = conn.parked.remove(at: i)
            answer(conn, next.response, next.head, next.info)
        }
    }

    /// Writes the answer whose turn it is.
    private func answer(_ conn: Connection, _ response: HTTPResponse, _ head: RequestHead, _ info: AccessInfo) {
        conn.sendSeq &+= 1
        conn.asyncOpen -= 1
        if conn.asyncOpen == 0 { conn.waitsForAnswers = false }
        if conn.closeAnswered {
            // An earlier answer closed the connection: this one can never be sent.
            response.delivery?(.failed)
            return
        }
        guard case .bytes = response.body else {
            // A streamed answer may block: write it from a handler thread; the parse phase of a
            // pipelined request behind it comes back when the thread is done.
            let ctx = self.ctx
            let transport = conn.transport
            let id = conn.id
            conn.resumePhase = conn.phase
            enterHandler(conn) { [self] in
                let (output, close) = ResponseWriter.write(
                    response, head: head, transport: transport, ctx: ctx, info: info, bodySource: nil)
                post(.handlerDone(fd: transport.fd, id: id, output: output, leftover: nil, close: close))
            }
            return
        }
        respondInline(conn, head, info, response, forceClose: false, async: true)
        refuseBrokenBodyIfAnswered(conn)
    }

    /// The error kept for a pipelined request whose body broke, once every earlier answer is out.
    func refuseBrokenBodyIfAnswered(_ conn: Connection) {
        guard conn.asyncOpen == 0, let failure = conn.failAfterAnswers else { return }
        conn.failAfterAnswers = nil
        respondError(conn, failure.status, failure.message)
    }

    /// Sends the answers completed during this round and resumes their connections' input.
    func sendAnswered() {
        while !answered.isEmpty {
            // Swapped, not copied: input resumed below may complete answers into `answered`.
            swap(&answered, &sending)
            for conn in sending {
                conn.answerWaiting = false
                if conn.closed { continue }
                flush(conn)
                if conn.closed || conn.closeAfterFlush { continue }
                processBuffered(conn)
                if !conn.closed && (conn.mayHaveInput || conn.hangupSeen) { readAndProcess(conn) }
            }
            sending.removeAll(keepingCapacity: true)
        }
    }
}
