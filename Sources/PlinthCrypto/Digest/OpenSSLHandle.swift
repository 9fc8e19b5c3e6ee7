import COpenSSL
import Synchronization

/// An OpenSSL object pointer that may cross threads.
///
/// `@unchecked Sendable` is safe for the uses here: fetched algorithms (`EVP_MD`, `EVP_MAC`) and
/// loaded public keys are immutable after creation and documented thread-safe for concurrent
/// use; contexts are only handed to one thread at a time by `ContextPool`.
struct OpenSSLHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Reusable OpenSSL contexts: creating one per call costs as much as a short hash.
final class ContextPool: Sendable {
    private let idle = Mutex<[OpenSSLHandle]>([])
    private let make: @Sendable () -> OpaquePointer?
    private let limit: Int

    init(limit: Int = 32, make: @escaping @Sendable () -> OpaquePointer?) {
        self.make = make
        self.limit = limit
    }

    /// Lends a context to `body`; it goes back to the pool afterwards (freed by `free` if full).
    func with<T>(free: (OpaquePointer) -> Void, _ body: (OpaquePointer) -> T) -> T {
        let context: OpaquePointer
        if let pooled = idle.withLock({ $0.popLast() }) {
            context = pooled.pointer
        } else {
            guard let fresh = make() else { fatalError("OpenSSL could not allocate a context (out of memory)") }
            context = fresh
        }
        let result = body(context)
        let kept = idle.withLock { list -> Bool in
            guard list.count < limit else { return false }
            list.append(OpenSSLHandle(pointer: context))
            return true
        }
        if !kept { free(context) }
        return result
    }
}

/// Algorithms fetched once: OpenSSL 3 looks them up on every one-shot call otherwise (3× slower).
enum Algorithms {
    static let sha256: OpenSSLHandle = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA256") }
        return OpenSSLHandle(pointer: md)
    }()

    static let hmac: OpenSSLHandle = {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { fatalError("OpenSSL has no HMAC") }
        return OpenSSLHandle(pointer: mac)
    }()

    static let digestContexts = ContextPool { EVP_MD_CTX_new() }
    static let macContexts = ContextPool { EVP_MAC_CTX_new(hmac.pointer) }
}
