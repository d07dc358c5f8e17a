//! `@email-send` (administrators write to anyone) and `@email-notification`
//! (the site's contact form: anyone writes to the site's own address, a
//! few mails an hour per client address). Both queue the mail as a job and
//! answer 204; the job runner sends it.

use std::net::IpAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_core::mail::{MAX_BODY, Mail, check_address, check_line};
use cairn_core::ports::WriteBatch;
use cairn_core::security::require_admin;
use serde_json::{Map, Value};

use super::body_object;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult, Code};

struct Form {
    from: String,
    name: String,
    subject: String,
    message: String,
}

fn form(body: &Map<String, Value>) -> ApiResult<Form> {
    let text = |k: &str, required: bool| -> ApiResult<String> {
        match body.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            None | Some(Value::Null) | Some(Value::String(_)) if !required => Ok(String::new()),
            _ => Err(ApiError::bad_request(format!("'{k}' is required"))),
        }
    };
    let f = Form {
        from: text("from", true)?,
        name: text("name", false)?,
        subject: text("subject", false)?,
        message: text("message", true)?,
    };
    check_address("from", &f.from)?;
    check_line("name", &f.name)?;
    check_line("subject", &f.subject)?;
    if f.message.chars().count() > MAX_BODY {
        return Err(ApiError::bad_request(format!(
            "'message' is longer than {MAX_BODY} characters"
        )));
    }
    Ok(f)
}

fn queue(ctx: &Ctx, mail: Mail) -> ApiResult<Response> {
    ctx.site.write(WriteBatch {
        jobs: vec![mail.job()],
        ..Default::default()
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST @email-send {"to", "from", "message", "name"?, "subject"?}`.
pub fn send(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    require_admin(&ctx.who, "send mail from the site")?;
    let body = body_object(body)?;
    let f = form(&body)?;
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("'to' is required"))?;
    check_address("to", to)?;
    cairn_core::mail::smtp(&ctx.site)?;
    let subject = if f.subject.is_empty() {
        format!("A message from {}", f.name)
    } else {
        f.subject
    };
    queue(
        ctx,
        Mail {
            to: vec![to.to_string()],
            subject,
            body: f.message,
            reply_to: Some(f.from),
        },
    )
}

/// `POST @email-notification {"from", "message", "name"?, "subject"?}`:
/// to the site's own address.
pub fn notify(ctx: &Ctx, body: &[u8], limit: &crate::throttle::MailLimit, client: IpAddr) -> ApiResult<Response> {
    let f = form(&body_object(body)?)?;
    let smtp = cairn_core::mail::smtp(&ctx.site)?;
    if !limit.allow(client) {
        return Err(ApiError::new(
            Code::TooManyRequests,
            "Too many messages from this address; try again in an hour.",
        ));
    }
    let who = if f.name.is_empty() {
        f.from.clone()
    } else {
        format!("{} <{}>", f.name, f.from)
    };
    let subject = if f.subject.is_empty() {
        format!("A message from {who}")
    } else {
        f.subject
    };
    queue(
        ctx,
        Mail {
            to: vec![smtp.from_address],
            subject,
            body: format!("{}\n\n-- \nSent by {who} through the contact form.\n", f.message),
            reply_to: Some(f.from),
        },
    )
}
