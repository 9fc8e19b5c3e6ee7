import PlinthCore

/// Namespace marker for the PlinthEngine module.
public enum PlinthEngineModule {
    public static let name = "PlinthEngine"
}
