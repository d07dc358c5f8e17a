//! The no-leak walk: every endpoint and expander, asked by an anonymous
//! visitor and by a plain Member, over private content and over a published
//! page whose history, workflow comments, lock and sharing are not theirs to
//! see. Each secret is a unique string; none may appear in any answer.

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

/// Strings only editors, reviewers and administrators may ever read.
const SECRETS: [&str; 10] = [
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
    app.wait_indexed();
    app
}

const EXPAND_ALL: &str = "expand=actions,aliases,breadcrumbs,contextnavigation,navigation,navroot,types,workflow,inherit\
     &expand.navigation.depth=5&expand.inherit.behaviors=plone.navigationroot,plone.dublincore";

/// Every GET a frontend or a curious visitor might send.
fn reads() -> Vec<String> {
    let mut urls: Vec<String> = [
        "",
        "?fullobjects=1&metadata_fields=_all",
        "/@navigation?expand.navigation.depth=6",
        "/@breadcrumbs",
        "/@actions",
        "/@types",
        "/@types/Document",
        "/@site",
        "/@navroot",
        "/@inherit?expand.inherit.behaviors=plone.dublincore",
        "/@contextnavigation?expand.contextnavigation.topLevel=0&expand.contextnavigation.bottomLevel=6",
        "/@workflow",
        "/@lock",
        "/@sharing",
        "/@aliases",
        "/@aliases?query=/",
        "/@history",
        "/@search?metadata_fields=_all&b_size=100",
        "/@search?fullobjects=1&b_size=100",
        "/@search?SearchableText=GEHEIMTEXT",
        "/@search?Subject=GEHEIMSCHLAGWORT",
        "/@search?Creator=autorin&metadata_fields=_all",
        "/@search?review_state=private",
        "/@search?review_state=pending",
        "/@search?path.query=/geheimordner&path.depth=1",
        "/@search?UID=00000000000000000000000000000000",
        "/@querystring",
        "/@querystring-search?query=%7B%22query%22%3A%5B%7B%22i%22%3A%22portal_type%22%2C%22o%22%3A%22plone.app.querystring.operation.selection.any%22%2C%22v%22%3A%5B%22Document%22%5D%7D%5D%2C%22metadata_fields%22%3A%22_all%22%2C%22fullobjects%22%3Atrue%7D",
        "/@vocabularies",
        "/@vocabularies/plone.app.vocabularies.Keywords",
        "/@vocabularies/plone.app.vocabularies.Users",
        "/@vocabularies/plone.app.vocabularies.Groups",
        "/@vocabularies/plone.app.vocabularies.Principals",
        "/@vocabularies/plone.app.vocabularies.Roles",
        "/@users",
        "/@users/autorin",
        "/@users/sperrer",
        "/@users?query=geheim",
        "/@groups",
        "/@groups/AuthenticatedUsers",
        "/@principals?search=geheim",
        "/@principals?search=vertraute",
        "/@portrait/autorin",
        "/@userschema",
        "/@roles",
        "/seitenkurz",
        "/kurzlink",
        "/kurzlink/@workflow",
        "/geheimordner/altname",
        "/geheimordner/altname/@history",
        "/geheimordner/nothing-here",
        "/huelle/offen?expand=breadcrumbs,navigation,contextnavigation,inherit&expand.inherit.behaviors=plone.dublincore",
        "/huelle/offen/@breadcrumbs",
        "/huelle/offen/@contextnavigation",
        "/huelle/offen/@inherit?expand.inherit.behaviors=plone.dublincore,plone.navigationroot",
        "/oeffentlich?fullobjects=1&metadata_fields=_all",
        "/oeffentlich/@navigation?expand.navigation.depth=3",
        "/oeffentlich/@contextnavigation",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let seite = "/oeffentlich/seite";
    urls.push(format!("{seite}?{EXPAND_ALL}"));
    urls.push(format!("{seite}?fullobjects=1&metadata_fields=_all"));
    for service in [
        "@workflow",
        "@history",
        "@history/0",
        "@lock",
        "@sharing",
        "@sharing?search=vertraute",
        "@aliases",
        "@actions",
        "@types",
        "@breadcrumbs",
        "@navigation",
        "@contextnavigation",
    ] {
        urls.push(format!("{seite}/{service}"));
    }
    for private in [
        "/geheimordner",
        "/geheimordner/geheimdok",
        "/oeffentlich/entwurf",
        "/geheimordner/bild",
    ] {
        urls.push(private.to_string());
        urls.push(format!("{private}?{EXPAND_ALL}"));
        for service in [
            "@workflow",
            "@history",
            "@lock",
            "@sharing",
            "@aliases",
            "@breadcrumbs",
            "@navigation",
            "@contextnavigation",
            "@actions",
            "@types",
            "@inherit?expand.inherit.behaviors=plone.dublincore",
            "@search",
            "@querystring",
            "@querystring-search?query=%7B%22query%22%3A%5B%5D%7D",
            "@@images/image",
            "@@images/image/thumb",
            "@@download/image",
            "@@display-file/image",
        ] {
            urls.push(format!("{private}/{service}"));
        }
    }
    urls
}

/// Whether `url` points at or below something the reader may not see.
fn addresses_private(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or("");
    ["/geheimordner", "/oeffentlich/entwurf", "/kurzlink"]
        .iter()
        .any(|p| path.starts_with(p))
        && !path.starts_with("/huelle/offen")
}

/// The body without the echo of the request: a search's `@id` and
/// `batching` links repeat the query that was sent.
fn without_echo(r: &crate::helpers::Resp) -> String {
    match serde_json::from_slice::<serde_json::Value>(&r.body) {
        Ok(serde_json::Value::Object(mut o)) => {
            o.remove("@id");
            o.remove("batching");
            serde_json::Value::Object(o).to_string()
        }
        _ => String::from_utf8_lossy(&r.body).to_string(),
    }
}

/// The secrets `r` reveals, as lines for the failure report.
fn leaked(url: &str, r: &crate::helpers::Resp) -> Vec<String> {
    let body = String::from_utf8_lossy(&r.body);
    let unechoed = without_echo(r);
    let location = r.header("Location").unwrap_or("");
    SECRETS
        .iter()
        // A 404 for a private URL names only the URL that was asked for.
        .filter(|s| !(r.status == 404 && url.contains(*s)))
        .filter(|s| unechoed.contains(*s) || location.contains(*s))
        .map(|s| format!("{url} answered {} {location} and leaked '{s}': {body}", r.status))
        .collect()
}

#[test]
fn no_endpoint_or_expander_leaks_private_data_to_anonymous_or_members() {
    let app = site_with_secrets();
    let mut failures = Vec::new();
    for (name, who) in [("anonymous", Auth::Anonymous), ("member", MEMBER)] {
        for url in reads() {
            let r = app.get(&url, who);
            if addresses_private(&url) && !matches!(r.status, 401 | 403 | 404) {
                failures.push(format!("{name}: {url} answered {}", r.status));
            }
            failures.extend(leaked(&url, &r).into_iter().map(|l| format!("{name}: {l}")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn counts_include_only_what_the_reader_may_see() {
    let app = site_with_secrets();
    let counts = [
        ("", 1),
        ("/oeffentlich", 1),
        ("/@search?Subject=GEHEIMSCHLAGWORT", 0),
        ("/@search?SearchableText=GEHEIMTEXT", 0),
        ("/@search?review_state=pending", 0),
        ("/@search?path.query=/geheimordner", 0),
        ("/@search?portal_type=Document", 2),
        ("/@vocabularies/plone.app.vocabularies.Keywords", 1),
    ];
    for who in [Auth::Anonymous, MEMBER] {
        for (url, total) in counts {
            let body = app.get(url, who).json();
            assert_eq!(body["items_total"], total, "{url}: {body}");
        }
    }
}

#[test]
fn only_user_administrators_list_roles_as_in_plone() {
    let app = site_with_secrets();
    assert_eq!(app.get("/@roles", Auth::Anonymous).status, 401);
    assert_eq!(app.get("/@roles", MEMBER).status, 401);
    assert_eq!(
        app.get("/@roles", Auth::Basic("sperrer", "sperrerpassword")).status,
        401
    );
    assert_eq!(app.get("/@roles", Auth::Admin).status, 200);
}

#[test]
fn a_private_uid_given_to_copy_answers_as_an_unknown_one() {
    let app = site_with_secrets();
    let uid = app.get("/geheimordner/geheimdok", Auth::Admin).json()["UID"].clone();
    let unknown = json!({"source": "0123456789abcdef0123456789abcdef"});
    for who in [Auth::Anonymous, MEMBER] {
        let missing = app.post("/oeffentlich/@copy", who, &unknown);
        let private = app.post("/oeffentlich/@copy", who, &json!({"source": uid}));
        assert_eq!(
            private.status,
            missing.status,
            "{}",
            String::from_utf8_lossy(&private.body)
        );
    }
}

/// Writes a visitor may try: each must be refused without naming what it hit.
fn writes(private_uid: &str) -> Vec<(&'static str, String, serde_json::Value)> {
    let doc = "/geheimordner/geheimdok";
    vec![
        ("POST", format!("{doc}/@workflow/publish"), json!({})),
        ("POST", "/oeffentlich/seite/@workflow/retract".into(), json!({})),
        ("PATCH", doc.into(), json!({"title": "x"})),
        ("DELETE", doc.into(), json!({})),
        (
            "POST",
            "/geheimordner".into(),
            json!({"@type": "Document", "title": "x"}),
        ),
        ("POST", "/oeffentlich/@copy".into(), json!({"source": doc})),
        ("POST", "/oeffentlich/@copy".into(), json!({"source": private_uid})),
        ("POST", "/oeffentlich/@move".into(), json!({"source": private_uid})),
        ("POST", format!("{doc}/@lock"), json!({})),
        ("DELETE", "/oeffentlich/seite/@lock".into(), json!({"force": true})),
        ("POST", format!("{doc}/@sharing"), json!({"entries": []})),
        ("POST", format!("{doc}/@aliases"), json!({"items": [{"path": "/x"}]})),
        ("PATCH", format!("{doc}/@history"), json!({"version": 0})),
        (
            "POST",
            "/@querystring-search".into(),
            json!({"query": [{"i": "path", "o": "plone.app.querystring.operation.string.absolutePath",
                "v": format!("{private_uid}::1")}], "metadata_fields": "_all"}),
        ),
        (
            "POST",
            "/@querystring-search".into(),
            json!({"query": [{"i": "SearchableText", "o": "plone.app.querystring.operation.string.contains",
                "v": "GEHEIMTEXT"}], "fullobjects": true}),
        ),
    ]
}

#[test]
fn refused_writes_name_nothing_private() {
    let app = site_with_secrets();
    let uid = app.get("/geheimordner/geheimdok", Auth::Admin).json()["UID"]
        .as_str()
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    for (name, who) in [("anonymous", Auth::Anonymous), ("member", MEMBER)] {
        for (method, url, body) in writes(&uid) {
            let r = app.send(method, &url, who, Some(body.to_string().as_bytes()), &[]);
            if r.status < 300 && !url.contains("querystring-search") {
                failures.push(format!("{name}: {method} {url} answered {}", r.status));
            }
            failures.extend(leaked(&url, &r).into_iter().map(|l| format!("{name}: {method} {l}")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let seite = app.get("/oeffentlich/seite/@lock", Auth::Admin).json();
    assert_eq!(seite["locked"], true, "nobody but editors may lift the lock");
}

#[test]
fn review_comments_are_shown_only_to_who_may_request_or_do_reviews() {
    let app = site_with_secrets();
    app.add_user("pruefer", "prueferpassword", &["Member", "Reviewer"]);
    let history = |who| app.get("/oeffentlich/seite/@workflow", who).json()["history"].clone();
    let comments = |who| {
        history(who)
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["comments"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let full = ["", "GEHEIMANTRAG", "GEHEIMKOMMENTAR"];
    // Owner (Request review), Reviewer (Review portal content), Manager.
    assert_eq!(comments(Auth::Basic("autorin", "autorinpassword")), full);
    assert_eq!(comments(Auth::Basic("pruefer", "prueferpassword")), full);
    assert_eq!(comments(Auth::Admin), full);
    // Anonymous, a Member, and a Member the page is shared with as Reader.
    for who in [Auth::Anonymous, MEMBER, Auth::Basic("vertraute", "vertrautepassword")] {
        assert_eq!(history(who), json!([]));
    }
    let anonymous = app.get("/oeffentlich/seite?expand=workflow", Auth::Anonymous).json();
    let wf = &anonymous["@components"]["workflow"];
    assert_eq!(wf["history"], json!([]));
    assert_eq!(wf["transitions"], json!([]), "anonymous may fire nothing");
    assert_eq!(wf["state"]["id"], "published", "the state itself is public");
}

#[test]
fn who_holds_a_lock_is_shown_to_editors_only_and_its_token_to_the_holder_only() {
    let app = site_with_secrets();
    let seite = "/oeffentlich/seite";
    for who in [Auth::Anonymous, MEMBER, Auth::Basic("vertraute", "vertrautepassword")] {
        for lock in [
            app.get(&format!("{seite}/@lock"), who).json(),
            app.get(seite, who).json()["lock"].clone(),
        ] {
            assert_eq!(lock["locked"], true, "that it is locked is no secret");
            for key in ["creator", "creator_name", "creator_url", "token"] {
                assert!(lock.get(key).is_none(), "{key} shown to a reader: {lock}");
            }
        }
    }
    // The owner may edit, so she learns whom to ask; the token stays with the holder.
    let owner = app
        .get(&format!("{seite}/@lock"), Auth::Basic("autorin", "autorinpassword"))
        .json();
    assert_eq!(owner["creator"], "sperrer");
    assert!(owner.get("token").is_none());
    let holder = app.get(seite, Auth::Basic("sperrer", "sperrerpassword")).json();
    assert_eq!(holder["lock"]["creator"], "sperrer");
    assert!(holder["lock"]["token"].is_string());
}

#[test]
fn the_query_builder_of_a_private_page_is_as_closed_as_the_page() {
    let app = site_with_secrets();
    for who in [Auth::Anonymous, MEMBER] {
        let page = app.get("/geheimordner/geheimdok", who).status;
        let registry = app.get("/geheimordner/geheimdok/@querystring", who);
        assert_eq!(registry.status, page, "{}", String::from_utf8_lossy(&registry.body));
    }
    assert_eq!(app.get("/geheimordner/geheimdok/@querystring", Auth::Admin).status, 200);
    assert_eq!(app.get("/oeffentlich/seite/@querystring", Auth::Anonymous).status, 200);
}

#[test]
fn a_published_page_in_a_private_folder_does_not_describe_its_parent() {
    let app = site_with_secrets();
    let url = format!("{}/huelle", app.site);
    for who in [Auth::Anonymous, MEMBER] {
        let page = app.get("/huelle/offen", who).json();
        assert_eq!(page["parent"], json!({"@id": url}));
    }
    let admin = app.get("/huelle/offen", Auth::Admin).json();
    assert_eq!(admin["parent"]["title"], "GEHEIMHUELLE");
    let public = app.get("/oeffentlich/seite", Auth::Anonymous).json();
    assert_eq!(public["parent"]["title"], "Oeffentlich");
}
