//! API tests: the real server over HTTP on port 0 with a fresh database.

mod blob_gc;
mod bulk;
mod cache;
mod collections;
mod conformance;
mod consistency;
mod content;
mod downloads;
mod files;
mod fulltext;
mod hardening;
mod helpers;
mod image_limits;
mod leaks;
mod login;
mod privileges;
mod queries;
mod search;
mod security;
mod sharing;
mod sites;
mod structure;
mod uploads;
mod users;
mod vocabularies;
mod workflows;
