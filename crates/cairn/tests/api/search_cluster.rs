//! Full text on a search cluster (`search.engine = "elasticsearch"`),
//! against the fake cluster: searches go to it, permissions still filter
//! every hit, an author finds their own edit at once, and a cluster that
//! fails answers 503 without naming itself.

use serde_json::json;

use cairn_elastic::fake::FakeCluster;

use crate::helpers::{Auth, TestApp, spawn_app_with};

fn app(cluster: &FakeCluster) -> TestApp {
    let url = cluster.url.clone();
    spawn_app_with(move |s| {
        s.search.engine = cairn::settings::SearchEngine::Elasticsearch;
        s.search.elasticsearch = Some(cairn::settings::ElasticSettings {
            url,
            prefix: "cairn-".into(),
            api_key: Some("a2V5".into()),
            ..Default::default()
        });
    })
}

fn total(app: &TestApp, query: &str, auth: Auth<'_>) -> serde_json::Value {
    let found = app.get(&format!("/@search?SearchableText={query}"), auth).json();
    found["items_total"].clone()
}

#[test]
fn searches_go_to_the_cluster_and_permissions_filter_every_hit() {
    let cluster = FakeCluster::start_with(Some("a2V5"));
    let app = app(&cluster);
    app.create(
        "",
        json!({"@type": "Document", "id": "bericht", "title": "Hagelschlag im Jura"}),
    );
    app.publish(&format!("{}/bericht", app.site));
    app.create(
        "",
        json!({"@type": "Document", "id": "intern", "title": "Hagelschläge intern"}),
    );
    app.add_user("mira", "mira-pw-123", &["Member"]);
    app.wait_indexed();
    cluster.take_log();
    assert_eq!(
        total(&app, "Hagelschlag", Auth::Admin),
        2,
        "stemmed: one word, two forms"
    );
    assert!(
        cluster
            .take_log()
            .iter()
            .any(|r| r.starts_with("POST /cairn-plone/_search")),
        "the cluster answered"
    );
    assert_eq!(total(&app, "Hagelschlag", Auth::Anonymous), 1);
    assert_eq!(total(&app, "Hagelschlag", Auth::Basic("mira", "mira-pw-123")), 1);
    assert_eq!(
        total(&app, "intern", Auth::Anonymous),
        0,
        "a private page is not counted"
    );
    assert_eq!(total(&app, "Hagel*", Auth::Anonymous), 1);

    // An author's edit is found on the very next search.
    assert_eq!(
        app.patch("/intern", Auth::Admin, &json!({"title": "Gewitterzelle"}))
            .status,
        204
    );
    assert_eq!(total(&app, "Gewitterzelle", Auth::Admin), 1);
    assert_eq!(app.delete("/bericht", Auth::Admin).status, 204);
    assert_eq!(total(&app, "Hagelschlag", Auth::Admin), 0);
}

#[test]
fn a_failing_cluster_is_a_503_that_does_not_name_it() {
    let cluster = FakeCluster::start_with(Some("a2V5"));
    let app = app(&cluster);
    app.create("", json!({"@type": "Document", "id": "seite", "title": "Abstimmung"}));
    app.wait_indexed();
    cluster.fail_matching("/_search", 1, 503);
    let r = app.get("/@search?SearchableText=Abstimmung", Auth::Admin);
    assert_eq!(r.status, 503);
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        !text.contains(&cluster.url) && !text.contains("cluster_block"),
        "{text}"
    );
    assert_eq!(
        total(&app, "Abstimmung", Auth::Admin),
        1,
        "and the next search is answered"
    );
}

#[test]
fn the_worst_search_text_gets_an_answer_or_a_400_from_the_cluster_too() {
    let cluster = FakeCluster::start_with(Some("a2V5"));
    let app = app(&cluster);
    app.create("", json!({"@type": "Document", "id": "steuern", "title": "Steuern"}));
    app.add_user("mira", "mira-pw-123", &["Member"]);
    app.wait_indexed();
    let long = "x".repeat(3000);
    let globs = vec!["st?u*"; 32].join("%20OR%20");
    let worst = [
        "%00",
        "Steu%00ern",
        "st%5C*",
        "%5C%5C%27",
        "%22%22",
        "%7B%22query%22%3A%7B%7D%7D",
        "%26%7C%21%3A%2A",
        long.as_str(),
        globs.as_str(),
        "((((((((Steuern))))))))",
    ];
    for text in worst {
        for auth in [Auth::Anonymous, Auth::Basic("mira", "mira-pw-123"), Auth::Admin] {
            let r = app.get(&format!("/@search?SearchableText={text}"), auth);
            assert!(
                matches!(r.status, 200 | 400),
                "{text}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    assert_eq!(total(&app, "((((((((Steuern))))))))", Auth::Admin), 1);
}
