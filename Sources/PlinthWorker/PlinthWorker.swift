import PlinthCore

/// Namespace marker for the PlinthWorker module.
public enum PlinthWorkerModule {
    public static let name = "PlinthWorker"
}
