//! Collections: a stored plone.app.querystring query with its sort and
//! limit, checked when written and evaluated when the Collection is read.

use cairn_model::ContentPath;
use serde_json::Value;

use super::Searcher;
use crate::catalog::{CatalogQuery, SortOn};
use crate::{Content, CoreError, CoreResult};

/// Which page of results to load, and how much of each object.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub start: usize,
    pub limit: usize,
    /// Load only summary fields (no rich text or blocks).
    pub light: bool,
}

impl Searcher<'_> {
    /// Refuses a Collection `query` that could not be evaluated when it is
    /// written, rather than listing nothing later. `null` or `[]` is an
    /// empty query.
    pub fn check_stored_query(&self, context: &ContentPath, query: &Value) -> CoreResult<()> {
        let list = match query {
            Value::Null => return Ok(()),
            Value::Array(a) => a,
            _ => return Err(CoreError::BadRequest("Invalid query.".into())),
        };
        self.criteria(context, &mut CatalogQuery::default(), list).map(drop)
    }

    /// One page of a Collection's results and their total: its stored
    /// criteria, sort and limit. Criteria are checked when written; one that
    /// no longer evaluates (its path is gone) leaves the list empty, and is
    /// logged, rather than failing the read.
    pub fn collection(&self, c: &Content, page: Page) -> CoreResult<(Vec<Content>, usize)> {
        let list = c
            .fields
            .get("query")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut q = CatalogQuery {
            start: page.start,
            limit: page.limit,
            light: page.light,
            max_results: c.fields.get("limit").and_then(Value::as_u64).map(|n| n as usize),
            not_uids: vec![c.uid.to_string()],
            ..Default::default()
        };
        // Without a sort the catalog lists in the order objects were indexed:
        // by creation, and by position among objects created in the same second.
        match c.fields.get("sort_on").and_then(Value::as_str).and_then(SortOn::parse) {
            Some(on) => q.sort.push((on, c.bool_field("sort_reversed"))),
            None => q.sort.extend([(SortOn::Created, false), (SortOn::Position, false)]),
        }
        match self.criteria(&c.path, &mut q, list) {
            // Plone lists nothing for a collection without criteria.
            Ok(_) if list.is_empty() => Ok((Vec::new(), 0)),
            Ok(text) => {
                if let Some(text) = text {
                    self.rank(&mut q, &text)?;
                }
                self.find(&q)
            }
            Err(e) => {
                tracing::warn!(collection = %c.path, error = %e, "collection query cannot be evaluated");
                Ok((Vec::new(), 0))
            }
        }
    }
}
