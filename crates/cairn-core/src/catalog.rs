//! Structured catalog queries: what to match, how to sort and which page.
//! The store translates one into a single SQL query with the reader's view
//! filter applied; [`crate::search`] builds and runs them (full-text hits
//! arrive as [`CatalogQuery::ranked`]).

use cairn_model::ContentPath;

/// Sortable catalog indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOn {
    Position,
    SortableTitle,
    Created,
    Modified,
    Effective,
    Expires,
    Id,
    PortalType,
    ReviewState,
    Path,
}

impl SortOn {
    /// The index named by a `sort_on` value, `None` for unknown names.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "getObjPositionInParent" => Self::Position,
            "sortable_title" | "Title" => Self::SortableTitle,
            "created" | "CreationDate" => Self::Created,
            "modified" | "ModificationDate" => Self::Modified,
            "effective" | "Date" | "EffectiveDate" => Self::Effective,
            "expires" | "ExpirationDate" => Self::Expires,
            "id" | "getId" => Self::Id,
            "portal_type" | "Type" => Self::PortalType,
            "review_state" => Self::ReviewState,
            "path" | "getPath" => Self::Path,
            _ => return None,
        })
    }
}

/// Date indexes a query can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateIndex {
    Created,
    Modified,
    Effective,
    Expires,
    /// An event's start and end (fields of the Event type).
    Start,
    End,
}

impl DateIndex {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "created" => Self::Created,
            "modified" => Self::Modified,
            "effective" => Self::Effective,
            "expires" => Self::Expires,
            "start" => Self::Start,
            "end" => Self::End,
            _ => return None,
        })
    }
}

/// A date bound on one index: `(index, min, max)`, inclusive, ISO strings in stored form.
pub type DateRange = (DateIndex, Option<String>, Option<String>);

/// A structured query.
#[derive(Debug, Clone, Default)]
pub struct CatalogQuery {
    /// Roots to search below (any of them); empty means the whole site.
    pub paths: Vec<ContentPath>,
    /// `None`: each root and everything below; `Some(0)`: the roots only;
    /// `Some(1)`: their children; `Some(n)` for n >= 2: each root and the
    /// objects up to n levels below it (Plone's ExtendedPathIndex answers a
    /// depth of 1 from a shortcut that leaves the root out, deeper ones not).
    pub depth: Option<usize>,
    pub portal_types: Vec<String>,
    pub review_states: Vec<String>,
    /// Types and states to leave out (`selection.none`).
    pub not_portal_types: Vec<String>,
    pub not_review_states: Vec<String>,
    /// Objects to leave out (the context of a listing).
    pub not_uids: Vec<String>,
    /// Date bounds, ISO strings in stored form: `(index, min, max)`, inclusive.
    pub date_ranges: Vec<DateRange>,
    /// Caps the whole result set (plone.app.querystring's `limit`).
    pub max_results: Option<usize>,
    pub uids: Vec<String>,
    /// Full-text hits, best first: only these objects match, and when `sort`
    /// is empty the page follows this order (relevance).
    pub ranked: Option<Vec<String>>,
    pub ids: Vec<String>,
    /// Subject keywords: objects with any of them, or with all when `subjects_all`.
    pub subjects: Vec<String>,
    pub subjects_all: bool,
    /// Objects one of these users created (Plone's `Creator`).
    pub creators: Vec<String>,
    /// Objects in one of these languages (`""`: language-neutral).
    pub languages: Vec<String>,
    pub is_folderish: Option<bool>,
    pub exclude_from_nav: Option<bool>,
    /// Sort keys in order, `true` for descending.
    pub sort: Vec<(SortOn, bool)>,
    pub start: usize,
    pub limit: usize,
    /// Only objects whose path sorts after this one: keyset paging for walks
    /// over the whole site by path, which OFFSET would make quadratic.
    pub after_path: Option<ContentPath>,
    /// Skip counting the matches (the total comes back as 0): for walks
    /// that counted once already.
    pub uncounted: bool,
    /// Load only summary fields (no rich text or blocks).
    pub light: bool,
}

/// The most search roots one query may have (each is a range scan).
pub const MAX_PATHS: usize = 32;
/// The most sort keys (there are only ten sortable indexes).
pub const MAX_SORT_KEYS: usize = 10;
/// The most values in one list criterion (types, UIDs, ids, subjects…).
pub const MAX_VALUES: usize = 1000;
/// The most subjects that must all be present (each is its own subquery).
pub const MAX_ALL_SUBJECTS: usize = 32;
/// The most date bounds.
pub const MAX_DATE_RANGES: usize = 32;

impl CatalogQuery {
    /// Refuses a query larger than any form sends, before the database sees
    /// it: a store turns each value into SQL, and its expression limits would
    /// otherwise fail as a server error. The message says which bound.
    pub fn check_bounds(&self) -> crate::CoreResult<()> {
        let too_many = |what: &str, max: usize| {
            Err(crate::CoreError::BadRequest(format!(
                "A query may have at most {max} {what}."
            )))
        };
        if self.paths.len() > MAX_PATHS {
            return too_many("paths", MAX_PATHS);
        }
        if self.sort.len() > MAX_SORT_KEYS {
            return too_many("sort keys", MAX_SORT_KEYS);
        }
        if self.date_ranges.len() > MAX_DATE_RANGES {
            return too_many("date criteria", MAX_DATE_RANGES);
        }
        if self.subjects_all && self.subjects.len() > MAX_ALL_SUBJECTS {
            return too_many("subjects that must all match", MAX_ALL_SUBJECTS);
        }
        let lists = [
            ("portal types", &self.portal_types),
            ("review states", &self.review_states),
            ("excluded portal types", &self.not_portal_types),
            ("excluded review states", &self.not_review_states),
            ("excluded UIDs", &self.not_uids),
            ("UIDs", &self.uids),
            ("ids", &self.ids),
            ("subjects", &self.subjects),
            ("creators", &self.creators),
            ("languages", &self.languages),
        ];
        for (what, list) in lists {
            if list.len() > MAX_VALUES {
                return too_many(what, MAX_VALUES);
            }
        }
        Ok(())
    }
}
