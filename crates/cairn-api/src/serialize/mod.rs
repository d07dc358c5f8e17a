//! plone.restapi serializations: full objects, summaries (catalog brains),
//! field values and the embeddable components.

pub mod components;
pub mod fields;
pub mod full;
pub mod links;
pub mod navigation;
pub mod pair;
pub mod summary;
