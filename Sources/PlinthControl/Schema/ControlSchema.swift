import PlinthStore

/// The control plane's tables. Append migrations; never edit a shipped one.
enum ControlSchema {
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "identity",
            sql: """
                CREATE TABLE tenants (
                    name TEXT PRIMARY KEY,
                    display_name TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}',
                    suspended INTEGER NOT NULL DEFAULT 0,
                    max_models INTEGER,
                    max_artifact_bytes INTEGER,
                    max_replicas INTEGER,
                    max_gpu_replicas INTEGER,
                    max_rps INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    username TEXT NOT NULL UNIQUE,
                    tenant TEXT REFERENCES tenants(name) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    password_version INTEGER NOT NULL DEFAULT 1,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX users_tenant ON users(tenant, username);
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
                    name TEXT NOT NULL DEFAULT '',
                    role TEXT NOT NULL,
                    deployments TEXT,
                    secret_sha256 BLOB NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    revoked_at INTEGER,
                    last_used_at INTEGER
                );
                CREATE INDEX api_keys_tenant ON api_keys(tenant, id);
                """),
        Migration(
            version: 2, name: "registry",
            sql: """
                CREATE TABLE models (
                    tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    format TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, name)
                );
                CREATE TABLE model_versions (
                    tenant TEXT NOT NULL,
                    model TEXT NOT NULL,
                    version TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT,
                    sha256 TEXT NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    signature TEXT,
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, model, version),
                    FOREIGN KEY (tenant, model) REFERENCES models(tenant, name) ON DELETE CASCADE
                );
                CREATE INDEX model_versions_sha ON model_versions(sha256);
                """),
        Migration(
            version: 3, name: "deployments",
            sql: """
                CREATE TABLE instance_classes (
                    name TEXT PRIMARY KEY,
                    vcpus REAL NOT NULL,
                    memory_bytes INTEGER NOT NULL,
                    gpu_count INTEGER NOT NULL DEFAULT 0,
                    gpu_kind TEXT,
                    price_per_second REAL NOT NULL DEFAULT 0,
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL
                );
                INSERT INTO instance_classes (name, vcpus, memory_bytes, gpu_count, gpu_kind, price_per_second, created_at)
                VALUES ('cpu-small', 1, 2147483648, 0, NULL, 0.00001, 0),
                       ('cpu-large', 4, 8589934592, 0, NULL, 0.00004, 0),
                       ('gpu-1x', 8, 34359738368, 1, 'nvidia', 0.0003, 0);
                CREATE TABLE deployments (
                    tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    spec TEXT NOT NULL,
                    labels TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, name)
                );
                CREATE TABLE deployment_revisions (
                    tenant TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    spec TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    cause TEXT NOT NULL DEFAULT 'apply',
                    PRIMARY KEY (tenant, deployment, revision),
                    FOREIGN KEY (tenant, deployment) REFERENCES deployments(tenant, name) ON DELETE CASCADE
                );
                CREATE TABLE deployment_versions (
                    tenant TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    model TEXT NOT NULL,
                    version TEXT NOT NULL,
                    FOREIGN KEY (tenant, deployment) REFERENCES deployments(tenant, name) ON DELETE CASCADE
                );
                CREATE INDEX deployment_versions_model ON deployment_versions(tenant, model, version);
                CREATE TABLE replica_status (
                    tenant TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    model TEXT NOT NULL,
                    version TEXT NOT NULL,
                    worker TEXT NOT NULL DEFAULT '',
                    state TEXT NOT NULL,
                    reason TEXT,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, deployment, replica),
                    FOREIGN KEY (tenant, deployment) REFERENCES deployments(tenant, name) ON DELETE CASCADE
                );
                CREATE TABLE deployment_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    tenant TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    message TEXT NOT NULL,
                    FOREIGN KEY (tenant, deployment) REFERENCES deployments(tenant, name) ON DELETE CASCADE
                );
                CREATE INDEX deployment_events_by ON deployment_events(tenant, deployment, id);
                """),
        Migration(
            version: 4, name: "audit",
            sql: """
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    tenant TEXT,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    address TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX audit_tenant ON audit_log(tenant, id);
                """),
            Migration(
            version: 5, name: "usage",
            sql: """
                CREATE TABLE usage_minutes (
                    minute INTEGER NOT NULL,
                    tenant TEXT NOT NULL,
                    api_key TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    version TEXT NOT NULL,
                    shadow INTEGER NOT NULL,
                    requests INTEGER NOT NULL DEFAULT 0,
                    succeeded INTEGER NOT NULL DEFAULT 0,
                    client_errors INTEGER NOT NULL DEFAULT 0,
                    server_errors INTEGER NOT NULL DEFAULT 0,
                    latency_us INTEGER NOT NULL DEFAULT 0,
                    queue_us INTEGER NOT NULL DEFAULT 0,
                    compute_us INTEGER NOT NULL DEFAULT 0,
                    bytes_in INTEGER NOT NULL DEFAULT 0,
                    bytes_out INTEGER NOT NULL DEFAULT 0,
                    batch_rows INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (minute, tenant, api_key, deployment, version, shadow)
                );
                CREATE INDEX usage_minutes_by_tenant ON usage_minutes(tenant, minute);
                CREATE TABLE usage_cursors (
                    journal TEXT PRIMARY KEY,
                    segment INTEGER NOT NULL,
                    offset INTEGER NOT NULL
                );
                """),
        Migration(
            version: 6, name: "workers",
            sql: """
                CREATE TABLE node_tokens (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    secret_sha256 BLOB NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    last_used_at INTEGER
                );
                CREATE TABLE workers (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    token_id TEXT,
                    agent_version TEXT NOT NULL,
                    capacity TEXT NOT NULL,
                    isolation TEXT NOT NULL,
                    registered_at INTEGER NOT NULL,
                    last_heartbeat_at INTEGER
                );
                """),
        Migration(
            version: 7, name: "replica_gpus",
            sql: """
                -- The GPU indices a placement holds ("0,1"), so a restarted control plane gives
                -- each running replica back its own GPUs instead of picking afresh.
                ALTER TABLE replica_status ADD COLUMN gpus TEXT NOT NULL DEFAULT '';
                """),
        Migration(
            version: 8, name: "version_runtime",
            sql: """
                -- An external version's runtime manifest (JSON: command, env); NULL for onnx.
                ALTER TABLE model_versions ADD COLUMN runtime TEXT;
                """),
]
}
