//! Content-addressed blobs in a local folder: `<root>/ab/abcdef…` by SHA-256,
//! derived blobs (image scales) under `<root>/derived/`. Files are written
//! to a `.tmp-…` file and renamed, so a crash leaves at most such a partial
//! file, which the sweep removes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_core::ports::{BlobEntry, BlobFile, BlobKind, BlobStore, PutBlob};
use cairn_core::{CoreError, CoreResult};
use sha2::{Digest, Sha256};

/// Blob store on the local filesystem.
pub struct FsBlobStore {
    root: PathBuf,
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::Storage(cairn_core::StorageError::other(e))
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
        is_key(key).then(|| self.root.join(&key[..2]).join(key))
    }

    fn derived_path(&self, name: &str) -> Option<PathBuf> {
        cairn_core::blobs::is_derived_name(name).then(|| self.root.join("derived").join(name))
    }
}

/// Prefix of a file being written.
const TMP: &str = ".tmp-";

use cairn_core::blobs::is_key;

/// The entries of one folder of the store.
fn entries_in(dir: &Path, folder: &str, kind: &BlobKind, out: &mut Vec<BlobEntry>) -> CoreResult<()> {
    for e in fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Ok(meta) = e.metadata() else {
            continue; // removed meanwhile
        };
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().map_err(io)?;
        let (kind, name) = if name.starts_with(TMP) {
            (BlobKind::Partial, format!("{folder}/{name}"))
        } else if *kind == BlobKind::Derived || is_key(&name) {
            (kind.clone(), name)
        } else {
            continue; // not ours
        };
        out.push(BlobEntry { kind, name, modified });
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> CoreResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| CoreError::Storage(cairn_core::StorageError::other("blob path has no parent")))?;
    fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!("{TMP}{}", std::process::id() as u64 ^ rand_suffix()));
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
    fn put(&self, bytes: &[u8]) -> CoreResult<PutBlob> {
        let key = hex::encode(Sha256::digest(bytes));
        let path = self
            .path_of(&key)
            .ok_or_else(|| CoreError::Internal("bad key".into()))?;
        // Present already: made young again, so a sweep (even one in another
        // process) leaves it to the write that is about to refer to it.
        let present = fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        let created = match present {
            Ok(()) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_atomic(&path, bytes)?;
                true
            }
            Err(e) => return Err(io(e)),
        };
        Ok(PutBlob { key, created })
    }

    fn exists(&self, key: &str) -> CoreResult<bool> {
        Ok(self.path_of(key).is_some_and(|p| p.is_file()))
    }

    fn entries(&self) -> CoreResult<Vec<BlobEntry>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.root).map_err(io)? {
            let e = e.map_err(io)?;
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let shard = name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if shard && e.path().is_dir() {
                entries_in(&e.path(), &name, &BlobKind::Original, &mut out)?;
            }
        }
        entries_in(&self.root.join("derived"), "derived", &BlobKind::Derived, &mut out)?;
        Ok(out)
    }

    fn remove(&self, kind: &BlobKind, name: &str) -> CoreResult<()> {
        let path = match kind {
            BlobKind::Original => self.path_of(name),
            BlobKind::Derived => self.derived_path(name),
            BlobKind::Partial => name.split_once('/').and_then(|(dir, file)| {
                let dir_ok = dir == "derived" || (dir.len() == 2 && dir.bytes().all(|b| b.is_ascii_hexdigit()));
                let file_ok = file.starts_with(TMP) && !file.contains(['/', '\\']) && !file.contains("..");
                (dir_ok && file_ok).then(|| self.root.join(dir).join(file))
            }),
        };
        let path = path.ok_or_else(|| CoreError::Internal(format!("bad blob name {name}")))?;
        match fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
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
