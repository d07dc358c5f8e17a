//! `cairn backup DEST` and `cairn restore SRC`: a consistent copy of an
//! installation, taken while it serves and accepts writes, and brought
//! back into an empty one.
//!
//! The database is copied first, as of one moment: SQLite through
//! `VACUUM INTO` (one read snapshot; in WAL mode writers go on), PostgreSQL
//! through `pg_dump` of cairn's schema (one repeatable-read snapshot). The
//! blobs are copied after it: a write stores its blobs before it commits,
//! so every blob the copy refers to is in the store by then (the sweep
//! removes only blobs unreferenced for longer than its grace). The backup
//! checks that and lists any blob the copy refers to that the store lacked.
//! The embedded full-text index is not copied: it rebuilds itself from the
//! database on the first start after a restore (PostgreSQL's is in the dump).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use cairn_core::ports::{BlobKind, BlobStore, ContentStore};
use serde::{Deserialize, Serialize};

use crate::Settings;

/// What `backup.json` says `backup` wrote.
pub const FORMAT: &str = "cairn-backup/1";
const SQLITE_FILE: &str = "cairn.sqlite";
const PG_FILE: &str = "database.pgdump";

/// The manifest of a backup folder (`backup.json`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// When the copy was taken (UTC).
    pub created: String,
    pub cairn_version: String,
    /// `sqlite` or `postgresql`.
    pub database: String,
    /// PostgreSQL: the schema the dump holds.
    #[serde(default)]
    pub schema: Option<String>,
    /// Blobs copied.
    pub blobs: usize,
    /// Blobs the database copy refers to that the store did not have.
    pub missing_blobs: Vec<String>,
    pub search_index: String,
}

/// Takes a backup of the configured installation into the new folder `dest`.
pub fn backup(settings: &Settings, dest: &Path, mut progress: impl FnMut(&str, usize)) -> anyhow::Result<Manifest> {
    ensure!(
        !dest.exists() || dest.read_dir().is_ok_and(|mut d| d.next().is_none()),
        "{} exists and is not empty: back up into a new folder",
        dest.display()
    );
    std::fs::create_dir_all(dest.join("blobs")).with_context(|| format!("while creating {}", dest.display()))?;
    progress("database", 0);
    let (database, schema, referenced, search_index) = match &settings.database_url {
        None => {
            let file = settings.data.join(SQLITE_FILE);
            ensure!(file.is_file(), "no cairn database at {}", file.display());
            let live = cairn_store::SqliteStore::open(&file)?;
            let copy = dest.join(SQLITE_FILE);
            live.snapshot_into(&copy)
                .with_context(|| format!("while copying {}", file.display()))?;
            // What the copy refers to is what a restore needs.
            let referenced = cairn_store::SqliteStore::open(&copy)?.referenced_blobs()?;
            let note = "not copied: rebuilt from the database on the first start after a restore";
            ("sqlite", None, referenced, note)
        }
        Some(url) => {
            let pg = cairn_postgres::PgStore::open(url).context("while connecting to PostgreSQL")?;
            let schema = pg.schema()?;
            // Referenced before the dump's snapshot: all still in the store after it.
            let referenced = pg.referenced_blobs()?;
            run(
                postgres_command("pg_dump", url)
                    .args(["--format=custom", "--no-owner", "--no-privileges", "--schema"])
                    .arg(&schema)
                    .arg("--file")
                    .arg(dest.join(PG_FILE)),
                "pg_dump",
            )?;
            (
                "postgresql",
                Some(schema),
                referenced,
                "in the dump (the shared full-text tables)",
            )
        }
    };
    progress("database", 1);
    let blobs = settings.blob_store()?;
    let copied = copy_blobs(&*blobs, &dest.join("blobs"), &mut progress)?;
    let mut missing: Vec<String> = referenced.difference(&copied).cloned().collect();
    missing.sort();
    if let Some(first) = missing.first() {
        tracing::warn!(
            count = missing.len(),
            first,
            "blobs the database refers to are missing from the blob store; listed in backup.json"
        );
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created: jiff::Timestamp::now().to_string(),
        cairn_version: env!("CARGO_PKG_VERSION").into(),
        database: database.into(),
        schema,
        blobs: copied.len(),
        missing_blobs: missing,
        search_index: search_index.into(),
    };
    std::fs::write(dest.join("backup.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Copies every stored original blob into `dir` (scales are made again on demand).
fn copy_blobs(
    blobs: &dyn BlobStore,
    dir: &Path,
    progress: &mut impl FnMut(&str, usize),
) -> anyhow::Result<HashSet<String>> {
    let mut copied = HashSet::new();
    for entry in blobs.entries()? {
        if entry.kind != BlobKind::Original {
            continue;
        }
        // Removed since it was listed (an unreferenced blob's sweep).
        let Some(mut blob) = blobs.open(&entry.name)? else {
            continue;
        };
        // Streamed: a blob may be as large as an upload may be.
        let mut file = std::fs::File::create(blob_path(dir, &entry.name)?)?;
        std::io::copy(&mut blob.file, &mut file)?;
        copied.insert(entry.name);
        progress("blobs", copied.len());
    }
    Ok(copied)
}

/// A blob's file in a backup: its key is its name, and only a content key
/// (hex) is one.
fn blob_path(dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    ensure!(
        !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key:?} is no blob key"
    );
    Ok(dir.join(key))
}

/// Restores the backup in `src` into the configured installation, whose
/// database must be empty (a new data folder, or a schema without cairn's
/// tables).
pub fn restore(settings: &Settings, src: &Path, mut progress: impl FnMut(&str, usize)) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(src.join("backup.json")).with_context(|| format!("no backup.json in {}", src.display()))?,
    )
    .context("while reading backup.json")?;
    ensure!(
        manifest.format == FORMAT,
        "{} holds a backup of format {:?}; this cairn reads {FORMAT}",
        src.display(),
        manifest.format
    );
    let target = match (manifest.database.as_str(), &settings.database_url) {
        ("sqlite", None) => Target::Sqlite(sqlite_target(settings)?),
        ("postgresql", Some(url)) => Target::Postgres(postgres_target(url, manifest.schema.as_deref())?),
        ("sqlite", Some(_)) => bail!(
            "this is a backup of an SQLite installation and the configuration names PostgreSQL: \
             restore it into a data folder, then move it with `cairn export` and `cairn import`"
        ),
        ("postgresql", None) => {
            bail!("this is a backup of a PostgreSQL installation: set database_url to an empty database to restore it")
        }
        (other, _) => bail!("unknown database kind {other:?} in backup.json"),
    };
    // Blobs first: a database that refers to them is only put in place
    // once they are all there, each checked against its key.
    let blobs = settings.blob_store()?;
    let mut restored = 0;
    for entry in std::fs::read_dir(src.join("blobs")).context("the backup has no blobs folder")? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(blob_path(&src.join("blobs"), &name)?)?;
        let put = blobs.put(&bytes)?;
        ensure!(put.key == name, "blob {name} does not hold the bytes its name says");
        restored += 1;
        progress("blobs", restored);
    }
    match target {
        Target::Sqlite(file) => restore_sqlite(settings, src, &file)?,
        Target::Postgres((url, schema)) => restore_postgres(&url, src, &schema)?,
    }
    progress("database", 1);
    Ok(manifest)
}

/// Where a restore goes, checked to be empty before anything is written.
enum Target {
    Sqlite(PathBuf),
    /// The database URL and the dump's schema.
    Postgres((String, String)),
}

fn sqlite_target(settings: &Settings) -> anyhow::Result<PathBuf> {
    let file = settings.data.join(SQLITE_FILE);
    ensure!(
        !file.exists(),
        "{} exists: restore into a new data folder (or move the old one away)",
        file.display()
    );
    Ok(file)
}

fn restore_sqlite(settings: &Settings, src: &Path, file: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data)?;
    // An index left in the folder would not match the restored database.
    let search = settings.data.join("search");
    if search.exists() {
        std::fs::remove_dir_all(&search).with_context(|| format!("while removing {}", search.display()))?;
        tracing::info!(dir = %search.display(), "removed the old full-text index; it is rebuilt on start");
    }
    let partial = settings.data.join(format!("{SQLITE_FILE}.restoring"));
    std::fs::copy(src.join(SQLITE_FILE), &partial).context("while copying the database")?;
    std::fs::rename(&partial, file)?;
    Ok(())
}

fn postgres_target(url: &str, schema: Option<&str>) -> anyhow::Result<(String, String)> {
    let schema = schema.context("backup.json names no schema")?;
    let pg = cairn_postgres::PgStore::open(url).context("while connecting to PostgreSQL")?;
    let current = pg.schema()?;
    ensure!(
        current == schema,
        "the dump holds schema {schema:?} and the configured database works in {current:?}: set its search_path to {schema:?}"
    );
    ensure!(
        pg.is_blank()?,
        "schema {schema:?} holds cairn tables already: restore into an empty one"
    );
    pg.prepare_restore(schema)?;
    Ok((url.to_string(), schema.to_string()))
}

fn restore_postgres(url: &str, src: &Path, schema: &str) -> anyhow::Result<()> {
    let dump = src.join(PG_FILE);
    // Everything but the schema itself, which exists now.
    let toc = Command::new("pg_restore")
        .arg("--list")
        .arg(&dump)
        .output()
        .context("pg_restore is not installed (Debian: postgresql-client)")?;
    ensure!(
        toc.status.success(),
        "pg_restore --list failed: {}",
        String::from_utf8_lossy(&toc.stderr)
    );
    let list: String = String::from_utf8_lossy(&toc.stdout)
        .lines()
        .filter(|l| !l.contains(&format!(" SCHEMA - {schema} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    let list_file = std::env::temp_dir().join(format!("cairn-restore-{}.list", std::process::id()));
    std::fs::write(&list_file, &list)?;
    let done = run(
        postgres_command("pg_restore", url)
            .args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--use-list",
            ])
            .arg(&list_file)
            .arg(&dump),
        "pg_restore",
    );
    let _ = std::fs::remove_file(&list_file);
    done
}

/// A PostgreSQL client program connecting to `url`: the password travels
/// in its environment (`PGPASSWORD`), not on its command line where any
/// user of the machine could read it.
fn postgres_command(program: &str, url: &str) -> Command {
    let (url, password) = split_password(url);
    let mut command = Command::new(program);
    command.arg("--dbname").arg(url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret`).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    let password = percent_encoding::percent_decode_str(password)
        .decode_utf8_lossy()
        .into_owned();
    (format!("{scheme}://{user}@{host}{tail}"), Some(password))
}

/// Runs a PostgreSQL client program; its error output is the message.
fn run(command: &mut Command, name: &str) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("{name} is not installed (Debian: postgresql-client)"))?;
    if !out.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            super::split_password("postgres://cairn:s%40cret@db.example.ch:5432/cairn?sslmode=require");
        assert_eq!(url, "postgres://cairn@db.example.ch:5432/cairn?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (url, password) = super::split_password("postgres://cairn@127.0.0.1/cairn");
        assert_eq!((url.as_str(), password), ("postgres://cairn@127.0.0.1/cairn", None));
    }
}
