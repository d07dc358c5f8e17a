//! The no-leak walk: every endpoint and expander, asked by an anonymous
//! visitor and by a plain Member, over private content and over a published
//! page whose history, workflow comments, lock and sharing are not theirs to
//! see. Each secret is a unique string; none may appear in any answer.
//! `walk.rs` sends every request, `rules.rs` pins each rule that closed a leak.

mod rules;
mod walk;

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

/// Strings only editors, reviewers and administrators may ever read.
const SECRETS: [&str; 11] = [
    "GEHEIM",
    "geheimordner",
    "geheimdok",
    "entwurf",
    "geheimpost",
    "vertraute",
    "sperrer",
    "altname",
    "dokpost",
    "ruhend",
    "copy_of_offen",
];

const MEMBER: Auth<'static> = Auth::Basic("member", "memberpassword");

fn user(app: &TestApp, id: &str, email: &str, roles: &[&str]) {
    let body = json!({"username": id, "password": format!("{id}password"), "email": email,
        "fullname": id, "roles": roles});
    let r = app.post("/@users", Auth::Admin, &body);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

/// A site with private content, a published page with private traces, and
/// the people behind them.
fn site_with_secrets() -> TestApp {
    let app = spawn_app();
    app.add_user("member", "memberpassword", &["Member"]);
    user(&app, "autorin", "geheimpost@example.org", &["Member", "Contributor"]);
    user(&app, "sperrer", "sperrer-dokpost@example.org", &["Member", "Editor"]);
    user(&app, "vertraute", "vertraute@example.org", &["Member"]);
    let ok = |r: crate::helpers::Resp, what: &str| {
        assert!(
            r.status < 300,
            "{what}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    };
    // A published folder holding a published page and a private draft.
    app.create(
        "",
        json!({"@type": "Folder", "id": "oeffentlich", "title": "Oeffentlich"}),
    );
    app.publish(&format!("{}/oeffentlich", app.site));
    app.create(
        "/oeffentlich",
        json!({"@type": "Document", "id": "seite", "title": "Seite", "creators": ["autorin"],
               "subjects": ["Steuern"]}),
    );
    let seite = "/oeffentlich/seite";
    ok(
        app.patch(
            seite,
            Auth::Admin,
            &json!({"description": "Neu", "changeNote": "GEHEIMNOTIZ"}),
        ),
        "edit with a change note",
    );
    ok(
        app.post(
            &format!("{seite}/@workflow/submit"),
            Auth::Admin,
            &json!({"comment": "GEHEIMANTRAG"}),
        ),
        "submit",
    );
    ok(
        app.post(
            &format!("{seite}/@workflow/publish"),
            Auth::Admin,
            &json!({"comment": "GEHEIMKOMMENTAR"}),
        ),
        "publish",
    );
    ok(
        app.post(
            &format!("{seite}/@sharing"),
            Auth::Admin,
            &json!({"entries": [{"id": "vertraute", "type": "user", "roles": {"Reader": true}}]}),
        ),
        "share",
    );
    ok(
        app.post(
            &format!("{seite}/@lock"),
            Auth::Basic("sperrer", "sperrerpassword"),
            &json!({}),
        ),
        "lock",
    );
    ok(
        app.post(
            &format!("{seite}/@aliases"),
            Auth::Admin,
            &json!({"items": [{"path": "/seitenkurz"}]}),
        ),
        "public alias",
    );
    app.create(
        "/oeffentlich",
        json!({"@type": "Document", "id": "entwurf", "title": "GEHEIMENTWURF"}),
    );
    // A private folder with a page, an image and a renamed page.
    app.create(
        "",
        json!({"@type": "Folder", "id": "geheimordner", "title": "GEHEIMORDNER"}),
    );
    app.create(
        "/geheimordner",
        json!({"@type": "Document", "id": "geheimdok", "title": "GEHEIMTITEL", "creators": ["autorin"],
            "description": "GEHEIMBESCHREIBUNG", "subjects": ["GEHEIMSCHLAGWORT"],
            "text": {"data": "<p>GEHEIMTEXT</p>", "content-type": "text/html"}}),
    );
    ok(
        app.post(
            "/geheimordner/geheimdok/@workflow/submit",
            Auth::Admin,
            &json!({"comment": "GEHEIMBITTE"}),
        ),
        "submit private",
    );
    app.create(
        "/geheimordner",
        json!({"@type": "Image", "id": "bild", "title": "GEHEIMBILD", "image": crate::content::tiny_png()}),
    );
    app.create(
        "/geheimordner",
        json!({"@type": "Document", "id": "altname", "title": "GEHEIMALT"}),
    );
    ok(
        app.patch("/geheimordner/altname", Auth::Admin, &json!({"id": "ruhend"})),
        "rename",
    );
    ok(
        app.post(
            "/geheimordner/geheimdok/@aliases",
            Auth::Admin,
            &json!({"items": [{"path": "/kurzlink"}]}),
        ),
        "private alias",
    );
    // A published page inside a private folder: readable, its parent not.
    app.create(
        "",
        json!({"@type": "Folder", "id": "huelle", "title": "GEHEIMHUELLE",
        "description": "GEHEIMHUELLENTEXT"}),
    );
    app.create("/huelle", json!({"@type": "Document", "id": "offen", "title": "Offen"}));
    app.publish(&format!("{}/huelle/offen", app.site));
    // Relations between the published page and the private one, both ways.
    ok(
        app.post(
            "/@relations",
            Auth::Admin,
            &json!({"items": [{"source": "/oeffentlich/seite", "target": "/geheimordner/geheimdok",
                               "relation": "relatedItems"}]}),
        ),
        "relate",
    );
    let seite_uid = app.get("/oeffentlich/seite", Auth::Admin).json()["UID"].clone();
    ok(
        app.patch(
            "/geheimordner/geheimdok",
            Auth::Admin,
            &json!({"text": {"data": format!("<p>GEHEIMTEXT <a href=\"resolveuid/{}\">s</a></p>",
                                             seite_uid.as_str().unwrap()),
                             "content-type": "text/html"}}),
        ),
        "link",
    );
    // Its draft: a working copy, private, with a title of its own.
    ok(
        app.post("/huelle/offen/@workingcopy", Auth::Admin, &json!({})),
        "check out",
    );
    ok(
        app.patch("/huelle/copy_of_offen", Auth::Admin, &json!({"title": "GEHEIMKOPIE"})),
        "edit the working copy",
    );
    app.wait_indexed();
    app
}
