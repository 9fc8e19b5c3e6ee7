import PlinthCore
import PlinthStore

/// Per-minute usage rows in the control plane's database: the `UsageSink` the gateway's journal
/// folds into. Deltas and the journal cursor commit in one transaction, so a crash re-folds from
/// the old cursor and nothing is counted twice.
public struct UsageLedger: UsageSink, Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func loadCursor(journal: String) throws -> UsageCursor? {
        try store.read { db in
            guard let row = try db.queryOne("SELECT segment, offset FROM usage_cursors WHERE journal = ?", journal)
            else { return nil }
            return UsageCursor(segment: UInt64(try row.int64("segment")), offset: try row.int64("offset"))
        }
    }

    public func apply(_ batch: UsageFoldBatch, journal: String) throws {
        try store.write { db in
            for (key, totals) in batch.deltas {
                try db.execute(
                    """
                    INSERT INTO usage_minutes (minute, tenant, api_key, deployment, version, shadow, requests, succeeded,
                        client_errors, server_errors, latency_us, queue_us, compute_us, bytes_in, bytes_out, batch_rows)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (minute, tenant, api_key, deployment, version, shadow) DO UPDATE SET
                        requests = requests + excluded.requests, succeeded = succeeded + excluded.succeeded,
                        client_errors = client_errors + excluded.client_errors,
                        server_errors = server_errors + excluded.server_errors,
                        latency_us = latency_us + excluded.latency_us, queue_us = queue_us + excluded.queue_us,
                        compute_us = compute_us + excluded.compute_us, bytes_in = bytes_in + excluded.bytes_in,
                        bytes_out = bytes_out + excluded.bytes_out, batch_rows = batch_rows + excluded.batch_rows
                    """,
                    [
                        key.minute, key.tenantID, key.apiKeyID, key.deployment, key.version, key.shadow,
                        totals.requests, totals.succeeded, totals.clientErrors, totals.serverErrors,
                        totals.latencyMicros, totals.queueMicros, totals.computeMicros, totals.bytesIn,
                        totals.bytesOut, totals.examples,
                    ])
            }
            try db.execute(
                """
                INSERT INTO usage_cursors (journal, segment, offset) VALUES (?, ?, ?)
                ON CONFLICT (journal) DO UPDATE SET segment = excluded.segment, offset = excluded.offset
                """,
                [journal, Int64(batch.cursor.segment), batch.cursor.offset])
        }
    }
}
