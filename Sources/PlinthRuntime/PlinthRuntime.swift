import PlinthCore

/// Namespace marker for the PlinthRuntime module.
public enum PlinthRuntimeModule {
    public static let name = "PlinthRuntime"
}
