import PlinthCore

/// Namespace marker for the PlinthCrypto module.
public enum PlinthCryptoModule {
    public static let name = "PlinthCrypto"
}
