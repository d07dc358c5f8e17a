//! Brute-force protection as the owner of an account meets it: guesses from
//! elsewhere never lock them out, a forwarding header is only believed from
//! a trusted proxy, and password changes neither skip the throttle nor tell
//! who has an account.

use serde_json::json;

use crate::helpers::{Auth, Resp, TestApp, spawn_app, spawn_app_with};

/// A site behind a proxy on 127.0.0.1, with a user `jane`.
fn behind_proxy() -> TestApp {
    let app = spawn_app_with(|s| s.limits.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()]);
    app.add_user("jane", "janespassword", &["Member"]);
    app
}

/// POST `@login` as a client that the proxy names `forwarded_for`.
fn login_from(app: &TestApp, forwarded_for: &str, login: &str, password: &str) -> Resp {
    let body = json!({"login": login, "password": password}).to_string();
    app.send(
        "POST",
        "/@login",
        Auth::Anonymous,
        Some(body.as_bytes()),
        &[("X-Forwarded-For", forwarded_for)],
    )
}

#[test]
fn failed_logins_from_elsewhere_do_not_lock_out_the_owner() {
    let app = behind_proxy();
    let attacker = "203.0.113.9";
    let statuses: Vec<u16> = (0..8)
        .map(|_| login_from(&app, attacker, "jane", "guess").status)
        .collect();
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[7], 429, "the guesser is not slowed down: {statuses:?}");
    assert_eq!(
        login_from(&app, attacker, "jane", "janespassword").status,
        429,
        "the guesser's address may still try the right password"
    );
    let owner = "198.51.100.7";
    assert_eq!(login_from(&app, owner, "jane", "janespassword").status, 200);
    let basic = app.send(
        "GET",
        "",
        Auth::Basic("jane", "janespassword"),
        None,
        &[("X-Forwarded-For", owner)],
    );
    assert_eq!(basic.status, 200, "Basic auth from the owner's address");
}

#[test]
fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    for i in 0..5 {
        let r = login_from(&app, &format!("203.0.113.{i}"), "jane", "guess");
        assert_eq!(r.status, 401);
    }
    assert_eq!(
        login_from(&app, "198.51.100.7", "jane", "janespassword").status,
        429,
        "a forged X-Forwarded-For escaped the throttle"
    );
}

#[test]
fn only_the_right_most_untrusted_forwarded_address_counts() {
    let app = behind_proxy();
    for _ in 0..5 {
        assert_eq!(login_from(&app, "198.51.100.7, 10.1.2.3", "jane", "guess").status, 401);
    }
    let forged = "203.0.113.1, 198.51.100.7, 10.0.0.5";
    assert_eq!(
        login_from(&app, forged, "jane", "janespassword").status,
        429,
        "a forged left-most address escaped the throttle"
    );
    assert_eq!(
        login_from(&app, "203.0.113.1, 10.0.0.5", "jane", "janespassword").status,
        200
    );
}

#[test]
fn many_failures_from_one_address_only_slow_its_users_down() {
    let app = behind_proxy();
    let office = "192.0.2.50";
    let mut refused = None;
    for i in 0..30 {
        let r = login_from(&app, office, &format!("user{i}"), "guess");
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 401);
    }
    let refused = refused.expect("an address failing for 30 accounts was never slowed down");
    let wait: u64 = refused.header("Retry-After").unwrap().parse().unwrap();
    assert!(wait <= 15, "an address is slowed down, not locked: wait {wait}s");
    assert_eq!(login_from(&app, "192.0.2.51", "jane", "janespassword").status, 200);
    std::thread::sleep(std::time::Duration::from_secs(wait));
    assert_eq!(
        login_from(&app, office, "jane", "janespassword").status,
        200,
        "the owner behind a busy address never got in"
    );
}

#[test]
fn password_reset_answers_alike_for_unknown_and_existing_users() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    app.add_user("joe", "joespassword", &["Member"]);
    let bodies = [
        json!({"new_password": "takeover123"}),
        json!({"old_password": "guess-guess", "new_password": "takeover123"}),
    ];
    for who in [Auth::Anonymous, Auth::Basic("joe", "joespassword")] {
        for body in &bodies {
            let existing = app.post("/@users/jane/reset-password", who, body);
            let unknown = app.post("/@users/nobody-here/reset-password", who, body);
            assert!(existing.status == 401 || existing.status == 403, "{}", existing.status);
            assert_eq!(existing.status, unknown.status, "{body}");
            assert_eq!(existing.body, unknown.body, "{body}");
        }
    }
    assert_eq!(app.get("", Auth::Basic("jane", "janespassword")).status, 200);
}

#[test]
fn old_password_guesses_are_throttled_like_logins() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let login = json!({"login": "jane", "password": "janespassword"});
    let token = app.post("/@login", Auth::Anonymous, &login).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let url = "/@users/jane/reset-password";
    for _ in 0..5 {
        let guess = json!({"old_password": "guess-guess", "new_password": "newpassword1"});
        assert_eq!(app.post(url, Auth::Bearer(&token), &guess).status, 403);
    }
    let right = json!({"old_password": "janespassword", "new_password": "newpassword1"});
    let r = app.post(url, Auth::Bearer(&token), &right);
    assert_eq!(r.status, 429, "old-password guesses are not throttled");
    assert!(r.header("Retry-After").is_some());
    assert_eq!(
        app.post("/@login", Auth::Anonymous, &login).status,
        429,
        "guesses through a password change count as failed logins"
    );
}

#[test]
fn with_email_as_login_an_account_signs_in_with_its_address() {
    let app = spawn_app();
    let add = |id: &str, email: &str| {
        let r = app.post(
            "/@users",
            Auth::Admin,
            &json!({"username": id, "email": email, "password": "a-long-password-1"}),
        );
        assert_eq!(r.status, 201, "{}", r.json());
    };
    add("jane", "jane@example.org");
    add("benno", "benno@example.org");
    add("twin1", "twins@example.org");
    add("twin2", "twins@example.org");
    let login = |login: &str| {
        app.post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": login, "password": "a-long-password-1"}),
        )
        .status
    };
    assert_eq!(login("jane"), 200);
    assert_eq!(login("jane@example.org"), 401, "off until the Security panel says so");
    let r = app.patch(
        "/@controlpanels/security",
        Auth::Admin,
        &json!({"use_email_as_login": true}),
    );
    assert_eq!(r.status, 204);
    assert_eq!(login("jane@example.org"), 200);
    assert_eq!(login("JANE@example.org"), 200, "addresses match without regard to case");
    assert_eq!(login("jane"), 200, "the login name still works");
    assert_eq!(
        login("twins@example.org"),
        401,
        "an address two accounts share names neither"
    );
    // New accounts are named by their address; the registration form asks no login name.
    let r = app.post(
        "/@users",
        Auth::Admin,
        &json!({"username": "ignored", "email": "new@example.org", "password": "a-long-password-1"}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["id"], "new@example.org");
    // An address names one account: taking another's, in any case, is refused.
    let taken = app.post(
        "/@users",
        Auth::Admin,
        &json!({"email": "Jane@Example.org", "password": "a-long-password-1"}),
    );
    assert_eq!(taken.status, 400, "{}", taken.json());
    let moved = app.patch(
        "/@users/benno",
        Auth::Basic("benno", "a-long-password-1"),
        &json!({"email": "JANE@example.org"}),
    );
    assert_eq!(moved.status, 400);
    assert_eq!(login("jane@example.org"), 200, "jane keeps her address");
    let form = app.get("/@userschema/registration", Auth::Anonymous).json();
    assert!(form["properties"].get("username").is_none(), "{form}");
    assert!(form["properties"].get("email").is_some());
}
