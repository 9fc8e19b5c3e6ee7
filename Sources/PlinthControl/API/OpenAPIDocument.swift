import Foundation
import PlinthCore
import PlinthHTTP

/// Builds the OpenAPI 3.1 document from the route table, so every registered route is described.
enum OpenAPIDocument {
    static func render(routes: [RouteDefinition]) -> String {
        var paths: [String: [String: Any]] = [:]
        for route in routes {
            var operation: [String: Any] = [
                "operationId": route.operationID,
                "summary": route.summary,
                "tags": [route.tag],
            ]
            var parameters: [[String: Any]] = pathParameters(route.pattern).map {
                ["name": $0, "in": "path", "required": true, "schema": ["type": "string"]]
            }
            parameters += route.queryParameters.map {
                ["name": $0, "in": "query", "required": $0 == "to", "schema": ["type": "string"]]
            }
            if !parameters.isEmpty { operation["parameters"] = parameters }
            switch route.access {
            case .anonymous: operation["security"] = [[String: Any]]()
            case .authenticated: operation["x-plinth-access"] = "any authenticated caller"
            case .admin: operation["x-plinth-access"] = "platform admin"
            case .tenant(let roles):
                operation["x-plinth-access"] =
                    "admin, or tenant roles: " + roles.map(\.rawValue).sorted().joined(separator: ", ")
            }
            if let schema = route.requestSchema {
                var content: [String: Any] = [:]
                if route.requestContentTypes.isEmpty {
                    content["application/json"] = ["schema": ref(schema)]
                } else {
                    for type in route.requestContentTypes {
                        content[type] = ["schema": ["type": "string", "format": "binary"]]
                    }
                }
                operation["requestBody"] = ["required": true, "content": content]
            }
            var responses: [String: Any] = [:]
            var success: [String: Any] = ["description": "success"]
            if let schema = route.responseSchema, route.successStatus != 204 {
                let type = schema == "Artifact" ? "application/octet-stream" : "application/json"
                success["content"] = [
                    type: ["schema": schema == "Artifact" ? ["type": "string", "format": "binary"] : ref(schema)]
                ]
            }
            responses[String(route.successStatus)] = success
            if route.operationID == "applyDeployment" {
                responses["201"] = [
                    "description": "created", "content": ["application/json": ["schema": ref("Deployment")]],
                ]
            }
            let errors: [(Int, String)] = [
                (400, "malformed request"), (401, "missing or invalid credentials"),
                (403, "role may not, or tenant suspended"),
                (404, "not found, or another tenant's"), (409, "conflicts with current state"),
                (413, "over a size limit or quota"), (422, "invalid field"), (429, "too many failed logins"),
            ]
            for (status, description) in errors where responses[String(status)] == nil {
                if route.access.isAnonymous, status != 400 { continue }
                responses[String(status)] = [
                    "description": description, "content": ["application/json": ["schema": ref("Error")]],
                ]
            }
            operation["responses"] = responses
            paths[route.pattern, default: [:]][route.method.description.lowercased()] = operation
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Plinth control plane", "version": PlinthVersion.current,
                "description": "Tenants, identity, model registry and deployments. See docs/api.md.",
            ],
            "servers": [["url": "/"]],
            "security": [["basic": [String]()], ["bearer": [String]()], ["apiKey": [String]()]],
            "paths": paths,
            "components": ["securitySchemes": securitySchemes, "schemas": OpenAPISchemas.all],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static var securitySchemes: [String: Any] {
        [
            "basic": ["type": "http", "scheme": "basic"],
            "bearer": [
                "type": "http", "scheme": "bearer",
                "description": "JWT from POST /v1/auth/token, or an API key plk_<id>_<secret>",
            ],
            "apiKey": ["type": "apiKey", "in": "header", "name": "X-API-Key"],
        ]
    }

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    static func pathParameters(_ pattern: String) -> [String] {
        pattern.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }
}

extension Access {
    var isAnonymous: Bool {
        if case .anonymous = self { return true }
        return false
    }
}

extension ControlPlane {
    func openAPIDocument() -> String {
        OpenAPIDocument.render(routes: routeDefinitions())
    }
}
