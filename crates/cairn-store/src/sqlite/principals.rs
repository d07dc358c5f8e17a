//! Users, groups and memberships: the SQLite user folder.

use cairn_core::CoreResult;
use cairn_core::ports::{GroupRecord, PrincipalQuery, PrincipalStore, UserRecord};
use rusqlite::Row;
use sea_query::{Cond, Expr, ExprTrait, OnConflict, Order, Query, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::schema::{Groups, Members, Users};
use super::sql::exec;
use super::{SqliteStore, db};

const USER_COLUMNS: [Users; 6] = [
    Users::Id,
    Users::PasswordHash,
    Users::Fullname,
    Users::Email,
    Users::Roles,
    Users::Props,
];
const GROUP_COLUMNS: [Groups; 5] = [
    Groups::Id,
    Groups::Title,
    Groups::Description,
    Groups::Email,
    Groups::Roles,
];

fn user_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let roles: String = r.get(4)?;
    let props: String = r.get(5)?;
    Ok(UserRecord {
        id: r.get(0)?,
        password_hash: r.get(1)?,
        fullname: r.get(2)?,
        email: r.get(3)?,
        roles: serde_json::from_str(&roles).unwrap_or_default(),
        props: serde_json::from_str(&props).unwrap_or_default(),
    })
}

fn group_row(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    let roles: String = r.get(4)?;
    Ok(GroupRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        email: r.get(3)?,
        roles: serde_json::from_str(&roles).unwrap_or_default(),
    })
}

/// A LIKE pattern matching `text` anywhere (see [`PrincipalQuery::like_pattern`]).
fn contains(text: &str) -> String {
    PrincipalQuery::like_pattern(text)
}

fn like(col: impl sea_query::IntoColumnRef, pattern: &str) -> sea_query::Expr {
    Expr::cust_with_exprs("lower(?) LIKE ? ESCAPE '\\'", [Expr::col(col), Expr::val(pattern)])
}

/// The users a query matches, without columns or page (shared by list and count).
fn users_matching(site: &str, pq: &PrincipalQuery) -> sea_query::SelectStatement {
    let mut q = Query::select();
    q.from(Users::Table).and_where(Expr::col(Users::Site).eq(site));
    if let Some(t) = &pq.id_contains {
        q.and_where(like(Users::Id, &contains(t)));
    }
    if let Some(t) = &pq.text {
        let p = contains(t);
        q.cond_where(
            Cond::any()
                .add(like(Users::Id, &p))
                .add(like(Users::Fullname, &p))
                .add(like(Users::Email, &p)),
        );
    }
    if !pq.in_groups.is_empty() {
        let sub = Query::select()
            .column(Members::MemberId)
            .from(Members::Table)
            .and_where(Expr::col(Members::Site).eq(site))
            .and_where(Expr::col(Members::GroupId).is_in(pq.in_groups.iter().map(String::as_str)))
            .to_owned();
        q.and_where(Expr::col(Users::Id).in_subquery(sub));
    }
    q
}

impl SqliteStore {
    fn query_map<T>(
        &self,
        q: &sea_query::SelectStatement,
        f: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> CoreResult<Vec<T>> {
        let conn = self.conn()?;
        let (sql, v) = q.build_rusqlite(SqliteQueryBuilder);
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(&*v.as_params(), f).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn ids(&self, q: &sea_query::SelectStatement) -> CoreResult<Vec<String>> {
        self.query_map(q, |r| r.get(0))
    }
}

impl SqliteStore {
    fn principals_changed(&self) {
        self.principals_changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl PrincipalStore for SqliteStore {
    fn principals_generation(&self) -> u64 {
        self.principals_changed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn user(&self, site: &str, id: &str) -> CoreResult<Option<UserRecord>> {
        let q = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Site).eq(site))
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        Ok(self.query_map(&q, user_row)?.pop())
    }

    fn put_user(&self, site: &str, u: &UserRecord) -> CoreResult<()> {
        let roles = serde_json::to_string(&u.roles).map_err(db)?;
        let props = serde_json::Value::Object(u.props.clone()).to_string();
        let (sql, v) = Query::insert()
            .into_table(Users::Table)
            .columns([
                Users::Site,
                Users::Id,
                Users::PasswordHash,
                Users::Fullname,
                Users::Email,
                Users::Roles,
                Users::Props,
            ])
            .values_panic([
                site.into(),
                u.id.as_str().into(),
                u.password_hash.as_str().into(),
                u.fullname.as_str().into(),
                u.email.as_str().into(),
                roles.into(),
                props.into(),
            ])
            .on_conflict(
                OnConflict::columns([Users::Site, Users::Id])
                    .update_columns([
                        Users::PasswordHash,
                        Users::Fullname,
                        Users::Email,
                        Users::Roles,
                        Users::Props,
                    ])
                    .to_owned(),
            )
            .build_rusqlite(SqliteQueryBuilder);
        exec(&*self.conn()?, &sql, &v)?;
        self.principals_changed();
        Ok(())
    }

    fn delete_user(&self, site: &str, id: &str) -> CoreResult<bool> {
        let conn = self.conn()?;
        let (sql, v) = Query::delete()
            .from_table(Members::Table)
            .and_where(Expr::col(Members::Site).eq(site))
            .and_where(Expr::col(Members::MemberId).eq(id))
            .build_rusqlite(SqliteQueryBuilder);
        exec(&conn, &sql, &v)?;
        let (sql, v) = Query::delete()
            .from_table(Users::Table)
            .and_where(Expr::col(Users::Site).eq(site))
            .and_where(Expr::col(Users::Id).eq(id))
            .build_rusqlite(SqliteQueryBuilder);
        let found = exec(&conn, &sql, &v)? > 0;
        self.principals_changed();
        Ok(found)
    }

    fn find_users(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<Vec<UserRecord>> {
        let mut q = users_matching(site, pq);
        q.columns(USER_COLUMNS)
            .order_by(Users::Id, Order::Asc)
            .offset(pq.start as u64)
            .limit(pq.limit.max(1) as u64);
        self.query_map(&q, user_row)
    }

    fn users_by_email(&self, site: &str, email: &str, limit: usize) -> CoreResult<Vec<UserRecord>> {
        let q = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Site).eq(site))
            .and_where(Expr::cust_with_exprs(
                "lower(?) = ?",
                [Expr::col(Users::Email), Expr::val(email.to_lowercase())],
            ))
            .order_by(Users::Id, Order::Asc)
            .limit(limit.max(1) as u64)
            .to_owned();
        self.query_map(&q, user_row)
    }

    fn count_users(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<usize> {
        let mut q = users_matching(site, pq);
        q.expr(Expr::col(Users::Id).count());
        let n: Vec<i64> = self.query_map(&q, |r| r.get(0))?;
        Ok(n.first().copied().unwrap_or(0) as usize)
    }

    fn group(&self, site: &str, id: &str) -> CoreResult<Option<GroupRecord>> {
        let q = Query::select()
            .columns(GROUP_COLUMNS)
            .from(Groups::Table)
            .and_where(Expr::col(Groups::Site).eq(site))
            .and_where(Expr::col(Groups::Id).eq(id))
            .to_owned();
        Ok(self.query_map(&q, group_row)?.pop())
    }

    fn put_group(&self, site: &str, g: &GroupRecord) -> CoreResult<()> {
        let roles = serde_json::to_string(&g.roles).map_err(db)?;
        let (sql, v) = Query::insert()
            .into_table(Groups::Table)
            .columns([
                Groups::Site,
                Groups::Id,
                Groups::Title,
                Groups::Description,
                Groups::Email,
                Groups::Roles,
            ])
            .values_panic([
                site.into(),
                g.id.as_str().into(),
                g.title.as_str().into(),
                g.description.as_str().into(),
                g.email.as_str().into(),
                roles.into(),
            ])
            .on_conflict(
                OnConflict::columns([Groups::Site, Groups::Id])
                    .update_columns([Groups::Title, Groups::Description, Groups::Email, Groups::Roles])
                    .to_owned(),
            )
            .build_rusqlite(SqliteQueryBuilder);
        exec(&*self.conn()?, &sql, &v)?;
        self.principals_changed();
        Ok(())
    }

    fn delete_group(&self, site: &str, id: &str) -> CoreResult<bool> {
        let conn = self.conn()?;
        let (sql, v) = Query::delete()
            .from_table(Members::Table)
            .and_where(Expr::col(Members::Site).eq(site))
            .cond_where(
                Cond::any()
                    .add(Expr::col(Members::GroupId).eq(id))
                    .add(Expr::col(Members::MemberId).eq(id)),
            )
            .build_rusqlite(SqliteQueryBuilder);
        exec(&conn, &sql, &v)?;
        let (sql, v) = Query::delete()
            .from_table(Groups::Table)
            .and_where(Expr::col(Groups::Site).eq(site))
            .and_where(Expr::col(Groups::Id).eq(id))
            .build_rusqlite(SqliteQueryBuilder);
        let found = exec(&conn, &sql, &v)? > 0;
        self.principals_changed();
        Ok(found)
    }

    fn find_groups(&self, site: &str, pq: &PrincipalQuery) -> CoreResult<Vec<GroupRecord>> {
        let mut q = Query::select();
        q.columns(GROUP_COLUMNS)
            .from(Groups::Table)
            .and_where(Expr::col(Groups::Site).eq(site));
        if let Some(t) = pq.id_contains.as_ref().or(pq.text.as_ref()) {
            let p = contains(t);
            q.cond_where(Cond::any().add(like(Groups::Id, &p)).add(like(Groups::Title, &p)));
        }
        q.order_by(Groups::Id, Order::Asc).limit(pq.limit.max(1) as u64);
        self.query_map(&q, group_row)
    }

    fn set_member(&self, site: &str, group: &str, member: &str, present: bool) -> CoreResult<()> {
        let (sql, v) = if present {
            Query::insert()
                .into_table(Members::Table)
                .columns([Members::Site, Members::GroupId, Members::MemberId])
                .values_panic([site.into(), group.into(), member.into()])
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .build_rusqlite(SqliteQueryBuilder)
        } else {
            Query::delete()
                .from_table(Members::Table)
                .and_where(Expr::col(Members::Site).eq(site))
                .and_where(Expr::col(Members::GroupId).eq(group))
                .and_where(Expr::col(Members::MemberId).eq(member))
                .build_rusqlite(SqliteQueryBuilder)
        };
        exec(&*self.conn()?, &sql, &v)?;
        self.principals_changed();
        Ok(())
    }

    fn members(&self, site: &str, group: &str) -> CoreResult<Vec<String>> {
        let q = Query::select()
            .column(Members::MemberId)
            .from(Members::Table)
            .and_where(Expr::col(Members::Site).eq(site))
            .and_where(Expr::col(Members::GroupId).eq(group))
            .order_by(Members::MemberId, Order::Asc)
            .to_owned();
        self.ids(&q)
    }

    fn groups_of(&self, site: &str, member: &str) -> CoreResult<Vec<String>> {
        let q = Query::select()
            .column(Members::GroupId)
            .from(Members::Table)
            .and_where(Expr::col(Members::Site).eq(site))
            .and_where(Expr::col(Members::MemberId).eq(member))
            .order_by(Members::GroupId, Order::Asc)
            .to_owned();
        self.ids(&q)
    }
}
