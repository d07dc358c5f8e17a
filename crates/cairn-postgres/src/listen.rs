//! Hears what other nodes changed: a thread holds one connection that
//! LISTENs on a channel and bumps a counter for every notification. A lost
//! connection is reopened, and counted as a change too, since notifications
//! sent meanwhile are gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use r2d2_postgres::postgres::fallible_iterator::FallibleIterator;
use r2d2_postgres::postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Seconds of silence between two liveness questions.
const PROBE_EVERY: u32 = 5;

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
        channel: &'static str,
        counter: Arc<AtomicU64>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name(format!("listen-{channel}"))
            .spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    match config.connect(tls.clone()) {
                        Ok(client) => {
                            if let Err(e) = listen(client, channel, &counter, &stopped) {
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
        Self { stop }
    }
}

fn listen(
    mut client: Client,
    channel: &str,
    counter: &AtomicU64,
    stop: &AtomicBool,
) -> Result<(), r2d2_postgres::postgres::Error> {
    client.batch_execute(&format!("LISTEN {channel}"))?;
    // Listening now: whatever happened while no one listened is unknown.
    counter.fetch_add(1, Ordering::SeqCst);
    let mut quiet = 0;
    while !stop.load(Ordering::SeqCst) {
        {
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(Duration::from_secs(1));
            while let Some(n) = heard.next()? {
                if n.channel() == channel {
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
