//! The tables every backend has, named once for the statements built here.
//! Each backend creates them with its own DDL (SQLite: `cairn-store`;
//! PostgreSQL: `cairn-postgres/migrations`).

use sea_query::Iden;

/// The content table: one row per object, catalog columns beside the field JSON.
#[derive(Iden, Clone, Copy)]
pub enum Obj {
    #[iden = "content"]
    Table,
    Site,
    Uid,
    Path,
    ParentPath,
    Depth,
    Position,
    PortalType,
    ReviewState,
    IsFolderish,
    Title,
    SortableTitle,
    Created,
    Modified,
    Effective,
    Expires,
    Language,
    ExcludeFromNav,
    Layout,
    Version,
    ParentUid,
    Fields,
    /// The fields a summary needs (no rich text or blocks): what a catalog brain holds.
    Meta,
    Allowed,
    /// Anonymous may view it (`Anonymous` among the allowed): anonymous
    /// queries filter on this column in an index, with no per-row lookup.
    Public,
}

/// Who may view what: one row per (object, principal), the allowedRolesAndUsers index.
#[derive(Iden, Clone, Copy)]
pub enum Allowed {
    #[iden = "content_allowed"]
    Table,
    Site,
    Uid,
    Principal,
}

/// The Subject keyword index: one row per (object, keyword).
#[derive(Iden, Clone, Copy)]
pub enum Subjects {
    #[iden = "content_subjects"]
    Table,
    Site,
    Uid,
    Subject,
}

/// Kept versions of objects.
#[derive(Iden, Clone, Copy)]
pub enum Versions {
    #[iden = "versions"]
    Table,
    Site,
    Uid,
    Version,
    Actor,
    Time,
    Comment,
    Data,
    /// `data` holds a patch of the version before (else the fields whole).
    Delta,
}

/// Redirects from old (moved, renamed) and alias paths.
#[derive(Iden, Clone, Copy)]
pub enum Redirects {
    #[iden = "redirects"]
    Table,
    Site,
    FromPath,
    ToPath,
    Manual,
    Created,
}

/// The change outbox every consumer (indexer, purger, other nodes) reads.
#[derive(Iden, Clone, Copy)]
pub enum Outbox {
    #[iden = "outbox"]
    Table,
    Seq,
    Site,
    Kind,
    Uid,
    Path,
    At,
}

#[derive(Iden, Clone, Copy)]
pub enum Settings {
    #[iden = "settings"]
    Table,
    Site,
    Key,
    Value,
}

/// Columns in the order `read::row_to_content` expects them.
pub const CONTENT_COLUMNS: [Obj; 18] = [
    Obj::Uid,
    Obj::Path,
    Obj::ParentUid,
    Obj::Position,
    Obj::PortalType,
    Obj::ReviewState,
    Obj::IsFolderish,
    Obj::Created,
    Obj::Modified,
    Obj::Version,
    Obj::Layout,
    Obj::Fields,
    Obj::Allowed,
    Obj::Depth,
    Obj::ParentPath,
    Obj::Title,
    Obj::Effective,
    Obj::Expires,
];
