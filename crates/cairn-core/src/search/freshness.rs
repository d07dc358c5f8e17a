//! Read-your-writes for full text, and how far an index lags. The index
//! follows the change outbox on its own schedule; an author who searches
//! right after saving waits, bounded, until the index holds every write
//! committed before the search.

use std::time::Duration;

use crate::ports::FullText;
use crate::{CoreResult, Principal, Site};

/// Longest an authenticated search waits for the index to take in the
/// writes committed before it.
pub const WAIT: Duration = Duration::from_secs(3);

/// Lets `index` catch up with every write committed so far before an
/// authenticated reader searches it; anonymous readers (whose answers a
/// CDN keeps anyway) search what the index has. Past [`WAIT`] the search
/// goes ahead, logged.
pub fn catch_up_for(site: &Site, who: &Principal, index: &dyn FullText) -> CoreResult<()> {
    if who.is_anonymous() {
        return Ok(());
    }
    // Read-your-writes: an author finds what they (or anyone) saved
    // before this request, whatever the indexer's batching.
    let head = site.store.outbox_head(&site.id)?;
    if !index.wait_for(head, WAIT) {
        tracing::warn!(site = %site.id, head, "full-text index still behind; searching what it has");
    }
    Ok(())
}

/// Changes written to the database that a site's full-text index has not
/// taken in yet (what this node's index has reached).
pub fn lag(site: &Site, index: &dyn FullText) -> CoreResult<i64> {
    Ok((site.store.outbox_head(&site.id)? - index.indexed()).max(0))
}
