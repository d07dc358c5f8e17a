//! Listings a page shows around an object: a folder's items, its previous
//! and next siblings, navigation trees, breadcrumbs and related items. Each
//! is one catalog query filtered on what the reader may view.

use std::sync::Arc;

use cairn_model::{ContentPath, Uid};

use super::Searcher;
use crate::{Content, CoreResult};

impl Searcher<'_> {
    /// Visible children of `parent` by position, one page, and their total;
    /// `light` loads only what a summary shows (no text, no blocks).
    pub fn children(
        &self,
        parent: &ContentPath,
        start: usize,
        limit: usize,
        light: bool,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.site
            .store
            .children(&self.site.id, parent, self.filter, (start, limit), light)
    }

    /// The visible siblings just before and after `position` in `parent`.
    pub fn neighbours(&self, parent: &ContentPath, position: i64) -> CoreResult<(Option<Content>, Option<Content>)> {
        self.site.store.neighbours(&self.site.id, parent, position, self.filter)
    }

    /// Visible objects of the navigation's types strictly below `root`, at
    /// most `depth` levels down, by path then position, with summary fields
    /// only (shared with the store's cache: never write them back).
    pub fn nav_tree(&self, root: &ContentPath, depth: usize) -> CoreResult<Arc<Vec<Content>>> {
        let types = crate::records::strings(self.site, "plone.displayed_types")?;
        self.site
            .store
            .nav_tree(&self.site.id, root, depth, &types, self.filter)
    }

    /// The visible ancestors of `path` below the site root, top down.
    pub fn ancestors(&self, path: &ContentPath) -> CoreResult<Vec<Content>> {
        let mut paths = path.ancestors();
        paths.retain(|p| !p.is_root());
        let mut chain = self.site.store.by_paths(&self.site.id, &paths)?;
        chain.retain(|a| self.filter.allows(a));
        chain.sort_by_key(|a| a.path.depth());
        Ok(chain)
    }

    /// The object at `path` if the reader may view it (`None` otherwise).
    pub fn visible(&self, path: &ContentPath) -> CoreResult<Option<Content>> {
        Ok(self
            .site
            .store
            .by_path(&self.site.id, path)?
            .filter(|c| self.filter.allows(c)))
    }

    /// The objects with these UIDs that the reader may view (related items,
    /// references), in the store's order; the others are left out.
    pub fn visible_by_uids(&self, uids: &[Uid]) -> CoreResult<Vec<Content>> {
        let mut found = self.site.store.by_uids(&self.site.id, uids)?;
        found.retain(|c| self.filter.allows(c));
        Ok(found)
    }
}
