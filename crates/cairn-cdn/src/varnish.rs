//! Varnish with the xkey vmod (`varnish-modules`): a `PURGE` request with an
//! `xkey-purge` header (or `xkey-softpurge`) drops every object tagged with
//! one of its keys; a `PURGE` of a URL drops that URL. The VCL that answers
//! both is in `deploy/varnish/cairn.vcl`.

use cairn_core::caching::{PurgeError, Purger};

use crate::{agent, check, unreachable};

/// Keys sent per request (a header of a few kilobytes).
const KEYS_PER_REQUEST: usize = 100;

/// One or more Varnish servers in front of a site.
pub struct Varnish {
    /// Base URLs of the Varnish servers (`http://127.0.0.1:6081`).
    servers: Vec<String>,
    /// Soft purge: objects are marked stale and revalidated, not dropped
    /// (the cache can still serve them if cairn is down).
    soft: bool,
    agent: ureq::Agent,
}

impl Varnish {
    pub fn new(servers: Vec<String>, soft: bool) -> Self {
        Self {
            servers: servers
                .into_iter()
                .map(|s| s.trim_end_matches('/').to_owned())
                .collect(),
            soft,
            agent: agent(),
        }
    }

    fn send(&self, url: &str, header: Option<(&str, String)>) -> Result<(), PurgeError> {
        let mut req = ureq::http::Request::builder().method("PURGE").uri(url);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let req = req.body(()).map_err(|e| PurgeError {
            message: format!("purge request for {url}: {e}"),
            transient: false,
        })?;
        let mut resp = self.agent.run(req).map_err(|e| unreachable(url, e))?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        check(&format!("Varnish {url}"), status, &body)
    }
}

impl Purger for Varnish {
    fn name(&self) -> &str {
        "varnish"
    }

    fn purge(&self, tags: &[String], urls: &[String]) -> Result<(), PurgeError> {
        let header = if self.soft { "xkey-softpurge" } else { "xkey-purge" };
        for server in &self.servers {
            for chunk in tags.chunks(KEYS_PER_REQUEST) {
                self.send(&format!("{server}/"), Some((header, chunk.join(" "))))?;
            }
            for url in urls {
                // The URL's path and query on this server; its Host names the site.
                let (host, path) = split_url(url);
                self.send(&format!("{server}{path}"), host.map(|h| ("host", h.to_owned())))?;
            }
        }
        Ok(())
    }

    fn purge_all(&self) -> Result<(), PurgeError> {
        for server in &self.servers {
            self.send(&format!("{server}/"), Some(("xkey-purge-all", "1".into())))?;
        }
        Ok(())
    }
}

/// `https://host/p?q` → (`host`, `/p?q`).
fn split_url(url: &str) -> (Option<&str>, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => (Some(&rest[..i]), &rest[i..]),
        None => (Some(rest), "/"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_is_split_into_host_and_path() {
        assert_eq!(
            super::split_url("https://www.example.ch/de/a?x=1"),
            (Some("www.example.ch"), "/de/a?x=1")
        );
        assert_eq!(super::split_url("http://h"), (Some("h"), "/"));
    }
}
