//! PostgreSQL for cairn's scale-out mode: several `cairn serve` nodes on one
//! database. Migrations are versioned SQL files (`migrations/`, reviewable
//! as they run); each port is implemented here with PostgreSQL's own SQL,
//! and a change one node makes is announced to the others with
//! LISTEN/NOTIFY so their caches drop what it made stale.
//!
//! The ports are synchronous (see `docs/ports.md`): handlers call them on
//! the blocking pool, so this adapter uses the blocking `postgres` client
//! behind an r2d2 pool.

mod content;
mod error;
mod fulltext;
mod jobs;
mod listen;
pub mod migrations;
mod principals;
mod sql;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cairn_core::CoreResult;
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use error::db;
pub use fulltext::PgFullText;

/// Longest wait for a row or advisory lock, in milliseconds.
const LOCK_TIMEOUT_MS: u64 = 5_000;
/// Longest statement, in milliseconds.
const STATEMENT_TIMEOUT_MS: u64 = 30_000;

/// The channels changes are announced on. Notifications reach every
/// session of the database, so an installation in a schema of its own
/// (tests, or two sites sharing a server) names its channels after it.
pub(crate) struct Channels {
    /// A principal change (no payload).
    pub(crate) principals: String,
    /// A content write (payload: the writing node's mark and the site).
    pub(crate) content: String,
}

impl Channels {
    fn for_schema(schema: &str) -> Self {
        let suffix = if schema == "public" {
            String::new()
        } else {
            format!("_{schema}")
        };
        Self {
            principals: format!("cairn_principals{suffix}"),
            content: format!("cairn_content{suffix}"),
        }
    }
}

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// The pool, closed off the async runtime: the blocking client runs a
/// runtime of its own to close a connection, which panics on a thread
/// that drives tokio tasks (where a server drops its state at shutdown).
struct Closing(Option<Pool>);

impl Drop for Closing {
    fn drop(&mut self) {
        let Some(pool) = self.0.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(pool));
        }
    }
}

impl std::ops::Deref for Closing {
    type Target = Pool;

    fn deref(&self) -> &Pool {
        self.0.as_ref().expect("the pool is there until dropped")
    }
}

/// TLS as the URL's `sslmode` asks (`require` for a remote database; the
/// server's certificate is checked against the Web PKI roots).
pub fn tls() -> CoreResult<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(db)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Where a URL points, without its password: "PostgreSQL cairn on db.example.ch".
pub fn describe(url: &str) -> String {
    let Ok(config) = url.parse::<Config>() else {
        return "PostgreSQL".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            r2d2_postgres::postgres::config::Host::Tcp(name) => name.clone(),
            r2d2_postgres::postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "PostgreSQL {} on {}",
        config.get_dbname().unwrap_or("(default database)"),
        hosts.join(",")
    )
}

/// One node's handle on the shared database; clones share it.
#[derive(Clone)]
pub struct PgStore {
    pool: Arc<Closing>,
    /// This node's mark on what it announces (its own listener skips it).
    node: Arc<str>,
    pub(crate) channels: Arc<Channels>,
    /// Grows with every principal change of any node (own writes at once,
    /// other nodes' through the listener).
    principals: Arc<AtomicU64>,
    /// Grows with every content write of this node.
    written: Arc<AtomicU64>,
    /// Grows with every content write of another node (and every reconnect
    /// of the listener, which may have missed some).
    remote: Arc<AtomicU64>,
    /// Per site, the newest outbox position this node's caches are known
    /// to reflect (see [`cairn_core::ports::ContentStore::sync`]).
    synced: Arc<std::sync::Mutex<std::collections::HashMap<String, i64>>>,
    _listeners: Arc<[listen::Listener; 2]>,
}

/// The schema a session works in: the first of its search path, even
/// before it exists (`current_schema()` is then NULL: a restore's target).
const CURRENT_SCHEMA: &str =
    "SELECT coalesce(current_schema(), trim(both '\" ' from split_part(current_setting('search_path'), ',', 1)))";

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host/db`).
    pub fn open(url: &str) -> CoreResult<Self> {
        let config: Config = url.parse().map_err(db)?;
        Self::open_with(config)
    }

    /// Connects with a prepared configuration (tests set a `search_path`).
    pub fn open_with(mut config: Config) -> CoreResult<Self> {
        // Waits are bounded (docs/ports.md): a lock held too long or a
        // runaway statement ends in an error the core answers as busy, and
        // a peer that vanished is noticed by TCP within seconds.
        // No JIT: its compilation (20 ms and more) never pays off on
        // queries that answer in milliseconds, and a million-object site's
        // plans cost enough to trigger it.
        let options = format!(
            "{} -c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS} -c jit=off",
            config.get_options().unwrap_or_default()
        );
        config
            .options(options.trim())
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(10))
            .tcp_user_timeout(std::time::Duration::from_secs(20))
            .connect_timeout(std::time::Duration::from_secs(10));
        let manager = PostgresConnectionManager::new(config.clone(), tls()?);
        let pool = r2d2::Pool::builder()
            .max_size(16)
            // Connections open as load asks (r2d2 would open all 16 at
            // once): nodes times pool size must stay under the server's
            // max_connections.
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(db)?;
        let schema: String = pool
            .get()
            .map_err(db)?
            .query_one(CURRENT_SCHEMA, &[])
            .map_err(db)?
            .get(0);
        let channels = Arc::new(Channels::for_schema(&schema));
        let principals = Arc::new(AtomicU64::new(0));
        let remote = Arc::new(AtomicU64::new(0));
        let node: Arc<str> = format!("{:016x}", rand::random::<u64>()).into();
        let listeners = [
            listen::Listener::start(
                config.clone(),
                tls()?,
                channels.principals.clone(),
                principals.clone(),
                None,
            ),
            listen::Listener::start(
                config,
                tls()?,
                channels.content.clone(),
                remote.clone(),
                Some(format!("{node} ")),
            ),
        ];
        Ok(Self {
            pool: Arc::new(Closing(Some(pool))),
            node,
            channels,
            principals,
            written: Default::default(),
            remote,
            synced: Default::default(),
            _listeners: Arc::new(listeners),
        })
    }

    /// The schema this store works in (`current_schema()` of its sessions).
    pub fn schema(&self) -> CoreResult<String> {
        let row = self.conn()?.query_one(CURRENT_SCHEMA, &[]).map_err(db)?;
        Ok(row.get(0))
    }

    /// Whether the schema holds no cairn tables yet (a restore's target).
    pub fn is_blank(&self) -> CoreResult<bool> {
        let row = self
            .conn()?
            .query_one(
                "SELECT to_regclass('content') IS NULL AND to_regclass('cairn_migrations') IS NULL",
                &[],
            )
            .map_err(db)?;
        Ok(row.get(0))
    }

    /// Readies the database for a dump of schema `name`: the schema (a
    /// restore recreates a dump's objects in the schema they came from)
    /// and the `unaccent` extension the full-text configurations use (a
    /// schema's dump holds no extension; the migration creates it the same way).
    pub fn prepare_restore(&self, name: &str) -> CoreResult<()> {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        self.conn()?
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {quoted}; CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"
            ))
            .map_err(db)?;
        Ok(())
    }

    /// Brings the schema to this build's version (see [`migrations`]).
    pub fn migrate(&self) -> CoreResult<usize> {
        migrations::run(&mut *self.conn()?)
    }

    /// The migrations the database has, oldest first.
    pub fn applied(&self) -> CoreResult<Vec<(i32, String)>> {
        migrations::applied(&mut *self.conn()?)
    }

    pub(crate) fn conn(&self) -> CoreResult<r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>> {
        self.pool.get().map_err(db)
    }

    /// Counts a change of this node at once (the notification follows).
    pub(crate) fn principals_changed(&self) {
        self.principals.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a content write of this node (other nodes hear of it).
    pub(crate) fn content_changed(&self) {
        self.written.fetch_add(1, Ordering::SeqCst);
    }

    /// What this node announces a write of `site` with.
    pub(crate) fn announcement(&self, site: &str) -> String {
        format!("{} {site}", self.node)
    }

    /// After this node's own write moved `site`'s outbox from `before` to
    /// `after`: its caches still reflect every write when they did before
    /// (nobody else's write came in between).
    pub(crate) fn wrote(&self, site: &str, before: i64, after: i64) {
        let mut synced = self.synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(at) = synced.get_mut(site)
            && *at >= before
        {
            *at = (*at).max(after);
        }
    }

    /// Read-your-writes across nodes: when the database holds a write of
    /// `site` this node's caches may not reflect yet (its notice still on
    /// the way), counts it as a remote write, so the caches drop what they
    /// hold. One indexed query.
    pub(crate) fn sync_site(&self, site: &str) -> CoreResult<()> {
        let head: i64 = self
            .conn()?
            .query_one("SELECT coalesce(max(seq), 0) FROM outbox WHERE site = $1", &[&site])
            .map_err(db)?
            .get(0);
        let mut synced = self.synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = synced.entry(site.to_string()).or_insert(-1);
        if head > *at {
            self.remote.fetch_add(1, Ordering::SeqCst);
            *at = head;
        }
        Ok(())
    }

    pub(crate) fn remote_writes(&self) -> u64 {
        self.remote.load(Ordering::SeqCst)
    }

    pub(crate) fn content_generation(&self) -> u64 {
        self.written.load(Ordering::SeqCst) + self.remote_writes()
    }
}
