//! cairn-cdn: the core's [`Purger`] port for the HTTP caches a site runs
//! behind: [`Varnish`] (tag purges through the xkey vmod, URL purges) and
//! [`Cloudflare`] (its v4 `purge_cache` API, within its documented batch
//! sizes, retrying on rate limits and server errors).
//!
//! [`Purger`]: cairn_core::caching::Purger

mod cloudflare;
mod varnish;

pub use cloudflare::Cloudflare;
pub use varnish::Varnish;

use std::time::Duration;

use cairn_core::caching::PurgeError;

/// How long one purge request may take.
const TIMEOUT: Duration = Duration::from_secs(15);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// A failure to reach the cache at all: worth another attempt.
fn unreachable(what: &str, e: ureq::Error) -> PurgeError {
    PurgeError {
        message: format!("{what}: {e}"),
        transient: true,
    }
}

/// Classifies an HTTP answer: 2xx is success; 408, 429 and 5xx may pass
/// on another attempt; other refusals will repeat.
fn check(what: &str, status: u16, body: &str) -> Result<(), PurgeError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let snippet: String = body.chars().take(300).collect();
    Err(PurgeError {
        message: format!("{what} answered {status}: {snippet}"),
        transient: status == 408 || status == 429 || status >= 500,
    })
}
