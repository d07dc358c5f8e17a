//! cairn-api: the plone.restapi-compatible HTTP API. One axum fallback route
//! traverses Zope-style paths (`/<site>/<path>/@service`) and dispatches to
//! thin handlers that parse the request, call `cairn-core` services (the read
//! side through `cairn_core::search::Searcher`) and serialize the answer; all
//! storage work runs on the blocking pool. No adapter crate is a dependency:
//! the binary hands in each site's full-text index as a `FullText` port.

mod auth;
mod batch;
mod blob;
mod body;
pub mod caching;
mod client_addr;
mod ctx;
mod error;
mod handlers;
mod metrics;
pub mod observe;
mod public_url;
mod query;
mod response_cache;
mod route;
mod serialize;
mod server;
mod throttle;

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_core::ports::FullText;
use cairn_core::search::TextIndex;
use cairn_core::{Principal, Site};

pub use client_addr::{InvalidProxy, TrustedProxies};
pub use error::{ApiError, ApiResult};
pub use throttle::MAILS_PER_HOUR;

use crate::ctx::Ctx;
use crate::handlers::{
    aliases, content, controlpanels, files, history, jobs, linkintegrity, login, mail, principals, querystring,
    relations, search, services, sharing, system, translations, trash, types, vocabularies, workingcopy,
};
use crate::query::Params;
use crate::route::View;

/// Limits that protect the server from oversized requests.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body in bytes (uploads arrive base64 in JSON),
    /// for those who may write where the request points.
    pub max_body_bytes: usize,
    /// Largest body of every other request (and of anonymous ones).
    pub max_json_bytes: usize,
    /// Bytes of request bodies held at once; more requests wait for room.
    pub body_memory_bytes: usize,
    /// Time a body has to arrive in full.
    pub body_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and to start the next
    /// one on a kept-alive connection.
    pub header_timeout: Duration,
    /// Largest `b_size` honoured.
    pub max_batch_size: usize,
    /// Memory for rendered anonymous responses (0 turns the cache off).
    pub response_cache_bytes: u64,
    /// Origins whose browser scripts may call the API (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Full-text hits considered per query, best first: ranking keeps the
    /// best, and `items_total` counts at most these (after permissions).
    pub max_text_hits: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the login throttle).
    pub trusted_proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024 * 1024,
            max_json_bytes: 2 * 1024 * 1024,
            body_memory_bytes: 256 * 1024 * 1024,
            body_timeout: Duration::from_secs(60),
            max_connections: 4096,
            header_timeout: Duration::from_secs(15),
            max_batch_size: 1000,
            response_cache_bytes: 128 * 1024 * 1024,
            cors_origins: Vec::new(),
            max_text_hits: 1000,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Shared state of the HTTP layer.
pub struct AppState {
    pub sites: HashMap<String, Arc<Site>>,
    /// Each site's full-text index (none: SearchableText answers 501).
    pub full_text: HashMap<String, Arc<dyn FullText>>,
    pub limits: Limits,
    /// How shared caches may keep anonymous answers.
    pub caching: caching::Policy,
    /// What this process's job workers did (none: they run elsewhere).
    pub job_metrics: Option<Arc<cairn_core::jobs::JobMetrics>>,
    /// Requests by route class, method and status (see [`observe`]).
    pub http_metrics: Arc<observe::HttpMetrics>,
    /// Verified Basic credentials, with the principals generation they were verified at.
    auth_cache: moka::sync::Cache<u64, (u64, Principal)>,
    hasher: RandomState,
    responses: response_cache::ResponseCache,
    throttle: throttle::Throttle,
    mail_limit: throttle::MailLimit,
    bodies: body::Bodies,
}

impl AppState {
    pub fn new(sites: Vec<Arc<Site>>, limits: Limits) -> Self {
        let responses = response_cache::ResponseCache::new(limits.response_cache_bytes);
        Self {
            sites: sites.into_iter().map(|s| (s.id.clone(), s)).collect(),
            full_text: HashMap::new(),
            job_metrics: None,
            http_metrics: Arc::default(),
            caching: caching::Policy::default(),
            // Verified Basic credentials for a minute: argon2 is slow on purpose,
            // scripts send the header on every request.
            auth_cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            hasher: RandomState::new(),
            responses,
            throttle: throttle::Throttle::default(),
            mail_limit: throttle::MailLimit::default(),
            bodies: body::Bodies::new(&limits),
            limits,
        }
    }

    /// Answers SearchableText from these indexes, one per site id.
    pub fn with_full_text(mut self, indexes: HashMap<String, Arc<dyn FullText>>) -> Self {
        self.full_text = indexes;
        self
    }

    pub fn with_caching(mut self, policy: caching::Policy) -> Self {
        self.caching = policy;
        self
    }

    pub fn with_job_metrics(mut self, metrics: Arc<cairn_core::jobs::JobMetrics>) -> Self {
        self.job_metrics = Some(metrics);
        self
    }
}

/// The site's s-maxage for answers of `kind` (Caching panel or configuration).
fn site_s_maxage(site: &cairn_core::Site, kind: caching::Kind) -> Option<u64> {
    let record = match kind {
        caching::Kind::Content => "cairn.caching.content_s_maxage",
        caching::Kind::Listing => "cairn.caching.listing_s_maxage",
        caching::Kind::File => "cairn.caching.file_s_maxage",
        caching::Kind::Private => return None,
    };
    cairn_core::records::value(site, record).ok()?.as_u64()
}

/// The CORS policy for the configured origins (`*` allows any origin, without credentials).
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    let headers = [
        header::ACCEPT,
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static("prefer"),
        HeaderName::from_static("lock-token"),
    ];
    let layer = CorsLayer::new()
        .allow_methods(methods)
        .allow_headers(headers)
        .max_age(std::time::Duration::from_secs(3600));
    Some(if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        layer.allow_origin(list).allow_credentials(true)
    })
}

/// The router: health probes plus Zope-style traversal for everything else.
pub fn router(state: Arc<AppState>) -> Router {
    let cors = cors(&state.limits.cors_origins);
    let http_metrics = state.http_metrics.clone();
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/metrics", get(metrics::get))
        .fallback(dispatch)
        .with_state(state)
        // A bug that panics answers its own request with a 500; the
        // handlers on the blocking pool are caught where they are joined.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("request panicked");
            ApiError::internal().into_response()
        }));
    let router = match cors {
        Some(layer) => router.layer(layer),
        None => router,
    };
    // Outermost: every answer gets its id, log line and count, a panic's 500 too.
    router.layer(axum::middleware::from_fn_with_state(http_metrics, observe::observe))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = server::ConnLimits {
        max_connections: state.limits.max_connections,
        header_timeout: state.limits.header_timeout,
    };
    server::run(listener, router(state), limits, shutdown).await
}

/// Longest request target (path and query) answered; Zope's own limit is
/// similar. Longer ones get a 414 that says so.
const MAX_URI_BYTES: usize = 16 * 1024;

async fn dispatch(
    State(app): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if uri.path_and_query().map_or(0, |p| p.as_str().len()) > MAX_URI_BYTES {
        return ApiError::new(
            error::Code::UriTooLong,
            format!("The request URL is longer than {MAX_URI_BYTES} bytes."),
        )
        .into_response();
    }
    let Some(target) = route::parse(uri.path()) else {
        return ApiError::not_found(uri.path()).into_response();
    };
    let Some(site) = app.sites.get(&target.site).cloned() else {
        return ApiError::not_found(uri.path()).into_response();
    };
    let client = app.limits.trusted_proxies.client(peer.ip(), &headers);
    let received = match body::receive(&app, &site, &target, &method, &headers, body, client).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let (who, bytes) = (received.who.clone(), received.bytes.clone());
    // Anonymous reads are answered from rendered responses while nothing changed.
    let generation = site.store.generation();
    let reads_only = matches!(&target.view, View::Service { name, .. } if name == "querystring-search");
    let cache_key = (generation != 0 && app.responses.enabled())
        .then(|| response_cache::ResponseCache::key(&method, &uri, &headers, reads_only.then_some(&bytes[..])))
        .flatten();
    // Search answers also change when the index catches up after a write,
    // portraits and user data when a principal changes.
    let generation =
        generation + app.full_text.get(&site.id).map_or(0, |i| i.version()) + site.principals.principals_generation();
    // `Cache-Control: no-cache` asks for a fresh rendering (which then
    // replaces the kept one), as it asks any HTTP cache: the benchmark's
    // uncached figures, a CDN refetching after a purge.
    let fresh = response_cache::wants_fresh(&headers);
    if let Some(hit) = cache_key
        .as_ref()
        .filter(|_| !fresh)
        .and_then(|k| app.responses.get(k, generation))
    {
        return caching::conditional(response_cache::mark(hit, response_cache::HIT), &headers);
    }
    let params = Params::parse(uri.query());
    // The validators the answer is checked against once rendered (the
    // headers themselves move into the handler).
    let validators: Vec<_> = [axum::http::header::IF_NONE_MATCH, axum::http::header::IF_MODIFIED_SINCE]
        .into_iter()
        .filter_map(|name| headers.get(&name).cloned().map(|v| (name, v)))
        .collect();
    let read_method = method.clone();
    let worker = app.clone();
    let req = Incoming {
        target,
        method,
        headers,
        params,
        body: bytes,
        client,
        peer: peer.ip(),
        who,
    };
    // The request's span (its id) follows the handler onto the blocking pool.
    let span = tracing::Span::current();
    let task = tokio::task::spawn_blocking(move || span.in_scope(|| handle(&worker, site, req)));
    let answer = match task.await {
        Ok(Ok(r)) => Ok(caching::finish(r, &read_method, &app.caching).await),
        Ok(Err(e)) => Err(caching::not_stored(e.into_response(), &read_method)),
        Err(e) => {
            tracing::error!(error = %e, "handler panicked");
            Err(ApiError::internal().into_response())
        }
    };
    // Both validators count on a fresh rendering as on a kept one: an
    // If-Modified-Since was ignored whenever the kept answer had gone stale.
    let mut conditions = HeaderMap::new();
    for (name, value) in validators {
        conditions.insert(name, value);
    }
    let r = match answer {
        Ok(r) => r,
        Err(r) => return r,
    };
    let r = match cache_key {
        Some(key) => {
            let stored = app.responses.store(key, generation, r).await;
            response_cache::mark(
                stored,
                if fresh {
                    response_cache::BYPASS
                } else {
                    response_cache::MISS
                },
            )
        }
        None => r,
    };
    caching::conditional(r, &conditions)
}

/// How a shared cache may keep the answer of a view.
fn caching_kind(view: &View) -> caching::Kind {
    match view {
        View::Content => caching::Kind::Content,
        View::Images(_) | View::Download { .. } => caching::Kind::File,
        View::Service { name, .. } => match name.as_str() {
            "navigation" | "breadcrumbs" | "contextnavigation" | "navroot" | "search" | "querystring-search" => {
                caching::Kind::Listing
            }
            _ => caching::Kind::Private,
        },
    }
}

/// The part of the request path after the object (`/@workflow/publish`, `/@@images/image`).
fn view_suffix(view: &View) -> String {
    let (head, args) = match view {
        View::Content => return String::new(),
        View::Service { name, args } => (format!("@{name}"), args),
        View::Images(args) => ("@@images".to_string(), args),
        View::Download { args, inline } => (
            (if *inline { "@@display-file" } else { "@@download" }).to_string(),
            args,
        ),
    };
    std::iter::once(head)
        .chain(args.iter().cloned())
        .fold(String::new(), |acc, s| format!("{acc}/{s}"))
}

/// What the blocking handler needs from one HTTP request.
struct Incoming {
    target: route::Target,
    method: Method,
    headers: HeaderMap,
    params: Params,
    body: axum::body::Bytes,
    client: std::net::IpAddr,
    /// The TCP peer (a proxy, when there is one).
    peer: std::net::IpAddr,
    /// Already authenticated (requests with a body), else `None`.
    who: Option<Principal>,
}

fn handle(app: &AppState, site: Arc<Site>, req: Incoming) -> ApiResult<Response> {
    // Store round trips from here on are this request's (`cairn_store_queries_total`).
    let _scope = cairn_core::stats::RequestScope::enter();
    let Incoming {
        target,
        method,
        headers,
        params,
        body,
        client,
        peer,
        who,
    } = req;
    let (method, headers, body) = (&method, &headers, &body[..]);
    let who = match who {
        Some(who) => who,
        None => auth::authenticate(app, &site, method, headers, client)?,
    };
    // An author sees every write committed before the request, whichever
    // node made it (the change feed may still be on its way here).
    // Anonymous visitors get what this node has, a few milliseconds behind
    // at most, as a CDN serves them anyway.
    if !who.is_anonymous() {
        site.store.sync(&site.id)?;
    }
    let base = public_url::base(
        &site,
        target.vhm_base.as_deref(),
        headers,
        peer,
        &app.limits.trusted_proxies,
    );
    let mut ctx = Ctx::new(site, base, who, params);
    ctx.full_text = app.full_text.get(&ctx.site.id).map(|index| TextIndex {
        index: index.clone(),
        max_hits: app.limits.max_text_hits,
    });
    let path = &target.path;
    let not_found = || ApiError::not_found(&ctx.url(path));
    let result = match (&target.view, method.clone()) {
        (View::Content, Method::GET | Method::HEAD) => content::get(&ctx, path, app.limits.max_batch_size),
        (View::Content, Method::POST) => content::post(&ctx, path, body),
        (View::Content, Method::PATCH) => content::patch(&ctx, path, headers, body),
        (View::Content, Method::DELETE) => content::delete(&ctx, path, headers),
        (View::Content, _) => Err(ApiError::method_not_allowed()),
        (View::Images(args), Method::GET | Method::HEAD) => files::images(&ctx, path, args, headers),
        (View::Service { name, .. }, Method::GET | Method::HEAD) if name == "site-logo" => {
            files::site_logo(&ctx, path, headers)
        }
        (View::Download { args, inline }, Method::GET | Method::HEAD) => {
            files::download(&ctx, path, args, *inline, headers)
        }
        (View::Service { name, .. }, Method::POST) if name == "login" => login::login(&ctx, body, app, client),
        (View::Service { name, .. }, Method::POST) if name == "login-renew" => login::renew(&ctx),
        (View::Service { name, .. }, Method::POST) if name == "logout" => login::logout(&ctx),
        (View::Service { name, .. }, Method::POST) if name == "email-send" && path.is_root() => mail::send(&ctx, body),
        (View::Service { name, .. }, Method::POST) if name == "email-notification" && path.is_root() => {
            mail::notify(&ctx, body, &app.mail_limit, client)
        }
        (View::Service { name, args }, Method::POST)
            if name == "users" && args.len() == 2 && args[1] == "reset-password" =>
        {
            principals::reset_password(&ctx, &args[0], body, app, client)
        }
        (View::Service { name, args }, Method::POST) if name == "users" && args.is_empty() => {
            principals::create(&ctx, body, &app.mail_limit, client)
        }
        (View::Service { name, args }, m) if name == "users" => principals::users(&ctx, &m, args, body),
        (View::Service { name, args }, m) if name == "groups" => principals::groups(&ctx, &m, args, body),
        (View::Service { name, .. }, Method::GET) if name == "roles" => principals::roles(&ctx),
        (View::Service { name, args }, Method::GET) if name == "portrait" => principals::portrait(&ctx, args),
        (View::Service { name, args }, Method::GET) if name == "userschema" => principals::userschema(&ctx, args),
        (View::Service { name, .. }, Method::GET) if name == "sharing" => sharing::get(&ctx, path),
        (View::Service { name, .. }, m) if name == "lock" => services::lock(&ctx, path, &m, body),
        (View::Service { name, .. }, m) if name == "aliases" => aliases::handle(&ctx, path, &m, headers, body),
        (View::Service { name, args }, m) if name == "jobs" => jobs::handle(&ctx, path, &m, args),
        (View::Service { name, args }, m) if name == "trash" => trash::handle(&ctx, path, &m, args, body),
        (View::Service { name, args }, m) if name == "translations" && args.is_empty() => {
            translations::handle(&ctx, path, &m, body)
        }
        (View::Service { name, .. }, Method::GET) if name == "translation-locator" => translations::locator(&ctx, path),
        (View::Service { name, args }, m) if name == "relations" => relations::handle(&ctx, path, &m, args, body),
        (View::Service { name, args }, m)
            if name == "types" && matches!(m, Method::POST | Method::PATCH | Method::PUT | Method::DELETE) =>
        {
            types::write(&ctx, path, &m, args, body)
        }
        (View::Service { name, args }, m) if name == "controlpanels" => {
            controlpanels::controlpanels(&ctx, path, &m, args, body)
        }
        (View::Service { name, args }, m) if name == "registry" => {
            controlpanels::registry(&ctx, path, &m, args, body, app.limits.max_batch_size)
        }
        (View::Service { name, args }, m) if matches!(name.as_str(), "system" | "database" | "upgrade" | "addons") => {
            system::handle(&ctx, path, name, &m, args, body)
        }
        (View::Service { name, args }, m) if name == "workingcopy" && args.is_empty() => {
            workingcopy::handle(&ctx, path, &m, body)
        }
        (View::Service { name, .. }, Method::GET) if name == "linkintegrity" => linkintegrity::get(&ctx),
        (View::Service { name, .. }, Method::POST) if name == "invalidate" => {
            services::invalidate(&ctx, path, body, app.caching.purges)
        }
        (View::Service { name, args }, m) if name == "history" => history::handle(&ctx, path, &m, args, body),
        (View::Service { name, .. }, Method::POST) if name == "copy" => {
            services::copy_or_move(&ctx, path, body, cairn_core::repo::copymove::Mode::Copy)
        }
        (View::Service { name, .. }, Method::POST) if name == "move" => {
            services::copy_or_move(&ctx, path, body, cairn_core::repo::copymove::Mode::Move)
        }
        (View::Service { name, args }, Method::GET) if name == "vocabularies" => {
            vocabularies::get(&ctx, path, args, app.limits.max_batch_size)
        }
        (View::Service { name, args }, Method::GET) if name == "sources" => vocabularies::sources(&ctx, path, args),
        (View::Service { name, args }, Method::GET) if name == "querysources" => {
            vocabularies::querysources(&ctx, path, args)
        }
        (View::Service { name, .. }, Method::GET) if name == "querystring" => querystring::registry(&ctx, path),
        (View::Service { name, .. }, Method::GET | Method::POST) if name == "querystring-search" => {
            querystring::search(&ctx, path, body, app.limits.max_batch_size)
        }
        (View::Service { name, .. }, Method::GET) if name == "search" => {
            search::get(&ctx, path, app.limits.max_batch_size)
        }
        (View::Service { name, .. }, Method::POST) if name == "sharing" => sharing::post(&ctx, path, body),
        (View::Service { name, .. }, Method::GET) if name == "principals" => principals::principals(&ctx),
        (View::Service { name, args }, Method::POST) if name == "workflow" => {
            services::workflow_transition(&ctx, path, args, body)
        }
        (View::Service { name, args }, Method::GET | Method::HEAD) => {
            services::get(&ctx, path, name, args).unwrap_or_else(|| Err(not_found()))
        }
        (View::Service { .. }, _) => Err(not_found()),
        (_, _) => Err(ApiError::method_not_allowed()),
    };
    // A missing object may have moved, been renamed or have an alias.
    if let Err(e) = &result
        && e.status() == StatusCode::NOT_FOUND
        && cairn_core::repo::get(&ctx.site, path).is_err()
        && let Ok(Some(to)) = cairn_core::repo::aliases::resolve(&ctx.site, path)
        // Only to where the reader may look: a redirect must not reveal a private place.
        && cairn_core::repo::get_visible(&ctx.site, &to, &ctx.who).is_ok()
    {
        let rest = view_suffix(&target.view);
        return Ok(aliases::redirect(&ctx, &to, &rest, target.api, method));
    }
    // A missing object is reported with its public URL, as Plone does.
    let result = result.map(|mut resp| {
        let mut deps = std::mem::take(&mut *ctx.deps.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        deps.served_at(path);
        let kind = caching_kind(&target.view);
        let anonymous = ctx.who.is_anonymous();
        let s_maxage = anonymous.then(|| site_s_maxage(&ctx.site, kind)).flatten();
        resp.extensions_mut().insert(caching::Info {
            anonymous,
            kind,
            deps,
            s_maxage,
        });
        resp
    });
    result.map_err(|mut e| {
        if e.status() == StatusCode::NOT_FOUND && e.message == "Resource not found" {
            e = not_found();
        }
        if matches!(e.status(), StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED) && e.shape == error::Shape::Plain {
            e.context = Some(ctx.base.clone());
        }
        e
    })
}
