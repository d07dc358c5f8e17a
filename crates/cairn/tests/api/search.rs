//! `@search` with structured catalog queries: what Volto's folder contents,
//! object browser and the review queue send.

use serde_json::json;

use crate::helpers::{Auth, ids, spawn_app};

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
fn search_input_is_validated() {
    let app = spawn_app();
    assert_eq!(app.get("/@search?SearchableText=", Auth::Anonymous).json(), json!([]));
    assert_eq!(app.get("/@search?SearchableText=*", Auth::Anonymous).json(), json!([]));
    assert_eq!(
        app.get("/@search?SearchableText=steuern", Auth::Anonymous).json()["items_total"],
        0
    );
    // Malformed or hostile text is refused with the reason before any engine sees it.
    let short_glob = app.get("/@search?SearchableText=s*", Auth::Anonymous);
    assert_eq!(short_glob.status, 400);
    assert!(short_glob.json()["message"].as_str().unwrap().contains("wildcard"));
    assert_eq!(
        app.get("/@search?SearchableText=NOT%20steuern", Auth::Anonymous).status,
        400
    );
    let long = "wort%20".repeat(40);
    assert_eq!(
        app.get(&format!("/@search?SearchableText={long}"), Auth::Anonymous)
            .status,
        400
    );
    assert_eq!(app.get("/@search?sort_on=nonsense", Auth::Anonymous).status, 400);
    assert_eq!(app.get("/@search?path.depth=x", Auth::Anonymous).status, 400);
    assert_eq!(app.get("/@search?is_folderish=maybe", Auth::Anonymous).status, 400);
    assert_eq!(
        app.get("/@search?b_size=999999999", Auth::Anonymous).status,
        200,
        "b_size is capped, not refused"
    );
}

fn op(name: &str) -> String {
    format!("plone.app.querystring.operation.{name}")
}

#[test]
fn listing_blocks_get_their_results_from_querystring_search() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "news", "title": "News"}));
    app.publish(&format!("{}/news", app.site));
    for (i, day) in ["2026-01-05", "2026-03-01", "2026-02-10"].iter().enumerate() {
        let id = format!("n{i}");
        app.create(
            "/news",
            json!({"@type": "News Item", "id": id, "title": id, "effective": format!("{day}T08:00:00+00:00")}),
        );
        app.publish(&format!("{}/news/{id}", app.site));
    }
    app.create("/news", json!({"@type": "News Item", "id": "draft", "title": "draft"}));
    let body = json!({
        "query": [
            {"i": "portal_type", "o": op("selection.any"), "v": ["News Item"]},
            {"i": "path", "o": op("string.relativePath"), "v": "::1"},
        ],
        "sort_on": "effective", "sort_order": "descending", "b_size": 2, "metadata_fields": "_all",
    });
    let r = app.post("/news/@querystring-search", Auth::Anonymous, &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let b = r.json();
    assert_eq!(b["items_total"], 3, "the private draft must not be listed");
    assert_eq!(ids(&b), ["n1", "n2"]);
    assert!(b["batching"]["next"].is_string());
    // The same body as JSON in ?query= (Volto's GET variant), with a date window.
    let windowed = json!({"query": [
        {"i": "portal_type", "o": op("selection.is"), "v": "News Item"},
        {"i": "effective", "o": op("date.between"), "v": ["2026-02-01", "2026-04-01"]},
    ], "sort_on": "effective"});
    let q: String = url_encode(&windowed.to_string());
    let g = app
        .get(&format!("/@querystring-search?query={q}"), Auth::Anonymous)
        .json();
    assert_eq!(ids(&g), ["n2", "n1"]);
    let limited = json!({"query": [{"i": "portal_type", "o": op("selection.any"), "v": ["News Item"]}], "limit": 1});
    assert_eq!(
        app.post("/@querystring-search", Auth::Admin, &limited).json()["items_total"],
        1
    );
}

#[test]
fn querystring_search_refuses_what_it_cannot_answer() {
    let app = spawn_app();
    assert_eq!(
        app.post("/@querystring-search", Auth::Anonymous, &json!({})).status,
        400,
        "no query"
    );
    let bad = json!({"query": [{"i": "portal_type", "o": op("no.such.operation"), "v": ["x"]}]});
    assert_eq!(app.post("/@querystring-search", Auth::Anonymous, &bad).status, 400);
    let text = json!({"query": [{"i": "SearchableText", "o": op("string.contains"), "v": "steuer"}]});
    assert_eq!(app.post("/@querystring-search", Auth::Anonymous, &text).status, 200);
    let untyped = json!({"query": [{"i": "SearchableText", "o": op("string.contains"), "v": ""}]});
    assert_eq!(
        app.post("/@querystring-search", Auth::Anonymous, &untyped).status,
        200,
        "no words, no filter"
    );
    let hostile = json!({"query": [{"i": "SearchableText", "o": op("string.contains"), "v": "(((((((((a)))))))))"}]});
    assert_eq!(app.post("/@querystring-search", Auth::Anonymous, &hostile).status, 400);
    let bad_date = json!({"query": [{"i": "effective", "o": op("date.lessThan"), "v": "soon"}]});
    assert_eq!(app.post("/@querystring-search", Auth::Anonymous, &bad_date).status, 400);
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn subjects_are_indexed_searchable_and_offered_without_leaking_private_ones() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Document", "id": "a", "title": "A", "subjects": ["Steuern", "Familie"]}),
    );
    app.create(
        "",
        json!({"@type": "Document", "id": "b", "title": "B", "subjects": ["Steuern"]}),
    );
    app.create(
        "",
        json!({"@type": "Document", "id": "geheim", "title": "G", "subjects": ["Geheimprojekt"]}),
    );
    app.publish(&format!("{}/a", app.site));
    app.publish(&format!("{}/b", app.site));
    assert_eq!(
        app.get("/@search?Subject=Steuern&sort_on=id", Auth::Anonymous).json()["items_total"],
        2
    );
    let both = app
        .get(
            "/@search?Subject.query=Steuern&Subject.query=Familie&Subject.operator=and",
            Auth::Anonymous,
        )
        .json();
    assert_eq!(ids(&both), ["a"]);
    let vocab = app
        .get("/@vocabularies/plone.app.vocabularies.Keywords", Auth::Anonymous)
        .json();
    let tokens: Vec<&str> = vocab["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["Familie", "Steuern"], "private keywords leaked");
    assert_eq!(
        app.get("/@vocabularies/plone.app.vocabularies.Keywords", Auth::Admin)
            .json()["items_total"],
        3
    );
    // Changing and deleting keep the index in step.
    app.patch("/b", Auth::Admin, &json!({"subjects": ["Verkehr"]}));
    assert_eq!(
        app.get("/@search?Subject=Steuern", Auth::Anonymous).json()["items_total"],
        1
    );
    app.delete("/a", Auth::Admin);
    assert_eq!(
        app.get("/@search?Subject=Familie", Auth::Admin).json()["items_total"],
        0
    );
    let listing = json!({"query": [{"i": "Subject", "o": op("selection.any"), "v": ["Verkehr"]}]});
    assert_eq!(
        app.post("/@querystring-search", Auth::Anonymous, &listing).json()["items_total"],
        1
    );
}

#[test]
fn every_criterion_the_query_builder_offers_is_answered() {
    let app = spawn_app();
    let reg = app.get("/@querystring", Auth::Anonymous).json();
    assert!(reg["sortable_indexes"]["effective"].is_object());
    assert!(reg["indexes"]["portal_type"]["values"]["Document"]["title"] == "Page");
    let mut checked = 0;
    for (index, entry) in reg["indexes"].as_object().unwrap() {
        for op in entry["operations"].as_array().unwrap() {
            let op = op.as_str().unwrap();
            let short = op.trim_start_matches("plone.app.querystring.operation.");
            let v = match short {
                s if s.starts_with("selection.") => json!(["x"]),
                "string.is" => json!("x"),
                "string.contains" => json!("kanton"),
                s if s.ends_with("Path") || s == "string.path" => json!("/"),
                "date.between" => json!(["2026-01-01", "2026-12-31"]),
                "date.lessThan" | "date.largerThan" => json!("2026-01-01"),
                s if s.ends_with("RelativeDate") => json!("5"),
                _ => json!(null),
            };
            let body = json!({"query": [{"i": index, "o": op, "v": v}], "sort_on": "sortable_title"});
            let r = app.post("/@querystring-search", Auth::Anonymous, &body);
            assert_eq!(r.status, 200, "{index} {op}: {}", String::from_utf8_lossy(&r.body));
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} criteria checked");
}

#[test]
fn reindex_rebuilds_the_full_text_index_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let settings = cairn::Settings {
        data: dir.path().to_path_buf(),
        database_url: crate::helpers::postgres_url_for(dir.path()),
        admin_password: Some("secret-for-tests".into()),
        sample_content: true,
        ..cairn::Settings::default()
    };
    // Built and stopped again: the server's indexers release the index for `reindex`.
    let report = cairn::build(&settings, "127.0.0.1:0").unwrap().report;
    let mut last = (String::new(), 0, 0);
    let indexed = cairn::reindex(&settings, |site, done, total| last = (site.to_owned(), done, total)).unwrap();
    assert_eq!(indexed, report.sample_objects + 1, "every object and the site root");
    assert_eq!(
        last,
        (settings.sites[0].id.clone(), indexed, indexed),
        "progress ends at the total"
    );
    // The engine as the server would open it (on PostgreSQL, the shared one).
    let db = settings.database().unwrap();
    let engines = cairn::full_text_engines(&settings, db.postgres.as_ref()).unwrap();
    let query = cairn_search::parse("Volksschulen").unwrap().unwrap();
    assert!(
        !engines[0].1.search(&query, 10).unwrap().is_empty(),
        "stemmed German finds the sample's Volksschule"
    );
}

#[test]
fn dates_creators_languages_and_interfaces_narrow_a_search() {
    let app = spawn_app();
    app.add_user("jane", "jane-password-1", &["Contributor"]);
    let jane = Auth::Basic("jane", "jane-password-1");
    let r = app.post(
        "",
        jane,
        &json!({"@type": "Document", "id": "by-jane", "title": "Jane", "language": "de"}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    app.create(
        "",
        json!({"@type": "Document", "id": "by-admin", "title": "Admin", "language": "en"}),
    );
    for (id, start) in [
        ("early", "2030-01-10T10:00:00+00:00"),
        ("late", "2030-06-10T10:00:00+00:00"),
    ] {
        let end = start.replace("10:00", "12:00");
        app.create(
            "",
            json!({"@type": "Event", "id": id, "title": id, "start": start, "end": end}),
        );
    }
    let found = |q: &str| {
        let r = app.get(&format!("/@search?{q}&sort_on=id"), Auth::Admin);
        assert_eq!(r.status, 200, "{q}: {}", String::from_utf8_lossy(&r.body));
        ids(&r.json())
    };
    assert_eq!(found("Creator=jane"), ["by-jane"]);
    assert_eq!(found("Language=de"), ["by-jane"]);
    assert_eq!(found("Language.query=en&portal_type=Document"), ["by-admin"]);
    assert_eq!(found("start.query=2030-03-01&start.range=min"), ["late"]);
    assert_eq!(found("end.query=2030-03-01&end.range=max"), ["early"]);
    assert_eq!(
        found("start.query=2030-01-01&start.query=2030-12-31&start.range=minmax"),
        ["early", "late"]
    );
    assert_eq!(
        found("created.query=2000-01-01&created.range=max"),
        Vec::<String>::new()
    );
    assert_eq!(
        found("object_provides=plone.app.contenttypes.interfaces.IEvent"),
        ["early", "late"]
    );
    assert_eq!(found("portal_type=Event&portal_type.not=Event"), Vec::<String>::new());
    let limited = app.get("/@search?portal_type=Event&sort_limit=1", Auth::Admin).json();
    assert_eq!(limited["items_total"], 1, "sort_limit caps the result set");
    for bad in [
        "start.query=soon&start.range=min",
        "start.query=2030-01-01&start.range=sideways",
        "object_provides=zope.interface.Interface",
        "sort_limit=many",
    ] {
        assert_eq!(app.get(&format!("/@search?{bad}"), Auth::Admin).status, 400, "{bad}");
    }
}

#[test]
fn unset_dublin_core_dates_read_none_as_plone_catalogs_them() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "draft", "title": "Draft"}));
    let found = app
        .get(
            "/@search?portal_type=Document&metadata_fields=EffectiveDate&metadata_fields=ExpirationDate&metadata_fields=effective",
            Auth::Admin,
        )
        .json();
    let item = &found["items"][0];
    assert_eq!(item["EffectiveDate"], "None", "{found}");
    assert_eq!(item["ExpirationDate"], "None");
    // The index columns keep Plone's floor date for sorting clients.
    assert_eq!(item["effective"], "1969-12-31T00:00:00+00:00");
}
