//! Versioned migrations: the SQL files in `migrations/`, applied in order
//! and recorded in `cairn_migrations`, all in one transaction (PostgreSQL's
//! DDL is transactional: a failing file leaves the database as it was).
//! Nodes starting together take turns (an advisory lock), so each file runs
//! once.

use cairn_core::{CoreError, CoreResult};
use r2d2_postgres::postgres::Client;

use crate::db;

/// Every migration this build knows: version, name, SQL.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "principals", include_str!("../migrations/0001_principals.sql")),
    (2, "jobs", include_str!("../migrations/0002_jobs.sql")),
    (3, "content", include_str!("../migrations/0003_content.sql")),
    (4, "fulltext", include_str!("../migrations/0004_fulltext.sql")),
];

/// Any constant: the advisory lock nodes take while migrating.
const LOCK: i64 = 0x6361_6972_6e00;

/// Applies the migrations a database lacks; gives back how many ran. A
/// database from a newer cairn (a version this build does not know) is
/// refused rather than used.
pub fn run(client: &mut Client) -> CoreResult<usize> {
    let mut applied = 0;
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(db)?;
    // Under the lock: two nodes never both create the table.
    let exists: bool = tx
        .query_one("SELECT to_regclass('cairn_migrations') IS NOT NULL", &[])
        .map_err(db)?
        .get(0);
    if !exists {
        tx.batch_execute(
            "CREATE TABLE cairn_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .map_err(db)?;
    }
    let newest: Option<i32> = tx
        .query_one("SELECT max(version) FROM cairn_migrations", &[])
        .map_err(db)?
        .get(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(v) = newest
        && v > known
    {
        return Err(CoreError::Internal(format!(
            "the database is at migration {v}, newer than this cairn knows ({known}); upgrade cairn"
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if newest.is_some_and(|v| v >= *version) {
            continue;
        }
        tx.batch_execute(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO cairn_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .map_err(db)?;
        tracing::info!(version, name, "migration applied");
        applied += 1;
    }
    tx.commit().map_err(db)?;
    Ok(applied)
}

/// The migrations a database has, oldest first (`cairn migrate --status`).
pub fn applied(client: &mut Client) -> CoreResult<Vec<(i32, String)>> {
    let exists: bool = client
        .query_one("SELECT to_regclass('cairn_migrations') IS NOT NULL", &[])
        .map_err(db)?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query("SELECT version, name FROM cairn_migrations ORDER BY version", &[])
        .map_err(db)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
