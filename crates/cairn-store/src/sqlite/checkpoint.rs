//! WAL checkpoints on a thread of their own. SQLite's default runs a
//! checkpoint inside the commit that grows the log past a limit: that
//! writer copies the log into the database and syncs it while holding the
//! write lock (a fifth of a bulk load's writer time, measured with perf).
//! Here every commit only nudges this thread, which runs a passive
//! checkpoint (it never blocks readers or the writer) at most every
//! [`SPACING`]. The commit-time checkpoint stays as a backstop at a much
//! larger log size, should this thread fall behind.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

/// Pause after a nudge, so a stream of commits shares one checkpoint.
const SPACING: Duration = Duration::from_millis(100);

/// Wakes the checkpoint thread; the thread ends when every clone is dropped.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    nudge: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread for the database at `file`.
    pub(crate) fn start(file: &Path) -> std::io::Result<Self> {
        let conn = rusqlite::Connection::open(file).map_err(std::io::Error::other)?;
        conn.execute_batch("PRAGMA busy_timeout=10000;")
            .map_err(std::io::Error::other)?;
        let (nudge, woken) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &woken))?;
        Ok(Self { nudge })
    }

    /// A commit happened. A full channel means a checkpoint is due anyway;
    /// a closed one (the thread died) leaves the commit-time backstop.
    pub(crate) fn nudge(&self) {
        let _ = self.nudge.try_send(());
    }
}

fn run(conn: &rusqlite::Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        std::thread::sleep(SPACING);
        // Commits during the pause are covered by this checkpoint.
        while woken.try_recv().is_ok() {}
        // A busy or failed checkpoint is retried on the next nudge.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}
