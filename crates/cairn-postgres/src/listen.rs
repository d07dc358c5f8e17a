//! Hears what other nodes changed: a thread holds one connection that
//! LISTENs on a channel and bumps a counter for every notification (but
//! those whose payload starts with this node's own mark: PostgreSQL
//! delivers a node's notifications to its own listener too). A lost
//! connection is reopened, and counted as a change too, since
//! notifications sent meanwhile are gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use r2d2_postgres::postgres::fallible_iterator::FallibleIterator;
use r2d2_postgres::postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Seconds of silence between two liveness questions.
const PROBE_EVERY: u32 = 5;

/// How long `start` waits for the first LISTEN.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Stops its thread when dropped (within a second).
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Listener {
    pub(crate) fn start(
        config: Config,
        tls: MakeRustlsConnect,
        channel: String,
        counter: Arc<AtomicU64>,
        own: Option<String>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        // Returns once listening (up to READY_WITHIN), so a node hears every
        // change committed after it opened; the first LISTEN counts as no
        // change then, since nothing was cached before it.
        let (ready, listening) = std::sync::mpsc::sync_channel::<()>(1);
        let mut ready = Some(ready);
        std::thread::Builder::new()
            .name(format!("listen-{channel}"))
            .spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    match config.connect(tls.clone()) {
                        Ok(client) => {
                            let mut heard = || {
                                if ready.take().is_none_or(|r| r.send(()).is_err()) {
                                    counter.fetch_add(1, Ordering::SeqCst);
                                }
                            };
                            if let Err(e) = listen(client, &channel, &counter, own.as_deref(), &stopped, &mut heard) {
                                tracing::warn!(error = %e, channel, "listening for changes failed; reconnecting");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, channel, "cannot connect to listen for changes"),
                    }
                    if !stopped.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            })
            .expect("a listener thread starts");
        if listening.recv_timeout(READY_WITHIN).is_err() {
            tracing::warn!("not listening for other nodes' changes yet; caches catch up once it is");
        }
        Self { stop }
    }
}

fn listen(
    mut client: Client,
    channel: &str,
    counter: &AtomicU64,
    own: Option<&str>,
    stop: &AtomicBool,
    listening: &mut impl FnMut(),
) -> Result<(), r2d2_postgres::postgres::Error> {
    client.batch_execute(&format!("LISTEN \"{}\"", channel.replace('"', "")))?;
    // Listening now: whatever happened while no one listened is unknown.
    listening();
    let mut quiet = 0;
    while !stop.load(Ordering::SeqCst) {
        {
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(Duration::from_secs(1));
            while let Some(n) = heard.next()? {
                if n.channel() == channel && own.is_none_or(|own| !n.payload().starts_with(own)) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        if client.is_closed() {
            break;
        }
        // A half-open connection hears nothing and reports no error: ask
        // every few seconds, and reconnect when the question fails.
        quiet += 1;
        if quiet >= PROBE_EVERY {
            quiet = 0;
            client.simple_query("SELECT 1")?;
        }
    }
    Ok(())
}
