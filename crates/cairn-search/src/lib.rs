//! Full text for cairn: the embedded engine ([`engine`], tantivy) that
//! implements the core's full-text port, the text an object is found by
//! ([`extract`]) and the indexer that feeds the engine from the change outbox
//! ([`indexer`], [`freshness`]) through the [`Engine`] port that every
//! engine implements and whose shared test suite is [`testkit`]. The
//! SearchableText query language it answers is pure data in
//! `cairn_model::fulltext`, re-exported here.

pub mod engine;
pub mod extract;
pub mod freshness;
pub mod indexer;
pub mod port;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use cairn_model::fulltext::{Query, QueryError, all_of, parse};
pub use engine::{EngineError, Hit, SearchIndex};
pub use extract::{SearchableText, searchable_text};
pub use freshness::Freshness;
pub use indexer::{IndexerError, Sink, behind_pruning, catch_up, rebuild, take_all, take_in};
pub use port::Engine;
