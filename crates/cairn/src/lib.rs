//! cairn (binary crate): settings, wiring of the embedded adapters, first-start
//! bootstrap and `launch`, which tests call to run the real server on port 0.

pub mod backup;
pub mod blob_sweep;
pub mod check;
pub mod indexing;
pub mod sample;
pub mod settings;
pub mod transfer;
pub mod type_files;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use cairn_api::AppState;
use cairn_core::bootstrap::{self, Created};
use cairn_core::jobs::JobStore;
use cairn_core::ports::{BlobStore, ContentStore, FullText};
use cairn_core::{Site, SiteSettings as CoreSiteSettings};
use cairn_model::{Workflows, builtin};
use cairn_store::SqliteStore;

pub use settings::Settings;

/// Every binary of this crate (the server, the generator) and its tests
/// use it. A serving request allocates and frees many small JSON values across
/// threads; glibc's allocator spent about 40% of a folder listing's CPU
/// (perf, uncached anonymous listing of 13 summaries), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What first start created, for the operator's eyes.
#[derive(Debug, Default)]
pub struct Report {
    /// Generated admin password, shown once.
    pub generated_admin_password: Option<String>,
    pub sample_objects: usize,
}

/// A built server: the HTTP state, what first start created, the
/// full-text indexers and the job machinery (stopped when this is dropped).
pub struct Built {
    pub state: Arc<AppState>,
    pub report: Report,
    pub indexing: indexing::Indexing,
    pub jobs: Jobs,
}

/// The job workers and the clock that feeds them; stopped on drop.
pub struct Jobs {
    // Dropped first: the clock stops enqueuing before the workers stop.
    _clock: cairn_jobs::Clock,
    _workers: Option<cairn_jobs::Workers>,
    pub metrics: Arc<cairn_core::jobs::JobMetrics>,
}

/// Starts the built-in job types' workers (`workers` threads, none for 0)
/// and the clock (schedules, outbox consumers) over the opened sites.
pub fn start_jobs(settings: &Settings, opened: &Opened, workers: usize) -> anyhow::Result<Jobs> {
    for site in &opened.sites {
        // What an older cairn stored without links or publication jobs.
        cairn_core::upgrade::run(site)?;
    }
    let purgers = settings.caching.purgers();
    let caches = (!purgers.is_empty()).then(|| cairn_jobs::builtin::Caches {
        purgers,
        public_urls: opened
            .sites
            .iter()
            .map(|s| (s.id.clone(), s.public_url.clone()))
            .collect(),
        delay: std::time::Duration::from_millis(settings.caching.purge_delay_ms),
    });
    let keep = cairn_jobs::builtin::Keep {
        jobs: settings.jobs.keep(),
        trash: std::time::Duration::from_secs(settings.trash.keep_days * 86_400),
    };
    let builtin = cairn_jobs::builtin::builtin(
        opened.store.clone(),
        opened.jobs.clone(),
        opened.sites.clone(),
        keep,
        caches,
    );
    let bell = Arc::new(cairn_jobs::Bell::default());
    let metrics = Arc::new(cairn_core::jobs::JobMetrics::default());
    let sites = opened.sites.iter().map(|s| s.id.clone()).collect();
    let clock = cairn_jobs::Clock::start(
        opened.store.clone(),
        opened.jobs.clone(),
        sites,
        builtin.consumers,
        &builtin.schedules,
        bell.clone(),
    )
    .context("while starting the job clock")?;
    let workers = (workers > 0)
        .then(|| {
            cairn_jobs::Workers::start(
                opened.jobs.clone(),
                builtin.registry,
                settings.jobs.runner(workers),
                bell,
                metrics.clone(),
            )
        })
        .transpose()
        .context("while starting the job workers")?;
    Ok(Jobs {
        _clock: clock,
        _workers: workers,
        metrics,
    })
}

/// Opens storage and the search indexes, creates missing sites, starts the
/// indexers and returns the HTTP state.
pub fn build(settings: &Settings, public_host: &str) -> anyhow::Result<Built> {
    let opened = open_sites(settings, public_host)?;
    let jobs = start_jobs(settings, &opened, settings.jobs.workers)?;
    let Opened {
        store,
        sites,
        report,
        postgres,
        ..
    } = opened;
    let engines = full_text_engines(settings, postgres.as_ref())?;
    let limits = settings
        .limits
        .to_api()
        .context("while reading limits.trusted_proxies")?;
    // Each engine is the core's full-text port for its site's searches.
    let full_text = engines
        .iter()
        .map(|(site, engine)| (site.clone(), engine.clone() as Arc<dyn FullText>))
        .collect();
    let state = AppState::new(sites, limits)
        .with_full_text(full_text)
        .with_job_metrics(jobs.metrics.clone())
        .with_caching(settings.caching.policy());
    let indexing = indexing::Indexing::start(store, engines).context("while starting the indexers")?;
    Ok(Built {
        state: Arc::new(state),
        report,
        indexing,
        jobs,
    })
}

/// Storage and sites, opened.
pub struct Opened {
    pub store: Arc<dyn ContentStore>,
    /// The job queue, in the same database.
    pub jobs: Arc<dyn JobStore>,
    pub sites: Vec<Arc<Site>>,
    pub report: Report,
    /// The shared database in scale-out mode.
    pub postgres: Option<cairn_postgres::PgStore>,
}

/// Opens storage and creates missing sites (with sample content when
/// configured): what the server and offline tools such as the benchmark's
/// generator share.
pub fn open_sites(settings: &Settings, public_host: &str) -> anyhow::Result<Opened> {
    let crate::settings::Database {
        content: store,
        principals,
        jobs,
        postgres,
        ..
    } = settings.database()?;
    let blobs: Arc<dyn BlobStore> = settings.blob_store()?;
    let uploads = Arc::new(cairn_core::blobs::Uploads::new(blobs.clone()));
    let mut sources = builtin::sources();
    if let Some(dir) = &settings.config_dir {
        builtin::add_local(&mut sources, dir).with_context(|| format!("while reading types from {}", dir.display()))?;
    }
    let mut wf_sources = builtin::workflow_sources();
    if let Some(dir) = &settings.config_dir {
        builtin::add_local_workflows(&mut wf_sources, dir)
            .with_context(|| format!("while reading workflows from {}", dir.display()))?;
    }
    let workflows = Arc::new(Workflows::build(&wf_sources).context("while loading workflows")?);
    let mut report = Report::default();
    let mut sites = Vec::new();
    for s in &settings.sites {
        let profile = (s.profile != "classic").then_some(s.profile.as_str());
        let mut site_sources = sources.clone();
        if s.multilingual {
            site_sources.types.extend(builtin::multilingual_types());
        }
        let schemas = cairn_core::types::Types::new(site_sources, profile).context("while loading content types")?;
        let created = bootstrap::ensure_root(&*store, &s.id, &s.title, &s.default_language)?;
        let generated = bootstrap::ensure_admin(&*principals, &s.id, settings.admin_password.as_deref())?;
        bootstrap::ensure_groups(&*principals, &s.id)?;
        report.generated_admin_password = report.generated_admin_password.or(generated);
        let site = Arc::new(Site {
            id: s.id.clone(),
            public_url: s
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{public_host}/{}", s.id)),
            follows_host: s.public_url.is_none(),
            schemas,
            workflows: workflows.clone(),
            settings: CoreSiteSettings {
                title: s.title.clone(),
                default_language: s.default_language.clone(),
                available_languages: s.available_languages.clone(),
                scales: match profile {
                    Some(_) => cairn_core::site::DEFAULT_SCALES.iter(),
                    None => cairn_core::site::CLASSIC_SCALES.iter(),
                }
                .map(|(n, w, h)| (n.to_string(), *w, *h))
                .collect(),
                max_image_pixels: settings.limits.max_image_pixels,
                trash_max_items: settings.trash.max_items,
                profile: s.profile.clone(),
                multilingual: s.multilingual,
                s_maxages: [
                    settings.caching.content_s_maxage,
                    settings.caching.listing_s_maxage,
                    settings.caching.file_s_maxage,
                ],
                ..Default::default()
            },
            store: store.clone(),
            jobs: jobs.clone(),
            principals: principals.clone(),
            blobs: blobs.clone(),
            uploads: uploads.clone(),
            scaler: Default::default(),
            jwt_secret: bootstrap::jwt_secret(&*store, &s.id, s.jwt_secret.as_deref())?,
            jwt_previous_secrets: s.jwt_previous_secrets.iter().map(|x| x.as_bytes().to_vec()).collect(),
            token_timeout: settings.token_timeout,
            records: Default::default(),
        });
        if created == Created::New && settings.sample_content {
            report.sample_objects += sample::fill(&site).context("while creating sample content")?;
        }
        if s.multilingual {
            cairn_core::repo::translations::ensure_language_roots(&site)
                .context("while creating the language root folders")?;
        }
        sites.push(site);
    }
    Ok(Opened {
        store,
        jobs,
        sites,
        report,
        postgres,
    })
}

/// `cairn migrate`: brings the data folder's SQLite database, or the
/// PostgreSQL database at `database_url`, to this build's schema (or, with
/// `status`, only says where it stands); gives back the lines to print.
pub fn migrate(settings: &Settings, database_url: Option<&str>, status: bool) -> anyhow::Result<Vec<String>> {
    if let Some(url) = database_url {
        let pg = cairn_postgres::PgStore::open(url).context("while connecting to PostgreSQL")?;
        let ran = if status { 0 } else { pg.migrate()? };
        let mut lines: Vec<String> = pg
            .applied()?
            .into_iter()
            .map(|(v, name)| format!("{v:04} {name}: applied"))
            .collect();
        let known = cairn_postgres::migrations::MIGRATIONS;
        lines.extend(
            known
                .iter()
                .skip(lines.len())
                .map(|(v, name, _)| format!("{v:04} {name}: pending")),
        );
        lines.push(format!("{ran} migrations applied now"));
        return Ok(lines);
    }
    let file = settings.data.join("cairn.sqlite");
    if status && !file.exists() {
        return Ok(vec![format!("{}: no database yet", file.display())]);
    }
    std::fs::create_dir_all(&settings.data)?;
    let store = SqliteStore::open(&file)?;
    if !status {
        store.migrate().context("while migrating the database schema")?;
    }
    let facts = store.facts("")?;
    Ok(vec![format!(
        "{}: schema version {} (this build needs {})",
        file.display(),
        facts.schema_version,
        facts.schema_required
    )])
}

/// This node's id for the index in `dir` (kept beside it, made once): what
/// its position is saved under in a shared database.
fn node_id(dir: &std::path::Path) -> anyhow::Result<String> {
    let file = dir.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        let id = id.trim();
        if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(id.to_string());
        }
    }
    let id = format!("{:016x}", rand::random::<u64>());
    std::fs::write(&file, &id).with_context(|| format!("while writing {}", file.display()))?;
    Ok(id)
}

/// Where a site's full-text index lives under the data folder.
pub fn search_dir(settings: &Settings, site: &str) -> std::path::PathBuf {
    settings.data.join("search").join(site)
}

/// Each site's full-text engine, as `search.engine` picks it: the shared
/// database's, a search cluster's, or an index in the data folder (one per
/// node when the database is shared, each saving its own position).
pub fn full_text_engines(
    settings: &Settings,
    postgres: Option<&cairn_postgres::PgStore>,
) -> anyhow::Result<Vec<(String, Arc<dyn cairn_search::Engine>)>> {
    let choice = settings.full_text_engine()?;
    let mut engines = Vec::new();
    for s in &settings.sites {
        let engine: Arc<dyn cairn_search::Engine> = match (&choice, postgres) {
            (settings::FullTextChoice::Postgres, Some(pg)) => {
                Arc::new(cairn_postgres::PgFullText::new(pg.clone(), &s.id, &s.default_language))
            }
            (settings::FullTextChoice::Cluster(cluster), _) => {
                std::fs::create_dir_all(&settings.data)
                    .with_context(|| format!("while creating {}", settings.data.display()))?;
                let node = node_id(&settings.data)?;
                let engine = cairn_elastic::ElasticFullText::new(cluster, &s.id, &s.default_language, &node)
                    .map_err(|e| anyhow::anyhow!("search.elasticsearch: {e}"))?;
                // One look at the cluster for all sites: a start never waits
                // on an unreachable cluster more than once.
                if engines.is_empty() {
                    match engine.cluster() {
                        Ok(version) => tracing::info!(cluster = %version, "full text on the search cluster"),
                        // The indexer retries; searches answer 503 until it is back.
                        Err(e) => tracing::warn!(error = %e, "the search cluster does not answer yet"),
                    }
                }
                Arc::new(engine)
            }
            _ => {
                let dir = search_dir(settings, &s.id);
                let mut index = cairn_search::SearchIndex::open(&dir, &s.default_language).with_context(|| {
                    format!(
                        "while opening the search index in {} (is another cairn using it?)",
                        dir.display()
                    )
                })?;
                if postgres.is_some() {
                    index = index.for_node(&node_id(&dir)?);
                }
                Arc::new(index)
            }
        };
        engines.push((s.id.clone(), engine));
    }
    Ok(engines)
}

/// Rebuilds the full-text index of every configured site from the database;
/// `progress` hears (site, done, total). Returns the objects indexed.
pub fn reindex(settings: &Settings, mut progress: impl FnMut(&str, usize, usize)) -> anyhow::Result<usize> {
    let db = settings.database()?;
    let engines = full_text_engines(settings, db.postgres.as_ref())
        .context("stop `cairn serve` before a reindex of the embedded index")?;
    let mut indexed = 0;
    for (site, engine) in engines {
        indexed += engine
            .rebuild(&*db.content, &site, &mut |done, total| progress(&site, done, total))
            .with_context(|| format!("while reindexing site '{site}'"))?;
    }
    Ok(indexed)
}

/// Runs the server on `listener` until `shutdown` resolves.
pub async fn launch(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let host = listener.local_addr()?.to_string();
    let built = tokio::task::spawn_blocking(move || build(&settings, &host)).await??;
    let served = cairn_api::serve(listener, built.state.clone(), shutdown).await;
    // Stopping the indexers joins threads: not on the async workers.
    tokio::task::spawn_blocking(move || drop(built)).await?;
    served.context("while serving")
}
