//! Users, groups and memberships on PostgreSQL. Every change is announced
//! on `cairn_principals` in its own transaction, so every node's caches of
//! credentials and roles hear of it at commit.

use cairn_core::CoreResult;
use cairn_core::ports::{GroupRecord, PrincipalQuery, PrincipalStore, UserRecord};
use r2d2_postgres::postgres::types::ToSql;
use r2d2_postgres::postgres::{GenericClient, Row};
use serde_json::Value;

use crate::{PgStore, db};

const USER_COLUMNS: &str = "id, password_hash, fullname, email, roles, props";
const GROUP_COLUMNS: &str = "id, title, description, email, roles";

fn user_row(r: &Row) -> UserRecord {
    UserRecord {
        id: r.get(0),
        password_hash: r.get(1),
        fullname: r.get(2),
        email: r.get(3),
        roles: strings(r.get(4)),
        props: match r.get::<_, Value>(5) {
            Value::Object(m) => m,
            _ => Default::default(),
        },
    }
}

fn group_row(r: &Row) -> GroupRecord {
    GroupRecord {
        id: r.get(0),
        title: r.get(1),
        description: r.get(2),
        email: r.get(3),
        roles: strings(r.get(4)),
    }
}

fn strings(v: Value) -> Vec<String> {
    serde_json::from_value(v).unwrap_or_default()
}

/// A LIKE pattern matching `text` anywhere (see [`PrincipalQuery::like_pattern`]).
fn contains(text: &str) -> String {
    PrincipalQuery::like_pattern(text)
}

/// The WHERE clause and parameters of a users query (shared by list and count).
fn users_matching(site: &str, pq: &PrincipalQuery) -> (String, Vec<Box<dyn ToSql + Sync>>) {
    let mut sql = String::from("site = $1");
    let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(site.to_string())];
    if let Some(t) = &pq.id_contains {
        params.push(Box::new(contains(t)));
        sql.push_str(&format!(" AND lower(id) LIKE ${} ESCAPE '\\'", params.len()));
    }
    if let Some(t) = &pq.text {
        params.push(Box::new(contains(t)));
        let n = params.len();
        sql.push_str(&format!(
            " AND (lower(id) LIKE ${n} ESCAPE '\\' OR lower(fullname) LIKE ${n} ESCAPE '\\' \
             OR lower(email) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if !pq.in_groups.is_empty() {
        params.push(Box::new(pq.in_groups.clone()));
        sql.push_str(&format!(
            " AND id IN (SELECT member_id FROM members WHERE site = $1 AND group_id = ANY(${}))",
            params.len()
        ));
    }
    (sql, params)
}

fn refs(params: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
}

/// Announces a principal change to every node (delivered at commit).
fn announce(c: &mut impl GenericClient, channel: &str) -> CoreResult<()> {
    c.execute("SELECT pg_notify($1, '')", &[&channel]).map_err(db)?;
    Ok(())
}

impl PgStore {
    /// Runs `change` in one transaction that also announces it.
    fn principal_change<T>(
        &self,
        change: impl FnOnce(&mut r2d2_postgres::postgres::Transaction<'_>) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        let out = change(&mut tx)?;
        announce(&mut tx, &self.channels.principals)?;
        tx.commit().map_err(db)?;
        self.principals_changed();
        Ok(out)
    }
}

impl PrincipalStore for PgStore {
    fn principals_generation(&self) -> u64 {
        self.principals.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn user(&self, site: &str, id: &str) -> CoreResult<Option<UserRecord>> {
        let row = self
            .conn()?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE site = $1 AND id = $2"),
                &[&site, &id],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(user_row))
    }

    fn put_user(&self, site: &str, u: &UserRecord) -> CoreResult<()> {
        let roles = serde_json::json!(u.roles);
        let props = Value::Object(u.props.clone());
        self.principal_change(|tx| {
            tx.execute(
                "INSERT INTO users (site, id, password_hash, fullname, email, roles, props)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (site, id) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                    fullname = EXCLUDED.fullname, email = EXCLUDED.email,
                    roles = EXCLUDED.roles, props = EXCLUDED.props",
                &[&site, &u.id, &u.password_hash, &u.fullname, &u.email, &roles, &props],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn delete_user(&self, site: &str, id: &str) -> CoreResult<bool> {
        self.principal_change(|tx| {
            tx.execute("DELETE FROM members WHERE site = $1 AND member_id = $2", &[&site, &id])
                .map_err(db)?;
            let n = tx
                .execute("DELETE FROM users WHERE site = $1 AND id = $2", &[&site, &id])
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn find_users(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<Vec<UserRecord>> {
        let (filter, mut params) = users_matching(site, pq);
        params.push(Box::new(pq.start as i64));
        params.push(Box::new(pq.limit.max(1) as i64));
        let n = params.len();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {filter} ORDER BY id OFFSET ${} LIMIT ${n}",
            n - 1
        );
        let rows = self.conn()?.query(&sql, &refs(&params)).map_err(db)?;
        Ok(rows.iter().map(user_row).collect())
    }

    fn users_by_email(&self, site: &str, email: &str, limit: usize) -> CoreResult<Vec<UserRecord>> {
        // Answered from the users_by_email index.
        let rows = self
            .conn()?
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE site = $1 AND lower(email) = $2 ORDER BY id LIMIT $3"),
                &[&site, &email.to_lowercase(), &(limit.max(1) as i64)],
            )
            .map_err(db)?;
        Ok(rows.iter().map(user_row).collect())
    }

    fn count_users(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<usize> {
        let (filter, params) = users_matching(site, pq);
        let row = self
            .conn()?
            .query_one(&format!("SELECT count(*) FROM users WHERE {filter}"), &refs(&params))
            .map_err(db)?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    fn group(&self, site: &str, id: &str) -> CoreResult<Option<GroupRecord>> {
        let row = self
            .conn()?
            .query_opt(
                &format!("SELECT {GROUP_COLUMNS} FROM groups WHERE site = $1 AND id = $2"),
                &[&site, &id],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(group_row))
    }

    fn put_group(&self, site: &str, g: &GroupRecord) -> CoreResult<()> {
        let roles = serde_json::json!(g.roles);
        self.principal_change(|tx| {
            tx.execute(
                "INSERT INTO groups (site, id, title, description, email, roles)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (site, id) DO UPDATE SET title = EXCLUDED.title,
                    description = EXCLUDED.description, email = EXCLUDED.email, roles = EXCLUDED.roles",
                &[&site, &g.id, &g.title, &g.description, &g.email, &roles],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn delete_group(&self, site: &str, id: &str) -> CoreResult<bool> {
        self.principal_change(|tx| {
            tx.execute(
                "DELETE FROM members WHERE site = $1 AND (group_id = $2 OR member_id = $2)",
                &[&site, &id],
            )
            .map_err(db)?;
            let n = tx
                .execute("DELETE FROM groups WHERE site = $1 AND id = $2", &[&site, &id])
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn find_groups(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<Vec<GroupRecord>> {
        let limit = pq.limit.max(1) as i64;
        let rows = match pq.id_contains.as_ref().or(pq.text.as_ref()) {
            Some(t) => self.conn()?.query(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM groups WHERE site = $1
                     AND (lower(id) LIKE $2 ESCAPE '\\' OR lower(title) LIKE $2 ESCAPE '\\')
                     ORDER BY id LIMIT $3"
                ),
                &[&site, &contains(t), &limit],
            ),
            None => self.conn()?.query(
                &format!("SELECT {GROUP_COLUMNS} FROM groups WHERE site = $1 ORDER BY id LIMIT $2"),
                &[&site, &limit],
            ),
        }
        .map_err(db)?;
        Ok(rows.iter().map(group_row).collect())
    }

    fn set_member(&self, site: &str, group: &str, member: &str, present: bool) -> CoreResult<()> {
        self.principal_change(|tx| {
            let sql = if present {
                "INSERT INTO members (site, group_id, member_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            } else {
                "DELETE FROM members WHERE site = $1 AND group_id = $2 AND member_id = $3"
            };
            tx.execute(sql, &[&site, &group, &member]).map_err(db)?;
            Ok(())
        })
    }

    fn members(&self, site: &str, group: &str) -> CoreResult<Vec<String>> {
        let rows = self
            .conn()?
            .query(
                "SELECT member_id FROM members WHERE site = $1 AND group_id = $2 ORDER BY member_id",
                &[&site, &group],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn groups_of(&self, site: &str, member: &str) -> CoreResult<Vec<String>> {
        let rows = self
            .conn()?
            .query(
                "SELECT group_id FROM members WHERE site = $1 AND member_id = $2 ORDER BY group_id",
                &[&site, &member],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
