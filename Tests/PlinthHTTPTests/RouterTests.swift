import Foundation
import PlinthHTTP
import XCTest

final class RouterTests: XCTestCase {
    private func body(_ r: HTTPResponse) -> String {
        if case .bytes(let b) = r.body { return String(decoding: b, as: UTF8.self) }
        return "<stream>"
    }

    private func json(_ r: HTTPResponse) -> [String: Any] {
        guard case .bytes(let b) = r.body,
            let object = try? JSONSerialization.jsonObject(with: Data(b)) as? [String: Any]
        else { return [:] }
        return object
    }

    private func makeRouter() -> Router {
        let router = Router()
        router.add(.GET, "/v1/tenants/{tenant}") { .text("param:\($0.pathParameters["tenant"] ?? "")") }
        router.add(.GET, "/v1/tenants/me") { _ in .text("literal") }
        router.add(.DELETE, "/v1/tenants/{tenant}") { .text("deleted:\($0.pathParameters["tenant"] ?? "")") }
        router.add(.GET, "/v1/tenants/{tenant}/models/{model}") {
            .text("\($0.pathParameters["tenant"] ?? "")/\($0.pathParameters["model"] ?? "")")
        }
        router.add(.POST, "/v1/echo") { .jsonBytes($0.body) }
        router.add(.GET, "/") { _ in .text("root") }
        return router
    }

    func testLiteralSegmentWinsOverParameter() {
        let router = makeRouter()
        XCTAssertEqual(body(router.handle(HTTPRequest(method: .GET, path: "/v1/tenants/me"))), "literal")
        XCTAssertEqual(body(router.handle(HTTPRequest(method: .GET, path: "/v1/tenants/acme"))), "param:acme")
    }

    func testParameterValuesArePercentDecoded() {
        let router = makeRouter()
        let r = router.handle(HTTPRequest(method: .GET, path: "/v1/tenants/a%20b/models/m%2F1"))
        XCTAssertEqual(body(r), "a b/m/1")
    }

    func testMethodOnlyOnParameterRouteIsFoundBehindLiteral() {
        let router = makeRouter()
        XCTAssertEqual(body(router.handle(HTTPRequest(method: .DELETE, path: "/v1/tenants/me"))), "deleted:me")
    }

    func testRootPathRoutes() {
        XCTAssertEqual(body(makeRouter().handle(HTTPRequest(method: .GET, path: "/"))), "root")
    }

    func testUnknownPathIs404JSON() {
        let router = makeRouter()
        for path in ["/nope", "/v1/tenants", "/v1/tenants/acme/", "/v1/tenants//models/x", "", "v1"] {
            let r = router.handle(HTTPRequest(method: .GET, path: path))
            XCTAssertEqual(r.status, 404, path)
            XCTAssertEqual(json(r)["error"] as? String, "not found", path)
            XCTAssertEqual(r.headers["content-type"], "application/json")
        }
    }

    func testKnownPathOtherMethodIs405WithAllow() {
        let router = makeRouter()
        let r = router.handle(HTTPRequest(method: .PUT, path: "/v1/tenants/acme"))
        XCTAssertEqual(r.status, 405)
        XCTAssertEqual(r.headers["Allow"], "GET, HEAD, DELETE")
        XCTAssertEqual(json(r)["error"] as? String, "method not allowed")
        let post = router.handle(HTTPRequest(method: .GET, path: "/v1/echo"))
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "POST")
    }

    func testHeadFallsBackToGetWithBodyDropped() {
        let router = makeRouter()
        let r = router.handle(HTTPRequest(method: .HEAD, path: "/v1/tenants/acme"))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(body(r), "")
        XCTAssertEqual(r.headers["Content-Type"], "text/plain; charset=utf-8")
    }

    func testHTTPErrorMapsToJSONWithFieldsAndHeaders() {
        let router = Router()
        router.add(.GET, "/limited") { _ in
            throw HTTPError(429, "slow down", headers: ["Retry-After": "3"], fields: ["tenant": "acme"])
        }
        let r = router.handle(HTTPRequest(method: .GET, path: "/limited"))
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.headers["Retry-After"], "3")
        XCTAssertEqual(json(r)["error"] as? String, "slow down")
        XCTAssertEqual(json(r)["tenant"] as? String, "acme")
    }

    func testOtherErrorMapsTo500WithRequestIDAndNoDetail() {
        struct Secret: Error { let password = "hunter2" }
        let router = Router()
        router.add(.GET, "/boom") { _ in throw Secret() }
        var request = HTTPRequest(method: .GET, path: "/boom")
        request.headers.add("X-Request-Id", "abc-123")
        let r = router.handle(request)
        XCTAssertEqual(r.status, 500)
        XCTAssertEqual(json(r)["error"] as? String, "internal error")
        XCTAssertEqual(json(r)["request_id"] as? String, "abc-123")
        XCTAssertFalse(body(r).contains("hunter2"))
    }

    func testRequestIDPassedThroughWhenSaneElseGenerated() {
        let router = Router()
        router.add(.GET, "/id") { .text($0.requestID) }
        let cases: [(String?, Bool)] = [
            ("req-1.a_b:c", true), ("bad id", false), (String(repeating: "x", count: 200), false), (nil, false),
        ]
        var seen = Set<String>()
        for (given, kept) in cases {
            var request = HTTPRequest(method: .GET, path: "/id")
            if let given { request.headers.add("x-request-id", given) }
            let r = router.handle(request)
            let id = body(r)
            XCTAssertEqual(r.headers["X-Request-Id"], id)
            if kept {
                XCTAssertEqual(id, given)
            } else {
                XCTAssertNotEqual(id, given)
                XCTAssertEqual(id.count, 20)
                XCTAssertTrue(id.allSatisfy { $0.isHexDigit && !$0.isUppercase }, id)
            }
            XCTAssertTrue(seen.insert(id).inserted)
        }
    }

    func testBufferedBodyOverRouteLimitIs413() {
        let router = Router()
        router.add(.POST, "/small", options: RouteOptions(maxBodyBytes: 4)) { _ in .text("ok") }
        XCTAssertEqual(router.handle(HTTPRequest(method: .POST, path: "/small", body: Array("12345".utf8))).status, 413)
        XCTAssertEqual(router.handle(HTTPRequest(method: .POST, path: "/small", body: Array("1234".utf8))).status, 200)
    }

    func testStreamingRouteGetsBodyStream() {
        let router = Router()
        router.add(.PUT, "/upload", options: RouteOptions(maxBodyBytes: 1 << 30, streamingBody: true)) { request in
            guard let stream = request.bodyStream else { throw HTTPError(500, "no stream") }
            XCTAssertTrue(request.body.isEmpty)
            var total = 0
            while let chunk = try stream.read(maxBytes: 3) { total += chunk.count }
            return .text("\(total)")
        }
        let r = router.handle(HTTPRequest(method: .PUT, path: "/upload", body: Array(repeating: 1, count: 10)))
        XCTAssertEqual(body(r), "10")
    }

    func testBodyErrorsThrownByHandlersMapToStatuses() {
        let cases: [(HTTPBodyError, Int)] = [(.tooLarge(limit: 5), 413), (.timedOut, 408), (.malformed("x"), 400)]
        for (error, status) in cases {
            let router = Router()
            router.add(.POST, "/") { _ in throw error }
            XCTAssertEqual(router.handle(HTTPRequest(method: .POST, path: "/")).status, status)
        }
    }

    func testRoutesListsRegistrations() {
        let routes = makeRouter().routes
        XCTAssertEqual(routes.count, 6)
        XCTAssertEqual(routes[0].method, .GET)
        XCTAssertEqual(routes[0].pattern, "/v1/tenants/{tenant}")
    }

    func testQueryValuesArePercentDecodedWithPlusAsSpace() {
        let request = HTTPRequest(method: .GET, path: "/", query: "a=1&b=x+y%21&a=2&c&d=%zz")
        XCTAssertEqual(request.queryValue("a"), "1")
        XCTAssertEqual(request.queryValues("a"), ["1", "2"])
        XCTAssertEqual(request.queryValue("b"), "x y!")
        XCTAssertEqual(request.queryValue("c"), "")
        XCTAssertEqual(request.queryValue("d"), "%zz")
        XCTAssertNil(request.queryValue("e"))
    }

    func testDecodeJSONNamesTheProblem() {
        struct Body: Decodable {
            let name: String
            let count: Int
        }
        let cases: [(String, String)] = [
            ("{\"name\":\"a\"}", "missing field 'count'"),
            ("{\"name\":\"a\",\"count\":\"x\"}", "field 'count'"),
            ("{not json", "not valid JSON"),
        ]
        for (text, expected) in cases {
            let request = HTTPRequest(method: .POST, path: "/", body: Array(text.utf8))
            XCTAssertThrowsError(try request.decodeJSON(Body.self)) { error in
                guard let e = error as? HTTPError else { return XCTFail("not HTTPError") }
                XCTAssertEqual(e.status, 400)
                XCTAssertTrue(e.message.contains(expected), "\(e.message) lacks \(expected)")
            }
        }
        let ok = HTTPRequest(method: .POST, path: "/", body: Array("{\"name\":\"a\",\"count\":2}".utf8))
        XCTAssertEqual(try ok.decodeJSON(Body.self).count, 2)
    }

    func testJSONHelpersSortKeysAndUseISODates() {
        struct Out: Encodable {
            var zeta = 1
            var alpha = "a/b"
            var at = Date(timeIntervalSince1970: 0)
        }
        let r = HTTPResponse.json(Out(), status: 201)
        XCTAssertEqual(r.status, 201)
        XCTAssertEqual(body(r), "{\"alpha\":\"a/b\",\"at\":\"1970-01-01T00:00:00Z\",\"zeta\":1}")
        XCTAssertEqual(r.headers["Content-Type"], "application/json")
        XCTAssertEqual(
            body(HTTPResponse.error(400, "bad \"x\"", fields: ["b": "2", "a": "1"])),
            "{\"a\":\"1\",\"b\":\"2\",\"error\":\"bad \\\"x\\\"\"}")
    }

    func testHeadersAreCaseInsensitiveAndOrdered() {
        var h: HTTPHeaders = ["Content-Type": "a"]
        h.add("X-A", "1")
        h.add("x-a", "2")
        XCTAssertEqual(h["CONTENT-TYPE"], "a")
        XCTAssertEqual(h.values("X-a"), ["1", "2"])
        h.set("X-A", "3")
        XCTAssertEqual(h.values("x-a"), ["3"])
        h.remove("content-type")
        XCTAssertNil(h["Content-Type"])
        XCTAssertEqual(h.map(\.name), ["X-A"])
        XCTAssertNil(h["X-"])
    }

    func testMethodTokens() {
        XCTAssertEqual(HTTPMethod("GET"), .GET)
        XCTAssertEqual(HTTPMethod("PATCH"), .PATCH)
        XCTAssertEqual(HTTPMethod("get"), .other("get"))
        XCTAssertEqual(HTTPMethod("PURGE").description, "PURGE")
    }

    func testListenAddressAndEndpointParsing() throws {
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1:8080"), .tcp(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(try ListenAddress.parse("[::1]:80"), .tcp(host: "::1", port: 80))
        XCTAssertEqual(try ListenAddress.parse("unix:/tmp/s"), .unix(path: "/tmp/s"))
        XCTAssertEqual(try ListenAddress.parse("localhost:0"), .tcp(host: "localhost", port: 0))
        for bad in ["nope", "1.2.3.4:99999", "[::1", "unix:", "a:b:c"] {
            XCTAssertThrowsError(try ListenAddress.parse(bad), bad)
        }
        XCTAssertEqual(try HTTPEndpoint(url: "http://10.0.0.1:9000"), .tcp(host: "10.0.0.1", port: 9000))
        XCTAssertEqual(try HTTPEndpoint(url: "http://[::1]:9000/"), .tcp(host: "::1", port: 9000))
        XCTAssertEqual(try HTTPEndpoint(url: "http://example"), .tcp(host: "example", port: 80))
        XCTAssertEqual(try HTTPEndpoint(url: "unix:/run/x.sock"), .unix(path: "/run/x.sock"))
        XCTAssertThrowsError(try HTTPEndpoint(url: "https://x"))
        XCTAssertEqual(ListenAddress.tcp(host: "::1", port: 5).description, "[::1]:5")
    }
}
