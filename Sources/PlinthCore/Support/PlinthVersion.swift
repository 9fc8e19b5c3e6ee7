/// The version string `plinth version` prints and `/v2` reports.
public enum PlinthVersion {
    public static let current = "0.1.0"
}
