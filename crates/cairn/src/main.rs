//! `cairn`: the command line. `cairn serve` starts the embedded server;
//! `cairn reindex` rebuilds the full-text index; `cairn blobs gc` removes
//! blobs nothing refers to.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cairn", version, about = "A fast, plone.restapi-compatible content backend")]
struct Cli {
    /// Settings file (default: ./cairn.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (embedded SQLite, sample content on first start).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Folder for the database and blobs.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Do not create sample content in a new site.
        #[arg(long)]
        no_sample: bool,
    },
    /// Rebuild every site's full-text index from the database, with progress.
    Reindex {
        /// Folder for the database and blobs.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Write the configured sites (content, history, trash, redirects,
    /// relations, settings, users, groups, blobs) into a new folder, to
    /// move them to another database or installation (`cairn import`).
    Export {
        /// The folder to create (it holds password hashes: keep it private).
        dir: PathBuf,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Read a `cairn export` folder into the configured database (SQLite
    /// or `database_url`), whose sites must have no content yet.
    Import {
        /// The folder `cairn export` wrote.
        dir: PathBuf,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Run background jobs (purges, scheduled publication, upkeep) as a
    /// separate process on the same data folder, beside or instead of the
    /// workers inside `cairn serve` (`jobs.workers = 0` there).
    Worker {
        /// Folder for the database and blobs.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Worker threads (default: `jobs.worker_process_workers`).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Manage the blob folder.
    Blobs {
        #[command(subcommand)]
        command: BlobsCommand,
    },
    /// Copy the installation (database, blobs) into a new folder while it
    /// serves and takes writes: a consistent snapshot (`cairn restore`).
    Backup {
        /// The folder to create.
        dest: PathBuf,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Bring a `cairn backup` back into an empty installation (a new data
    /// folder, or an empty PostgreSQL schema named as in the backup).
    Restore {
        /// The folder `cairn backup` wrote.
        src: PathBuf,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Verify the database, the blobs and the full-text indexes against
    /// each other; exit 1 when something disagrees.
    Check {
        /// Fix what can be fixed (rebuild an index that is behind).
        #[arg(long)]
        repair: bool,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Exit 0 when `url` answers 2xx within three seconds, else 1: a
    /// container's health check, with no curl in the image.
    Probe {
        /// E.g. http://127.0.0.1:8080/readyz.
        url: String,
    },
    /// Bring the database schema to this build's version (`serve` does it
    /// on start too): the data folder's SQLite, or a PostgreSQL database.
    Migrate {
        /// A PostgreSQL database (`postgres://user:password@host/db`).
        #[arg(long, env = "CAIRN_DATABASE_URL")]
        database_url: Option<String>,
        /// Folder for the database and blobs (SQLite).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Show the schema's state and change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Content types saved through the web.
    Types {
        #[command(subcommand)]
        command: TypesCommand,
    },
}

#[derive(Subcommand)]
enum TypesCommand {
    /// Write the types a site saved through the web to DIR/types/*.toml,
    /// the files a configuration folder (`config_dir`) holds.
    Export {
        /// Folder to write to (a `types/` folder is made inside).
        dir: PathBuf,
        /// The site (default: the first one configured).
        #[arg(long)]
        site: Option<String>,
        /// Folder for the database and blobs.
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BlobsCommand {
    /// Remove blobs (and their scales) that no object, kept version or
    /// portrait refers to; safe while `cairn serve` runs.
    Gc {
        /// Folder for the database and blobs.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Keep blobs younger than this many minutes (uploads still on their way).
        #[arg(long, default_value_t = 60)]
        grace_minutes: u64,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,cairn_api::access=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut settings = cairn::Settings::load(cli.config.as_deref()).context("while reading settings")?;
    match cli.command {
        Command::Serve {
            listen,
            data,
            no_sample,
        } => {
            settings.listen = listen.unwrap_or(settings.listen);
            settings.data = data.unwrap_or(settings.data);
            settings.sample_content &= !no_sample;
            // Handlers run on the blocking pool. Capping it near the CPU count
            // queues requests instead of letting dozens share two cores: at 8
            // concurrent catalog queries on two cores that cut p99 by a third.
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(settings.worker_threads())
                // Input is bounded in depth everywhere; a roomier stack is
                // the margin for what no bound foresaw (the default is 2 MiB).
                .thread_stack_size(8 * 1024 * 1024)
                .build()?
                .block_on(serve(settings))
        }
        Command::Backup { dest, data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = spinner()?;
            let m = cairn::backup::backup(&settings, &dest, |what, n| bar.set_message(format!("{what}: {n}")))?;
            bar.finish_and_clear();
            println!(
                "{} database and {} blobs backed up into {}",
                m.database,
                m.blobs,
                dest.display()
            );
            if !m.missing_blobs.is_empty() {
                println!(
                    "{} blobs the database refers to were missing from the blob store (listed in backup.json)",
                    m.missing_blobs.len()
                );
            }
            Ok(())
        }
        Command::Restore { src, data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = spinner()?;
            let m = cairn::backup::restore(&settings, &src, |what, n| bar.set_message(format!("{what}: {n}")))?;
            bar.finish_and_clear();
            println!(
                "restored the {} backup of {} ({} blobs); search index: {}",
                m.database, m.created, m.blobs, m.search_index
            );
            Ok(())
        }
        Command::Check { repair, data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = spinner()?;
            let report = cairn::check::check(&settings, repair, |what, n| bar.set_message(format!("{what}: {n}")))?;
            bar.finish_and_clear();
            for f in &report.findings {
                let state = if f.repaired { "repaired" } else { "found" };
                println!("{state} {} [{}]: {}", f.kind, f.site, f.detail);
            }
            println!(
                "checked {} objects and {} blobs: {} findings, {} unresolved",
                report.objects,
                report.blobs,
                report.findings.len(),
                report.unresolved()
            );
            if report.unresolved() > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Probe { url } => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(std::time::Duration::from_secs(3)))
                .build()
                .into();
            match agent.get(&url).call() {
                Ok(_) => Ok(()),
                Err(e) => {
                    eprintln!("{url}: {e}");
                    std::process::exit(1)
                }
            }
        }
        Command::Export { dir, data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = spinner()?;
            let m = cairn::transfer::export(&settings, &dir, |what, n| bar.set_message(format!("{what}: {n}")))?;
            bar.finish_and_clear();
            for s in &m.sites {
                println!("{}: {s:?}", s.site);
            }
            println!("{} blobs; written to {}", m.blobs, dir.display());
            Ok(())
        }
        Command::Import { dir, data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = spinner()?;
            let m = cairn::transfer::import(&settings, &dir, |what, n| bar.set_message(format!("{what}: {n}")))?;
            bar.finish_and_clear();
            for s in &m.sites {
                println!("{}: {s:?}", s.site);
            }
            println!("{} blobs; imported from {}", m.blobs, dir.display());
            Ok(())
        }
        Command::Reindex { data } => {
            settings.data = data.unwrap_or(settings.data);
            let bar = indicatif::ProgressBar::new(0).with_style(indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} objects ({per_sec})",
            )?);
            let total = cairn::reindex(&settings, |site, done, total| {
                bar.set_message(site.to_owned());
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish();
            println!("Indexed {total} objects.");
            Ok(())
        }
        Command::Worker { data, workers } => {
            settings.data = data.unwrap_or(settings.data);
            // A worker never fills a site: the server does that on first start.
            settings.sample_content = false;
            let workers = workers.unwrap_or(settings.jobs.worker_process_workers).max(1);
            let opened = cairn::open_sites(&settings, &settings.listen)?;
            let jobs = cairn::start_jobs(&settings, &opened, workers)?;
            println!("cairn worker: {workers} workers on {}", settings.data.display());
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(shutdown_signal());
            // Stops taking jobs; each worker ends the job it runs first.
            drop(jobs);
            Ok(())
        }
        Command::Migrate {
            database_url,
            data,
            status,
        } => {
            settings.data = data.unwrap_or(settings.data);
            let url = database_url.or_else(|| settings.database_url.clone());
            for line in cairn::migrate(&settings, url.as_deref(), status)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Types {
            command: TypesCommand::Export { dir, site, data },
        } => {
            settings.data = data.unwrap_or(settings.data);
            let site = site
                .or_else(|| settings.sites.first().map(|s| s.id.clone()))
                .context("no site is configured")?;
            let files = cairn::type_files::export(&settings, &site, &dir)?;
            for f in &files {
                println!("{}", f.display());
            }
            println!("Wrote {} type files.", files.len());
            Ok(())
        }
        Command::Blobs {
            command: BlobsCommand::Gc { data, grace_minutes },
        } => {
            settings.data = data.unwrap_or(settings.data);
            let grace = std::time::Duration::from_secs(grace_minutes * 60);
            let report = cairn::blob_sweep::once(&settings, grace)?;
            println!("Removed {} blobs, kept {}.", report.removed, report.kept);
            Ok(())
        }
    }
}

async fn serve(settings: cairn::Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("while binding {}", settings.listen))?;
    let host = listener.local_addr()?.to_string();
    let s = settings.clone();
    let built = tokio::task::spawn_blocking(move || cairn::build(&s, &host)).await??;
    let report = &built.report;
    if report.sample_objects > 0 {
        println!("Created {} sample objects.", report.sample_objects);
    }
    for site in &settings.sites {
        let url = site
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/{}", settings.listen, site.id));
        println!("cairn is serving site '{}' at {url}", site.id);
    }
    match &report.generated_admin_password {
        Some(pw) => println!(
            "Log in as 'admin' with the generated password: {pw}\n(shown once; set CAIRN_ADMIN_PASSWORD to choose your own)"
        ),
        None => {
            println!("Log in as 'admin' with the password from CAIRN_ADMIN_PASSWORD / cairn.toml.")
        }
    }
    let shutdown = shutdown_signal();
    if let (Some(site), hours @ 1..) = (built.state.sites.values().next(), settings.blob_sweep_hours) {
        let every = std::time::Duration::from_secs(hours * 3600);
        tokio::spawn(cairn::blob_sweep::every(
            site.clone(),
            every,
            cairn_core::blobs::DEFAULT_GRACE,
        ));
    }
    let served = cairn_api::serve(listener, built.state.clone(), shutdown).await;
    // Stopping the indexers joins threads: not on the async workers.
    tokio::task::spawn_blocking(move || drop(built)).await?;
    served.context("while serving")
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let interrupt = async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = interrupt => {}, _ = term.recv() => {} }
    };
    interrupt.await
}

/// A progress line for commands whose total is not known beforehand.
fn spinner() -> anyhow::Result<indicatif::ProgressBar> {
    let bar = indicatif::ProgressBar::new_spinner()
        .with_style(indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")?);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Ok(bar)
}
