import PlinthCore
import PlinthHTTP

/// Who may call a route. Tenant-scoped routes read the tenant from the `{tenant}` path parameter.
enum Access: Sendable {
    /// No credential needed.
    case anonymous
    /// Any authenticated caller.
    case authenticated
    /// Platform admins only.
    case admin
    /// Admins, and members of the path's tenant holding one of these roles. Members of another
    /// tenant get 404, as if the tenant did not exist.
    case tenant(Set<Role>)
}

/// The request and its authenticated caller, as handlers see them.
struct RequestContext: Sendable {
    var request: HTTPRequest
    /// Nil only on anonymous routes.
    var principal: Principal?

    /// Actor name for the audit log.
    var actor: String { principal?.name ?? "anonymous" }

    func parameter(_ name: String) throws -> String {
        guard let value = request.pathParameters[name] else { throw ControlError.badRequest("missing \(name)") }
        return value
    }

    /// The authenticated caller; handlers of authenticated routes may rely on it.
    func caller() throws -> Principal {
        guard let principal else { throw ControlError.unauthenticated("credentials required") }
        return principal
    }
}

typealias ControlHandler = @Sendable (RequestContext) throws -> HTTPResponse

/// One route of the API: registration, authorization, audit and OpenAPI come from this table.
struct RouteDefinition: Sendable {
    var method: HTTPMethod
    var pattern: String
    var operationID: String
    var summary: String
    var tag: String
    var access: Access
    var options: RouteOptions
    /// Name of the request body schema in the OpenAPI components; nil when the route takes none.
    var requestSchema: String?
    /// Content type of the request body when not JSON.
    var requestContentTypes: [String]
    var successStatus: Int
    var responseSchema: String?
    var queryParameters: [String]
    var handler: ControlHandler

    init(
        _ method: HTTPMethod, _ pattern: String, id: String, _ summary: String, tag: String, access: Access,
        options: RouteOptions = RouteOptions(), request: String? = nil, requestContentTypes: [String] = [],
        status: Int = 200, response: String? = nil, query: [String] = [], handler: @escaping ControlHandler
    ) {
        self.method = method
        self.pattern = pattern
        self.operationID = id
        self.summary = summary
        self.tag = tag
        self.access = access
        self.options = options
        self.requestSchema = request
        self.requestContentTypes = requestContentTypes
        self.successStatus = status
        self.responseSchema = response
        self.queryParameters = query
        self.handler = handler
    }

    var isMutating: Bool {
        switch method {
        case .POST, .PUT, .PATCH, .DELETE: true
        default: false
        }
    }
}
