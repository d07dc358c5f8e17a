//! Full text for cairn: the embedded engine ([`engine`], tantivy) that
//! implements the core's full-text port, the text an object is found by
//! ([`extract`]) and the indexer that feeds the engine from the change outbox
//! ([`indexer`], [`freshness`]). The SearchableText query language it answers
//! is pure data in `cairn_model::fulltext`, re-exported here.

pub mod engine;
pub mod extract;
pub mod freshness;
pub mod indexer;

pub use cairn_model::fulltext::{Query, QueryError, all_of, parse};
pub use engine::{EngineError, Hit, SearchIndex};
pub use extract::{SearchableText, searchable_text};
pub use freshness::Freshness;
pub use indexer::{IndexerError, behind_pruning, catch_up, rebuild};
