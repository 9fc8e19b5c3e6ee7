import PlinthHTTP

extension ControlPlane {
    func metaRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/openapi.json", id: "getOpenAPI", "This API as an OpenAPI 3.1 document.", tag: "meta",
                access: .anonymous, response: "OpenAPI"
            ) { [self] _ in
                var response = HTTPResponse.jsonBytes(Array(openAPIDocument().utf8))
                response.headers.set("Content-Type", "application/json")
                return response
            }
        ]
    }
}
