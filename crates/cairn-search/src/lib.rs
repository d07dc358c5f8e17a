//! Full text for cairn. This crate holds what any engine needs: the text an
//! object is found by ([`extract`]) and the SearchableText query language
//! Plone users type ([`query`]), parsed and bounded before it reaches the
//! embedded index ([`engine`]).

pub mod engine;
pub mod extract;
pub mod freshness;
pub mod indexer;
pub mod query;

pub use engine::{EngineError, Hit, SearchIndex};
pub use extract::{SearchableText, searchable_text};
pub use freshness::Freshness;
pub use indexer::{IndexerError, catch_up, lag, rebuild};
pub use query::{Query, QueryError, all_of, parse};
