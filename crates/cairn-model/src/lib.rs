//! cairn-model: the pure data of cairn — identifiers, paths, content type
//! schemas, field validation and the SearchableText query language. No IO,
//! no async; every other crate builds on it.

pub mod blocks;
pub mod delta;
pub mod fulltext;
pub mod ids;
pub mod links;
pub mod mime;
pub mod schema;
pub mod time;
pub mod values;
pub mod workflow;

pub use ids::{ContentId, ContentPath, IdError, Uid};
pub use schema::{FieldDef, FieldKind, ResolvedType, SchemaSources, TypeDef, TypeRegistry};
pub use workflow::{WorkflowDef, Workflows};

/// The standard schema files shipped with cairn (types, behaviors, profiles).
pub mod builtin;
