//! Content services: read, create, update, delete and reorder objects.
//!
//! Each write builds one [`WriteBatch`](crate::ports::WriteBatch) (objects plus
//! outbox events) and hands it to the store, which commits it atomically.

pub mod aliases;
pub mod bulk;
pub mod copymove;
mod create;
pub(crate) mod fields;
pub mod history;
pub mod links;
pub mod lock;
mod order;
mod read;
pub mod relations;
mod replant;
pub mod sharing;
pub mod surroundings;
pub mod translations;
pub mod trash;
mod update;
pub mod urls;
pub mod workflow;
pub mod workingcopy;

pub use create::create;
pub use order::{Ordering, SortSpec};
pub use read::{find, get, get_visible, path_of_ref, unique_id};
pub use surroundings::Surroundings;
pub use update::{delete, update};
