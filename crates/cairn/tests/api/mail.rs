//! Mail through the SMTP server of the Mail control panel: password resets
//! by mailed token, the contact form (rate limited) and `@email-send`,
//! delivered to a local SMTP sink this test starts (never the network).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

/// Recipients and the raw message (headers and body) of each mail.
type Kept = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server that keeps every message it is given.
struct Sink {
    port: u16,
    mails: Kept,
}

impl Sink {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Kept = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut out = conn.try_clone().unwrap();
                    let mut lines = BufReader::new(conn);
                    let mut say = |s: &str| out.write_all(format!("{s}\r\n").as_bytes());
                    say("220 sink ESMTP").ok();
                    let (mut to, mut line) = (Vec::new(), String::new());
                    while lines.read_line(&mut line).unwrap_or(0) > 0 {
                        let cmd = line.trim_end().to_string();
                        line.clear();
                        let upper = cmd.to_ascii_uppercase();
                        let reply = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                            "250-sink\r\n250 8BITMIME"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(cmd[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                            "250 OK"
                        } else if upper == "DATA" {
                            say("354 go on").ok();
                            let mut data = String::new();
                            while lines.read_line(&mut line).unwrap_or(0) > 0 && line.trim_end() != "." {
                                data.push_str(&line);
                                line.clear();
                            }
                            line.clear();
                            kept.lock().unwrap().push((std::mem::take(&mut to), data));
                            "250 kept"
                        } else if upper == "QUIT" {
                            say("221 bye").ok();
                            break;
                        } else {
                            "250 OK"
                        };
                        say(reply).ok();
                    }
                });
            }
        });
        Sink { port, mails }
    }

    /// Waits for a message to `address`.
    fn wait_for(&self, address: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self
            .mails
            .lock()
            .unwrap()
            .iter()
            .any(|(to, _)| to.iter().any(|t| t == address))
        {
            assert!(Instant::now() < deadline, "no mail to {address} arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the `n`th message and returns it.
    fn nth(&self, n: usize) -> (Vec<String>, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(m) = self.mails.lock().unwrap().get(n - 1) {
                return m.clone();
            }
            assert!(Instant::now() < deadline, "message {n} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn mail_jobs(app: &TestApp) -> u64 {
    app.get("/@jobs?type=mail.send", Auth::Admin).json()["items_total"]
        .as_u64()
        .unwrap()
}

fn configured(sink: &Sink) -> TestApp {
    let app = spawn_app();
    let r = app.patch(
        "/@controlpanels/mail",
        Auth::Admin,
        &json!({"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_pass": "geheim-smtp",
                "email_from_name": "Staatskanzlei", "email_from_address": "kanzlei@example.org"}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    app
}

#[test]
fn a_forgotten_password_is_reset_with_the_mailed_token_once() {
    let sink = Sink::start();
    let app = configured(&sink);
    // The password was saved but is never shown again, and an empty one keeps it.
    let panel = app.get("/@controlpanels/mail", Auth::Admin).json();
    assert_eq!(panel["data"]["smtp_pass"], serde_json::Value::Null);
    assert!(!panel.to_string().contains("geheim-smtp"));
    assert_eq!(
        app.patch("/@controlpanels/mail", Auth::Admin, &json!({"smtp_pass": ""}))
            .status,
        204
    );
    let r = app.post(
        "/@users",
        Auth::Admin,
        &json!({"username": "jana", "email": "jana@example.org", "password": "altes-pw-1234"}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    let r = app.post("/@users/jana/reset-password", Auth::Anonymous, &json!({}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (to, data) = sink.nth(1);
    assert_eq!(to, ["jana@example.org"]);
    assert!(data.contains("Staatskanzlei"), "{data}");
    // The body is quoted-printable: undo its soft line breaks and escapes.
    let data = data.replace("=\r\n", "").replace("=3D", "=");
    let token = data
        .split("passwordreset/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("a link with the token")
        .to_string();
    // Asking again at once, or for someone unknown, sends nothing more and says the same.
    let queued = mail_jobs(&app);
    assert_eq!(
        app.post("/@users/jana/reset-password", Auth::Anonymous, &json!({}))
            .status,
        200
    );
    assert_eq!(
        app.post("/@users/niemand/reset-password", Auth::Anonymous, &json!({}))
            .status,
        200
    );
    assert_eq!(mail_jobs(&app), queued);

    let wrong = json!({"reset_token": "0".repeat(token.len()), "new_password": "neues-pw-1234"});
    assert_eq!(
        app.post("/@users/jana/reset-password", Auth::Anonymous, &wrong).status,
        403
    );
    let right = json!({"reset_token": token, "new_password": "neues-pw-1234"});
    assert_eq!(
        app.post("/@users/jana/reset-password", Auth::Anonymous, &right).status,
        200
    );
    assert_eq!(
        app.get("/@users/jana", Auth::Basic("jana", "neues-pw-1234")).status,
        200
    );
    assert_eq!(
        app.get("/@users/jana", Auth::Basic("jana", "altes-pw-1234")).status,
        401
    );
    // Used up.
    let again = json!({"reset_token": token, "new_password": "drittes-pw-1234"});
    assert_eq!(
        app.post("/@users/jana/reset-password", Auth::Anonymous, &again).status,
        403
    );
}

#[test]
fn the_contact_form_reaches_the_site_and_cannot_flood_it() {
    let sink = Sink::start();
    let app = configured(&sink);
    let form =
        json!({"from": "buerger@example.org", "name": "Eva Muster", "subject": "Frage", "message": "Wann ist offen?"});
    assert_eq!(app.post("/@email-notification", Auth::Anonymous, &form).status, 204);
    let (to, data) = sink.nth(1);
    assert_eq!(to, ["kanzlei@example.org"]);
    assert!(
        data.contains("Reply-To:") && data.contains("buerger@example.org"),
        "{data}"
    );
    assert!(data.contains("Wann ist offen?"), "{data}");
    for bad in [
        json!({"from": "nobody", "message": "x"}),
        json!({"from": "a@example.org"}),
        json!({"from": "a@example.org", "message": "x", "subject": "a\r\nBcc: all@example.org"}),
        json!({"from": "a@example.org", "message": "x".repeat(20_001)}),
    ] {
        assert_eq!(
            app.post("/@email-notification", Auth::Anonymous, &bad).status,
            400,
            "{bad}"
        );
    }
    for _ in 1..cairn_api::MAILS_PER_HOUR {
        assert_eq!(app.post("/@email-notification", Auth::Anonymous, &form).status, 204);
    }
    assert_eq!(app.post("/@email-notification", Auth::Anonymous, &form).status, 429);

    let send = json!({"to": "amt@example.org", "from": "kanzlei@example.org", "message": "Bitte prüfen", "subject": "Prüfung"});
    assert_eq!(app.post("/@email-send", Auth::Anonymous, &send).status, 401);
    assert_eq!(app.post("/@email-send", Auth::Admin, &send).status, 204);
    sink.wait_for("amt@example.org");
}

#[test]
fn without_a_mail_server_the_site_says_so() {
    let app = spawn_app();
    let r = app.post("/@users/admin/reset-password", Auth::Anonymous, &json!({}));
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("Mail control panel"));
    let form = json!({"from": "a@example.org", "message": "x"});
    assert_eq!(app.post("/@email-notification", Auth::Anonymous, &form).status, 400);
}

#[test]
fn visitors_register_themselves_only_when_the_security_panel_allows_it() {
    let sink = Sink::start();
    let app = configured(&sink);
    let eva = json!({"username": "eva", "email": "eva@example.org", "fullname": "Eva Muster"});
    assert_eq!(app.post("/@users", Auth::Anonymous, &eva).status, 401);
    let r = app.patch(
        "/@controlpanels/security",
        Auth::Admin,
        &json!({"enable_self_reg": true}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));

    // No roles of one's own choosing, and no password: it comes by mail.
    let greedy = json!({"username": "eva", "email": "eva@example.org", "roles": ["Manager"]});
    assert_eq!(app.post("/@users", Auth::Anonymous, &greedy).status, 400);
    let chosen = json!({"username": "eva", "email": "eva@example.org", "password": "eigenes-pw-1234"});
    assert_eq!(app.post("/@users", Auth::Anonymous, &chosen).status, 400);
    let r = app.post("/@users", Auth::Anonymous, &eva);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let (to, data) = sink.nth(1);
    assert_eq!(to, ["eva@example.org"]);
    let data = data.replace("=\r\n", "").replace("=3D", "=");
    let token = data
        .split("passwordreset/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let set = json!({"reset_token": token, "new_password": "evas-pw-12345"});
    assert_eq!(
        app.post("/@users/eva/reset-password", Auth::Anonymous, &set).status,
        200
    );
    let me = app.get("/@users/eva", Auth::Basic("eva", "evas-pw-12345")).json();
    assert_eq!(me["roles"], json!(["Member"]));

    // Where visitors choose their passwords, no mail is needed.
    app.patch(
        "/@controlpanels/security",
        Auth::Admin,
        &json!({"enable_user_pwd_choice": true}),
    );
    let queued = mail_jobs(&app);
    let udo = json!({"username": "udo", "email": "udo@example.org", "password": "udos-pw-12345"});
    assert_eq!(app.post("/@users", Auth::Anonymous, &udo).status, 201);
    assert_eq!(mail_jobs(&app), queued);
    assert_eq!(app.get("/@users/udo", Auth::Basic("udo", "udos-pw-12345")).status, 200);
    // A manager may have the reset mail sent instead of giving a password.
    let ida = json!({"username": "ida", "email": "ida@example.org", "sendPasswordReset": true});
    assert_eq!(app.post("/@users", Auth::Admin, &ida).status, 201);
    sink.wait_for("ida@example.org");
}
