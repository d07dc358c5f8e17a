//! Request bodies are read only as far as the sender is entitled to: a JSON
//! body gets a small limit, and only someone who may write where the request
//! points gets the upload limit (uploads arrive base64 in JSON). The bytes
//! of all bodies held at once come from one memory budget, so a crowd of
//! large requests waits instead of exhausting memory, and a body must
//! arrive within a time limit.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, header};
use cairn_core::{Principal, Site, repo, security};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Code};
use crate::route::{Target, View};
use crate::{AppState, Limits, auth};

/// Budget permits are KiB, so that a `u32` count covers gigabytes.
const KIB: usize = 1024;

/// The request bodies the server is reading or handling, bounded together.
pub struct Bodies {
    budget: Arc<Semaphore>,
    budget_kib: usize,
    timeout: Duration,
}

/// How much body one request may send, and what to answer when it sends more.
struct Allowance {
    limit: usize,
    refusal: fn(usize) -> ApiError,
}

impl Bodies {
    pub fn new(limits: &Limits) -> Self {
        let budget_kib = (limits.body_memory_bytes / KIB).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            budget: Arc::new(Semaphore::new(budget_kib)),
            budget_kib,
            timeout: limits.body_timeout,
        }
    }

    /// Reads the body within `allowance`. The permit holds its bytes'
    /// share of the budget; keep it until the request is handled.
    async fn read(
        &self,
        body: Body,
        headers: &HeaderMap,
        allowance: &Allowance,
    ) -> Result<(Bytes, OwnedSemaphorePermit), ApiError> {
        let declared = content_length(headers);
        if declared.is_some_and(|n| n > allowance.limit) {
            return Err((allowance.refusal)(allowance.limit));
        }
        let expected = declared.unwrap_or(allowance.limit);
        let kib = expected.div_ceil(KIB).clamp(1, self.budget_kib);
        let wait = tokio::time::timeout(self.timeout, self.budget.clone().acquire_many_owned(kib as u32));
        let permit = match wait.await {
            Ok(p) => p.expect("the budget is never closed"),
            Err(_) => return Err(busy()),
        };
        match tokio::time::timeout(self.timeout, axum::body::to_bytes(body, allowance.limit)).await {
            Ok(Ok(bytes)) => Ok((bytes, permit)),
            Ok(Err(_)) => Err((allowance.refusal)(allowance.limit)),
            Err(_) => Err(ApiError::new(
                Code::RequestTimeout,
                format!(
                    "The request body did not arrive within {} seconds.",
                    self.timeout.as_secs()
                ),
            )),
        }
    }
}

/// A request's body, and who sent it when that had to be known first.
pub struct Received {
    pub who: Option<Principal>,
    pub bytes: Bytes,
    /// The body's share of the memory budget, held until the request is done.
    _held: Option<OwnedSemaphorePermit>,
}

/// Reads the body of a request within what its sender may send. A body the
/// JSON limit covers is read at once (anyone may send that much); a larger
/// or unsized one only after authentication (on the blocking pool, as a
/// password check hashes) has decided the sender's allowance.
pub async fn receive(
    app: &Arc<AppState>,
    site: &Arc<Site>,
    target: &Target,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
    client: IpAddr,
) -> Result<Received, ApiError> {
    if !has_body(headers) {
        return Ok(Received {
            who: None,
            bytes: Bytes::new(),
            _held: None,
        });
    }
    let small = small(&app.limits);
    if content_length(headers).is_some_and(|n| n <= small.limit) {
        let (bytes, permit) = app.bodies.read(body, headers, &small).await?;
        return Ok(Received {
            who: None,
            bytes,
            _held: Some(permit),
        });
    }
    let (worker, s, h, t, m) = (
        app.clone(),
        site.clone(),
        headers.clone(),
        target.clone(),
        method.clone(),
    );
    let decided = tokio::task::spawn_blocking(move || {
        let who = auth::authenticate(&worker, &s, &m, &h, client)?;
        let allowance = allowance(&s, &who, &t, &m, &worker.limits);
        Ok::<_, ApiError>((who, allowance))
    });
    let (who, allowance) = decided.await.map_err(|_| ApiError::internal())??;
    let (bytes, permit) = app.bodies.read(body, headers, &allowance).await?;
    Ok(Received {
        who: Some(who),
        bytes,
        _held: Some(permit),
    })
}

/// Whether the request says it carries a body at all.
fn has_body(headers: &HeaderMap) -> bool {
    content_length(headers).is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The body `who` may send: the upload limit to whoever may write where an
/// upload can go (content POST/PATCH, a user's portrait), the JSON limit to
/// everyone and everything else.
fn allowance(site: &Site, who: &Principal, target: &Target, method: &Method, limits: &Limits) -> Allowance {
    let small = small(limits);
    let upload = Allowance {
        limit: limits.max_body_bytes,
        refusal: too_large,
    };
    let uploads_here = match (&target.view, method) {
        (View::Content, &Method::POST) => Some(true),
        (View::Content, &Method::PATCH) => Some(false),
        (View::Service { name, .. }, &Method::POST | &Method::PATCH) if name == "users" => None,
        _ => return small,
    };
    if who.is_anonymous() {
        return Allowance {
            refusal: |_| ApiError::unauthorized("You are not allowed to upload here; log in first."),
            ..small
        };
    }
    let Some(creating) = uploads_here else {
        // Members set their own portrait; the handler checks whose.
        return upload;
    };
    let permitted = repo::get_visible(site, &target.path, who)
        .and_then(|c| security::may_write(site, who, &c, creating))
        .unwrap_or(false);
    if permitted {
        upload
    } else {
        Allowance {
            refusal: |_| ApiError::new(Code::Forbidden, "You are not allowed to write here."),
            ..small
        }
    }
}

/// What anyone may send anywhere.
fn small(limits: &Limits) -> Allowance {
    Allowance {
        limit: limits.max_json_bytes.min(limits.max_body_bytes),
        refusal: too_large,
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("The request body is too large (at most {limit} bytes here)."),
    )
}

fn busy() -> ApiError {
    ApiError::new(
        Code::ServiceUnavailable,
        "The server is reading too many large requests; try again shortly.",
    )
}
