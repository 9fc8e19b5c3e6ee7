import PlinthCore

/// Namespace marker for the PlinthStore module.
public enum PlinthStoreModule {
    public static let name = "PlinthStore"
}
