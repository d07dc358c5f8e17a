//! The API's one error type: renders Plone's two error body shapes with the
//! status codes plone.restapi uses. Internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_core::CoreError;
use serde_json::json;

/// Which of Plone's two error bodies to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"type", "message", "context"?}` — unhandled exceptions (plone.rest).
    Plain,
    /// `{"error": {"type", "message"}}` — errors a service reports itself.
    Wrapped,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: String,
    pub message: String,
    pub shape: Shape,
    pub context: Option<String>,
    /// Seconds for a `Retry-After` header (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        let (kind, message) = (kind.into(), message.into());
        Self {
            status,
            kind,
            message,
            shape: Shape::Plain,
            context: None,
            retry_after: None,
        }
    }

    pub fn with_kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }

    pub fn wrapped(mut self) -> Self {
        self.shape = Shape::Wrapped;
        self
    }

    pub fn not_found(url: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("Resource not found: {url}"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed for this resource",
        )
    }

    /// Too many failed logins: try again after `seconds`.
    pub fn too_many_attempts(seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!("Too many failed login attempts; try again in {seconds} seconds."),
        )
        .wrapped();
        e.retry_after = Some(seconds);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error occurred",
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => Self::new(StatusCode::NOT_FOUND, "NotFound", "Resource not found"),
            // Plone's fixed text: the reason stays in the log, not in the answer.
            CoreError::Unauthorized(m) => {
                tracing::debug!(reason = %m, "unauthorized");
                Self::unauthorized("You are not authorized to access this resource.")
            }
            CoreError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "Forbidden", m).wrapped(),
            CoreError::BadRequest(m) => Self::bad_request(m),
            // plone.restapi sends the error list inside `message`; real JSON here,
            // which Volto's tryParseJSON reads as well as Python's repr.
            CoreError::Validation(errors) => Self::bad_request(serde_json::to_string(&errors).unwrap_or_default()),
            CoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "Conflict", m),
            CoreError::NotImplemented(m) => Self::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", m),
            // A database that stayed locked past its wait is load, not a bug.
            CoreError::Storage(e) if e.kind == cairn_core::StorageKind::Busy => {
                tracing::warn!(error = %e, "storage busy");
                let mut busy = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The server is busy; try again shortly.",
                );
                busy.retry_after = Some(1);
                busy
            }
            CoreError::Storage(e) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "request failed");
                Self::internal()
            }
            CoreError::Internal(m) => {
                tracing::error!(error = %m, "request failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.shape {
            Shape::Wrapped => json!({"error": {"type": self.kind, "message": self.message}}),
            Shape::Plain => {
                let mut b = json!({"type": self.kind, "message": self.message});
                if let Some(c) = self.context {
                    b["context"] = json!(c);
                }
                b
            }
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert("Retry-After", axum::http::HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // Tell scripts Basic auth is accepted, without a browser login prompt loop.
            resp.headers_mut().insert(
                "WWW-Authenticate",
                axum::http::HeaderValue::from_static("Bearer realm=\"cairn\""),
            );
        }
        resp
    }
}

/// Result alias of the API.
pub type ApiResult<T> = Result<T, ApiError>;
