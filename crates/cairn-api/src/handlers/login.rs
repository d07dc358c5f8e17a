//! `@login`, `@login-renew` and `@logout` (JWT, as plone.restapi's JWT plugin).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_core::auth;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult, Code};

/// POST `@login` with `{"login", "password"}` → `{"token"}`.
pub fn login(ctx: &Ctx, body: &[u8], app: &crate::AppState, client: std::net::IpAddr) -> ApiResult<Response> {
    let body = body_object(body).map_err(ApiError::wrapped)?;
    let (Some(login), Some(password)) = (
        body.get("login").and_then(Value::as_str),
        body.get("password").and_then(Value::as_str),
    ) else {
        return Err(ApiError::new(
            Code::MissingCredentials,
            "Login and password must be provided in body.",
        ));
    };
    let who = crate::auth::checked_login(app, &ctx.site, login, password, client)?
        .ok_or_else(|| ApiError::new(Code::InvalidCredentials, "Wrong login and/or password."))?;
    let token = auth::issue_token(&ctx.site, &who)?;
    Ok(json(StatusCode::OK, &json!({"token": token})))
}

/// POST `@login-renew` → a fresh token for the authenticated user.
pub fn renew(ctx: &Ctx) -> ApiResult<Response> {
    if ctx.who.is_anonymous() {
        return Err(ApiError::new(
            Code::InvalidToken,
            "No valid authentication token found.",
        ));
    }
    let token = auth::issue_token(&ctx.site, &ctx.who)?;
    Ok(json(StatusCode::OK, &json!({"token": token})))
}

/// POST `@logout`: tokens are stateless, so there is nothing to revoke; 204.
pub fn logout(_ctx: &Ctx) -> ApiResult<Response> {
    Ok(StatusCode::NO_CONTENT.into_response())
}
