//! Which blobs the database refers to: every `"blob": "<key>"` inside an
//! object's fields, a kept version, a user's properties, an object in the
//! trash or a site setting (the logo), in every site.
//! Read whole by the blob sweep, so SQLite's `json_tree` walks each row once.

use std::collections::HashSet;

use cairn_core::CoreResult;
use rusqlite::Connection;

use super::db;

/// Blob values at any depth (files, images, lead images, portraits).
const REFERENCED: &str = "
    SELECT j.value FROM content, json_tree(content.fields) AS j
        WHERE j.key = 'blob' AND j.type = 'text'
    UNION
    SELECT j.value FROM versions, json_tree(versions.data) AS j
        WHERE j.key = 'blob' AND j.type = 'text'
    UNION
    SELECT j.value FROM users, json_tree(users.props) AS j
        WHERE j.key = 'blob' AND j.type = 'text'
    UNION
    SELECT j.value FROM trash, json_tree(trash.objects) AS j
        WHERE j.key = 'blob' AND j.type = 'text'
    UNION
    SELECT j.value FROM settings, json_tree(settings.value) AS j
        WHERE settings.key = 'registry' AND j.key = 'blob' AND j.type = 'text'";

pub fn referenced(conn: &Connection) -> CoreResult<HashSet<String>> {
    let mut stmt = conn.prepare(REFERENCED).map_err(db)?;
    let keys = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
    keys.collect::<Result<HashSet<_>, _>>().map_err(db)
}
