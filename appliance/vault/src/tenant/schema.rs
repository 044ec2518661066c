//! The schema of a tenant database, as migration steps. Steps once shipped are never edited.

/// Every step, oldest first; a database's `user_version` counts the steps applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: calls and their transcript segments.
    "CREATE TABLE calls (
         id TEXT PRIMARY KEY,
         trunk TEXT NOT NULL,
         started_at INTEGER NOT NULL,
         ended_at INTEGER
     );
     CREATE INDEX calls_started ON calls(started_at);
     CREATE TABLE segments (
         id INTEGER PRIMARY KEY,
         call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
         track TEXT NOT NULL,
         start_ms INTEGER NOT NULL,
         end_ms INTEGER NOT NULL,
         text TEXT,
         redacted TEXT NOT NULL,
         confidence REAL NOT NULL
     );
     CREATE INDEX segments_call ON segments(call_id);",
    // 2: the outbox towards the control plane. Records of a call go with the call; deletion
    // records have no call, since they outlive it.
    "CREATE TABLE outbox (
         id INTEGER PRIMARY KEY,
         call_id TEXT REFERENCES calls(id) ON DELETE CASCADE,
         kind TEXT NOT NULL,
         idempotency_key TEXT NOT NULL UNIQUE,
         payload TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         not_before INTEGER NOT NULL DEFAULT 0,
         claimed_until INTEGER NOT NULL DEFAULT 0,
         created_at INTEGER NOT NULL
     );
     CREATE INDEX outbox_call ON outbox(call_id, id);",
    // 3: tenant settings pushed by the configuration or the control plane.
    "CREATE TABLE settings (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );",
];
