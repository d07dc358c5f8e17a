//! Links between objects: the links catalog behind `@linkintegrity`, and
//! internal links stored by UID so that they follow their target.

use serde_json::{Value, json};

use crate::helpers::{Auth, spawn_app, spawn_app_with};

#[test]
fn linkintegrity_names_who_points_into_a_subtree_from_outside() {
    let app = spawn_app();
    app.add_user("mia", "mia-pw-12345", &["Member"]);
    let mia = Auth::Basic("mia", "mia-pw-12345");
    let f = app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let t = app.create("/f", json!({"@type": "Document", "id": "t", "title": "Target"}));
    let uid = |v: &Value| v["UID"].as_str().unwrap().to_owned();
    let link = |id: &str, container: &str| {
        app.create(
            container,
            json!({"@type": "Document", "id": id, "title": id,
                   "text": {"data": format!("<p><a href=\"resolveuid/{}\">t</a></p>", uid(&t)), "content-type": "text/html"}}),
        )
    };
    let related = app.create(
        "",
        json!({"@type": "Document", "id": "related", "title": "Related", "relatedItems": [uid(&t)]}),
    );
    link("private-link", "");
    link("inside", "/f");
    for p in ["/f", "/f/t", "/related"] {
        app.publish(&format!("{}{p}", app.site));
    }
    let check = |who: Auth<'_>| app.get(&format!("/@linkintegrity?uids={}", uid(&f)), who);
    let report = check(Auth::Admin).json();
    assert_eq!(report[0]["@id"], format!("{}/f", app.site));
    assert_eq!(report[0]["items_total"], 2, "t and inside");
    let mut breaches: Vec<&str> = report[0]["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    breaches.sort();
    assert_eq!(breaches, ["Related", "private-link"], "a link from inside is no breach");
    // A reader sees only the pointing objects they may view.
    let seen = check(mia).json();
    assert_eq!(
        seen[0]["items_total"], 1,
        "the private page inside is not counted for her"
    );
    let titles: Vec<&str> = seen[0]["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Related"]);
    assert_eq!(check(Auth::Anonymous).status, 401);
    // What left the site points nowhere.
    app.delete("/related", Auth::Admin);
    let after = check(Auth::Admin).json();
    assert_eq!(after[0]["breaches"].as_array().unwrap().len(), 1);
    assert_eq!(after[0]["breaches"][0]["title"], "private-link");
    assert_ne!(after[0]["breaches"][0]["uid"], uid(&related).as_str());
    assert_eq!(app.get("/@linkintegrity?uids=nonsense", Auth::Admin).status, 400);
    // The Editing control panel switches the warnings off (and on again).
    let off = json!({"enable_link_integrity_checks": false});
    assert_eq!(app.patch("/@controlpanels/editing", Auth::Admin, &off).status, 204);
    assert_eq!(check(Auth::Admin).json()[0]["breaches"], json!([]));
    let on = json!({"enable_link_integrity_checks": true});
    assert_eq!(app.patch("/@controlpanels/editing", Auth::Admin, &on).status, 204);
    assert_eq!(check(Auth::Admin).json()[0]["breaches"].as_array().unwrap().len(), 1);
}

#[test]
fn links_stored_before_they_were_recorded_are_recorded_once() {
    let app = spawn_app();
    let t = app.create("", json!({"@type": "Document", "id": "t", "title": "Target"}));
    let tu = t["UID"].as_str().unwrap().to_owned();
    let a = app.create(
        "",
        json!({"@type": "Document", "id": "a", "title": "A", "relatedItems": [tu.clone()]}),
    );
    let breaches = || {
        app.get(&format!("/@linkintegrity?uids={tu}"), Auth::Admin).json()[0]["breaches"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(breaches(), 1);
    // As a database from before links were recorded: the link is not in the
    // catalog (once the start-up pass, which finds nothing to do, is over).
    let site = app.site();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while cairn_core::repo::links::needs_backfill(&*site.store, "plone").unwrap() {
        assert!(std::time::Instant::now() < deadline, "the start-up pass never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let source = cairn_model::Uid::parse(a["UID"].as_str().unwrap()).unwrap();
    let forget = cairn_core::ports::WriteOp::SetLinks {
        source,
        targets: vec![],
    };
    site.store
        .write(
            "plone",
            cairn_core::ports::WriteBatch {
                ops: vec![forget],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(breaches(), 0);
    site.store.put_setting("plone", "links.planned", &Value::Null).unwrap();
    assert!(
        cairn_core::repo::links::backfill_once(&site).unwrap() >= 3,
        "root, t, a"
    );
    assert_eq!(breaches(), 1);
    assert_eq!(cairn_core::repo::links::backfill_once(&site).unwrap(), 0, "once");
}

#[test]
fn internal_links_follow_their_target_through_a_rename() {
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    app.create("", json!({"@type": "Folder", "id": "amt", "title": "Amt"}));
    let ziel = app.create("/amt", json!({"@type": "Document", "id": "ziel", "title": "Ziel"}));
    let site = app.site.clone();
    app.create(
        "",
        json!({"@type": "Link", "id": "verweis", "title": "Verweis", "remoteUrl": format!("{site}/amt/ziel")}),
    );
    let html = format!(
        "<p><a href=\"/amt/ziel#kontakt\">a</a> <img src=\"{site}/amt/ziel\"> <a href=\"https://example.org/x\">b</a></p>"
    );
    app.create(
        "",
        json!({"@type": "Document", "id": "seite", "title": "Seite",
               "text": {"data": html, "content-type": "text/html"},
               "blocks": {"b1": {"@type": "teaser", "href": [{"@id": "/amt/ziel", "title": "Ziel"}]},
                          "b2": {"@type": "image", "url": format!("{site}/amt/ziel")}},
               "blocks_layout": {"items": ["b1", "b2"]}}),
    );
    // Stored as links to the UID: the target knows who points to it.
    let uid = ziel["UID"].as_str().unwrap();
    let report = app.get(&format!("/@linkintegrity?uids={uid}"), Auth::Admin).json();
    let mut from: Vec<&str> = report[0]["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    from.sort();
    assert_eq!(from, ["Seite", "Verweis"]);
    assert_eq!(app.patch("/amt", Auth::Admin, &json!({"id": "behoerde"})).status, 204);
    let now = format!("{site}/behoerde/ziel");
    assert_eq!(app.get("/verweis", Auth::Admin).json()["remoteUrl"], now);
    let page = app.get("/seite", Auth::Admin).json();
    let text = page["text"]["data"].as_str().unwrap();
    assert!(text.contains(&format!("href=\"{now}#kontakt\"")), "{text}");
    assert!(text.contains(&format!("src=\"{now}\"")), "{text}");
    assert!(
        text.contains("href=\"https://example.org/x\""),
        "external links stay: {text}"
    );
    assert_eq!(page["blocks"]["b1"]["href"][0]["@id"], now);
    assert_eq!(page["blocks"]["b2"]["url"], now);
}

#[test]
fn a_teaser_shows_its_target_only_to_who_may_see_it() {
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    let ziel = app.create(
        "",
        json!({"@type": "Document", "id": "ziel", "title": "Geheimer Titel"}),
    );
    let teaser =
        json!({"@type": "teaser", "href": [{"@id": "/ziel", "title": "Geheimer Titel", "description": "Vertraulich"}]});
    app.create(
        "",
        json!({"@type": "Document", "id": "seite", "title": "Seite",
               "blocks": {"t": teaser}, "blocks_layout": {"items": ["t"]}}),
    );
    app.publish(&format!("{}/seite", app.site));
    let admin = app.get("/seite", Auth::Admin).json();
    assert_eq!(admin["blocks"]["t"]["href"][0]["title"], "Geheimer Titel");
    let anon = app.get("/seite", Auth::Anonymous);
    assert_eq!(anon.status, 200);
    let body = String::from_utf8_lossy(&anon.body);
    assert!(!body.contains("Geheimer") && !body.contains("Vertraulich"), "{body}");
    // Tagged so that a change of the target purges the page, without naming
    // the private target's UID.
    let uid = cairn_model::Uid::parse(ziel["UID"].as_str().unwrap()).unwrap();
    let tags = anon.header("cache-tag").unwrap().to_owned();
    assert!(tags.contains(&cairn_core::caching::reference_tag(&uid)), "{tags}");
    assert!(!tags.contains(uid.as_str()), "{tags}");
    let href = &anon.json()["blocks"]["t"]["href"][0];
    assert_eq!(href["@id"], format!("{}/ziel", app.site), "the link itself stays");
    app.publish(&format!("{}/ziel", app.site));
    let anon = app.get("/seite", Auth::Anonymous).json();
    assert_eq!(anon["blocks"]["t"]["href"][0]["title"], "Geheimer Titel");
}

fn png(w: u32, h: u32, shade: u8) -> Value {
    use base64::Engine;
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([shade, 90, 30])))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    json!({"data": base64::engine::general_purpose::STANDARD.encode(out), "encoding": "base64",
           "filename": "karte.png", "content-type": "image/png"})
}

#[test]
fn image_scales_in_blocks_follow_the_image_they_show() {
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    // Images follow their folder's visibility: this one is private.
    app.create("", json!({"@type": "Folder", "id": "intern", "title": "Intern"}));
    app.create(
        "/intern",
        json!({"@type": "Image", "id": "karte", "title": "Karte", "image": png(400, 300, 10)}),
    );
    let image_url = format!("{}/intern/karte", app.site);
    let stale = json!({"image": [{"download": "@@images/image-400-old.png", "scales": {}}]});
    app.create(
        "",
        json!({"@type": "Document", "id": "seite", "title": "Seite",
               "blocks": {"b1": {"@type": "image", "url": image_url, "image_field": "image", "image_scales": stale},
                          "b2": {"@type": "teaser", "href": [{"@id": image_url, "title": "Karte", "image_scales": stale}]}},
               "blocks_layout": {"items": ["b1", "b2"]}}),
    );
    app.publish(&format!("{}/seite", app.site));
    let scales = |who| {
        let page = app.get("/seite", who).json();
        (
            page["blocks"]["b1"]["image_scales"].clone(),
            page["blocks"]["b2"]["href"][0]["image_scales"].clone(),
        )
    };
    let summary = app
        .get("/@search?portal_type=Image&metadata_fields=image_scales", Auth::Admin)
        .json();
    let current = summary["items"][0]["image_scales"].clone();
    assert!(
        current["image"][0]["scales"].as_object().is_some_and(|s| !s.is_empty()),
        "{current}"
    );
    assert_eq!(scales(Auth::Admin), (current.clone(), current.clone()));

    // A new image: the page shows its scales, not the old ones.
    assert_eq!(
        app.patch("/intern/karte", Auth::Admin, &json!({"image": png(600, 200, 200)}))
            .status,
        204
    );
    let (b1, b2) = scales(Auth::Admin);
    assert_ne!(b1, current);
    assert_eq!(b1["image"][0]["width"], 600);
    assert_eq!(b2, b1);
    // The image is private: an anonymous reader of the page gets no copy of it.
    let (b1, b2) = scales(Auth::Anonymous);
    assert_eq!((b1, b2), (Value::Null, Value::Null));
}
