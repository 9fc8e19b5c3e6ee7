/// How far a response has got towards the client, as the server reports it to the response's
/// `delivery` observer.
///
/// Per response the observer sees zero or more `sending` (each possibly followed by
/// `incomplete`) and then exactly one of `delivered` or `failed`. `sending` comes immediately
/// before a send that may complete the response, so whoever must know whether the client can have
/// got it (the gateway's usage journal) can record "sent" before the system call: a process killed
/// during the call still completes it.
public enum HTTPDelivery: Sendable, Equatable {
    /// The next send may complete the response.
    case sending
    /// That send did not take every remaining byte; more sends follow.
    case incomplete
    /// Every byte of the response was handed to the kernel.
    case delivered
    /// The response will never be fully sent: the write failed or the connection closed first.
    case failed
}

/// Told how a response's bytes go out (see `HTTPDelivery`). Called on the thread writing the
/// socket — usually the event loop — so it must be quick and must not block.
public typealias HTTPDeliveryObserver = @Sendable (HTTPDelivery) -> Void
