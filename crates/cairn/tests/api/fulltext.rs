//! SearchableText through `@search` and `@querystring-search`: the index
//! follows every write, hits are filtered by the same SQL and permissions
//! as structured queries and come back best first.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, ids, spawn_app, spawn_app_with};

fn search(app: &TestApp, query: &str, auth: Auth<'_>) -> Value {
    let r = app.get(&format!("/@search?{query}"), auth);
    assert_eq!(r.status, 200, "{query}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn page(app: &TestApp, id: &str, title: &str, text: &str) {
    let body = json!({"@type": "Document", "id": id, "title": title,
        "text": {"data": format!("<p>{text}</p>"), "content-type": "text/html"}});
    app.create("", body);
}

#[test]
fn full_text_finds_stemmed_words_ranked_and_only_what_the_reader_may_see() {
    // Pages are analyzed in their language, here the site's: German.
    let app = spawn_app_with(|s| s.sites[0].default_language = "de".into());
    page(&app, "steuern", "Steuern", "Alles über die Steuererklärung.");
    page(&app, "gebuehren", "Gebühren", "Die Steuern und Gebühren der Gemeinden.");
    page(&app, "schule", "Volksschule", "Schulen im Kanton.");
    page(&app, "privat", "Steuer intern", "Nur für die Verwaltung.");
    for id in ["steuern", "gebuehren", "schule"] {
        app.publish(&format!("/{id}"));
    }
    app.wait_indexed();

    let anon = search(&app, "SearchableText=steuer", Auth::Anonymous);
    assert_eq!(
        ids(&anon),
        ["steuern", "gebuehren"],
        "title match first; private hidden"
    );
    assert_eq!(anon["items_total"], 2);
    let admin = search(&app, "SearchableText=steuer", Auth::Admin);
    assert_eq!(admin["items_total"], 3, "the private page for who may see it");
    // Folded umlauts, globs, phrases, boolean operators.
    assert_eq!(
        ids(&search(&app, "SearchableText=gebuhren", Auth::Anonymous)),
        ["gebuehren"]
    );
    assert_eq!(
        ids(&search(&app, "SearchableText=volksschul*", Auth::Anonymous)),
        ["schule"]
    );
    let phrase = search(&app, "SearchableText=%22steuern%20und%20gebuhren%22", Auth::Anonymous);
    assert_eq!(ids(&phrase), ["gebuehren"]);
    let not = search(&app, "SearchableText=steuern%20NOT%20gemeinden", Auth::Anonymous);
    assert_eq!(ids(&not), ["steuern"]);
    let or = search(
        &app,
        "SearchableText=kanton%20OR%20gemeinden&sort_on=sortable_title",
        Auth::Anonymous,
    );
    assert_eq!(
        ids(&or),
        ["gebuehren", "schule"],
        "sort_on orders the hits instead of relevance"
    );
    // Combined with structured indexes, and batched in rank order.
    assert_eq!(
        search(&app, "SearchableText=steuer&portal_type=Folder", Auth::Anonymous)["items_total"],
        0
    );
    let second = search(&app, "SearchableText=steuer&b_size=1&b_start=1", Auth::Anonymous);
    assert_eq!(
        (ids(&second), second["items_total"].clone()),
        (vec!["gebuehren".to_string()], json!(2))
    );
    assert!(second["batching"]["prev"].is_string());
    assert_eq!(
        search(&app, "SearchableText=nirgends", Auth::Anonymous)["items_total"],
        0
    );
}

#[test]
fn the_index_follows_edits_moves_and_deletes() {
    let app = spawn_app();
    page(&app, "a", "Baugesuch", "Formulare für das Baugesuch.");
    app.publish("/a");
    app.wait_indexed();
    assert_eq!(ids(&search(&app, "SearchableText=baugesuch", Auth::Anonymous)), ["a"]);

    let edit = json!({"title": "Parkkarte", "text": {"data": "<p>Anwohner</p>", "content-type": "text/html"}});
    assert_eq!(app.patch("/a", Auth::Admin, &edit).status, 204);
    app.wait_indexed();
    assert_eq!(
        search(&app, "SearchableText=baugesuch", Auth::Anonymous)["items_total"],
        0
    );
    assert_eq!(ids(&search(&app, "SearchableText=parkkarte", Auth::Anonymous)), ["a"]);

    assert_eq!(app.patch("/a", Auth::Admin, &json!({"id": "b"})).status, 204);
    app.wait_indexed();
    let moved = search(&app, "SearchableText=anwohner", Auth::Anonymous);
    assert_eq!(
        moved["items"][0]["@id"],
        format!("{}/b", app.site),
        "found under its new path"
    );

    assert_eq!(app.delete("/b", Auth::Admin).status, 204);
    app.wait_indexed();
    assert_eq!(search(&app, "SearchableText=anwohner", Auth::Admin)["items_total"], 0);
}

#[test]
fn querystring_search_blocks_find_words_inside_volto_blocks() {
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    let blocks = json!({
        "t": {"@type": "title"},
        "s": {"@type": "slate", "plaintext": "Öffnungszeiten des Passbüros", "value": []},
    });
    let body = json!({"@type": "Document", "id": "pass", "title": "Pass und ID",
        "blocks": blocks, "blocks_layout": {"items": ["t", "s"]}});
    app.create("", body);
    app.publish("/pass");
    app.wait_indexed();
    let op = "plone.app.querystring.operation.string.contains";
    let q = json!({"query": [{"i": "SearchableText", "o": op, "v": "offnungszeiten"}], "sort_on": "relevance"});
    let r = app.post("/@querystring-search", Auth::Anonymous, &q);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(ids(&r.json()), ["pass"]);
    let typed = json!({"query": [
        {"i": "SearchableText", "o": op, "v": "passburo*"},
        {"i": "portal_type", "o": "plone.app.querystring.operation.selection.any", "v": ["News Item"]},
    ]});
    assert_eq!(
        app.post("/@querystring-search", Auth::Anonymous, &typed).json()["items_total"],
        0
    );
}

#[test]
fn anonymous_answers_cached_before_indexing_are_not_served_after_it() {
    let app = spawn_app();
    page(&app, "a", "Wahlen", "Abstimmungen und Wahlen.");
    app.publish("/a");
    // Possibly answered (and cached) before the indexer took the page in.
    let _ = search(&app, "SearchableText=wahlen", Auth::Anonymous);
    app.wait_indexed();
    assert_eq!(ids(&search(&app, "SearchableText=wahlen", Auth::Anonymous)), ["a"]);
}

#[test]
fn an_author_finds_each_page_right_after_saving_it() {
    let app = spawn_app();
    app.wait_indexed();
    // No waiting between save and search: the search waits for the index.
    for (i, word) in [
        "ahornblatt",
        "birkenrinde",
        "eichenholz",
        "fichtenzapfen",
        "lindenbluete",
    ]
    .iter()
    .enumerate()
    {
        app.create("", json!({"@type": "Document", "id": format!("p{i}"), "title": word}));
        let found = search(&app, &format!("SearchableText={word}"), Auth::Admin);
        assert_eq!(ids(&found), [format!("p{i}")], "saved, then searched at once");
        let renamed = format!("{word}x");
        let r = app.patch(&format!("/p{i}"), Auth::Admin, &json!({"title": renamed}));
        assert_eq!(r.status, 204);
        let found = search(&app, &format!("SearchableText={renamed}"), Auth::Admin);
        assert_eq!(ids(&found), [format!("p{i}")], "edited, then searched at once");
    }
}

#[test]
fn the_worst_search_text_gets_an_answer_or_a_400_never_a_500() {
    let app = spawn_app();
    page(&app, "steuern", "Steuern", "<p>Die Steuererklärung</p>");
    app.wait_indexed();
    let long = "x".repeat(3000);
    let globs = vec!["st?u*"; 32].join("%20OR%20");
    let worst = [
        "%00",
        "Steu%00ern",
        "st%00e*",
        "st?%00*",
        "%27%27%27",
        "%5C%5C%27",
        "%22%22",
        "%26%7C%21%3A%2A",
        long.as_str(),
        globs.as_str(),
        "((((((((Steuern))))))))",
    ];
    for text in worst {
        for auth in [Auth::Anonymous, Auth::Admin] {
            let r = app.get(&format!("/@search?SearchableText={text}"), auth);
            assert!(
                matches!(r.status, 200 | 400),
                "{text}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    // A NUL inside a word is no word break the user meant: the rest still finds.
    assert_eq!(search(&app, "SearchableText=Steuern%00", Auth::Admin)["items_total"], 1);
}
