//! SQLite's table definitions (sea-query DDL): the shared tables named in
//! `cairn_sql::schema`, the user folder's, and the trash and links tables.

pub use cairn_sql::schema::{Allowed, Obj, Outbox, Redirects, Settings, Subjects, Versions};
use sea_query::{ColumnDef, Iden, Index, SqliteQueryBuilder, Table};

#[derive(Iden, Clone, Copy)]
pub enum Users {
    #[iden = "users"]
    Table,
    Site,
    Id,
    PasswordHash,
    Fullname,
    Email,
    Roles,
    Props,
}

#[derive(Iden, Clone, Copy)]
pub enum Groups {
    #[iden = "groups"]
    Table,
    Site,
    Id,
    Title,
    Description,
    Email,
    Roles,
}

/// Who is in which group (members are user or group ids).
#[derive(Iden, Clone, Copy)]
pub enum Members {
    #[iden = "group_members"]
    Table,
    Site,
    GroupId,
    MemberId,
}

/// Every statement needed to create the schema, idempotently.
pub fn ddl() -> Vec<String> {
    let content = Table::create()
        .table(Obj::Table)
        .if_not_exists()
        .col(ColumnDef::new(Obj::Site).text().not_null())
        .col(ColumnDef::new(Obj::Uid).text().not_null())
        .col(ColumnDef::new(Obj::Path).text().not_null())
        .col(ColumnDef::new(Obj::ParentPath).text())
        .col(ColumnDef::new(Obj::Depth).integer().not_null())
        .col(ColumnDef::new(Obj::Position).big_integer().not_null())
        .col(ColumnDef::new(Obj::PortalType).text().not_null())
        .col(ColumnDef::new(Obj::ReviewState).text())
        .col(ColumnDef::new(Obj::IsFolderish).boolean().not_null())
        .col(ColumnDef::new(Obj::Title).text().not_null())
        .col(ColumnDef::new(Obj::SortableTitle).text().not_null())
        .col(ColumnDef::new(Obj::Created).text().not_null())
        .col(ColumnDef::new(Obj::Modified).text().not_null())
        .col(ColumnDef::new(Obj::Effective).text())
        .col(ColumnDef::new(Obj::Expires).text())
        .col(ColumnDef::new(Obj::Language).text())
        .col(ColumnDef::new(Obj::ExcludeFromNav).boolean().not_null())
        .col(ColumnDef::new(Obj::Layout).text())
        .col(ColumnDef::new(Obj::Version).big_integer().not_null())
        .col(ColumnDef::new(Obj::ParentUid).text())
        .col(ColumnDef::new(Obj::Fields).text().not_null())
        .col(ColumnDef::new(Obj::Meta).text().not_null())
        .col(ColumnDef::new(Obj::Allowed).text().not_null())
        .col(ColumnDef::new(Obj::Public).boolean().not_null().default(false))
        .primary_key(Index::create().col(Obj::Site).col(Obj::Uid))
        .to_string(SqliteQueryBuilder);
    let by_path = Index::create()
        .if_not_exists()
        .name("content_path")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::Path)
        .unique()
        .to_string(SqliteQueryBuilder);
    let by_parent = Index::create()
        .if_not_exists()
        .name("content_parent_position")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::ParentPath)
        .col(Obj::Position)
        .to_string(SqliteQueryBuilder);
    // Navigation trees select by depth below a root.
    let by_depth = Index::create()
        .if_not_exists()
        .name("content_depth_position")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::Depth)
        .col(Obj::Position)
        .to_string(SqliteQueryBuilder);
    // Listings and searches by type below a path ("news of this section"),
    // and children for anonymous readers: both counted from the index alone.
    let by_type_path = Index::create()
        .if_not_exists()
        .name("content_type_path")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::PortalType)
        .col(Obj::Path)
        .col(Obj::ReviewState)
        .col(Obj::Public)
        .col(Obj::Effective)
        .col(Obj::Expires)
        // For `uid NOT IN` (a listing leaves out its page) and the permission
        // lookup of signed-in readers, still without the row.
        .col(Obj::Uid)
        .to_string(SqliteQueryBuilder);
    // Full-text hits arrive as UIDs: checked for anonymous readers from here.
    let public_by_uid = Index::create()
        .if_not_exists()
        .name("content_uid_public")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::Uid)
        .col(Obj::Public)
        .col(Obj::Effective)
        .col(Obj::Expires)
        .to_string(SqliteQueryBuilder);
    let public_children = Index::create()
        .if_not_exists()
        .name("content_parent_public")
        .table(Obj::Table)
        .col(Obj::Site)
        .col(Obj::ParentPath)
        .col(Obj::Public)
        .col(Obj::Position)
        .col(Obj::Effective)
        .col(Obj::Expires)
        .col(Obj::Uid)
        .to_string(SqliteQueryBuilder);
    let allowed = Table::create()
        .table(Allowed::Table)
        .if_not_exists()
        .col(ColumnDef::new(Allowed::Site).text().not_null())
        .col(ColumnDef::new(Allowed::Uid).text().not_null())
        .col(ColumnDef::new(Allowed::Principal).text().not_null())
        .primary_key(
            Index::create()
                .col(Allowed::Site)
                .col(Allowed::Principal)
                .col(Allowed::Uid),
        )
        .to_string(SqliteQueryBuilder);
    let allowed_by_uid = Index::create()
        .if_not_exists()
        .name("content_allowed_uid")
        .table(Allowed::Table)
        .col(Allowed::Site)
        .col(Allowed::Uid)
        .to_string(SqliteQueryBuilder);
    let outbox = Table::create()
        .table(Outbox::Table)
        .if_not_exists()
        .col(
            ColumnDef::new(Outbox::Seq)
                .integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(Outbox::Site).text().not_null())
        .col(ColumnDef::new(Outbox::Kind).text().not_null())
        .col(ColumnDef::new(Outbox::Uid).text().not_null())
        .col(ColumnDef::new(Outbox::Path).text().not_null())
        .col(ColumnDef::new(Outbox::At).text().not_null())
        .to_string(SqliteQueryBuilder);
    let users = Table::create()
        .table(Users::Table)
        .if_not_exists()
        .col(ColumnDef::new(Users::Site).text().not_null())
        .col(ColumnDef::new(Users::Id).text().not_null())
        .col(ColumnDef::new(Users::PasswordHash).text().not_null())
        .col(ColumnDef::new(Users::Fullname).text().not_null())
        .col(ColumnDef::new(Users::Email).text().not_null())
        .col(ColumnDef::new(Users::Roles).text().not_null())
        .col(ColumnDef::new(Users::Props).text().not_null().default("{}"))
        .primary_key(Index::create().col(Users::Site).col(Users::Id))
        .to_string(SqliteQueryBuilder);
    let subjects = Table::create()
        .table(Subjects::Table)
        .if_not_exists()
        .col(ColumnDef::new(Subjects::Site).text().not_null())
        .col(ColumnDef::new(Subjects::Uid).text().not_null())
        .col(ColumnDef::new(Subjects::Subject).text().not_null())
        .primary_key(
            Index::create()
                .col(Subjects::Site)
                .col(Subjects::Subject)
                .col(Subjects::Uid),
        )
        .to_string(SqliteQueryBuilder);
    let subjects_by_uid = Index::create()
        .if_not_exists()
        .name("content_subjects_uid")
        .table(Subjects::Table)
        .col(Subjects::Site)
        .col(Subjects::Uid)
        .to_string(SqliteQueryBuilder);
    let redirects = Table::create()
        .table(Redirects::Table)
        .if_not_exists()
        .col(ColumnDef::new(Redirects::Site).text().not_null())
        .col(ColumnDef::new(Redirects::FromPath).text().not_null())
        .col(ColumnDef::new(Redirects::ToPath).text().not_null())
        .col(ColumnDef::new(Redirects::Manual).boolean().not_null())
        .col(ColumnDef::new(Redirects::Created).text().not_null())
        .primary_key(Index::create().col(Redirects::Site).col(Redirects::FromPath))
        .to_string(SqliteQueryBuilder);
    let redirects_by_target = Index::create()
        .if_not_exists()
        .name("redirects_to")
        .table(Redirects::Table)
        .col(Redirects::Site)
        .col(Redirects::ToPath)
        .to_string(SqliteQueryBuilder);
    let versions = Table::create()
        .table(Versions::Table)
        .if_not_exists()
        .col(ColumnDef::new(Versions::Site).text().not_null())
        .col(ColumnDef::new(Versions::Uid).text().not_null())
        .col(ColumnDef::new(Versions::Version).big_integer().not_null())
        .col(ColumnDef::new(Versions::Actor).text().not_null())
        .col(ColumnDef::new(Versions::Time).text().not_null())
        .col(ColumnDef::new(Versions::Comment).text().not_null())
        .col(ColumnDef::new(Versions::Data).text().not_null())
        .col(ColumnDef::new(Versions::Delta).boolean().not_null().default(false))
        .primary_key(
            Index::create()
                .col(Versions::Site)
                .col(Versions::Uid)
                .col(Versions::Version),
        )
        .to_string(SqliteQueryBuilder);
    let groups = Table::create()
        .table(Groups::Table)
        .if_not_exists()
        .col(ColumnDef::new(Groups::Site).text().not_null())
        .col(ColumnDef::new(Groups::Id).text().not_null())
        .col(ColumnDef::new(Groups::Title).text().not_null())
        .col(ColumnDef::new(Groups::Description).text().not_null())
        .col(ColumnDef::new(Groups::Email).text().not_null())
        .col(ColumnDef::new(Groups::Roles).text().not_null())
        .primary_key(Index::create().col(Groups::Site).col(Groups::Id))
        .to_string(SqliteQueryBuilder);
    let members = Table::create()
        .table(Members::Table)
        .if_not_exists()
        .col(ColumnDef::new(Members::Site).text().not_null())
        .col(ColumnDef::new(Members::GroupId).text().not_null())
        .col(ColumnDef::new(Members::MemberId).text().not_null())
        .primary_key(
            Index::create()
                .col(Members::Site)
                .col(Members::GroupId)
                .col(Members::MemberId),
        )
        .to_string(SqliteQueryBuilder);
    let members_by_member = Index::create()
        .if_not_exists()
        .name("group_members_member")
        .table(Members::Table)
        .col(Members::Site)
        .col(Members::MemberId)
        .to_string(SqliteQueryBuilder);
    let settings = Table::create()
        .table(Settings::Table)
        .if_not_exists()
        .col(ColumnDef::new(Settings::Site).text().not_null())
        .col(ColumnDef::new(Settings::Key).text().not_null())
        .col(ColumnDef::new(Settings::Value).text().not_null())
        .primary_key(Index::create().col(Settings::Site).col(Settings::Key))
        .to_string(SqliteQueryBuilder);
    vec![
        content,
        by_path,
        by_parent,
        by_depth,
        by_type_path,
        public_by_uid,
        public_children,
        allowed,
        allowed_by_uid,
        outbox,
        users,
        subjects,
        subjects_by_uid,
        redirects,
        redirects_by_target,
        versions,
        groups,
        members,
        members_by_member,
        settings,
        // The members of a translation group (`_tg`, see
        // cairn_core::repo::translations): few objects have one.
        "CREATE INDEX IF NOT EXISTS content_translation_group ON content \
         (site, json_extract(fields, '$._tg')) WHERE json_extract(fields, '$._tg') IS NOT NULL"
            .to_string(),
    ]
}

/// The trash: one row per deleted subtree (see `cairn_sql::records`).
pub const TRASH_DDL: &str = "
CREATE TABLE IF NOT EXISTS trash (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    uid TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    portal_type TEXT NOT NULL,
    owner TEXT,
    deleted_by TEXT NOT NULL,
    deleted_at INTEGER NOT NULL,
    items INTEGER NOT NULL,
    objects TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trash_by_site ON trash (site, deleted_at);
";

/// The links catalog: who points to whom, by relation name.
pub const LINKS_DDL: &str = "
CREATE TABLE IF NOT EXISTS links (
    site TEXT NOT NULL,
    source TEXT NOT NULL,
    relation TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (site, source, relation, target)
);
CREATE INDEX IF NOT EXISTS links_by_target ON links (site, target);
CREATE INDEX IF NOT EXISTS links_by_relation ON links (site, relation);
";
