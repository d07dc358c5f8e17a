//! Cached settings (the registry, saved types, secrets): read on every
//! request that needs them, changed rarely. A value is forgotten when a
//! batch or `put_setting` writes its key; a read that raced such a write
//! does not keep what it read (the version check below).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::error::CoreResult;

/// Most settings kept at once.
const MAX_KEYS: usize = 1024;

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation: a read that began before it keeps nothing.
    version: u64,
    values: HashMap<(String, String), Option<Value>>,
}

#[derive(Default)]
pub(super) struct Settings(Mutex<Inner>);

impl Settings {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached value, or `load`'s (kept unless a write came in between).
    pub(super) fn get(
        &self,
        site: &str,
        key: &str,
        load: impl FnOnce() -> CoreResult<Option<Value>>,
    ) -> CoreResult<Option<Value>> {
        let k = (site.to_string(), key.to_string());
        let version = {
            let inner = self.lock();
            if let Some(v) = inner.values.get(&k) {
                return Ok(v.clone());
            }
            inner.version
        };
        let value = load()?;
        let mut inner = self.lock();
        if inner.version == version {
            // Keys can come from requests (a reset token's user id): the
            // cache is bounded, and starts over rather than grow.
            if inner.values.len() >= MAX_KEYS {
                inner.values.clear();
            }
            inner.values.insert(k, value.clone());
        }
        Ok(value)
    }

    /// Forgets `keys` of `site` (after the write that changed them committed).
    pub(super) fn forget<'a>(&self, site: &str, keys: impl Iterator<Item = &'a str>) {
        let mut inner = self.lock();
        inner.version += 1;
        for key in keys {
            inner.values.remove(&(site.to_string(), key.to_string()));
        }
    }

    /// Forgets every value (another node may have changed any).
    pub(super) fn clear(&self) {
        let mut inner = self.lock();
        inner.version += 1;
        inner.values.clear();
    }
}
