//! One test per rule that closed a leak, each failing before its fix.

use serde_json::json;

use super::{MEMBER, site_with_secrets};
use crate::helpers::Auth;

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
