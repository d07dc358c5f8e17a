//! The ports: what the core needs from a database, a full-text index and a
//! blob store. Adapters (SQLite, PostgreSQL, tantivy, S3, ...) implement these
//! traits; the binary picks which.

use cairn_model::{ContentPath, Uid};
use serde_json::{Map, Value};

use crate::content::Content;
use crate::error::CoreResult;

/// Which objects a reader may see: `None` is unrestricted (Manager),
/// otherwise the principals/roles matched against each object's `allowed` set.
#[derive(Debug, Clone)]
pub struct ViewFilter {
    pub principals: Option<Vec<String>>,
    /// When set (ISO time), only objects inside their effective/expires window
    /// at that moment are visible: readers without "Access inactive portal content".
    pub active_at: Option<String>,
}

impl ViewFilter {
    pub fn unrestricted() -> Self {
        Self {
            principals: None,
            active_at: None,
        }
    }

    pub fn allows(&self, c: &Content) -> bool {
        let permitted = match &self.principals {
            None => true,
            Some(p) => c.allowed.iter().any(|a| p.contains(a)),
        };
        permitted && self.active_at.as_deref().is_none_or(|now| is_active(c, now))
    }
}

/// Whether `c` is inside its publication window at `now` (ISO strings compare
/// in time order because every stored date has the same UTC form).
pub fn is_active(c: &Content, now: &str) -> bool {
    let date = |name: &str| c.fields.get(name).and_then(Value::as_str);
    date("effective").is_none_or(|e| e <= now) && date("expires").is_none_or(|x| x > now)
}

/// One change, recorded in the outbox in the same transaction as the write.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub kind: &'static str,
    pub uid: Uid,
    pub path: ContentPath,
}

/// A change as the outbox keeps it; `seq` is the position a consumer (the
/// search indexer, the CDN purger) saves to resume from after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub kind: String,
    pub uid: Uid,
    pub path: ContentPath,
}

/// One atomic write: every operation, event and job commits together or not at all.
#[derive(Debug, Default)]
pub struct WriteBatch {
    pub ops: Vec<WriteOp>,
    pub events: Vec<ChangeEvent>,
    /// Jobs the change causes: enqueued only if it commits.
    pub jobs: Vec<crate::jobs::NewJob>,
}

impl WriteBatch {
    /// Appends another batch's writes, to commit both in one transaction.
    pub fn merge(&mut self, other: WriteBatch) {
        self.ops.extend(other.ops);
        self.events.extend(other.events);
        self.jobs.extend(other.jobs);
    }

    /// Replaces `before` with `next` (which carries the next version) and
    /// records a change of `kind` at `before`'s place.
    pub fn update(&mut self, before: &Content, next: Content, kind: &'static str) {
        self.events.push(ChangeEvent {
            kind,
            uid: before.uid.clone(),
            path: before.path.clone(),
        });
        self.ops.push(WriteOp::Update {
            content: Box::new(next),
            expected: before.version,
        });
    }
}

/// A single change inside a [`WriteBatch`].
#[derive(Debug)]
pub enum WriteOp {
    Insert(Box<Content>),
    /// Replace an object; fails with a conflict unless its stored version is `expected`.
    Update {
        content: Box<Content>,
        expected: i64,
    },
    /// Remove an object and everything below it.
    DeleteSubtree(ContentPath),
    /// Set the positions of children of one container.
    Reposition(Vec<(Uid, i64)>),
    /// Give an object and its subtree a new path (rename in place).
    Move {
        from: ContentPath,
        to: ContentPath,
    },
    /// Record (or replace) a redirect from an old path.
    AddRedirect(Redirect),
    /// Forget the redirect from this path.
    RemoveRedirect(ContentPath),
    /// Redirects pointing into `from` (or at it) now point into `to`.
    RetargetRedirects {
        from: ContentPath,
        to: ContentPath,
    },
    /// Keep a version of an object's fields (history).
    AddVersion(Box<VersionRecord>),
    /// Keep a subtree in the trash (its `objects`) and remove it from the site.
    MoveToTrash(Box<TrashEntry>),
    /// Forget a trash entry (restored, or purged for good).
    RemoveTrash(i64),
    /// Record a trash entry whose subtree is not in the site (an import).
    KeepTrash(Box<TrashEntry>),
    /// Forget the kept versions of objects purged for good.
    ForgetVersions(Vec<Uid>),
    /// The objects `source` points to now (its relations and links).
    SetLinks {
        source: Uid,
        targets: Vec<Link>,
    },
    /// Save a site setting (the registry's values).
    PutSetting {
        key: String,
        value: Value,
    },
}

/// One relation of an object: the relation's name (a relation field's
/// name, a named free relation, or `isReferencing` for a link in text or
/// blocks, as Plone's relation catalog names them) and its target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    pub relation: String,
    pub target: Uid,
}

/// A stored relation, source to target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Relation {
    pub source: Uid,
    pub relation: String,
    pub target: Uid,
}

/// Which relations to list; every criterion set must hold.
#[derive(Debug, Clone, Default)]
pub struct RelationQuery {
    pub source: Option<Uid>,
    pub target: Option<Uid>,
    pub relation: Option<String>,
    /// Only those whose target is not in the site.
    pub only_broken: bool,
    pub limit: usize,
}

/// What the store is and holds, for administrators (`@system`, `@database`).
#[derive(Debug, Clone, Default)]
pub struct StoreFacts {
    /// The database engine and its version ("SQLite 3.50.2").
    pub engine: String,
    /// The schema version the database has.
    pub schema_version: i64,
    /// The schema version this build needs (migrations run at start).
    pub schema_required: i64,
    /// Size of the database (all sites) in bytes.
    pub bytes: u64,
    /// Objects, kept versions and trash entries of the site.
    pub objects: u64,
    pub versions: u64,
    pub trash_entries: u64,
}

/// A deleted subtree in the site's trash.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrashEntry {
    /// Assigned when stored (0 before).
    pub id: i64,
    /// The deleted object (the subtree's root).
    pub uid: Uid,
    /// Where it was.
    pub path: ContentPath,
    pub title: String,
    pub portal_type: String,
    /// Its owner, who may list and restore it too.
    pub owner: Option<String>,
    pub deleted_by: String,
    /// Unix milliseconds.
    pub deleted_at: i64,
    /// Objects in the subtree, the root included.
    pub items: usize,
    /// The subtree, parents before children; empty in lists.
    pub objects: Vec<Content>,
}

/// One kept version of an object (CMFEditions' role).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VersionRecord {
    pub uid: Uid,
    /// 0 for the first version, then one more per edit.
    pub version: i64,
    pub actor: String,
    /// ISO date-time.
    pub time: String,
    pub comment: String,
    /// The schema field values at that version.
    pub fields: Map<String, Value>,
}

/// A redirect from an old or alias path to an object's current path.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Redirect {
    pub from: ContentPath,
    pub to: ContentPath,
    /// Set by an editor (an alias), not by a move or rename.
    pub manual: bool,
    /// ISO date-time it was recorded.
    pub created: String,
}

/// Which redirects to list.
#[derive(Debug, Clone, Default)]
pub struct RedirectFilter {
    /// A substring of the old path.
    pub text: Option<String>,
    /// Only editors' aliases (`true`) or only those moves left (`false`).
    pub manual: Option<bool>,
    /// Recorded at or after this moment (stored ISO form).
    pub since: Option<String>,
    /// Recorded at or before this moment (stored ISO form).
    pub until: Option<String>,
}

/// A stored account (the user folder).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub password_hash: String,
    pub fullname: String,
    pub email: String,
    pub roles: Vec<String>,
    /// Other member properties: description, location, home_page, ...
    pub props: serde_json::Map<String, Value>,
}

/// A stored group.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct GroupRecord {
    pub id: String,
    pub title: String,
    pub description: String,
    pub email: String,
    pub roles: Vec<String>,
}

/// How to look for principals.
#[derive(Debug, Clone, Default)]
pub struct PrincipalQuery {
    /// Substring of the id (Plone's `query`).
    pub id_contains: Option<String>,
    /// Substring of id, full name or email (Plone's `search`).
    pub text: Option<String>,
    /// Only members of one of these groups.
    pub in_groups: Vec<String>,
    /// Page: skip `start`, return at most `limit`.
    pub start: usize,
    pub limit: usize,
}

impl PrincipalQuery {
    /// A case-folded LIKE pattern matching `text` anywhere, LIKE's own
    /// wildcards escaped with `\\` (every backend's `LIKE ... ESCAPE '\\'`).
    pub fn like_pattern(text: &str) -> String {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    }
}

/// Content and catalog storage for all sites of a deployment.
pub trait ContentStore: Send + Sync {
    /// Creates tables and indexes if needed.
    fn migrate(&self) -> CoreResult<()>;
    fn by_path(&self, site: &str, path: &ContentPath) -> CoreResult<Option<Content>>;
    /// Several objects by path in one query (ancestors for breadcrumbs).
    fn by_paths(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>>;
    fn by_uids(&self, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>>;
    /// Visible children of `parent` by position, `start`/`limit` applied,
    /// plus the total; `light` loads only the summary fields (a listing's).
    fn children(
        &self,
        site: &str,
        parent: &ContentPath,
        filter: &ViewFilter,
        page: (usize, usize),
        light: bool,
    ) -> CoreResult<(Vec<Content>, usize)>;
    /// The visible siblings just before and after `position` in `parent`.
    fn neighbours(
        &self,
        site: &str,
        parent: &ContentPath,
        position: i64,
        filter: &ViewFilter,
    ) -> CoreResult<(Option<Content>, Option<Content>)>;
    /// [`ContentStore::neighbours`] of many objects at once, by UID, in the
    /// order of `items` (`(parent, position)` each): one round trip.
    fn neighbour_uids(
        &self,
        site: &str,
        items: &[(ContentPath, i64)],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>>;
    /// Visible objects strictly below `root`, at most `depth` levels down, of the
    /// given types (all types when empty), ordered by path then position.
    fn tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<Content>>;
    /// As [`ContentStore::tree`], for navigation: the objects carry only their
    /// summary fields (no rich text or blocks), so never write them back.
    /// Visible objects strictly below `root`, at most `depth` levels down, of the
    /// given types (all types when empty), ordered by path then position.
    fn nav_tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<std::sync::Arc<Vec<Content>>>;
    /// The position after the last child of `parent` (0 when empty).
    fn next_position(&self, site: &str, parent: &ContentPath) -> CoreResult<i64>;
    /// Objects matching a structured query that the reader may view, one page
    /// of them, plus the total.
    fn search(
        &self,
        site: &str,
        query: &crate::catalog::CatalogQuery,
        filter: &ViewFilter,
    ) -> CoreResult<(Vec<Content>, usize)>;
    /// Redirects whose old path is one of `paths`.
    fn redirects_from(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Redirect>>;
    /// Redirects to `target` exactly (`None`: every redirect) that pass
    /// `filter`, one page of them and the total.
    fn redirects(
        &self,
        site: &str,
        target: Option<&ContentPath>,
        filter: &RedirectFilter,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<Redirect>, usize)>;
    /// Trash entries, newest first (only those `owner` owns, when given),
    /// without their objects; one page and the total.
    fn trash(
        &self,
        site: &str,
        owner: Option<&str>,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<TrashEntry>, usize)>;
    /// One trash entry with its objects.
    fn trash_entry(&self, site: &str, id: i64) -> CoreResult<Option<TrashEntry>>;
    /// Trash entries deleted before `before` (Unix ms).
    fn trash_before(&self, site: &str, before: i64) -> CoreResult<Vec<i64>>;
    /// Links (source, target) into any of `targets`, from objects in the site.
    fn linking_to(&self, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>>;
    /// Relations matching `q`, by relation name, then in the order their
    /// source holds them.
    fn relations(&self, site: &str, q: &RelationQuery) -> CoreResult<Vec<Relation>>;
    /// How many relations of each name there are, and how many of them are
    /// broken (their target is not in the site).
    fn relation_stats(&self, site: &str) -> CoreResult<Vec<(String, u64, u64)>>;
    /// The objects of translation group `group`.
    fn translations(&self, site: &str, group: &str) -> CoreResult<Vec<Content>>;
    /// What the store is and holds for `site`.
    fn facts(&self, site: &str) -> CoreResult<StoreFacts>;
    /// How many objects of each type the site has.
    fn type_counts(&self, site: &str) -> CoreResult<Vec<(String, u64)>>;
    /// Every kept version of an object, oldest first.
    fn versions(&self, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>>;
    /// The number of an object's newest kept version.
    fn last_version(&self, site: &str, uid: &Uid) -> CoreResult<Option<i64>>;
    /// Distinct Subject keywords of the objects the reader may view.
    fn keywords(&self, site: &str, filter: &ViewFilter) -> CoreResult<Vec<String>>;
    /// Every child id and position of a container (for naming and ordering).
    fn child_ids(&self, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>>;
    fn write(&self, site: &str, batch: WriteBatch) -> CoreResult<()>;
    fn setting(&self, site: &str, key: &str) -> CoreResult<Option<Value>>;
    /// Every setting of a site, by key (`cairn export`).
    fn settings(&self, site: &str) -> CoreResult<Vec<(String, Value)>>;
    fn put_setting(&self, site: &str, key: &str, value: &Value) -> CoreResult<()>;
    /// A counter that changes whenever committed content changes, so callers
    /// can cache derived data (rendered responses) and detect staleness.
    fn generation(&self) -> u64 {
        0
    }
    /// Grows with every write another node committed to the shared
    /// database (heard through its change feed), and whenever this store
    /// may have missed one; 0 for a store with one writer. Caches in front
    /// of the store drop what they hold when it moves.
    fn remote_writes(&self) -> u64 {
        0
    }
    /// Brings what this process serves up to every write of `site` the
    /// database has committed, another node's too, before an author's
    /// request (read-your-writes across nodes: the change feed alone may
    /// still be on its way). Afterwards [`Self::remote_writes`] has moved
    /// if anything was missed. A no-op where one process owns the database.
    fn sync(&self, _site: &str) -> CoreResult<()> {
        Ok(())
    }
    /// Round trips that reached the database, when this store counts them.
    fn stats(&self) -> Option<&crate::stats::StoreStats> {
        None
    }
    /// Number of change events in a site's outbox (observability, tests).
    fn outbox_len(&self, site: &str) -> CoreResult<u64>;
    /// Position of the newest change (0 for none): where a rebuild starts following.
    fn outbox_head(&self, site: &str) -> CoreResult<i64>;
    /// Up to `limit` changes after position `after`, oldest first.
    fn outbox_after(&self, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>>;
    /// Every blob key the database refers to, in all sites: objects' fields,
    /// kept versions and users' properties (portraits). What the blob sweep keeps.
    fn referenced_blobs(&self) -> CoreResult<std::collections::HashSet<String>>;
}

/// Users, groups and memberships (the user folder).
pub trait PrincipalStore: Send + Sync {
    /// Grows with every change to users, groups or memberships, whoever
    /// makes it: caches of credentials, roles and portraits compare it to
    /// drop what a change made stale.
    fn principals_generation(&self) -> u64;
    fn user(&self, site: &str, id: &str) -> CoreResult<Option<UserRecord>>;
    fn put_user(&self, site: &str, user: &UserRecord) -> CoreResult<()>;
    /// Removes the user and their memberships; false when there was none.
    fn delete_user(&self, site: &str, id: &str) -> CoreResult<bool>;
    fn find_users(&self, site: &str, q: &PrincipalQuery) -> CoreResult<Vec<UserRecord>>;
    /// Users whose e-mail address is `email`, case-insensitively (at most
    /// `limit`): login by address, and keeping addresses unique.
    fn users_by_email(&self, site: &str, email: &str, limit: usize) -> CoreResult<Vec<UserRecord>>;
    /// How many users match `q` (ignoring its page).
    fn count_users(&self, site: &str, q: &PrincipalQuery) -> CoreResult<usize>;
    fn group(&self, site: &str, id: &str) -> CoreResult<Option<GroupRecord>>;
    fn put_group(&self, site: &str, group: &GroupRecord) -> CoreResult<()>;
    /// Removes the group and its memberships; false when there was none.
    fn delete_group(&self, site: &str, id: &str) -> CoreResult<bool>;
    fn find_groups(&self, site: &str, q: &PrincipalQuery) -> CoreResult<Vec<GroupRecord>>;
    fn set_member(&self, site: &str, group: &str, member: &str, present: bool) -> CoreResult<()>;
    fn members(&self, site: &str, group: &str) -> CoreResult<Vec<String>>;
    fn groups_of(&self, site: &str, member: &str) -> CoreResult<Vec<String>>;
}

/// One object a full-text index found, and how well it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub uid: String,
    pub score: f32,
}

/// Settings key under which a full-text indexer saves the outbox position
/// its index has reached (committed): where it resumes, and how far it lags.
/// It is one consumer of the outbox among others (see [`crate::jobs::consumer_key`]).
pub const FULL_TEXT_POSITION_KEY: &str = "outbox.position.search";

/// In scale-out mode every node keeps an embedded index of its own, so each
/// saves its own position: this prefix and the node's id. Such a position
/// holds the outbox back only while its node says it is alive (a stamp
/// under [`FULL_TEXT_ALIVE_PREFIX`] and the id, in Unix milliseconds, renewed
/// every [`FULL_TEXT_ALIVE_EVERY_MS`]); a node that was gone longer finds
/// the outbox pruned past it and rebuilds its index.
pub const FULL_TEXT_NODE_PREFIX: &str = "outbox.position.search.";
/// See [`FULL_TEXT_NODE_PREFIX`].
pub const FULL_TEXT_ALIVE_PREFIX: &str = "search.alive.";
/// How often a node renews its stamp; one silent for an hour counts as gone.
pub const FULL_TEXT_ALIVE_EVERY_MS: i64 = 60_000;
/// Silence after which a node's index position no longer holds the outbox.
pub const FULL_TEXT_GONE_AFTER_MS: i64 = 3_600_000;

/// Settings key recording the newest outbox position pruned away: an index
/// whose position is behind it missed changes and must be rebuilt.
pub const OUTBOX_PRUNED_KEY: &str = "outbox.pruned_through";

/// A site's full-text index: ranks objects for a SearchableText query. It
/// follows the change outbox on its own schedule; the freshness hooks let a
/// reader wait for the writes it must see (read-your-writes).
pub trait FullText: Send + Sync {
    /// The best `limit` matches, best first. Permissions are not applied:
    /// callers filter the hits against the catalog.
    fn search(&self, query: &cairn_model::fulltext::Query, limit: usize) -> CoreResult<std::sync::Arc<Vec<Hit>>>;
    /// Grows whenever the index takes in changes, so cached answers built on
    /// its hits can tell they are stale.
    fn version(&self) -> u64;
    /// Every change up to this outbox position is searchable.
    fn indexed(&self) -> i64;
    /// Waits until every change up to `position` is searchable, at most
    /// `timeout` (asking the indexer to hurry); false when time ran out.
    fn wait_for(&self, position: i64, timeout: std::time::Duration) -> bool;
}

/// Stored bytes opened for reading, so a download streams them (or a range
/// of them) instead of holding the whole file in memory.
#[derive(Debug)]
pub struct BlobFile {
    pub file: std::fs::File,
    /// Length in bytes.
    pub len: u64,
}

/// What [`BlobStore::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutBlob {
    /// The SHA-256 hex digest of the bytes.
    pub key: String,
    /// The bytes were not stored before this call (else they are kept as
    /// they were, their age reset).
    pub created: bool,
}

/// What lies in the blob store, for the sweep of unreferenced blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobKind {
    /// Stored bytes under their key.
    Original,
    /// A blob computed from an original (an image scale); its name starts
    /// with the original's key and a `-`.
    Derived,
    /// A file a write left half done (a crash between writing and renaming).
    Partial,
}

/// One entry of the blob store.
#[derive(Debug, Clone)]
pub struct BlobEntry {
    pub kind: BlobKind,
    pub name: String,
    /// Last written, or last put again (see [`PutBlob::created`]).
    pub modified: std::time::SystemTime,
}

/// Content-addressed storage of file and image bytes.
pub trait BlobStore: Send + Sync {
    /// Stores bytes under their SHA-256 digest, unless they are there already.
    fn put(&self, bytes: &[u8]) -> CoreResult<PutBlob>;
    /// Whether bytes are stored under `key`.
    fn exists(&self, key: &str) -> CoreResult<bool>;
    /// Everything in the store (the sweep decides what goes).
    fn entries(&self) -> CoreResult<Vec<BlobEntry>>;
    /// Removes one entry; one that is gone already is no error.
    fn remove(&self, kind: &BlobKind, name: &str) -> CoreResult<()>;
    fn get(&self, key: &str) -> CoreResult<Option<Vec<u8>>>;
    /// Opens a blob for reading (`None` when there is none under `key`).
    fn open(&self, key: &str) -> CoreResult<Option<BlobFile>>;
    /// A derived blob (image scale) under a name computed from its source.
    fn get_derived(&self, name: &str) -> CoreResult<Option<Vec<u8>>>;
    fn put_derived(&self, name: &str, bytes: &[u8]) -> CoreResult<()>;
    /// Other processes (nodes) store into it too, so what this process
    /// added may since be another's: a failed write then leaves its blobs
    /// to the sweep instead of removing them.
    fn shared(&self) -> bool {
        false
    }
}
