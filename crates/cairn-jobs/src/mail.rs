//! Sends the `mail.send` jobs through the site's SMTP server (lettre), with
//! STARTTLS when the server offers it and a login when the Mail control
//! panel has one. A server that is down or refuses for now is tried again
//! (the job's backoff); an address the server rejects for good is not.

use std::sync::Arc;
use std::time::Duration;

use cairn_core::mail::{MAIL_JOB, Mail, smtp};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde_json::{Value, json};

use crate::handler::{JobError, JobKind};

/// Sends mail for the sites it knows.
pub struct SendMail {
    pub sites: Vec<Arc<cairn_core::Site>>,
}

impl JobKind for SendMail {
    const KIND: &'static str = MAIL_JOB;
    const PRIORITY: cairn_core::jobs::Priority = cairn_core::jobs::Priority::Important;
    const MAX_ATTEMPTS: u32 = 20;
    type Args = Mail;

    fn run(&self, site: &str, mail: Mail) -> Result<Value, JobError> {
        let s = self
            .sites
            .iter()
            .find(|s| s.id == site)
            .ok_or_else(|| JobError::permanent(format!("no site {site}")))?;
        let smtp = smtp(s)?;
        let bad = |e: &dyn std::fmt::Display| JobError::permanent(e.to_string());
        let from_address = smtp.from_address.parse().map_err(|e| bad(&e))?;
        let from = Mailbox::new(
            (!smtp.from_name.is_empty()).then(|| smtp.from_name.clone()),
            from_address,
        );
        let mut message = Message::builder()
            .from(from)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN);
        for to in &mail.to {
            message = message.to(to.parse().map_err(|e| bad(&e))?);
        }
        if let Some(r) = &mail.reply_to {
            message = message.reply_to(r.parse().map_err(|e| bad(&e))?);
        }
        let message = message.body(mail.body.clone()).map_err(|e| bad(&e))?;
        let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| bad(&e))?;
        let mut transport = SmtpTransport::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .tls(Tls::Opportunistic(tls))
            .timeout(Some(Duration::from_secs(30)));
        if !smtp.user.is_empty() {
            transport = transport.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
        }
        match transport.build().send(&message) {
            Ok(r) => Ok(json!({"to": mail.to.len(), "code": r.code().to_string()})),
            Err(e) if e.is_permanent() => Err(JobError::permanent(format!("the mail server refused: {e}"))),
            Err(e) => Err(JobError::transient(format!("the mail server is not reachable: {e}"))),
        }
    }
}
