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

/// Longest wait for a row or advisory lock, in milliseconds.
const LOCK_TIMEOUT_MS: u64 = 5_000;
/// Longest statement, in milliseconds.
const STATEMENT_TIMEOUT_MS: u64 = 30_000;

/// The channel a principal change is announced on.
pub(crate) const PRINCIPALS_CHANNEL: &str = "cairn_principals";
/// The channel a content write is announced on (its payload: the site).
pub(crate) const CONTENT_CHANNEL: &str = "cairn_content";

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

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

/// One node's handle on the shared database.
pub struct PgStore {
    pool: Pool,
    /// Grows with every principal change of any node (own writes at once,
    /// other nodes' through the listener).
    principals: Arc<AtomicU64>,
    /// Grows with every content write of any node, the same way.
    content: Arc<AtomicU64>,
    _listeners: [listen::Listener; 2],
}

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
        let options = format!(
            "{} -c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}",
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
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(db)?;
        let principals = Arc::new(AtomicU64::new(0));
        let content = Arc::new(AtomicU64::new(0));
        let listeners = [
            listen::Listener::start(config.clone(), tls()?, PRINCIPALS_CHANNEL, principals.clone()),
            listen::Listener::start(config, tls()?, CONTENT_CHANNEL, content.clone()),
        ];
        Ok(Self {
            pool,
            principals,
            content,
            _listeners: listeners,
        })
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

    /// Counts a content write of this node at once (the notification follows).
    pub(crate) fn content_changed(&self) {
        self.content.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn content_generation(&self) -> u64 {
        self.content.load(Ordering::SeqCst)
    }
}
