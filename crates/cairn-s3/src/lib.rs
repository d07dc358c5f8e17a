//! Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph, ...), so
//! several cairn nodes share files and images without sharing a disk.
//! Originals live under `<prefix>blobs/<ab>/<sha256>`, image scales under
//! `<prefix>derived/<name>`; an upload is one PUT, which the store makes
//! visible whole or not at all, so no partial objects exist to sweep.
//!
//! The port is synchronous (`docs/ports.md`) and `object_store` is async:
//! the adapter owns a small tokio runtime and blocks on it for each call.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cairn_core::blobs::{is_derived_name, is_key};
use cairn_core::ports::{BlobEntry, BlobFile, BlobKind, BlobStore, PutBlob};
use cairn_core::{CoreError, CoreResult, StorageError, StorageKind};
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

/// Where the objects live and how to reach them (`blobs.s3` in the settings).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct S3Settings {
    pub bucket: String,
    /// The service's URL; AWS's own when unset (`https://s3.<region>.amazonaws.com`).
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Prepended to every object name, so one bucket can hold several sites.
    #[serde(default)]
    pub prefix: String,
    /// Allows an `http://` endpoint (a server on the same host or network).
    #[serde(default)]
    pub allow_http: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// Blob store on S3.
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Empty, or segments ending in `/` (`kanton/`).
    prefix: String,
    /// Taken in `drop`: a runtime dropped on another runtime's thread panics.
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for S3BlobStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `kanton`, `/kanton/` and `kanton/` all name the folder `kanton/`.
fn normalize_prefix(p: &str) -> String {
    let segments: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        String::new()
    } else {
        format!("{}/", segments.join("/"))
    }
}

fn err(e: object_store::Error) -> CoreError {
    CoreError::Storage(StorageError::new(StorageKind::Other, e))
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::Storage(StorageError::other(e))
}

fn is_missing(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl S3BlobStore {
    /// Connects (lazily: the first call reaches the service).
    pub fn open(s: &S3Settings) -> CoreResult<Self> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            .with_allow_http(s.allow_http);
        if let Some(endpoint) = &s.endpoint {
            // Path-style addressing: what MinIO and most self-hosted stores expect.
            b = b.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        let store = b.build().map_err(err)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-blobs")
            .enable_all()
            .build()
            .map_err(io)?;
        Ok(Self {
            store: Arc::new(store),
            prefix: normalize_prefix(&s.prefix),
            rt: Some(rt),
        })
    }

    /// Runs `f` to completion on the adapter's runtime, also when called
    /// from a thread that drives another runtime.
    fn block<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        // Present from `open` until `drop`.
        let rt = self.rt.as_ref().expect("the runtime lives as long as the store");
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::task::block_in_place(|| rt.block_on(f))
        } else {
            rt.block_on(f)
        }
    }

    fn original(&self, key: &str) -> Option<Path> {
        is_key(key).then(|| Path::from(format!("{}blobs/{}/{key}", self.prefix, &key[..2])))
    }

    fn derived(&self, name: &str) -> Option<Path> {
        is_derived_name(name).then(|| Path::from(format!("{}derived/{name}", self.prefix)))
    }

    fn read(&self, path: Option<Path>) -> CoreResult<Option<Vec<u8>>> {
        let Some(path) = path else { return Ok(None) };
        self.block(async {
            match self.store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(err)?.to_vec())),
                Err(e) if is_missing(&e) => Ok(None),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> CoreResult<()> {
        self.block(self.store.put(path, PutPayload::from(bytes.to_vec())))
            .map(|_| ())
            .map_err(err)
    }
}

fn system_time(t: &object_store::ObjectMeta) -> SystemTime {
    let ms = t.last_modified.timestamp_millis();
    match u64::try_from(ms) {
        Ok(ms) => SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

impl BlobStore for S3BlobStore {
    fn put(&self, bytes: &[u8]) -> CoreResult<PutBlob> {
        let key = hex::encode(Sha256::digest(bytes));
        let path = self
            .original(&key)
            .ok_or_else(|| CoreError::Internal("bad key".into()))?;
        let created = !self.exists(&key)?;
        // Written again when present: its age restarts, so a sweep leaves it
        // to the write about to refer to it (as the filesystem store does).
        self.write(&path, bytes)?;
        Ok(PutBlob { key, created })
    }

    fn exists(&self, key: &str) -> CoreResult<bool> {
        let Some(path) = self.original(key) else {
            return Ok(false);
        };
        self.block(async {
            match self.store.head(&path).await {
                Ok(_) => Ok(true),
                Err(e) if is_missing(&e) => Ok(false),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn entries(&self) -> CoreResult<Vec<BlobEntry>> {
        let root = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.trim_end_matches('/')));
        let listed: Vec<object_store::ObjectMeta> = self.block(async {
            let mut out = Vec::new();
            let mut all = self.store.list(root.as_ref());
            while let Some(meta) = all.next().await {
                out.push(meta.map_err(err)?);
            }
            Ok::<_, CoreError>(out)
        })?;
        let blobs = format!("{}blobs/", self.prefix);
        let derived = format!("{}derived/", self.prefix);
        Ok(listed
            .iter()
            .filter_map(|m| {
                let name = m.location.as_ref();
                let (kind, name) = if let Some(rest) = name.strip_prefix(&blobs) {
                    (BlobKind::Original, rest.rsplit('/').next()?.to_string())
                } else {
                    (BlobKind::Derived, name.strip_prefix(&derived)?.to_string())
                };
                let ours = match kind {
                    BlobKind::Original => is_key(&name),
                    _ => is_derived_name(&name),
                };
                ours.then(|| BlobEntry {
                    kind,
                    name,
                    modified: system_time(m),
                })
            })
            .collect())
    }

    fn remove(&self, kind: &BlobKind, name: &str) -> CoreResult<()> {
        let path = match kind {
            BlobKind::Original => self.original(name),
            BlobKind::Derived => self.derived(name),
            // A PUT is whole or absent: there are no partial objects.
            BlobKind::Partial => return Ok(()),
        };
        let path = path.ok_or_else(|| CoreError::Internal(format!("bad blob name {name}")))?;
        self.block(async {
            match self.store.delete(&path).await {
                Err(e) if !is_missing(&e) => Err(err(e)),
                _ => Ok(()),
            }
        })
    }

    fn get(&self, key: &str) -> CoreResult<Option<Vec<u8>>> {
        self.read(self.original(key))
    }

    /// Streams the object into an anonymous temporary file, so a download
    /// (or a range of it) is served from disk, never held in memory whole.
    fn open(&self, key: &str) -> CoreResult<Option<BlobFile>> {
        let Some(path) = self.original(key) else {
            return Ok(None);
        };
        let mut file = tempfile::tempfile().map_err(io)?;
        let len = self.block(async {
            let got = match self.store.get(&path).await {
                Ok(r) => r,
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(err(e)),
            };
            let mut len = 0u64;
            let mut chunks = got.into_stream();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(err)?;
                std::io::Write::write_all(&mut file, &chunk).map_err(io)?;
                len += chunk.len() as u64;
            }
            Ok(Some(len))
        })?;
        let Some(len) = len else { return Ok(None) };
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(io)?;
        Ok(Some(BlobFile { file, len }))
    }

    fn get_derived(&self, name: &str) -> CoreResult<Option<Vec<u8>>> {
        self.read(self.derived(name))
    }

    /// Every node of a site writes to the same bucket.
    fn shared(&self) -> bool {
        true
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> CoreResult<()> {
        let path = self
            .derived(name)
            .ok_or_else(|| CoreError::Internal(format!("bad derived name {name}")))?;
        self.write(&path, bytes)
    }
}
