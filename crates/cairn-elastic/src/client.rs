//! The HTTP side: one blocking client per engine, credentials on every
//! request, and a cluster's refusals read from its documented error body
//! (`{"error": {"type", "reason"}, "status"}`) into [`ElasticError`].

use std::time::Duration;

use serde_json::Value;

/// How long one request may take; a bulk of 500 objects stays far below.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read (a page of 10,000 hits is about 1 MB).
const MAX_ANSWER: u64 = 64 << 20;

/// A cluster's refusal, or no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum ElasticError {
    /// The cluster could not be reached or answered no HTTP.
    #[error("the search cluster at {url} is unreachable: {message}")]
    Unreachable { url: String, message: String },
    /// It answered with an error: its status, `error.type` and `error.reason`.
    #[error("the search cluster refused {what}: {status} {kind}: {reason}")]
    Refused {
        what: String,
        status: u16,
        kind: String,
        reason: String,
    },
}

impl ElasticError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ElasticError::Refused { status, .. } => Some(*status),
            ElasticError::Unreachable { .. } => None,
        }
    }
}

/// How the cluster wants callers to prove who they are.
#[derive(Clone, Debug, Default)]
pub enum Credentials {
    #[default]
    None,
    /// HTTP basic authentication.
    Basic { username: String, password: String },
    /// An API key as the cluster hands it out, already base64-encoded
    /// (`Authorization: ApiKey ...`).
    ApiKey(String),
}

/// A blocking client of one cluster.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    authorization: Option<String>,
}

/// An answer: its status and its JSON body (`Null` when it had none).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    pub fn new(url: &str, credentials: &Credentials) -> Self {
        use base64::Engine as _;
        let authorization = match credentials {
            Credentials::None => None,
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::ApiKey(key) => Some(format!("ApiKey {key}")),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Self {
            agent,
            base: url.trim_end_matches('/').to_string(),
            authorization,
        }
    }

    /// Sends one request with its body, if any (JSON or NDJSON); a PUT or
    /// POST without one carries none.
    pub fn send(&self, method: &str, path: &str, body: Option<Body<'_>>) -> Result<Answer, ElasticError> {
        let url = format!("{}{path}", self.base);
        let with_auth = |req: ureq::RequestBuilder<ureq::typestate::WithBody>| match &self.authorization {
            Some(a) => req.header("Authorization", a),
            None => req,
        };
        let response = match (method, body) {
            ("GET", None) => {
                let mut req = self.agent.get(&url);
                if let Some(a) = &self.authorization {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            ("DELETE", None) => {
                let mut req = self.agent.delete(&url);
                if let Some(a) = &self.authorization {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            ("PUT" | "POST", body) => {
                let req = with_auth(if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                });
                // An endpoint that reads no body refuses one (`_refresh`).
                let (kind, bytes) = match body {
                    Some(Body::Json(v)) => ("application/json", serde_json::to_vec(v).unwrap_or_default()),
                    Some(Body::Ndjson(text)) => ("application/x-ndjson", text.as_bytes().to_vec()),
                    None => return self.answer(req.send_empty()),
                };
                req.header("Content-Type", kind).send(&bytes[..])
            }
            (method, _) => {
                return Err(ElasticError::Unreachable {
                    url: self.base.clone(),
                    message: format!("no {method} request with a body is sent"),
                });
            }
        };
        self.answer(response)
    }

    /// Reads an answer's status and JSON body.
    fn answer(&self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, ElasticError> {
        let unreachable = |e: ureq::Error| ElasticError::Unreachable {
            url: self.base.clone(),
            message: e.to_string(),
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(unreachable)?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| ElasticError::Unreachable {
                url: self.base.clone(),
                message: format!("an answer that is not JSON ({e}): {}", snippet(&text)),
            })?
        };
        Ok(Answer { status, body })
    }

    /// Like [`Client::send`], but a status outside 2xx and `allowed` is a refusal.
    pub fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<Body<'_>>,
        allowed: &[u16],
    ) -> Result<Answer, ElasticError> {
        let answer = self.send(method, path, body)?;
        if (200..300).contains(&answer.status) || allowed.contains(&answer.status) {
            Ok(answer)
        } else {
            Err(refusal(&format!("{method} {path}"), &answer))
        }
    }
}

/// What a request carries.
pub enum Body<'a> {
    Json(&'a Value),
    Ndjson(&'a str),
}

/// Reads the documented error body of a refused request.
pub fn refusal(what: &str, answer: &Answer) -> ElasticError {
    let error = &answer.body["error"];
    let (kind, reason) = match error {
        Value::String(s) => ("error".to_string(), s.clone()),
        _ => (
            error["type"].as_str().unwrap_or("unknown").to_string(),
            error["reason"]
                .as_str()
                .map_or_else(|| snippet(&answer.body.to_string()), str::to_string),
        ),
    };
    ElasticError::Refused {
        what: what.to_string(),
        status: answer.status,
        kind,
        reason,
    }
}

fn snippet(text: &str) -> String {
    text.chars().take(300).collect()
}
