//! The one settings struct, layered: defaults → `cairn.toml` → `CAIRN_*` env
//! vars (nested keys with `__`, e.g. `CAIRN_LIMITS__MAX_BATCH_SIZE`) → CLI flags.

use std::path::PathBuf;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// One site of the deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteSettings {
    pub id: String,
    #[serde(default = "default_title")]
    pub title: String,
    /// Public URL of the site root for `@id`s; default `http://<listen>/<id>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// JWT signing secret; generated and stored in the database when unset.
    #[serde(default)]
    pub jwt_secret: Option<String>,
    /// Secrets used before the current one, still accepted to verify tokens
    /// until they expire: rotate by moving the old secret here.
    #[serde(default)]
    pub jwt_previous_secrets: Vec<String>,
    #[serde(default = "default_language")]
    pub default_language: String,
    #[serde(default = "default_languages")]
    pub available_languages: Vec<String>,
    /// Type profile: `volto` (blocks, folderish pages) or `classic`.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Items are linked as translations of each other (`@translations`),
    /// as plone.app.multilingual does.
    #[serde(default)]
    pub multilingual: bool,
}

fn default_title() -> String {
    "Plone site".into()
}
fn default_language() -> String {
    "de".into()
}
fn default_languages() -> Vec<String> {
    vec!["de".into(), "fr".into(), "it".into(), "en".into()]
}
fn default_profile() -> String {
    "volto".into()
}

/// Request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Largest body of a request that may carry an upload, from someone who
    /// may write where it points.
    pub max_body_bytes: usize,
    /// Largest body of every other request, and of every anonymous one.
    pub max_json_bytes: usize,
    /// Bytes of request bodies held at once; more requests wait for room.
    pub body_memory_bytes: usize,
    /// Seconds a request body has to arrive in full.
    pub body_timeout_secs: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, and the longest a
    /// kept-alive connection may sit idle.
    pub header_timeout_secs: u64,
    pub max_batch_size: usize,
    /// Memory for rendered anonymous responses, in bytes (0 turns it off).
    pub response_cache_bytes: u64,
    /// Origins allowed to call the API from browsers (CORS), e.g.
    /// `["https://www.example.ch"]`; `["*"]` allows any origin without credentials.
    pub cors_origins: Vec<String>,
    /// Full-text hits considered per query, best first.
    pub max_text_hits: usize,
    /// Reverse proxies (IPs or CIDR networks, e.g. `["127.0.0.1", "10.0.0.0/8"]`)
    /// whose `X-Forwarded-For` names the client; nobody else's is believed.
    pub trusted_proxies: Vec<String>,
    /// Largest image accepted (width × height); bigger uploads are refused
    /// before decoding, stored ones are never scaled.
    pub max_image_pixels: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        let api = cairn_api::Limits::default();
        Self {
            max_body_bytes: api.max_body_bytes,
            max_json_bytes: api.max_json_bytes,
            body_memory_bytes: api.body_memory_bytes,
            body_timeout_secs: api.body_timeout.as_secs(),
            max_connections: api.max_connections,
            header_timeout_secs: api.header_timeout.as_secs(),
            max_batch_size: api.max_batch_size,
            response_cache_bytes: api.response_cache_bytes,
            cors_origins: api.cors_origins,
            max_text_hits: api.max_text_hits,
            trusted_proxies: Vec::new(),
            max_image_pixels: cairn_core::images::DEFAULT_MAX_PIXELS,
        }
    }
}

impl LimitSettings {
    /// The HTTP layer's limits; fails on a `trusted_proxies` entry that is
    /// no address or network.
    pub fn to_api(&self) -> Result<cairn_api::Limits, cairn_api::InvalidProxy> {
        Ok(cairn_api::Limits {
            max_body_bytes: self.max_body_bytes,
            max_json_bytes: self.max_json_bytes,
            body_memory_bytes: self.body_memory_bytes,
            body_timeout: std::time::Duration::from_secs(self.body_timeout_secs.max(1)),
            max_connections: self.max_connections,
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            max_batch_size: self.max_batch_size,
            response_cache_bytes: self.response_cache_bytes,
            cors_origins: self.cors_origins.clone(),
            max_text_hits: self.max_text_hits,
            trusted_proxies: cairn_api::TrustedProxies::parse(&self.trusted_proxies)?,
        })
    }
}

/// HTTP caching headers and the caches changes are purged from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CachingSettings {
    /// Seconds shared caches keep anonymous pages (purged on change).
    pub content_s_maxage: u64,
    /// ... navigation, breadcrumbs, search and listing answers.
    pub listing_s_maxage: u64,
    /// ... files and images at their field URLs.
    pub file_s_maxage: u64,
    /// Headers carrying the cache tags: `Cache-Tag` (Cloudflare), `xkey` (Varnish).
    pub tag_headers: Vec<String>,
    /// Milliseconds a purge waits for more changes to join it.
    pub purge_delay_ms: u64,
    /// Varnish servers to purge (`http://127.0.0.1:6081`), with the xkey vmod
    /// and `deploy/varnish/cairn.vcl`.
    pub varnish: Vec<String>,
    /// Soft purges: Varnish marks objects stale instead of dropping them.
    pub varnish_soft: bool,
    pub cloudflare: Option<CloudflareSettings>,
}

/// A Cloudflare zone to purge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloudflareSettings {
    pub zone_id: String,
    /// An API token with the Cache Purge permission for the zone.
    pub api_token: String,
    #[serde(default = "default_cloudflare_api")]
    pub api_url: String,
}

fn default_cloudflare_api() -> String {
    "https://api.cloudflare.com/client/v4".into()
}

impl Default for CachingSettings {
    fn default() -> Self {
        let policy = cairn_api::caching::Policy::default();
        Self {
            content_s_maxage: policy.content_s_maxage,
            listing_s_maxage: policy.listing_s_maxage,
            file_s_maxage: policy.file_s_maxage,
            tag_headers: policy.tag_headers,
            purge_delay_ms: 250,
            varnish: Vec::new(),
            varnish_soft: false,
            cloudflare: None,
        }
    }
}

impl CachingSettings {
    pub fn policy(&self) -> cairn_api::caching::Policy {
        cairn_api::caching::Policy {
            content_s_maxage: self.content_s_maxage,
            listing_s_maxage: self.listing_s_maxage,
            file_s_maxage: self.file_s_maxage,
            tag_headers: self.tag_headers.clone(),
            purges: !self.varnish.is_empty() || self.cloudflare.is_some(),
        }
    }

    /// The configured caches (none: changes are not purged anywhere).
    pub fn purgers(&self) -> Vec<std::sync::Arc<dyn cairn_core::caching::Purger>> {
        let mut out: Vec<std::sync::Arc<dyn cairn_core::caching::Purger>> = Vec::new();
        if !self.varnish.is_empty() {
            out.push(std::sync::Arc::new(cairn_cdn::Varnish::new(
                self.varnish.clone(),
                self.varnish_soft,
            )));
        }
        if let Some(cf) = &self.cloudflare {
            out.push(std::sync::Arc::new(cairn_cdn::Cloudflare::new(
                &cf.api_url,
                &cf.zone_id,
                &cf.api_token,
            )));
        }
        out
    }
}

/// The trash that DELETE fills.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TrashSettings {
    /// Days deleted items stay restorable; a nightly job purges older ones.
    pub keep_days: u64,
    /// Most objects one delete may take (the subtree included).
    pub max_items: usize,
}

impl Default for TrashSettings {
    fn default() -> Self {
        Self {
            keep_days: 30,
            max_items: 500,
        }
    }
}

/// The background job queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Worker threads in `cairn serve` (0: none; run `cairn worker` instead).
    pub workers: usize,
    /// Worker threads in `cairn worker`.
    pub worker_process_workers: usize,
    /// Days finished jobs (done, dead, cancelled) stay visible in `@jobs`.
    pub keep_days: u64,
    /// Seconds before the second attempt of a failed job; doubled for each further one.
    pub backoff_secs: u64,
    /// Run the queue on Redis (`redis://host:6379/0`, `rediss://` for TLS)
    /// instead of the database; jobs a write commits still wait in the
    /// database until a worker's claim hands them over.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// What the queue's Redis keys start with (installations sharing a server differ).
    #[serde(default = "default_redis_prefix")]
    pub redis_prefix: String,
}

fn default_redis_prefix() -> String {
    "cairn:".into()
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            worker_process_workers: 2,
            keep_days: 7,
            backoff_secs: 2,
            redis_url: None,
            redis_prefix: default_redis_prefix(),
        }
    }
}

impl JobSettings {
    /// The runner's configuration with `workers` threads.
    pub fn runner(&self, workers: usize) -> cairn_jobs::Config {
        cairn_jobs::Config {
            workers,
            backoff: std::time::Duration::from_secs(self.backoff_secs.max(1)),
            ..cairn_jobs::Config::default()
        }
    }

    pub fn keep(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.keep_days * 86_400)
    }
}

/// Everything `cairn serve` needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub listen: String,
    /// Folder for the database and blobs.
    pub data: PathBuf,
    /// A shared PostgreSQL database (`postgres://user:password@host/db`,
    /// `?sslmode=require` for TLS): scale-out mode, several nodes on one
    /// database. Unset: the data folder's SQLite file.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Folder with a site's own `types/`, `behaviors/` and `profiles/`.
    pub config_dir: Option<PathBuf>,
    /// Password of `admin`; generated and printed once when unset on first start.
    pub admin_password: Option<String>,
    /// Fill a new site with sample content.
    pub sample_content: bool,
    /// Token lifetime in seconds.
    pub token_timeout: u64,
    /// Decoded objects kept in memory (0: none); a write forgets those it touched.
    pub cache_objects: u64,
    /// Requests handled at once (the rest wait their turn); 0: twice the CPUs.
    #[serde(default)]
    pub workers: usize,
    /// Hours between sweeps of unreferenced blobs in `serve` (the first runs
    /// a minute after start); 0: never (run `cairn blobs gc` instead).
    pub blob_sweep_hours: u64,
    pub jobs: JobSettings,
    pub caching: CachingSettings,
    pub trash: TrashSettings,
    pub limits: LimitSettings,
    /// Where file and image bytes live: the data folder's `blobs/` unless
    /// an S3-compatible store is configured (`blobs.s3`).
    #[serde(default)]
    pub blobs: BlobSettings,
    /// Which full-text engine answers SearchableText.
    #[serde(default)]
    pub search: SearchSettings,
    pub sites: Vec<SiteSettings>,
}

/// The full-text engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchSettings {
    /// `embedded` (an index in the data folder, one per node), `postgres`
    /// (one index in the shared database, for every node),
    /// `elasticsearch` (one index per site on an Elasticsearch or
    /// OpenSearch cluster, see `search.elasticsearch`) or `auto`:
    /// `postgres` with a `database_url`, else `embedded`.
    #[serde(default)]
    pub engine: SearchEngine,
    /// The cluster of `engine = "elasticsearch"`.
    #[serde(default)]
    pub elasticsearch: Option<ElasticSettings>,
}

/// See [`SearchSettings::engine`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchEngine {
    #[default]
    Auto,
    Embedded,
    Postgres,
    Elasticsearch,
}

/// An Elasticsearch or OpenSearch cluster (`search.elasticsearch`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ElasticSettings {
    /// Its base URL, e.g. `https://search.example.ch:9200`.
    pub url: String,
    /// Put before every index name, so installations can share a cluster.
    #[serde(default = "default_elastic_prefix")]
    pub prefix: String,
    /// An API key as the cluster hands it out (base64), sent as
    /// `Authorization: ApiKey ...`; or `username` and `password`.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_elastic_prefix() -> String {
    "cairn-".into()
}

/// The engine [`Settings::full_text_engine`] settles on.
#[derive(Debug, Clone)]
pub enum FullTextChoice {
    Embedded,
    Postgres,
    Cluster(cairn_elastic::ElasticConfig),
}

/// Where blobs are stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BlobSettings {
    /// An S3-compatible object store (several nodes share it); unset: the
    /// data folder.
    #[serde(default)]
    pub s3: Option<cairn_s3::S3Settings>,
}

/// The database a process works on, as the core's ports.
pub struct Database {
    /// Content and catalog, behind the object cache.
    pub content: std::sync::Arc<dyn cairn_core::ports::ContentStore>,
    pub principals: std::sync::Arc<dyn cairn_core::ports::PrincipalStore>,
    pub jobs: std::sync::Arc<dyn cairn_core::jobs::JobStore>,
    /// Where it is, for messages ("PostgreSQL at db.example.ch").
    pub name: String,
    /// The shared database itself, in scale-out mode (its full-text engine
    /// works on it).
    pub postgres: Option<cairn_postgres::PgStore>,
}

impl Settings {
    /// Opens the database these settings name and brings its schema to
    /// this build's (migrations run on start).
    pub fn database(&self) -> anyhow::Result<Database> {
        use cairn_core::cache::CachedStore;
        use std::sync::Arc;
        // The database's own queue: the job queue, or what feeds Redis's.
        let database_jobs: Arc<dyn cairn_core::jobs::DatabaseJobs>;
        let db = match &self.database_url {
            Some(url) => {
                let pg = cairn_postgres::PgStore::open(url).context("while connecting to PostgreSQL")?;
                let name = cairn_postgres::describe(url);
                database_jobs = Arc::new(pg.clone());
                Database {
                    principals: Arc::new(pg.clone()),
                    jobs: Arc::new(pg.clone()),
                    content: Arc::new(CachedStore::new(pg.clone(), self.cache_objects)),
                    name,
                    postgres: Some(pg),
                }
            }
            None => {
                std::fs::create_dir_all(&self.data)
                    .with_context(|| format!("while creating {}", self.data.display()))?;
                let file = self.data.join("cairn.sqlite");
                let sqlite = cairn_store::SqliteStore::open(&file)?;
                database_jobs = Arc::new(sqlite.clone());
                Database {
                    principals: Arc::new(sqlite.clone()),
                    jobs: Arc::new(sqlite.clone()),
                    content: Arc::new(CachedStore::new(sqlite, self.cache_objects)),
                    name: format!("SQLite at {}", file.display()),
                    postgres: None,
                }
            }
        };
        db.content.migrate().context("while migrating the database schema")?;
        if let Some(url) = &self.jobs.redis_url {
            let queue = cairn_redis::RedisJobs::open(url, &self.jobs.redis_prefix, database_jobs)
                .context("while connecting to Redis")?;
            return Ok(Database {
                jobs: Arc::new(queue),
                ..db
            });
        }
        Ok(db)
    }

    /// Which engine answers full text; fails when the one asked for lacks
    /// what it needs (a PostgreSQL `database_url`, a cluster's URL).
    pub fn full_text_engine(&self) -> anyhow::Result<FullTextChoice> {
        let shared = self.database_url.is_some();
        match self.search.engine {
            SearchEngine::Postgres if !shared => {
                anyhow::bail!("search.engine = \"postgres\" needs a database_url pointing at PostgreSQL")
            }
            SearchEngine::Postgres | SearchEngine::Auto if shared => Ok(FullTextChoice::Postgres),
            SearchEngine::Embedded | SearchEngine::Auto | SearchEngine::Postgres => Ok(FullTextChoice::Embedded),
            SearchEngine::Elasticsearch => {
                let Some(es) = self.search.elasticsearch.as_ref().filter(|es| !es.url.is_empty()) else {
                    anyhow::bail!(
                        "search.engine = \"elasticsearch\" needs search.elasticsearch.url (CAIRN_SEARCH__ELASTICSEARCH__URL)"
                    )
                };
                let credentials = match (&es.api_key, &es.username, &es.password) {
                    (Some(key), _, _) => cairn_elastic::Credentials::ApiKey(key.clone()),
                    (None, Some(username), Some(password)) => cairn_elastic::Credentials::Basic {
                        username: username.clone(),
                        password: password.clone(),
                    },
                    (None, None, None) => cairn_elastic::Credentials::None,
                    _ => anyhow::bail!("search.elasticsearch needs both a username and a password, or an api_key"),
                };
                Ok(FullTextChoice::Cluster(cairn_elastic::ElasticConfig {
                    url: es.url.clone(),
                    prefix: es.prefix.clone(),
                    credentials,
                }))
            }
        }
    }

    /// The blob store these settings name.
    pub fn blob_store(&self) -> anyhow::Result<std::sync::Arc<dyn cairn_core::ports::BlobStore>> {
        Ok(match &self.blobs.s3 {
            Some(s3) => std::sync::Arc::new(cairn_s3::S3BlobStore::open(s3)?),
            None => std::sync::Arc::new(cairn_store::FsBlobStore::open(&self.data.join("blobs"))?),
        })
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data: PathBuf::from("var"),
            database_url: None,
            config_dir: None,
            admin_password: None,
            sample_content: true,
            token_timeout: 43_200,
            cache_objects: 20_000,
            workers: 0,
            blob_sweep_hours: 24,
            jobs: JobSettings::default(),
            caching: CachingSettings::default(),
            trash: TrashSettings::default(),
            limits: LimitSettings::default(),
            blobs: BlobSettings::default(),
            search: SearchSettings::default(),
            sites: vec![SiteSettings {
                id: "Plone".into(),
                title: "Kanton Aarwald".into(),
                public_url: None,
                jwt_secret: None,
                jwt_previous_secrets: Vec::new(),
                default_language: default_language(),
                available_languages: default_languages(),
                profile: default_profile(),
                multilingual: false,
            }],
        }
    }
}

impl Settings {
    /// How many requests run at once: `workers`, or twice the CPUs.
    pub fn worker_threads(&self) -> usize {
        match self.workers {
            0 => 2 * std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        }
    }

    /// Loads the layers; `file` defaults to `cairn.toml` in the working folder.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        let file = file.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("cairn.toml"));
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CAIRN_").split("__"))
            .extract()
            .map_err(Box::new)
    }
}
