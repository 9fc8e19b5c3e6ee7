import PlinthCore

/// Namespace marker for the PlinthHTTP module.
public enum PlinthHTTPModule {
    public static let name = "PlinthHTTP"
}
