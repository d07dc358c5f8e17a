//! Deployment-level behaviour: custom types from the config folder, several sites.

use serde_json::json;

use crate::helpers::{Auth, spawn_app_with};

#[test]
fn a_site_adds_its_own_content_type_from_files() {
    let cfg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cfg.path().join("types")).unwrap();
    std::fs::write(
        cfg.path().join("types/Office.toml"),
        r#"
id = "Office"
title = "Dienststelle"
default_view = "document_view"
workflow = "simple_publication_workflow"
behaviors = ["plone.dublincore", "plone.shortname"]

[[fields]]
name = "email"
kind = "email"
title = "E-Mail"
required = true

[[fields]]
name = "floor"
kind = "int"
title = "Stockwerk"
minimum = 0
"#,
    )
    .unwrap();
    let dir = cfg.path().to_path_buf();
    let app = spawn_app_with(|s| s.config_dir = Some(dir));
    let schema = app.get("/@types/Office", Auth::Admin).json();
    assert_eq!(schema["title"], "Dienststelle");
    assert_eq!(schema["properties"]["email"]["widget"], "email");
    assert!(schema["required"].as_array().unwrap().contains(&json!("email")));
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "Office", "title": "Steueramt", "email": "kein-mail", "floor": -1}),
    );
    assert_eq!(r.status, 400);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("email") && msg.contains("floor"), "{msg}");
    let ok = app.create(
        "",
        json!({"@type": "Office", "title": "Steueramt", "email": "steuern@aarwald.example", "floor": 2}),
    );
    assert_eq!(ok["floor"], 2);
}

#[test]
fn two_sites_have_separate_content_and_urls() {
    let app = spawn_app_with(|s| {
        let mut second = s.sites[0].clone();
        second.id = "intranet".into();
        second.public_url = Some("https://intranet.example".into());
        s.sites.push(second);
    });
    app.create("", json!({"@type": "Document", "id": "only-here", "title": "x"}));
    let intranet = format!("{}/intranet", app.root);
    assert_eq!(app.get(&format!("{intranet}/only-here"), Auth::Admin).status, 404);
    let root = app.get(&intranet, Auth::Anonymous).json();
    assert_eq!(root["@id"], "https://intranet.example");
}

#[test]
fn volto_blocks_are_stored_and_malformed_blocks_are_refused() {
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    let blocks = json!({"b1": {"@type": "slate", "plaintext": "Hallo"}, "b2": {"@type": "title"}});
    let layout = json!({"items": ["b2", "b1"]});
    let doc = app.create(
        "",
        json!({"@type": "Document", "title": "Seite", "blocks": blocks, "blocks_layout": layout}),
    );
    assert_eq!(doc["blocks"]["b1"]["plaintext"], "Hallo");
    assert_eq!(doc["blocks_layout"]["items"][0], "b2");
    assert_eq!(doc["is_folderish"], true, "Volto pages are folderish");
    let url = doc["@id"].as_str().unwrap().to_string();
    for bad in [
        json!({"blocks_layout": ["b1"]}),
        json!({"blocks_layout": "oops"}),
        json!({"blocks": [1, 2]}),
        json!({"blocks": {"b1": {"plaintext": "no type"}}}),
    ] {
        let r = app.patch(&url, Auth::Admin, &bad);
        assert_eq!(r.status, 400, "{bad} was accepted");
    }
    assert_eq!(
        app.get(&url, Auth::Admin).json()["blocks_layout"],
        layout,
        "a refused PATCH changed data"
    );
}

#[test]
fn a_site_binds_pages_to_its_own_workflow_from_files() {
    let cfg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cfg.path().join("workflows")).unwrap();
    std::fs::write(
        cfg.path().join("workflows/bindings.toml"),
        "[types]\n\"Document\" = \"website_workflow\"\n",
    )
    .unwrap();
    let dir = cfg.path().to_path_buf();
    let app = spawn_app_with(|s| s.config_dir = Some(dir));
    let doc = app.create("", json!({"@type": "Document", "id": "seite", "title": "Seite"}));
    assert_eq!(doc["review_state"], "website_workflow--STATUS--entwurf");
    assert_eq!(app.get("/seite", Auth::Anonymous).status, 401);
    let wf = app.get("/seite/@workflow", Auth::Admin).json();
    assert_eq!(wf["state"]["title"], "Entwurf");
    let publish = "website_workflow--TRANSITION--veroffentlichen--entwurf_veroffentlicht";
    assert!(
        wf["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["@id"].as_str().unwrap().ends_with(publish))
    );
    assert_eq!(
        app.post(&format!("/seite/@workflow/{publish}"), Auth::Admin, &json!({}))
            .status,
        200
    );
    assert_eq!(app.get("/seite", Auth::Anonymous).status, 200);
    // Folders keep Plone's default workflow.
    let folder = app.create("", json!({"@type": "Folder", "title": "Ordner"}));
    assert_eq!(folder["review_state"], "private");
}

#[test]
fn tokens_survive_a_secret_rotation_and_forged_ones_are_refused() {
    // The servers restart on one data folder (one at a time: a second cairn
    // on a data folder in use refuses to start).
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().to_path_buf();
    let app = spawn_app_with(|s| {
        s.data = folder.clone();
        s.sites[0].jwt_secret = Some("old-secret-0123456789".into());
    });
    let token = app
        .post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "admin", "password": "secret"}),
        )
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    drop(app);
    let rotated = spawn_app_with(|s| {
        s.data = folder.clone();
        s.sites[0].jwt_secret = Some("new-secret-9876543210".into());
        s.sites[0].jwt_previous_secrets = vec!["old-secret-0123456789".into()];
    });
    assert_eq!(
        rotated.get("", Auth::Bearer(&token)).status,
        200,
        "a token signed with the previous secret"
    );
    // alg "none" with the right claims.
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(r#"{"sub":"admin","exp":9999999999}"#)
    );
    assert_eq!(rotated.get("", Auth::Bearer(&none)).status, 401);
    let expired_claims = b64(r#"{"sub":"admin","fullname":"","exp":1000}"#);
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], expired_claims, parts[2]);
    assert_eq!(rotated.get("", Auth::Bearer(&tampered)).status, 401);
    drop(rotated);
    let unrelated = spawn_app_with(|s| {
        s.data = folder.clone();
        s.sites[0].jwt_secret = Some("other-secret-000000".into());
    });
    assert_eq!(
        unrelated.get("", Auth::Bearer(&token)).status,
        401,
        "a token signed with an unknown secret"
    );
}

#[test]
fn configured_origins_may_call_the_api_from_browsers() {
    let app = spawn_app_with(|s| s.limits.cors_origins = vec!["https://www.example.ch".into()]);
    let preflight = app.send(
        "OPTIONS",
        "",
        Auth::Anonymous,
        None,
        &[
            ("Origin", "https://www.example.ch"),
            ("Access-Control-Request-Method", "PATCH"),
        ],
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some("https://www.example.ch")
    );
    assert!(
        preflight
            .header("Access-Control-Allow-Methods")
            .unwrap()
            .contains("PATCH")
    );
    let get = app.send(
        "GET",
        "",
        Auth::Anonymous,
        None,
        &[("Origin", "https://www.example.ch")],
    );
    assert_eq!(
        get.header("Access-Control-Allow-Origin"),
        Some("https://www.example.ch")
    );
    let other = app.send("GET", "", Auth::Anonymous, None, &[("Origin", "https://evil.example")]);
    assert_eq!(other.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn the_sample_site_has_what_volto_itself_would_store() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.sample_content = true;
        s.sites[0].profile = "volto".into();
    });
    let layout_types = |v: &serde_json::Value| -> Vec<String> {
        v["blocks_layout"]["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no blocks_layout in {v}"))
            .iter()
            .map(|id| v["blocks"][id.as_str().unwrap()]["@type"].as_str().unwrap().to_string())
            .collect()
    };
    let home = app.get("", Auth::Anonymous).json();
    assert_eq!(layout_types(&home), ["title", "slate", "listing"]);
    let page = app.get("/verwaltung/regierungsrat", Auth::Anonymous).json();
    let types = layout_types(&page);
    assert_eq!(types[0], "title");
    assert!(types[1..].iter().all(|t| t == "slate") && types.len() > 2, "{types:?}");
    let first = &page["blocks"][page["blocks_layout"]["items"][1].as_str().unwrap()];
    assert!(
        first["plaintext"]
            .as_str()
            .unwrap()
            .starts_with("Der Regierungsrat besteht")
    );
    assert_eq!(first["value"][0]["type"], "p");
    let news = app
        .get("/@search?portal_type=News%20Item&b_size=1", Auth::Anonymous)
        .json();
    let news = app
        .get(news["items"][0]["@id"].as_str().unwrap(), Auth::Anonymous)
        .json();
    assert_eq!(layout_types(&news)[0], "title");
}

#[test]
fn the_classic_sample_site_keeps_rich_text() {
    let app = crate::helpers::spawn_app_with(|s| s.sample_content = true);
    let page = app.get("/verwaltung/regierungsrat", Auth::Anonymous).json();
    assert!(
        page["text"]["data"]
            .as_str()
            .unwrap()
            .contains("<strong>Regierungsrat</strong>")
    );
    assert!(page.get("blocks").is_none());
}

#[test]
fn without_a_public_url_ids_follow_the_host_the_request_was_sent_to() {
    let app = crate::helpers::spawn_app();
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    app.create("", json!({"@type": "Document", "id": "b", "title": "B"}));
    app.publish(&format!("{}/a", app.site));
    let as_backend = |host: &str| app.send("GET", "/a", Auth::Anonymous, None, &[("Host", host)]).json();
    // Twice each, so the second may come from the response cache: it must not mix hosts.
    for _ in 0..2 {
        assert_eq!(as_backend("backend:8080")["@id"], "http://backend:8080/plone/a");
        assert_eq!(as_backend("www.example.org")["@id"], "http://www.example.org/plone/a");
    }
    // A host that is no host name is not used.
    let forged = as_backend("evil.org/x\"");
    assert!(!forged["@id"].as_str().unwrap().contains("evil"), "{forged}");
    // Relations named by a URL of that host resolve.
    let r = app.send(
        "PATCH",
        "/b",
        Auth::Admin,
        Some(
            json!({"relatedItems": ["http://backend:8080/plone/a"]})
                .to_string()
                .as_bytes(),
        ),
        &[("Host", "backend:8080")],
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn a_trusted_proxy_names_the_host_and_scheme_and_nobody_else_does() {
    let forwarded = [
        ("X-Forwarded-Host", "www.kanton.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let trusting = crate::helpers::spawn_app_with(|s| s.limits.trusted_proxies = vec!["127.0.0.1".into()]);
    trusting.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    let r = trusting.send("GET", "/a", Auth::Admin, None, &forwarded).json();
    assert_eq!(r["@id"], "https://www.kanton.example/plone/a");
    let forged = trusting
        .send("GET", "/a", Auth::Admin, None, &[("X-Forwarded-Host", "evil.org/x")])
        .json();
    assert!(!forged["@id"].as_str().unwrap().contains("evil"), "{forged}");
    let app = crate::helpers::spawn_app();
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    let r = app.send("GET", "/a", Auth::Admin, None, &forwarded).json();
    assert!(r["@id"].as_str().unwrap().starts_with("http://127.0.0.1"), "{r}");
}

#[test]
fn a_configured_public_url_wins_over_the_host() {
    let app = crate::helpers::spawn_app_with(|s| s.sites[0].public_url = Some("https://www.kanton.example".into()));
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    let r = app
        .send("GET", "/a", Auth::Admin, None, &[("Host", "backend:8080")])
        .json();
    assert_eq!(r["@id"], "https://www.kanton.example/a");
}

#[test]
fn the_sample_news_keep_their_publication_dates_newest_first() {
    let app = crate::helpers::spawn_app_with(|s| s.sample_content = true);
    let r = app
        .get(
            "/@search?portal_type=News%20Item&sort_on=effective&sort_order=descending&b_size=2",
            Auth::Anonymous,
        )
        .json();
    let ids = crate::helpers::ids(&r);
    assert_eq!(ids, ["steuerfuss-bleibt-unveraendert", "neue-kantonsschule-oberried"]);
}

#[test]
fn cairn_migrate_says_where_the_schema_stands_and_brings_it_up() {
    let data = tempfile::tempdir().unwrap();
    let settings = cairn::Settings {
        data: data.path().join("var"),
        ..cairn::Settings::default()
    };
    let status = cairn::migrate(&settings, None, true).unwrap();
    assert!(status[0].ends_with("no database yet"), "{status:?}");
    let done = cairn::migrate(&settings, None, false).unwrap();
    assert!(done[0].contains("schema version"), "{done:?}");
    let (have, need) = {
        let words: Vec<&str> = done[0].split_whitespace().collect();
        (
            words[words.len() - 5].to_string(),
            words[words.len() - 1].trim_end_matches(')').to_string(),
        )
    };
    assert_eq!(have, need, "{done:?}");
}
