//! Cloudflare's cache purge API (v4): `POST /zones/{zone}/purge_cache`
//! with an API token, purging by cache tag (`{"tags": [...]}`), by URL
//! (`{"files": [...]}`) or everything (`{"purge_everything": true}`), at most
//! 30 tags or URLs per call as documented. A 429 (rate limit) or 5xx answer
//! fails the attempt as transient, so the job retries after a pause.

use cairn_core::caching::{PurgeError, Purger};
use serde_json::{Value, json};

use crate::{agent, check, unreachable};

/// Tags or URLs per API call (Cloudflare's documented limit).
pub const PER_CALL: usize = 30;

/// One zone's purge API.
pub struct Cloudflare {
    /// `https://api.cloudflare.com/client/v4` (a test points it at a fake).
    api: String,
    zone: String,
    token: String,
    agent: ureq::Agent,
}

impl Cloudflare {
    pub fn new(api: &str, zone: &str, token: &str) -> Self {
        Self {
            api: api.trim_end_matches('/').to_owned(),
            zone: zone.to_owned(),
            token: token.to_owned(),
            agent: agent(),
        }
    }

    fn call(&self, body: &Value) -> Result<(), PurgeError> {
        let url = format!("{}/zones/{}/purge_cache", self.api, self.zone);
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body)
            .map_err(|e| unreachable("Cloudflare", e))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        check("Cloudflare", status, &text)?;
        // A 200 may still report failure in its envelope.
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if answer["success"] == json!(true) {
            Ok(())
        } else {
            Err(PurgeError {
                message: format!("Cloudflare did not confirm the purge: {}", answer["errors"]),
                transient: true,
            })
        }
    }
}

impl Purger for Cloudflare {
    fn name(&self) -> &str {
        "cloudflare"
    }

    fn purge(&self, tags: &[String], urls: &[String]) -> Result<(), PurgeError> {
        for chunk in tags.chunks(PER_CALL) {
            self.call(&json!({ "tags": chunk }))?;
        }
        for chunk in urls.chunks(PER_CALL) {
            self.call(&json!({ "files": chunk }))?;
        }
        Ok(())
    }

    fn purge_all(&self) -> Result<(), PurgeError> {
        self.call(&json!({ "purge_everything": true }))
    }
}
