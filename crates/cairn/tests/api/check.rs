//! `cairn check`: a sound site has no findings; a lost blob, a damaged one
//! and an object whose parent is gone are each reported, and `--repair`
//! leaves what only a person can decide unresolved.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn check_reports_lost_and_damaged_blobs_and_orphans() {
    let app = spawn_app();
    let data = |s: &str| base64_text(s);
    app.create("", json!({"@type": "Folder", "id": "akten", "title": "Akten"}));
    for (id, text) in [("a", "erste Akte"), ("b", "zweite Akte")] {
        app.create(
            "/akten",
            json!({"@type": "File", "id": id, "title": id,
                   "file": {"data": data(text), "encoding": "base64", "filename": "a.txt", "content-type": "text/plain"}}),
        );
    }
    let settings = app.settings();
    let sound = cairn::check::check(&settings, false, |_, _| {}).unwrap();
    let problems: Vec<_> = sound.findings.iter().filter(|f| f.kind != "index-skipped").collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(sound.blobs, 2);
    assert!(sound.objects >= 3, "{sound:?}");

    // A damaged blob, a lost one, and an object whose parent is gone.
    app.replace_blob(b"erste Akte", b"verdorben");
    let site = app.site();
    let lost = site.blobs.put(b"zweite Akte").unwrap().key;
    site.blobs
        .remove(&cairn_core::ports::BlobKind::Original, &lost)
        .unwrap();
    let mut stray = site
        .store
        .by_path("plone", &cairn_model::ContentPath::parse("/akten/a").unwrap())
        .unwrap()
        .unwrap();
    stray.uid = cairn_model::Uid::new();
    stray.path = cairn_model::ContentPath::parse("/nirgends/waise").unwrap();
    site.store
        .write(
            "plone",
            cairn_core::ports::WriteBatch {
                ops: vec![cairn_core::ports::WriteOp::Insert(Box::new(stray))],
                ..Default::default()
            },
        )
        .unwrap();
    let report = cairn::check::check(&settings, true, |_, _| {}).unwrap();
    let kinds: Vec<&str> = report.findings.iter().filter(|f| !f.repaired).map(|f| f.kind).collect();
    for kind in ["damaged-blob", "missing-blob", "orphan"] {
        assert!(kinds.contains(&kind), "{kind} not found: {:?}", report.findings);
    }
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == "orphan" && f.detail.contains("/nirgends/waise"))
    );
    assert!(report.unresolved() >= 3);
    // The site still answers.
    assert_eq!(app.get("/akten", Auth::Admin).status, 200);
}

fn base64_text(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
