//! Reading a tenant's calls for the sysadmin: the list of calls and the figures retention and
//! `tenant show` report. Only ids, times and counts; the text stays in [`super::calls`].

use rusqlite::params;

use super::TenantVault;
use crate::VaultError;

/// A call as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSummary {
    /// The call's id.
    pub id: String,
    /// The trunk it arrived on.
    pub trunk: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, once it has.
    pub ended_at_ms: Option<i64>,
    /// Segments stored for it.
    pub segments: u64,
}

/// What a tenant holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls stored.
    pub calls: u64,
    /// Segments stored.
    pub segments: u64,
    /// When the oldest stored call started.
    pub oldest_started_ms: Option<i64>,
    /// Calls that started at or before `cutoff_ms` (those a purge now would delete).
    pub expired: u64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl TenantVault {
    /// The latest `limit` calls, newest first.
    pub fn calls(&self, limit: u32) -> Result<Vec<CallSummary>, VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let mut stmt = conn
                .prepare(
                    "SELECT c.id, c.trunk, c.started_at, c.ended_at,
                            (SELECT count(*) FROM segments s WHERE s.call_id = c.id)
                     FROM calls c ORDER BY c.started_at DESC, c.id LIMIT ?1",
                )
                .map_err(sqlite)?;
            let rows = stmt
                .query_map([limit], |r| {
                    Ok(CallSummary {
                        id: r.get(0)?,
                        trunk: r.get(1)?,
                        started_at_ms: r.get(2)?,
                        ended_at_ms: r.get(3)?,
                        segments: count(r.get(4)?),
                    })
                })
                .map_err(sqlite)?;
            rows.collect::<Result<_, _>>().map_err(sqlite)
        })
    }

    /// How many calls and segments the tenant holds, and how many calls started at or before
    /// `cutoff_ms`.
    pub fn call_stats(&self, cutoff_ms: i64) -> Result<CallStats, VaultError> {
        self.with_conn(|conn, path| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM segments),
                        (SELECT min(started_at) FROM calls),
                        (SELECT count(*) FROM calls WHERE started_at <= ?1)",
                params![cutoff_ms],
                |r| {
                    Ok(CallStats {
                        calls: count(r.get(0)?),
                        segments: count(r.get(1)?),
                        oldest_started_ms: r.get(2)?,
                        expired: count(r.get(3)?),
                    })
                },
            )
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use crate::{DAY_MS, ManualClock, MasterKey, NewCall, NewSegment, VaultOptions, Vaults};

    const T0: i64 = 1_796_083_200_000;

    #[test]
    fn calls_come_newest_first_with_counts_and_the_expired_ones_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let master = MasterKey::from_credential(&[3; 32]).unwrap();
        let clock = Arc::new(ManualClock::at(T0));
        let vaults = Vaults::open(dir.path(), master, VaultOptions::default(), clock).unwrap();
        let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
        assert_eq!(acme.call_stats(T0).unwrap(), super::CallStats::default());
        for (id, at, segments) in [("old", T0 - 10 * DAY_MS, 2), ("new", T0, 1)] {
            let call = NewCall {
                id: id.to_owned(),
                trunk: "sip".to_owned(),
                started_at_ms: at,
            };
            acme.begin_call(&call).unwrap();
            for n in 0..segments {
                let segment = NewSegment {
                    track: "caller".to_owned(),
                    start_ms: n,
                    end_ms: n + 1,
                    text: None,
                    redacted: "x".to_owned(),
                    confidence: 1.0,
                };
                acme.insert_segment(id, &segment).unwrap();
            }
        }
        let calls = acme.calls(10).unwrap();
        let listed: Vec<_> = calls.iter().map(|c| (c.id.as_str(), c.segments)).collect();
        assert_eq!(listed, [("new", 1), ("old", 2)]);
        assert_eq!(acme.calls(1).unwrap().len(), 1);
        let stats = acme.call_stats(T0 - DAY_MS).unwrap();
        assert_eq!((stats.calls, stats.segments, stats.expired), (2, 3, 1));
        assert_eq!(stats.oldest_started_ms, Some(T0 - 10 * DAY_MS));
    }
}
