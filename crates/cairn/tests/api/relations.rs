//! `@relations`: relation fields, named free relations and links in text
//! form one catalog, queried both ways as each reader may see it, changed
//! all or nothing.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, spawn_app};

const MIRA: Auth<'static> = Auth::Basic("mira", "mira-pw-123");

fn uid(app: &TestApp, path: &str) -> String {
    app.get(path, Auth::Admin).json()["UID"].as_str().unwrap().to_owned()
}

/// Pairs (source id, target id) per relation name of a GET answer.
fn pairs(v: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (name, r) in v["relations"].as_object().unwrap() {
        for i in r["items"].as_array().unwrap() {
            let id = |e: &Value| e["@id"].as_str().unwrap_or("-").rsplit('/').next().unwrap().to_owned();
            out.push((name.clone(), id(&i["source"]), id(&i["target"])));
        }
    }
    out
}

fn pair(name: &str, s: &str, t: &str) -> (String, String, String) {
    (name.into(), s.into(), t.into())
}

/// `/a` (published) relates to `/b` (published) and `/geheim` (private);
/// `/b`'s text links to `/a`.
fn site() -> TestApp {
    let app = spawn_app();
    app.add_user("mira", "mira-pw-123", &["Member"]);
    for (id, title) in [("a", "Amt"), ("b", "Beratung"), ("geheim", "Geheimes")] {
        app.create("", json!({"@type": "Document", "id": id, "title": title}));
    }
    let a = uid(&app, "/a");
    app.patch(
        "/b",
        Auth::Admin,
        &json!({"text": {"data": format!("<p><a href=\"resolveuid/{a}\">Amt</a></p>"), "content-type": "text/html"}}),
    );
    app.publish(&format!("{}/a", app.site));
    app.publish(&format!("{}/b", app.site));
    let items = json!({"items": [
        {"source": "/a", "target": "/b", "relation": "relatedItems"},
        {"source": "/a", "target": uid(&app, "/geheim"), "relation": "relatedItems"},
        {"source": "/a", "target": "/b", "relation": "isPartOf"},
    ]});
    let r = app.post("/@relations", Auth::Admin, &items);
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    app
}

#[test]
fn fields_free_relations_and_text_links_are_one_catalog_seen_as_each_reader_may() {
    let app = site();
    let all = app.get("/@relations?source=/a", Auth::Admin).json();
    assert_eq!(
        pairs(&all),
        [
            pair("isPartOf", "a", "b"),
            pair("relatedItems", "a", "b"),
            pair("relatedItems", "a", "geheim")
        ]
    );
    // The field holds what POST added, in order; a free relation survives an edit.
    let a = app.get("/a", Auth::Admin).json();
    let related: Vec<&str> = a["relatedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["@id"].as_str().unwrap())
        .collect();
    assert_eq!(related, [format!("{}/b", app.site), format!("{}/geheim", app.site)]);
    app.patch("/a", Auth::Admin, &json!({"description": "neu"}));
    let to_b = app.get("/@relations?target=/b&relation=isPartOf", Auth::Admin).json();
    assert_eq!(pairs(&to_b), [pair("isPartOf", "a", "b")]);
    assert_eq!(to_b["relations"]["isPartOf"]["readonly"], false);
    let text = app.get("/@relations?relation=isReferencing", Auth::Admin).json();
    assert_eq!(pairs(&text), [pair("isReferencing", "b", "a")]);
    assert_eq!(text["relations"]["isReferencing"]["readonly"], true);
    let stats = app.get("/@relations", Auth::Admin).json();
    assert_eq!(
        stats["stats"],
        json!({"isPartOf": 1, "isReferencing": 1, "relatedItems": 2})
    );

    // Readers see relations whose both ends they may see, and no counts.
    for who in [Auth::Anonymous, MIRA] {
        let seen = app.get("/@relations?source=/a", who).json();
        assert_eq!(
            pairs(&seen),
            [pair("isPartOf", "a", "b"), pair("relatedItems", "a", "b")]
        );
        assert_eq!(seen["relations"]["relatedItems"]["items_total"], 1);
        let hidden = app.get("/@relations?source=/geheim", who).json();
        assert_eq!(hidden["relations"], json!({}));
        let by_title = app
            .get("/@relations?relation=relatedItems&query_target=Geheim", who)
            .json();
        assert_eq!(by_title["relations"], json!({}));
        assert!(matches!(app.get("/@relations", who).status, 401 | 403));
    }
    let by_title = app
        .get("/@relations?relation=relatedItems&query_target=geheim", Auth::Admin)
        .json();
    assert_eq!(pairs(&by_title), [pair("relatedItems", "a", "geheim")]);
    let first = app.get("/@relations?relation=relatedItems&max=1", Auth::Admin).json();
    assert_eq!(first["relations"]["relatedItems"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["relations"]["relatedItems"]["items_total"], 2);
}

#[test]
fn changes_are_all_or_nothing_and_need_the_right_to_edit_the_source() {
    let app = site();
    let before = app.get("/@relations?source=/b", Auth::Admin).json();
    // One bad item: nothing of the request is written.
    let r = app.post(
        "/@relations",
        Auth::Admin,
        &json!({"items": [
            {"source": "/b", "target": "/a", "relation": "relatedItems"},
            {"source": "/b", "target": "/nirgends", "relation": "relatedItems"},
        ]}),
    );
    assert_eq!(r.status, 422);
    let failed = &r.json()["error"]["failed"];
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0][1], "Failed on creating a relation. Target not found.");
    assert_eq!(app.get("/@relations?source=/b", Auth::Admin).json(), before);

    // Mira may read /a and /b but edit neither; she cannot even learn of /geheim.
    let r = app.post(
        "/@relations",
        MIRA,
        &json!({"items": [{"source": "/b", "target": "/a", "relation": "relatedItems"},
                          {"source": "/b", "target": "/geheim", "relation": "relatedItems"}]}),
    );
    assert_eq!(r.status, 422);
    let failed = r.json()["error"]["failed"].clone();
    assert_eq!(
        failed[0][1],
        "Failed on creating a relation. You are not allowed to edit the source."
    );
    assert_eq!(failed[1][1], "Failed on creating a relation. Target not found.");
    assert_eq!(app.delete("/@relations", Auth::Anonymous).status, 401);
    let bulk = app.send("DELETE", "/@relations", MIRA, Some(br#"{"relation": "isPartOf"}"#), &[]);
    assert_eq!(bulk.status, 403);
    let text = app.post(
        "/@relations",
        Auth::Admin,
        &json!({"items": [{"source": "/a", "target": "/b", "relation": "isReferencing"}]}),
    );
    assert_eq!(text.status, 422);

    // Removing by item edits the field; by name, every source at once.
    let gone = app.send(
        "DELETE",
        "/@relations",
        Auth::Admin,
        Some(
            json!({"items": [{"source": "/a", "target": "/geheim", "relation": "relatedItems"}]})
                .to_string()
                .as_bytes(),
        ),
        &[],
    );
    assert_eq!(gone.status, 204, "{}", String::from_utf8_lossy(&gone.body));
    assert_eq!(
        app.get("/a", Auth::Admin).json()["relatedItems"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app.send(
        "DELETE",
        "/@relations",
        Auth::Admin,
        Some(br#"{"relation": "isPartOf"}"#),
        &[],
    );
    assert_eq!(r.status, 204);
    let left = app.get("/@relations?source=/a", Auth::Admin).json();
    assert_eq!(pairs(&left), [pair("relatedItems", "a", "b")]);
}

#[test]
fn a_relation_to_a_deleted_object_is_listed_as_broken_and_a_rebuild_keeps_the_catalog() {
    let app = site();
    let geheim = uid(&app, "/geheim");
    assert_eq!(app.delete("/geheim", Auth::Admin).status, 204);
    let stats = app.get("/@relations", Auth::Admin).json();
    assert_eq!(stats["broken"], json!({"relatedItems": 1}));
    let broken = app.get("/@relations?onlyBroken=true", Auth::Admin).json();
    assert_eq!(broken["relations"]["relatedItems"]["items"][0]["target"]["UID"], geheim);
    // The rebuild recomputes the catalog from the content: first lose
    // `/a`'s rows (after the start-up pass has run), then get them back.
    let site = app.site();
    let settled = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while cairn_core::repo::links::needs_backfill(&*site.store, "plone").unwrap() {
            assert!(std::time::Instant::now() < deadline, "the pass never ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    settled();
    let forget = cairn_core::ports::WriteOp::SetLinks {
        source: cairn_model::Uid::parse(&uid(&app, "/a")).unwrap(),
        targets: vec![],
    };
    let batch = cairn_core::ports::WriteBatch {
        ops: vec![forget],
        ..Default::default()
    };
    site.store.write("plone", batch).unwrap();
    assert_ne!(app.get("/@relations", Auth::Admin).json(), stats);
    assert_eq!(app.post("/@relations/rebuild", MIRA, &json!({})).status, 403);
    assert_eq!(app.post("/@relations/rebuild", Auth::Admin, &json!({})).status, 204);
    settled();
    assert_eq!(app.get("/@relations", Auth::Admin).json(), stats);
}
