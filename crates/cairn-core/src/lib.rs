//! cairn-core: the application. Sites, content services, the read side
//! (search, listings, collections: [`search`]), security checks and the ports
//! (traits) that storage and full-text adapters implement. No HTTP, no SQL here.

pub mod auth;
pub mod blobs;
pub mod bootstrap;
pub mod cache;
pub mod caching;
pub mod catalog;
pub mod content;
pub mod error;
pub mod images;
pub mod jobs;
pub mod mail;
pub mod ports;
pub mod principals;
pub mod records;
pub mod repo;
pub mod search;
pub mod security;
pub mod site;
pub mod stats;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod transfer;
pub mod types;
pub mod upgrade;
pub mod vocabularies;

pub use content::Content;
pub use error::{CoreError, CoreResult, FieldError, StorageError, StorageKind};
pub use security::Principal;
pub use site::{Site, SiteSettings};
