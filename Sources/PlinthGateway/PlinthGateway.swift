import PlinthCore

/// Namespace marker for the PlinthGateway module.
public enum PlinthGatewayModule {
    public static let name = "PlinthGateway"
}
