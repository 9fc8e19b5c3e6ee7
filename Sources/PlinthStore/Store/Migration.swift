/// One schema step. Versions are applied in ascending order, each exactly once, and recorded in
/// the `schema_migrations` table of the database.
public struct Migration: Sendable {
    /// Positive, unique version number.
    public let version: Int
    /// Short human name, recorded next to the version.
    public let name: String
    /// SQL script; may hold several statements separated by `;`.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
