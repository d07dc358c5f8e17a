//! Full text for cairn. This crate holds what any engine needs: the text an
//! object is found by ([`extract`]) and the SearchableText query language
//! Plone users type ([`query`]), parsed and bounded before it reaches an index.

pub mod extract;
pub mod query;

pub use extract::{SearchableText, searchable_text};
pub use query::{Query, QueryError, parse};
