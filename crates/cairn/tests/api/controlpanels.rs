//! Site Setup: control panels and the registry read and save the settings
//! cairn acts on, checked like content fields, for administrators only; a
//! saved setting shows on the next request and purges the site's caches.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Auth, ids, spawn_app};

const MIRA: Auth<'static> = Auth::Basic("mira", "mira-pw-123");

#[test]
fn panels_show_and_save_what_the_site_uses() {
    let app = spawn_app();
    app.add_user("mira", "mira-pw-123", &["Member"]);
    let list = app.get("/@controlpanels", Auth::Admin).json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Date and Time",
            "Language",
            "Mail",
            "Navigation",
            "Search",
            "Site",
            "Editing",
            "User and Group Settings",
            "Security",
            "Caching",
            "Content Types"
        ]
    );
    let usergroup = app.get("/@controlpanels/usergroup", Auth::Admin).json();
    assert_eq!(usergroup["data"], json!({"many_groups": false, "many_users": false}));
    let site = app.get("/@controlpanels/site", Auth::Admin).json();
    assert_eq!(site["group"], "General");
    assert_eq!(site["schema"]["properties"]["site_title"]["type"], "string");
    assert_eq!(site["schema"]["required"], json!(["site_title"]));
    let title = site["data"]["site_title"].clone();
    assert_eq!(app.get("/@site", Auth::Anonymous).json()["plone.site_title"], title);

    // Saved, it shows at once, also to readers whose answer was cached.
    let r = app.patch(
        "/@controlpanels/site",
        Auth::Admin,
        &json!({"site_title": "Kanton Beispiel"}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        app.get("/@site", Auth::Anonymous).json()["plone.site_title"],
        "Kanton Beispiel"
    );
    assert_eq!(
        app.get("/@registry/plone.site_title", Auth::Admin).json(),
        "Kanton Beispiel"
    );
    // Checked as a field is: required, bounded, no unknown fields.
    for bad in [
        json!({"site_title": ""}),
        json!({"site_title": "x".repeat(201)}),
        json!({"nope": 1}),
    ] {
        assert_eq!(
            app.patch("/@controlpanels/site", Auth::Admin, &bad).status,
            400,
            "{bad}"
        );
    }

    let r = app.patch(
        "/@controlpanels/language",
        Auth::Admin,
        &json!({"available_languages": ["de", "fr"], "default_language": "de"}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let s = app.get("/@site", Auth::Anonymous).json();
    assert_eq!(s["plone.available_languages"], json!(["de", "fr"]));
    assert_eq!(s["plone.default_language"], "de");
    let langs = app
        .get(
            "/@vocabularies/plone.app.vocabularies.SupportedContentLanguages",
            Auth::Admin,
        )
        .json();
    assert_eq!(ids_of(&langs), ["de", "fr"]);
    let r = app.patch(
        "/@controlpanels/language",
        Auth::Admin,
        &json!({"available_languages": ["de", "xx"]}),
    );
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("xx"));

    assert_eq!(
        app.patch(
            "/@controlpanels/date-and-time",
            Auth::Admin,
            &json!({"portal_timezone": "Europe/Zurich"})
        )
        .status,
        204
    );
    assert_eq!(
        app.get("/@site", Auth::Anonymous).json()["plone.portal_timezone"],
        "Europe/Zurich"
    );
    assert_eq!(
        app.patch(
            "/@controlpanels/date-and-time",
            Auth::Admin,
            &json!({"portal_timezone": "Mars/Olympus"})
        )
        .status,
        400
    );

    for who in [Auth::Anonymous, MIRA] {
        let want = if matches!(who, Auth::Anonymous) { 401 } else { 403 };
        assert_eq!(app.get("/@controlpanels", who).status, want);
        assert_eq!(app.get("/@controlpanels/site", who).status, want);
        assert_eq!(
            app.patch("/@controlpanels/site", who, &json!({"site_title": "x"}))
                .status,
            want
        );
        assert_eq!(app.get("/@registry", who).status, want);
        assert_eq!(
            app.patch("/@registry", who, &json!({"plone.site_title": "x"})).status,
            want
        );
    }
    assert_eq!(
        app.get("/@site", Auth::Anonymous).json()["plone.site_title"],
        "Kanton Beispiel"
    );
}

fn ids_of(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn navigation_shows_the_types_the_panel_names() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "amt", "title": "Amt"}));
    app.create("", json!({"@type": "Document", "id": "seite", "title": "Seite"}));
    app.publish(&format!("{}/amt", app.site));
    app.publish(&format!("{}/seite", app.site));
    let nav = |who| {
        let v = app.get("/@navigation", who).json();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(nav(Auth::Anonymous).contains(&"Seite".to_string()));
    let r = app.patch("/@registry", Auth::Admin, &json!({"plone.displayed_types": ["Folder"]}));
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let shown = nav(Auth::Anonymous);
    assert!(
        shown.contains(&"Amt".to_string()) && !shown.contains(&"Seite".to_string()),
        "{shown:?}"
    );
    let all = app.get("/@registry?q=plone.displayed", Auth::Admin).json();
    assert_eq!(all["items_total"], 1);
    assert_eq!(all["items"][0]["value"], json!(["Folder"]));
    assert_eq!(
        app.patch("/@registry", Auth::Admin, &json!({"plone.unknown": 1}))
            .status,
        400
    );
    assert_eq!(
        ids(&app.get("", Auth::Anonymous).json()).len(),
        2,
        "listings are not navigation"
    );
}

#[test]
fn the_caching_panel_sets_how_long_shared_caches_keep_answers() {
    let app = crate::helpers::spawn_app_with(|s| s.caching.listing_s_maxage = 600);
    let page = app.create("", json!({"@type": "Document", "id": "p", "title": "P"}));
    app.publish(page["@id"].as_str().unwrap());
    let control = |url: &str| {
        app.get(url, Auth::Anonymous)
            .header("cache-control")
            .map(str::to_string)
    };
    assert_eq!(
        control("/p").as_deref(),
        Some("public, max-age=0, s-maxage=86400, must-revalidate")
    );
    let panel = app.get("/@controlpanels/caching", Auth::Admin).json();
    assert_eq!(panel["group"], "Advanced");
    assert_eq!(
        panel["data"]["listing_s_maxage"], 600,
        "the configured value until saved"
    );
    let r = app.patch(
        "/@controlpanels/caching",
        Auth::Admin,
        &json!({"content_s_maxage": 120}),
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        control("/p").as_deref(),
        Some("public, max-age=0, s-maxage=120, must-revalidate")
    );
    assert_eq!(
        control("/@navigation").as_deref(),
        Some("public, max-age=0, s-maxage=600, must-revalidate")
    );
    // Bounds are checked like a field's; nothing changes.
    for bad in [json!({"content_s_maxage": -1}), json!({"file_s_maxage": "long"})] {
        assert_eq!(
            app.patch("/@controlpanels/caching", Auth::Admin, &bad).status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        app.patch("/@controlpanels/caching", MIRA, &json!({"content_s_maxage": 1}))
            .status,
        401
    );
}

#[test]
fn types_not_searched_stay_out_of_full_text_searches() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "d", "title": "Budget Seite"}));
    app.create("", json!({"@type": "News Item", "id": "n", "title": "Budget News"}));
    app.wait_indexed();
    let found = |q: &str| {
        let mut ids = ids(&app.get(&format!("/@search?{q}"), Auth::Admin).json());
        ids.sort();
        ids
    };
    assert_eq!(found("SearchableText=budget"), ["d", "n"]);
    let r = app.patch(
        "/@controlpanels/search",
        Auth::Admin,
        &json!({"types_not_searched": ["News Item"]}),
    );
    assert_eq!(r.status, 204);
    assert_eq!(found("SearchableText=budget"), ["d"]);
    // Asked for by type, or without full text, they are found as before.
    assert_eq!(found("SearchableText=budget&portal_type=News%20Item"), ["n"]);
    assert_eq!(found("portal_type=News%20Item"), ["n"]);
    let bad = app.patch(
        "/@controlpanels/search",
        Auth::Admin,
        &json!({"types_not_searched": ["Spaceship"]}),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn a_saved_setting_purges_the_whole_site_from_the_cdn() {
    let cf = crate::fake_cloudflare::FakeCloudflare::start(1);
    let api = cf.api.clone();
    let app = crate::helpers::spawn_app_with(move |s| {
        s.caching.cloudflare = Some(cairn::settings::CloudflareSettings {
            zone_id: crate::fake_cloudflare::ZONE.into(),
            api_token: crate::fake_cloudflare::TOKEN.into(),
            api_url: api,
        });
        s.caching.purge_delay_ms = 50;
    });
    assert_eq!(
        app.patch("/@controlpanels/site", Auth::Admin, &json!({"site_title": "Neu"}))
            .status,
        204
    );
    cf.wait_full_purge();
}

#[test]
fn the_site_logo_is_served_to_everyone_and_kept_by_the_blob_sweep() {
    let app = spawn_app();
    let r = app.patch(
        "/@controlpanels/site",
        Auth::Admin,
        &json!({"site_logo": crate::content::tiny_png()}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let url = app.get("/@site", Auth::Anonymous).json()["plone.site_logo"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, format!("{}/@@site-logo/t%2Epng", app.site));
    let path = url.strip_prefix(&app.site).unwrap().to_owned();
    let logo = app.get(&path, Auth::Anonymous);
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert!(logo.body.starts_with(b"\x89PNG"));
    // Only the registry refers to it, and that counts.
    app.age_blobs(Duration::from_secs(7 * 86_400));
    app.sweep_blobs();
    assert_eq!(app.get(&path, Auth::Anonymous).status, 200);
    // Not an image: refused; removed: gone.
    let text = json!({"data": "aGVsbG8=", "encoding": "base64", "filename": "x.png", "content-type": "image/png"});
    assert_eq!(
        app.patch("/@controlpanels/site", Auth::Admin, &json!({"site_logo": text}))
            .status,
        400
    );
    assert_eq!(
        app.patch("/@controlpanels/site", Auth::Admin, &json!({"site_logo": null}))
            .status,
        204
    );
    assert_eq!(
        app.get("/@site", Auth::Anonymous).json()["plone.site_logo"],
        Value::Null
    );
    assert_eq!(app.get(&path, Auth::Anonymous).status, 404);
}

#[test]
fn panels_saved_at_once_all_keep_their_values() {
    let app = spawn_app();
    let changes = [
        ("site", json!({"site_title": "Gleichzeitig"})),
        ("caching", json!({"content_s_maxage": 11})),
        ("caching", json!({"listing_s_maxage": 12})),
        ("caching", json!({"file_s_maxage": 13})),
        ("security", json!({"enable_self_reg": true})),
        ("editing", json!({"enable_link_integrity_checks": false})),
        ("usergroup", json!({"many_users": true})),
        ("usergroup", json!({"many_groups": true})),
    ];
    std::thread::scope(|scope| {
        for (panel, body) in &changes {
            let app = &app;
            scope.spawn(move || {
                let r = app.patch(&format!("/@controlpanels/{panel}"), Auth::Admin, body);
                assert_eq!(r.status, 204);
            });
        }
    });
    for (panel, body) in &changes {
        let data = app.get(&format!("/@controlpanels/{panel}"), Auth::Admin).json()["data"].clone();
        for (k, v) in body.as_object().unwrap() {
            assert_eq!(&data[k], v, "{panel}.{k} was lost");
        }
    }
}
