//! Outgoing mail. What cairn sends (password resets, the contact form,
//! `@email-send`) is queued as a `mail.send` job in the same transaction as
//! what caused it, and the job runner sends it through the SMTP server of
//! the Mail control panel, again later while that server is down.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::jobs::{NewJob, Priority};
use crate::records::{text, value};
use crate::site::Site;

/// The job kind that sends a [`Mail`].
pub const MAIL_JOB: &str = "mail.send";
/// Longest message body accepted from a form.
pub const MAX_BODY: usize = 20_000;
/// Longest subject or name.
pub const MAX_LINE: usize = 200;

/// One message to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Where an answer goes (a contact form's sender), if not the site.
    #[serde(default)]
    pub reply_to: Option<String>,
}

impl Mail {
    /// The job that sends it (tried for a day: the server may be down).
    pub fn job(&self) -> NewJob {
        NewJob::new(MAIL_JOB, serde_json::to_value(self).unwrap_or_default())
            .priority(Priority::Important)
            .attempts(20)
    }
}

/// The SMTP server and sender of a site, from its Mail control panel.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub from_name: String,
    pub from_address: String,
}

/// The site's mail settings; an error that says what to set when no
/// sender address is configured (nothing can be sent without one).
pub fn smtp(site: &Site) -> CoreResult<Smtp> {
    let from_address = text(site, "plone.email_from_address")?;
    if from_address.is_empty() {
        return Err(CoreError::BadRequest(
            "This site cannot send mail yet: an administrator must set the sender address in the Mail control panel"
                .into(),
        ));
    }
    let port = value(site, "plone.smtp_port")?.as_u64().unwrap_or(25);
    Ok(Smtp {
        host: text(site, "plone.smtp_host")?,
        port: u16::try_from(port).unwrap_or(25),
        user: text(site, "plone.smtp_userid")?,
        password: text(site, "plone.smtp_pass")?,
        from_name: text(site, "plone.email_from_name")?,
        from_address,
    })
}

/// Checks an address given in a request: one mailbox, no header tricks.
pub fn check_address(field: &str, a: &str) -> CoreResult<()> {
    let ok = a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && a.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::BadRequest(format!(
            "'{field}' is not a valid e-mail address"
        )))
    }
}

/// Checks one line (a subject, a name): bounded, no line breaks.
pub fn check_line(field: &str, s: &str) -> CoreResult<()> {
    if s.chars().count() > MAX_LINE || s.chars().any(char::is_control) {
        return Err(CoreError::BadRequest(format!(
            "'{field}' must be one line of at most {MAX_LINE} characters"
        )));
    }
    Ok(())
}
