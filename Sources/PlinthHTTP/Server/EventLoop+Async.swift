/// Async routes: the handler runs on the loop and answers through an `HTTPResponder`.
extension EventLoop {
    /// Calls an async handler on the loop. The connection stays in the handler phase (no input is
    /// parsed) until the responder completes, so responses keep request order.
    func dispatchAsync(
        _ conn: Connection, _ route: Route, _ handler: HTTPAsyncHandler, _ values: [Substring],
        _ request: consuming HTTPRequest, _ head: RequestHead, _ info: AccessInfo
    ) {
        conn.phase = .handler
        conn.inDispatch = true
        let request = Router.withParameters(route, values, consume request)
        let responder = HTTPResponder(loop: self, fd: conn.fd, id: conn.id, head: head, info: info)
        do {
            try handler(request, responder)
        } catch {
            responder.complete(ctx.router.errorResponse(error, route: route, request: request))
        }
        conn.inDispatch = false
    }

    /// Queues an async answer on its connection (on the loop's thread). Outside the handler call it
    /// also flushes and resumes parsing pipelined requests, like a pool handler's `handlerDone`.
    func finishAsync(fd: Int32, id: UInt64, response: HTTPResponse, head: RequestHead, info: AccessInfo) {
        guard let conn = connections[fd], conn.id == id, !conn.closed, conn.phase == .handler else {
            response.delivery?(.failed)
            return
        }
        guard case .bytes = response.body else {
            // A streamed answer may block: write it from a handler thread.
            let ctx = self.ctx
            let transport = conn.transport
            enterHandler(conn) { [self] in
                let (output, close) = ResponseWriter.write(
                    response, head: head, transport: transport, ctx: ctx, info: info, bodySource: nil)
                post(.handlerDone(fd: transport.fd, id: id, output: output, leftover: nil, close: close))
            }
            return
        }
        respondInline(conn, head, info, response, forceClose: false)
        if conn.inDispatch { return }
        // Sent when this round of events ends, with the round's other answers (see `run`).
        if !conn.answerWaiting {
            conn.answerWaiting = true
            answered.append(conn)
        }
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
