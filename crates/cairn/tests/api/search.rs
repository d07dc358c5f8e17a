//! `@search` with structured catalog queries: what Volto's folder contents,
//! object browser and the review queue send.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

#[test]
fn folder_contents_queries_page_through_children_by_position() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    for (id, ty) in [("c", "Document"), ("a", "Folder"), ("b", "Document")] {
        app.create("/f", json!({"@type": ty, "id": id, "title": id.to_uppercase()}));
    }
    app.create("/f/a", json!({"@type": "Document", "id": "deep", "title": "Deep"}))
        .get("id");
    let r = app.get(
        "/f/@search?path.depth=1&sort_on=getObjPositionInParent&metadata_fields=_all&b_size=2",
        Auth::Admin,
    );
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["items_total"], 3, "depth 1 means children only");
    assert_eq!(ids(&b), ["c", "a"]);
    assert!(b["batching"]["next"].as_str().unwrap().contains("b_start=2"));
    assert_eq!(b["items"][0]["getPath"], "/plone/f/c");
    let by_title = app
        .get(
            "/f/@search?path.depth=1&sort_on=sortable_title&sort_order=descending",
            Auth::Admin,
        )
        .json();
    assert_eq!(ids(&by_title), ["c", "b", "a"]);
    let all = app.get("/@search?portal_type=Document&sort_on=id", Auth::Admin).json();
    assert_eq!(all["items_total"], 3);
    let two_roots = app
        .get(
            "/@search?path.query=/plone/f/a&path.query=/plone/f/b&path.depth=0",
            Auth::Admin,
        )
        .json();
    assert_eq!(two_roots["items_total"], 2);
}

#[test]
fn the_review_queue_lists_what_awaits_review_to_those_who_may_see_it() {
    let app = spawn_app();
    app.add_user("reviewer", "reviewerpassword", &["Member", "Reviewer"]);
    app.create("", json!({"@type": "Document", "id": "draft", "title": "Draft"}));
    app.create(
        "",
        json!({"@type": "Document", "id": "submitted", "title": "Submitted"}),
    );
    assert_eq!(
        app.post("/submitted/@workflow/submit", Auth::Admin, &json!({})).status,
        200
    );
    let queue = app
        .get(
            "/@search?review_state=pending",
            Auth::Basic("reviewer", "reviewerpassword"),
        )
        .json();
    assert_eq!(ids(&queue), ["submitted"]);
    let anon = app.get("/@search?review_state=pending", Auth::Anonymous).json();
    assert_eq!(anon["items_total"], 0, "pending items leaked to anonymous");
    assert_eq!(
        app.get("/@search?portal_type=Document", Auth::Anonymous).json()["items_total"],
        0
    );
}

#[test]
fn search_input_is_validated_and_full_text_is_not_faked() {
    let app = spawn_app();
    assert_eq!(app.get("/@search?SearchableText=", Auth::Anonymous).json(), json!([]));
    assert_eq!(app.get("/@search?SearchableText=*", Auth::Anonymous).json(), json!([]));
    assert_eq!(app.get("/@search?SearchableText=steuern", Auth::Anonymous).status, 501);
    assert_eq!(app.get("/@search?sort_on=nonsense", Auth::Anonymous).status, 400);
    assert_eq!(app.get("/@search?path.depth=x", Auth::Anonymous).status, 400);
    assert_eq!(app.get("/@search?is_folderish=maybe", Auth::Anonymous).status, 400);
    assert_eq!(
        app.get("/@search?b_size=999999999", Auth::Anonymous).status,
        200,
        "b_size is capped, not refused"
    );
}
