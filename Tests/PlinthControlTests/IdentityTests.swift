import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore
import Synchronization
import XCTest

final class IdentityTests: XCTestCase {
    func testFirstStartPrintsARandomAdminPasswordOnceAndWritesA0600Key() throws {
        let directory = NSTemporaryDirectory() + "plinth-boot-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let printed = Mutex<[String]>([])
        var configuration = ControlHarness.configuration(directory: directory, adminPassword: "")
        configuration.adminPassword = nil
        configuration.bootstrapOutput = { line in printed.withLock { $0.append(line) } }
        let previous = ProcessInfo.processInfo.environment["PLINTH_ADMIN_PASSWORD"]
        unsetenv("PLINTH_ADMIN_PASSWORD")
        defer { if let previous { setenv("PLINTH_ADMIN_PASSWORD", previous, 1) } }

        let plane = try ControlPlane(configuration: configuration)
        let lines = printed.withLock { $0 }
        XCTAssertEqual(lines.count, 1)
        let password = try XCTUnwrap(
            lines.first?.components(separatedBy: "password ").last?.components(separatedBy: " ").first)
        XCTAssertGreaterThanOrEqual(password.count, 20)
        let router = Router()
        plane.register(on: router)
        var request = HTTPRequest(
            method: .GET, path: "/v1/auth/whoami", headers: ControlHarness.basic("admin", password))
        request.remoteAddress = "127.0.0.1:1"
        XCTAssertEqual(router.handle(request).status, 200)

        var info = stat()
        XCTAssertEqual(stat(directory + "/jwt.key", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        // A second start on the same directory prints nothing and keeps the key.
        let key = try String(contentsOfFile: directory + "/jwt.key", encoding: .utf8)
        _ = try ControlPlane(configuration: configuration)
        XCTAssertEqual(printed.withLock { $0.count }, 1)
        XCTAssertEqual(try String(contentsOfFile: directory + "/jwt.key", encoding: .utf8), key)
    }

    func testDefaultPasswordHashingUsesAtLeast600kIterations() {
        XCTAssertGreaterThanOrEqual(ControlPlaneConfiguration(dataDirectory: "/tmp/x").passwordIterations, 600_000)
        XCTAssertEqual(ControlPlaneConfiguration(dataDirectory: "/tmp/x").tokenLifetime, .seconds(900))
    }

    func testTokenCarriesKidAndExpiresInFifteenMinutes() throws {
        let h = try ControlHarness()
        let reply = h.expect(200, .POST, "/v1/auth/token", headers: ControlHarness.basic("admin", h.adminPassword))
        let token = try XCTUnwrap(reply.json["token"] as? String)
        XCTAssertEqual(reply.json["expiresIn"] as? Int, 900)
        let header = try XCTUnwrap(Base64URL.decode(String(token.split(separator: ".")[0])))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any])
        XCTAssertEqual(object["alg"] as? String, "HS256")
        XCTAssertNotNil(object["kid"] as? String)
        let me = h.expect(200, .GET, "/v1/auth/whoami", headers: ControlHarness.bearer(token))
        XCTAssertEqual(me.json["role"] as? String, "admin")
        XCTAssertEqual(me.json["credential"] as? String, "token")
    }

    func testRotatedOutKeyStillVerifiesWhileListedAndNewTokensUseTheFirstKey() throws {
        let h = try ControlHarness()
        let oldToken = h.adminToken
        let keyFile = h.directory + "/jwt.key"
        let old = try String(contentsOfFile: keyFile, encoding: .utf8)
        let fresh = "feedface0001 \(Base64URL.encode(SecureRandom.bytes(32)))\n"
        try (fresh + old).write(toFile: keyFile, atomically: true, encoding: .utf8)
        let configuration = ControlHarness.configuration(directory: h.directory, adminPassword: h.adminPassword)
        let restarted = try ControlPlane(configuration: configuration)
        let router = Router()
        restarted.register(on: router)
        func status(_ headers: HTTPHeaders, _ method: HTTPMethod = .GET, _ path: String = "/v1/auth/whoami")
            -> HTTPResponse
        {
            var request = HTTPRequest(method: method, path: path, headers: headers)
            request.remoteAddress = "127.0.0.1:1"
            return router.handle(request)
        }
        XCTAssertEqual(status(ControlHarness.bearer(oldToken)).status, 200)
        let issued = status(ControlHarness.basic("admin", h.adminPassword), .POST, "/v1/auth/token")
        guard case .bytes(let body) = issued.body,
            let token = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["token"] as? String,
            let header = Base64URL.decode(String(token.prefix { $0 != "." }))
        else { return XCTFail("no token") }
        XCTAssertTrue(String(decoding: header, as: UTF8.self).contains("feedface0001"))
        // Dropping the old key voids the tokens it signed.
        try fresh.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let pruned = try ControlPlane(configuration: configuration)
        let prunedRouter = Router()
        pruned.register(on: prunedRouter)
        var request = HTTPRequest(method: .GET, path: "/v1/auth/whoami", headers: ControlHarness.bearer(oldToken))
        request.remoteAddress = "127.0.0.1:1"
        XCTAssertEqual(prunedRouter.handle(request).status, 401)
    }

    func testMissingCredentialsGet401WithWWWAuthenticate() throws {
        let h = try ControlHarness()
        let reply = h.send(.GET, "/v1/tenants")
        XCTAssertEqual(reply.status, 401)
        XCTAssertNotNil(reply.headers["WWW-Authenticate"])
        XCTAssertNotNil(reply.json["error"])
        XCTAssertEqual(h.send(.GET, "/v1/tenants", headers: ControlHarness.basic("admin", "nope")).status, 401)
        XCTAssertEqual(
            h.send(.GET, "/v1/tenants", headers: ControlHarness.bearer("plk_0011223344556677_x")).status, 401)
        XCTAssertEqual(h.send(.GET, "/v1/tenants", headers: ControlHarness.bearer("not.a.jwt")).status, 401)
    }

    func testRevokedKeyIsRejectedAtOnce() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        let key = try h.createKey(tenant: "acme", role: "developer")
        h.expect(200, .GET, "/v1/tenants/acme/models", headers: ControlHarness.bearer(key))
        h.expect(204, .DELETE, "/v1/tenants/acme/keys/\(AuthorizationMatrixTests.keyID(key))")
        h.expect(401, .GET, "/v1/tenants/acme/models", headers: ControlHarness.bearer(key))
        XCTAssertNil(h.plane.routingSnapshot().apiKeys[AuthorizationMatrixTests.keyID(key)])
    }

    func testExpiredKeyIsRejected() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        let reply = h.expect(201, .POST, "/v1/tenants/acme/keys", json: ["role": "viewer", "expiresInSeconds": 1])
        let key = try XCTUnwrap(reply.json["key"] as? String)
        XCTAssertNotNil(reply.json["apiKey"].flatMap { ($0 as? [String: Any])?["expiresAt"] })
        // Poll rather than sleep a fixed time: the key dies within a second or two.
        let deadline = Date().addingTimeInterval(10)
        var status = 0
        while Date() < deadline {
            status = h.send(.GET, "/v1/tenants/acme", headers: ControlHarness.bearer(key)).status
            if status == 401 { break }
            usleep(100_000)
        }
        XCTAssertEqual(status, 401)
        h.expect(422, .POST, "/v1/tenants/acme/keys", json: ["role": "viewer", "expiresAt": "2001-01-01T00:00:00Z"])
        h.expect(422, .POST, "/v1/tenants/acme/keys", json: ["role": "viewer", "expiresInSeconds": 0])
    }

    func testGatewayIdentifyResolvesCredentialsFromMemory() throws {
        let h = try ControlHarness()
        h.createTenant("acme", quotas: ["maxRequestsPerSecond": 50])
        h.createUser(tenant: "acme", username: "ivy", password: "ivy-password", role: "invoker")
        let key = try h.createKey(tenant: "acme", role: "invoker", deployments: ["fraud"])
        let token = try XCTUnwrap(APIKeyToken(parsing: key))
        let byKey = try h.plane.identify(.apiKey(id: token.id, secret: token.secret), remoteAddress: "1.2.3.4:5")
        XCTAssertEqual(byKey.tenant, "acme")
        XCTAssertEqual(byKey.role, .invoker)
        XCTAssertEqual(byKey.deployments, ["fraud"])
        XCTAssertEqual(byKey.credential, .apiKey(id: token.id))
        let byBasic = try h.plane.identify(.basic(user: "ivy", password: "ivy-password"), remoteAddress: "1.2.3.4:5")
        XCTAssertEqual(byBasic.name, "ivy")
        let jwt = try h.token(username: "ivy", password: "ivy-password")
        XCTAssertEqual(try h.plane.identify(.bearer(token: jwt), remoteAddress: "1.2.3.4:5").role, .invoker)
        XCTAssertThrowsError(try h.plane.identify(.apiKey(id: token.id, secret: "wrong"), remoteAddress: "x")) {
            XCTAssertEqual($0 as? IdentityError, .invalid("invalid API key"))
        }
        h.expect(200, .POST, "/v1/tenants/acme/suspend")
        XCTAssertThrowsError(try h.plane.identify(.apiKey(id: token.id, secret: token.secret), remoteAddress: "x")) {
            XCTAssertEqual($0 as? IdentityError, .suspended)
        }
        XCTAssertEqual(h.plane.routingSnapshot().tenants["acme"]?.maxRequestsPerSecond, 50)
    }

    func testKeySecretIsShownOnceAndStoredOnlyAsHash() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        let key = try h.createKey(tenant: "acme", role: "viewer")
        let id = AuthorizationMatrixTests.keyID(key)
        let listed = h.expect(200, .GET, "/v1/tenants/acme/keys/\(id)")
        // The secret is base64url and may itself contain "_": take everything after the id.
        let secret = String(key.dropFirst(4 + id.count + 1))
        XCTAssertFalse(listed.text.contains(secret))
        let stored = try h.plane.store.read { db in try db.queryOne("SELECT * FROM api_keys WHERE id = ?", id) }
        XCTAssertEqual(try stored?.blob("secret_sha256"), SHA256.hash(secret))
        let snapshotKey = try XCTUnwrap(h.plane.routingSnapshot().apiKeys[id])
        XCTAssertEqual(snapshotKey.secretSHA256, SHA256.hash(secret))
        XCTAssertEqual(snapshotKey.role, .viewer)
    }

    func testKeyRoleMayNotExceedTheCreatorsRole() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        let developer = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "developer"))
        h.expect(403, .POST, "/v1/tenants/acme/keys", headers: developer, json: ["role": "owner"])
        h.expect(201, .POST, "/v1/tenants/acme/keys", headers: developer, json: ["role": "invoker"])
        h.expect(422, .POST, "/v1/tenants/acme/keys", json: ["role": "admin"])
        let scoped = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "developer", deployments: ["a"]))
        h.expect(403, .POST, "/v1/tenants/acme/keys", headers: scoped, json: ["role": "viewer"])
    }

    func testKeyScopedToADeploymentReachesOnlyThatDeployment() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "m")
        h.upload(tenant: "acme", model: "m", version: "1")
        h.deploy(tenant: "acme", name: "a", model: "m", version: "1")
        h.deploy(tenant: "acme", name: "b", model: "m", version: "1")
        let key = try h.createKey(tenant: "acme", role: "viewer", deployments: ["a"])
        h.expect(200, .GET, "/v1/tenants/acme/deployments/a", headers: ControlHarness.bearer(key))
        h.expect(403, .GET, "/v1/tenants/acme/deployments/b", headers: ControlHarness.bearer(key))
        h.expect(403, .GET, "/v1/tenants/acme/models", headers: ControlHarness.bearer(key))
        let routing = try XCTUnwrap(h.plane.routingSnapshot().apiKeys[AuthorizationMatrixTests.keyID(key)])
        XCTAssertTrue(routing.allows(deployment: "a"))
        XCTAssertFalse(routing.allows(deployment: "b"))
    }

    func testKeyLastUsedIsWrittenInBatchesNotPerRequest() throws {
        let h = try ControlHarness { $0.keyUsageFlushInterval = .seconds(3600) }
        h.createTenant("acme")
        let key = try h.createKey(tenant: "acme", role: "viewer")
        let id = AuthorizationMatrixTests.keyID(key)
        for _ in 0..<5 { h.expect(200, .GET, "/v1/tenants/acme", headers: ControlHarness.bearer(key)) }
        XCTAssertNil(h.expect(200, .GET, "/v1/tenants/acme/keys/\(id)").json["lastUsedAt"])
        h.plane.flush()
        XCTAssertNotNil(h.expect(200, .GET, "/v1/tenants/acme/keys/\(id)").json["lastUsedAt"])
    }

    func testPasswordChangeVoidsTokensAndCachedBasicCredentials() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createUser(tenant: "acme", username: "ann", password: "first-password", role: "developer")
        let basic = ControlHarness.basic("ann", "first-password")
        h.expect(200, .GET, "/v1/tenants/acme/models", headers: basic)  // now cached
        let token = try h.token(username: "ann", password: "first-password")
        h.expect(
            204, .POST, "/v1/auth/password", headers: ControlHarness.bearer(token),
            json: ["currentPassword": "first-password", "newPassword": "second-password"])
        h.expect(401, .GET, "/v1/tenants/acme/models", headers: basic)
        h.expect(401, .GET, "/v1/tenants/acme/models", headers: ControlHarness.bearer(token))
        h.expect(200, .GET, "/v1/tenants/acme/models", headers: ControlHarness.basic("ann", "second-password"))
        // An admin reset works the same way.
        h.expect(204, .POST, "/v1/tenants/acme/users/ann/password", json: ["password": "third-password"])
        h.expect(401, .GET, "/v1/tenants/acme/models", headers: ControlHarness.basic("ann", "second-password"))
        h.expect(200, .GET, "/v1/tenants/acme/models", headers: ControlHarness.basic("ann", "third-password"))
    }

    func testFailedLoginsPerUserAreThrottledWithRetryAfter() throws {
        let h = try ControlHarness {
            $0.maxFailedLoginsPerUser = 3
            $0.loginLockout = .seconds(120)
        }
        h.createTenant("acme")
        h.createUser(tenant: "acme", username: "bob", password: "right-password", role: "viewer")
        for _ in 0..<3 {
            h.expect(401, .POST, "/v1/auth/token", headers: ControlHarness.basic("bob", "wrong-password"))
        }
        // Even the right password is refused while locked, before any hashing.
        let locked = h.send(.POST, "/v1/auth/token", headers: ControlHarness.basic("bob", "right-password"))
        XCTAssertEqual(locked.status, 429)
        let retry = try XCTUnwrap(locked.headers["Retry-After"].flatMap(Int.init))
        XCTAssertTrue((1...120).contains(retry))
        // Another user from the same address is unaffected.
        h.expect(200, .POST, "/v1/auth/token", headers: ControlHarness.basic("admin", h.adminPassword))
        // The failures are in the audit log.
        let audit = h.expect(200, .GET, "/v1/audit", query: "action=createToken&outcome=denied")
        XCTAssertEqual((audit.json["items"] as? [Any])?.count, 3)
    }

    func testFailedLoginsPerAddressAreThrottled() throws {
        let h = try ControlHarness { $0.maxFailedLoginsPerAddress = 4 }
        h.createTenant("acme")
        h.createUser(tenant: "acme", username: "dan", password: "dan-password", role: "viewer")
        for i in 0..<4 { h.expect(401, .GET, "/v1/tenants", headers: ControlHarness.basic("ghost\(i)", "x")) }
        XCTAssertEqual(h.send(.GET, "/v1/tenants", headers: ControlHarness.basic("dan", "dan-password")).status, 429)
        // Tokens and keys are not passwords and keep working.
        h.expect(200, .GET, "/v1/tenants")
    }

    func testSuspendedTenantGets403UntilResumed() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createUser(tenant: "acme", username: "cat", password: "cat-password", role: "owner")
        let key = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "owner"))
        let basic = ControlHarness.basic("cat", "cat-password")
        h.expect(200, .GET, "/v1/tenants/acme", headers: basic)
        h.expect(200, .POST, "/v1/tenants/acme/suspend")
        h.expect(403, .GET, "/v1/tenants/acme", headers: key)
        h.expect(403, .GET, "/v1/tenants/acme", headers: basic)
        h.expect(403, .GET, "/v1/auth/whoami", headers: key)
        XCTAssertEqual(h.plane.routingSnapshot().tenants["acme"]?.suspended, true)
        h.expect(200, .GET, "/v1/tenants/acme")  // admins still see it
        h.expect(200, .POST, "/v1/tenants/acme/resume")
        h.expect(200, .GET, "/v1/tenants/acme", headers: key)
    }

    func testOwnerCannotGrantAdminAndUsersAreInvisibleAcrossTenants() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createTenant("globex")
        let owner = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "owner"))
        h.expect(
            422, .POST, "/v1/tenants/acme/users", headers: owner,
            json: ["username": "x1", "password": "password-1", "role": "admin"])
        h.expect(
            422, .POST, "/v1/tenants/acme/users", headers: owner,
            json: ["username": "x2", "password": "short", "role": "viewer"])
        h.createUser(tenant: "globex", username: "gus", password: "gus-password", role: "viewer")
        h.expect(404, .GET, "/v1/tenants/globex/users/gus", headers: owner)
        h.expect(404, .GET, "/v1/tenants/acme/users/gus", headers: owner)
        h.expect(
            409, .POST, "/v1/tenants/acme/users", headers: owner,
            json: ["username": "gus", "password": "password-1", "role": "viewer"])
        h.expect(409, .DELETE, "/v1/admins/admin")
    }
}
