//! Content-addressed blobs in a local folder: `<root>/ab/abcdef…` by SHA-256,
//! derived blobs (image scales) under `<root>/derived/`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_core::ports::{BlobFile, BlobStore};
use cairn_core::{CoreError, CoreResult};
use sha2::{Digest, Sha256};

/// Blob store on the local filesystem.
pub struct FsBlobStore {
    root: PathBuf,
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::Storage(format!("blob store: {e}"))
}

impl FsBlobStore {
    /// Opens (and creates) the blob folder.
    pub fn open(root: &Path) -> CoreResult<Self> {
        fs::create_dir_all(root.join("derived")).map_err(io)?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let valid = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| self.root.join(&key[..2]).join(key))
    }

    fn derived_path(&self, name: &str) -> Option<PathBuf> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'x');
        valid.then(|| self.root.join("derived").join(name))
    }
}

/// Writes through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> CoreResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| CoreError::Storage("blob path has no parent".into()))?;
    fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id() as u64 ^ rand_suffix()));
    let mut f = fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn read_opt(path: &Path) -> CoreResult<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

impl BlobStore for FsBlobStore {
    fn put(&self, bytes: &[u8]) -> CoreResult<String> {
        let key = hex::encode(Sha256::digest(bytes));
        let path = self
            .path_of(&key)
            .ok_or_else(|| CoreError::Internal("bad key".into()))?;
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(key)
    }

    fn get(&self, key: &str) -> CoreResult<Option<Vec<u8>>> {
        match self.path_of(key) {
            Some(p) => read_opt(&p),
            None => Ok(None),
        }
    }

    fn open(&self, key: &str) -> CoreResult<Option<BlobFile>> {
        let Some(path) = self.path_of(key) else {
            return Ok(None);
        };
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let len = file.metadata().map_err(io)?.len();
        Ok(Some(BlobFile { file, len }))
    }

    fn get_derived(&self, name: &str) -> CoreResult<Option<Vec<u8>>> {
        match self.derived_path(name) {
            Some(p) => read_opt(&p),
            None => Ok(None),
        }
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> CoreResult<()> {
        let p = self
            .derived_path(name)
            .ok_or_else(|| CoreError::Internal(format!("bad derived name {name}")))?;
        write_atomic(&p, bytes)
    }
}
