//! Uploads of writes that have not committed yet.
//!
//! Blobs are shared by content address, so two writes may upload the same
//! bytes at once, and a blob one write created may be what another commits.
//! Each key a write stored is pinned until it commits or fails; a failed
//! write removes a blob only when it is the last writer holding it and the
//! blob was new (no committed object had it before, none committed it since).
//! Pins and removals happen under one lock, so a removal never races a put.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::CoreResult;
use crate::ports::{BlobKind, BlobStore};

#[derive(Debug, Default)]
struct Pin {
    /// Writes holding the key.
    writers: usize,
    /// The blob did not exist before these writes and none has committed it.
    fresh: bool,
}

/// The pins of all in-flight writes on one blob store (shared by its sites).
pub struct Uploads {
    blobs: Arc<dyn BlobStore>,
    pins: Mutex<HashMap<String, Pin>>,
}

impl Uploads {
    /// The registry for writes to `blobs`.
    pub fn new(blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            blobs,
            pins: Mutex::default(),
        }
    }

    /// Starts collecting the uploads of one write.
    pub fn begin(&self) -> Pending<'_> {
        Pending {
            uploads: self,
            keys: Vec::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pin>> {
        // A panic while holding the map leaves it consistent: keep going.
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes an original blob unless an in-flight write holds it (the sweep).
    pub(super) fn remove_unless_pinned(&self, key: &str) -> CoreResult<bool> {
        let pins = self.lock();
        if pins.contains_key(key) {
            return Ok(false);
        }
        self.blobs.remove(&BlobKind::Original, key)?;
        Ok(true)
    }

    pub(super) fn blobs(&self) -> &dyn BlobStore {
        &*self.blobs
    }
}

/// The blobs one write stored; dropped without [`Pending::commit`] (an
/// error, a conflict, a panic), it removes those only this write wanted.
pub struct Pending<'a> {
    uploads: &'a Uploads,
    keys: Vec<String>,
}

impl Pending<'_> {
    /// Stores `bytes` for this write and returns their key.
    pub fn put(&mut self, bytes: &[u8]) -> CoreResult<String> {
        let put = self.uploads.blobs.put(bytes)?;
        let mut pins = self.uploads.lock();
        // A failed write may have removed the blob between the put and this
        // pin; now that it is pinned nobody removes it, so put it back.
        let created = if !put.created && !self.uploads.blobs.exists(&put.key)? {
            self.uploads.blobs.put(bytes)?.created
        } else {
            put.created
        };
        let pin = pins.entry(put.key.clone()).or_default();
        pin.writers += 1;
        pin.fresh |= created;
        drop(pins);
        self.keys.push(put.key.clone());
        Ok(put.key)
    }

    /// The write committed: its blobs are referenced now.
    pub fn commit(mut self) {
        self.release(true);
    }

    fn release(&mut self, committed: bool) {
        if self.keys.is_empty() {
            return;
        }
        let mut pins = self.uploads.lock();
        for key in self.keys.drain(..) {
            let Some(pin) = pins.get_mut(&key) else {
                continue;
            };
            pin.writers -= 1;
            pin.fresh &= !committed;
            if pin.writers > 0 {
                continue;
            }
            // A store other nodes write to may have had the same bytes
            // committed there meanwhile: only the sweep, past its grace, decides.
            let fresh = pin.fresh && !self.uploads.blobs.shared();
            pins.remove(&key);
            if fresh && let Err(e) = self.uploads.blobs.remove(&BlobKind::Original, &key) {
                // The sweep will find it.
                tracing::warn!(blob = %key, error = %e, "removing the blob of a failed write failed");
            }
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.release(false);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::Uploads;
    use crate::error::CoreResult;
    use crate::ports::{BlobEntry, BlobFile, BlobKind, BlobStore, PutBlob};

    /// Originals only, in memory.
    #[derive(Default)]
    struct Mem(Mutex<HashMap<String, Vec<u8>>>);

    impl BlobStore for Mem {
        fn put(&self, bytes: &[u8]) -> CoreResult<PutBlob> {
            let key = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
            let created = self.0.lock().unwrap().insert(key.clone(), bytes.to_vec()).is_none();
            Ok(PutBlob { key, created })
        }
        fn exists(&self, key: &str) -> CoreResult<bool> {
            Ok(self.0.lock().unwrap().contains_key(key))
        }
        fn entries(&self) -> CoreResult<Vec<BlobEntry>> {
            Ok(Vec::new())
        }
        fn remove(&self, _: &BlobKind, name: &str) -> CoreResult<()> {
            self.0.lock().unwrap().remove(name);
            Ok(())
        }
        fn get(&self, key: &str) -> CoreResult<Option<Vec<u8>>> {
            Ok(self.0.lock().unwrap().get(key).cloned())
        }
        fn open(&self, _: &str) -> CoreResult<Option<BlobFile>> {
            Ok(None)
        }
        fn get_derived(&self, _: &str) -> CoreResult<Option<Vec<u8>>> {
            Ok(None)
        }
        fn put_derived(&self, _: &str, _: &[u8]) -> CoreResult<()> {
            Ok(())
        }
    }

    fn setup() -> (Arc<Mem>, Uploads) {
        let mem = Arc::new(Mem::default());
        let uploads = Uploads::new(mem.clone());
        (mem, uploads)
    }

    #[test]
    fn a_failed_write_removes_only_what_it_alone_added() {
        let (mem, uploads) = setup();
        let mut failed = uploads.begin();
        let key = failed.put(b"new").unwrap();
        drop(failed);
        assert!(!mem.exists(&key).unwrap(), "the failed write's blob stayed");

        // Bytes stored before the write are not the write's to remove.
        let old = mem.put(b"old").unwrap().key;
        let mut failed = uploads.begin();
        failed.put(b"old").unwrap();
        drop(failed);
        assert!(mem.exists(&old).unwrap());
    }

    #[test]
    fn the_same_bytes_from_two_writes_stay_while_either_commits() {
        let (mem, uploads) = setup();
        // The one that created the blob fails after the other committed.
        let (mut a, mut b) = (uploads.begin(), uploads.begin());
        let key = a.put(b"same").unwrap();
        b.put(b"same").unwrap();
        b.commit();
        drop(a);
        assert!(mem.exists(&key).unwrap());

        // The one that created it fails first, the other commits later.
        let (mut a, mut b) = (uploads.begin(), uploads.begin());
        let key = a.put(b"again").unwrap();
        b.put(b"again").unwrap();
        drop(a);
        assert!(mem.exists(&key).unwrap(), "removed while another write held it");
        b.commit();
        assert!(mem.exists(&key).unwrap());

        // Both fail: it goes.
        let (mut a, mut b) = (uploads.begin(), uploads.begin());
        let key = a.put(b"both fail").unwrap();
        b.put(b"both fail").unwrap();
        drop(b);
        drop(a);
        assert!(!mem.exists(&key).unwrap());
    }

    #[test]
    fn a_blob_pinned_by_a_write_in_flight_survives_the_sweep() {
        let (mem, uploads) = setup();
        let mut a = uploads.begin();
        let key = a.put(b"in flight").unwrap();
        assert!(!uploads.remove_unless_pinned(&key).unwrap());
        assert!(mem.exists(&key).unwrap());
        a.commit();
        // Once committed and unpinned, the sweep decides; a later write stores it anew.
        mem.remove(&BlobKind::Original, &key).unwrap();
        let mut b = uploads.begin();
        b.put(b"in flight").unwrap();
        assert!(mem.exists(&key).unwrap());
        b.commit();
    }
}
