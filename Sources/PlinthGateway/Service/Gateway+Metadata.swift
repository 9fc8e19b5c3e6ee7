import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP

extension Gateway {
    /// `GET /v2`: OIP server metadata.
    func serverMetadata() -> HTTPResponse {
        var text = "{\"name\":"
        JSONText.appendQuoted(configuration.serverName, to: &text)
        text += ",\"version\":"
        JSONText.appendQuoted(configuration.serverVersion, to: &text)
        text += ",\"extensions\":[\"binary_tensor_data\",\"plinth_model_version_header\",\"plinth_routing_key\"]}"
        return .jsonBytes(Array(text.utf8))
    }

    /// `GET /v2/models/{deployment}[/versions/{version}]`: the runtime's metadata for the version
    /// that would serve (the highest-weighted one unless named), with `name` set to the
    /// deployment and `versions` to the deployment's version labels.
    func modelMetadata(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try authenticate(request)
        let route = try resolve(principal, request.pathParameters["deployment"] ?? "")
        let index = try versionIndex(route, named: request.pathParameters["version"])
        let version = route.versions[index]
        let state = deployments.state(tenantID: principal.tenantID, route: route)
        var headers = HTTPHeaders()
        headers.add("Accept", "application/json")
        headers.add("X-Request-Id", request.requestID)
        let upstream = try forward(
            HTTPClientRequest(method: .GET, path: ForwardedRequest.metadataPath(version.modelName), headers: headers),
            to: state.versions[index], clients: state.clients)
        guard upstream.status == 200,
            var object = (try? JSONSerialization.jsonObject(with: Data(upstream.body))) as? [String: Any]
        else {
            return Gateway.callerResponse(upstream, version: version.version)
        }
        object["name"] = route.name
        object["versions"] =
            request.pathParameters["version"] == nil ? route.versions.map(\.version) : [version.version]
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var response = HTTPResponse.jsonBytes(Array(body))
        response.headers.add("Plinth-Model-Version", version.version)
        return response
    }

    /// `GET /v2/models/{deployment}[/versions/{version}]/ready`: 200 when a ready replica serves
    /// the version (any live version when none is named), else 503.
    func modelReady(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try authenticate(request)
        let route = try resolve(principal, request.pathParameters["deployment"] ?? "")
        let candidates: [VersionRoute]
        if request.pathParameters["version"] != nil {
            candidates = [route.versions[try versionIndex(route, named: request.pathParameters["version"])]]
        } else {
            candidates = route.versions.filter { $0.weight > 0 }
        }
        let ready = candidates.contains { $0.replicas.contains(where: \.ready) }
        var text = "{\"name\":"
        JSONText.appendQuoted(route.name, to: &text)
        text += ",\"ready\":\(ready)}"
        return .jsonBytes(Array(text.utf8), status: ready ? 200 : 503)
    }

    /// The named version's index, or the highest-weighted one; 404 for an unknown name.
    func versionIndex(_ route: DeploymentRoute, named name: String?) throws(HTTPError) -> Int {
        if let name {
            guard let index = route.versions.firstIndex(where: { $0.version == name }) else {
                throw HTTPError(404, "version '\(name)' of deployment '\(route.name)' not found")
            }
            return index
        }
        guard let best = route.versions.indices.max(by: { route.versions[$0].weight < route.versions[$1].weight })
        else {
            throw HTTPError(503, "deployment '\(route.name)' has no versions")
        }
        return best
    }

    /// `GET /metrics`: Prometheus text, subject to `configuration.metricsAccess`.
    func metricsPage(_ request: HTTPRequest) throws -> HTTPResponse {
        switch configuration.metricsAccess {
        case .open:
            break
        case .disabled:
            throw HTTPError(404, "not found")
        case .loopbackOnly:
            guard Gateway.isLoopback(request.remoteAddress) else { throw HTTPError(404, "not found") }
        case .bearer(let token):
            let expected = "Bearer " + token
            guard let given = request.headers["Authorization"],
                constantTimeEquals(Array(given.utf8), Array(expected.utf8))
            else {
                throw HTTPError(
                    401, "metrics need the metrics token",
                    headers: ["WWW-Authenticate": #"Bearer realm="plinth-metrics""#])
            }
        }
        return .text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    static func isLoopback(_ remote: String) -> Bool {
        remote == "unix" || remote == "local" || remote.hasPrefix("127.") || remote.hasPrefix("[::1]")
    }
}
