use super::*;
use crate::parse;

fn text(title: &str, body: &str) -> SearchableText {
    SearchableText {
        title: title.into(),
        body: body.into(),
        ..Default::default()
    }
}

fn index() -> SearchIndex {
    let ix = SearchIndex::in_memory("de").unwrap();
    ix.upsert(
        "steuern",
        "de",
        &text("Steuern", "Die Steuererklärung ist bis Ende März fällig."),
    )
    .unwrap();
    ix.upsert(
        "gebuehren",
        "de-ch",
        &text("Gebühren", "Gebühren für Ausweise und Bewilligungen."),
    )
    .unwrap();
    ix.upsert(
        "ecoles",
        "fr",
        &text("Les écoles", "Inscription dans les écoles publiques."),
    )
    .unwrap();
    ix.upsert("scuole", "it", &text("Scuole", "Iscrizione alle scuole pubbliche."))
        .unwrap();
    ix.upsert("schools", "en", &text("Schools", "Enrolling in public schools."))
        .unwrap();
    ix.upsert("wahlen", "", &text("Wahlen", "Die Steuern und die Wahlen im Kanton."))
        .unwrap();
    ix.commit().unwrap();
    ix
}

fn find(ix: &SearchIndex, q: &str) -> Vec<String> {
    let mut uids: Vec<String> = ix
        .search(&parse(q).unwrap().unwrap(), 50)
        .unwrap()
        .iter()
        .map(|h| h.uid.clone())
        .collect();
    uids.sort();
    uids
}

#[test]
fn the_index_persists_on_disk() {
    let dir = std::env::temp_dir().join(format!("cairn-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let ix = SearchIndex::open(&dir, "de").unwrap();
        ix.upsert("a", "de", &text("Öffnungszeiten", "")).unwrap();
        ix.commit().unwrap();
    }
    let ix = SearchIndex::open(&dir, "de").unwrap();
    assert_eq!(find(&ix, "offnungszeit"), ["a"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_repeated_query_is_answered_again_only_until_the_next_commit() {
    let ix = index();
    assert_eq!(find(&ix, "Ausweise"), ["gebuehren"]);
    assert_eq!(find(&ix, "Ausweise"), ["gebuehren"], "the kept answer");
    ix.upsert("pass", "de", &text("Ausweise", "Pass und Identitätskarte."))
        .unwrap();
    assert_eq!(find(&ix, "Ausweise"), ["gebuehren"], "not searchable before the commit");
    ix.commit().unwrap();
    assert_eq!(
        find(&ix, "Ausweise"),
        ["gebuehren", "pass"],
        "a commit retires kept answers"
    );
    ix.delete("gebuehren").unwrap();
    ix.commit().unwrap();
    assert_eq!(find(&ix, "Ausweise"), ["pass"]);
}
