//! The API's one error type: renders Plone's two error body shapes with the
//! status codes plone.restapi uses. Internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_core::CoreError;
use serde_json::{Value, json};

/// Which of Plone's two error bodies to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"type", "message", "context"?}` — unhandled exceptions (plone.rest).
    Plain,
    /// `{"error": {"type", "message"}}` — errors a service reports itself.
    Wrapped,
}

/// Every kind of error cairn answers with. [`Code::spec`] is the one table
/// of their status codes, Plone's error `type`s and body shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BadRequest,
    /// A body that is not the JSON object a service reads.
    Deserialization,
    /// A workflow transition that can't be fired.
    WorkflowException,
    Unauthorized,
    /// `@login` without login or password.
    MissingCredentials,
    /// `@login` with a wrong login or password.
    InvalidCredentials,
    /// `@login-renew` without a valid token.
    InvalidToken,
    Forbidden,
    NotFound,
    /// `@vocabularies/<name>` for a vocabulary that does not exist.
    NoSuchVocabulary,
    MethodNotAllowed,
    Conflict,
    /// Some items of a bulk request (`@relations`) could not be applied.
    Unprocessable,
    RequestTimeout,
    PayloadTooLarge,
    UriTooLong,
    TooManyRequests,
    Internal,
    NotImplemented,
    ServiceUnavailable,
}

impl Code {
    /// Status, Plone's `type` and the body shape of this kind of error.
    /// Services that report an error themselves in Plone (login, workflow,
    /// vocabularies) send the wrapped shape; exceptions send the plain one.
    pub const fn spec(self) -> (StatusCode, &'static str, Shape) {
        use Shape::{Plain, Wrapped};
        match self {
            Code::BadRequest => (StatusCode::BAD_REQUEST, "BadRequest", Plain),
            Code::Deserialization => (StatusCode::BAD_REQUEST, "DeserializationError", Plain),
            Code::WorkflowException => (StatusCode::BAD_REQUEST, "WorkflowException", Wrapped),
            Code::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized", Plain),
            Code::MissingCredentials => (StatusCode::BAD_REQUEST, "Missing credentials", Wrapped),
            Code::InvalidCredentials => (StatusCode::UNAUTHORIZED, "Invalid credentials", Wrapped),
            Code::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "Invalid or expired authentication token",
                Wrapped,
            ),
            Code::Forbidden => (StatusCode::FORBIDDEN, "Forbidden", Wrapped),
            Code::NotFound => (StatusCode::NOT_FOUND, "NotFound", Plain),
            Code::NoSuchVocabulary => (StatusCode::NOT_FOUND, "Not Found", Wrapped),
            Code::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", Plain),
            Code::Conflict => (StatusCode::CONFLICT, "Conflict", Plain),
            Code::Unprocessable => (StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", Wrapped),
            Code::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "RequestTimeout", Plain),
            // plone.rest reports an oversized body as a BadRequest.
            Code::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "BadRequest", Plain),
            Code::UriTooLong => (StatusCode::URI_TOO_LONG, "URITooLong", Plain),
            Code::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", Wrapped),
            Code::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", Plain),
            Code::NotImplemented => (StatusCode::NOT_IMPLEMENTED, "NotImplemented", Plain),
            Code::ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", Plain),
        }
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub shape: Shape,
    pub context: Option<String>,
    /// Seconds for a `Retry-After` header (429 and 503 answers).
    pub retry_after: Option<u64>,
    /// One more key of the error object (the `failed` list of a 422).
    pub extra: Option<Box<(&'static str, Value)>>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            shape: code.spec().2,
            context: None,
            retry_after: None,
            extra: None,
        }
    }

    /// Adds `key` to the error object.
    pub fn with_extra(mut self, key: &'static str, value: Value) -> Self {
        self.extra = Some(Box::new((key, value)));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.spec().0
    }

    /// The wrapped body, for a service that reports this error itself
    /// where Plone's raises it (e.g. a vocabulary that is not found).
    pub fn wrapped(mut self) -> Self {
        self.shape = Shape::Wrapped;
        self
    }

    pub fn not_found(url: &str) -> Self {
        Self::new(Code::NotFound, format!("Resource not found: {url}"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Code::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthorized, message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(Code::MethodNotAllowed, "Method not allowed for this resource")
    }

    /// Too many failed logins: try again after `seconds`.
    pub fn too_many_attempts(seconds: u64) -> Self {
        let mut e = Self::new(
            Code::TooManyRequests,
            format!("Too many failed login attempts; try again in {seconds} seconds."),
        );
        e.retry_after = Some(seconds);
        e
    }

    pub fn internal() -> Self {
        Self::new(Code::Internal, "An internal error occurred")
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => Self::new(Code::NotFound, "Resource not found"),
            // Plone's fixed text: the reason stays in the log, not in the answer.
            CoreError::Unauthorized(m) => {
                tracing::debug!(reason = %m, "unauthorized");
                Self::unauthorized("You are not authorized to access this resource.")
            }
            CoreError::Forbidden(m) => Self::new(Code::Forbidden, m),
            CoreError::BadRequest(m) => Self::bad_request(m),
            // plone.restapi sends the error list inside `message`; real JSON here,
            // which Volto's tryParseJSON reads as well as Python's repr.
            CoreError::Validation(errors) => Self::bad_request(serde_json::to_string(&errors).unwrap_or_default()),
            CoreError::Conflict(m) => Self::new(Code::Conflict, m),
            CoreError::NotImplemented(m) => Self::new(Code::NotImplemented, m),
            // A database that stayed locked past its wait is load, not a bug.
            CoreError::Storage(e) if e.kind == cairn_core::StorageKind::Busy => {
                tracing::warn!(error = %e, "storage busy");
                let mut busy = Self::new(Code::ServiceUnavailable, "The server is busy; try again shortly.");
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
        let (status, kind, _) = self.code.spec();
        let body = match self.shape {
            Shape::Wrapped => {
                let mut b = json!({"error": {"type": kind, "message": self.message}});
                if let Some(extra) = self.extra {
                    let (k, v) = *extra;
                    b["error"][k] = v;
                }
                b
            }
            Shape::Plain => {
                let mut b = json!({"type": kind, "message": self.message});
                if let Some(c) = self.context {
                    b["context"] = json!(c);
                }
                b
            }
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert("Retry-After", axum::http::HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
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

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::{ApiError, Code};

    async fn body(e: ApiError) -> (u16, serde_json::Value) {
        let r = e.into_response();
        let status = r.status().as_u16();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn the_table_decides_status_type_and_shape() {
        let (status, b) = body(ApiError::new(Code::InvalidCredentials, "Wrong login and/or password.")).await;
        assert_eq!(status, 401);
        assert_eq!(b["error"]["type"], "Invalid credentials");
        let (status, b) = body(ApiError::new(Code::Deserialization, "x")).await;
        assert_eq!(status, 400);
        assert_eq!(b["type"], "DeserializationError");
        let (status, b) = body(ApiError::not_found("http://x/a")).await;
        assert_eq!((status, b["type"].as_str()), (404, Some("NotFound")));
    }
}
