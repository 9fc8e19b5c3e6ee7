import PlinthCore

/// Namespace marker for the PlinthControl module.
public enum PlinthControlModule {
    public static let name = "PlinthControl"
}
