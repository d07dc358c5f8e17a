//! Contract suites for the ports: each adapter (SQLite, PostgreSQL) runs
//! the same checks against a fresh, empty store, so the core can rely on
//! one behaviour whatever database it talks to. A failed check panics with
//! what was expected.

use crate::ports::{GroupRecord, PrincipalQuery, PrincipalStore, UserRecord};

fn user(id: &str, fullname: &str, email: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        password_hash: format!("hash-of-{id}"),
        fullname: fullname.into(),
        email: email.into(),
        roles: vec!["Member".into()],
        props: serde_json::json!({"location": "Bern"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

fn ids(users: &[UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

fn query(text: Option<&str>, id: Option<&str>, groups: &[&str]) -> PrincipalQuery {
    PrincipalQuery {
        text: text.map(str::to_string),
        id_contains: id.map(str::to_string),
        in_groups: groups.iter().map(|g| g.to_string()).collect(),
        start: 0,
        limit: 100,
    }
}

/// Users, groups and memberships: what `PrincipalStore` promises.
pub fn principals(s: &dyn PrincipalStore) {
    let site = "contract";
    let g0 = s.principals_generation();
    s.put_user(site, &user("anna", "Anna Muster", "anna@example.ch"))
        .unwrap();
    assert!(s.principals_generation() > g0, "a change grows the generation");
    s.put_user(site, &user("ben_x", "Ben Beispiel", "ben@example.ch"))
        .unwrap();
    s.put_user(site, &user("benno", "Benno Test", "b@test.org")).unwrap();
    s.put_user("other-site", &user("anna", "Other Anna", "x@y.ch")).unwrap();

    let anna = s.user(site, "anna").unwrap().expect("anna is stored");
    assert_eq!(anna.fullname, "Anna Muster");
    assert_eq!(anna.roles, ["Member"]);
    assert_eq!(anna.props["location"], "Bern");
    assert!(s.user(site, "nobody").unwrap().is_none());
    // A put replaces the whole record.
    let mut changed = anna.clone();
    changed.fullname = "Anna Neu".into();
    changed.roles = vec!["Editor".into(), "Member".into()];
    s.put_user(site, &changed).unwrap();
    let anna = s.user(site, "anna").unwrap().unwrap();
    assert_eq!((anna.fullname.as_str(), anna.roles.len()), ("Anna Neu", 2));

    // Searching: text over id, full name and address, case-insensitively;
    // LIKE's wildcards are plain characters.
    let all = s.find_users(site, &query(None, None, &[])).unwrap();
    assert_eq!(ids(&all), ["anna", "ben_x", "benno"], "by id, one site only");
    assert_eq!(
        ids(&s.find_users(site, &query(Some("BEISPIEL"), None, &[])).unwrap()),
        ["ben_x"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(Some("test.org"), None, &[])).unwrap()),
        ["benno"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(None, Some("n_"), &[])).unwrap()),
        ["ben_x"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(Some("%"), None, &[])).unwrap()),
        Vec::<&str>::new()
    );
    assert_eq!(s.count_users(site, &query(Some("ben"), None, &[])).unwrap(), 2);
    let page = PrincipalQuery {
        start: 1,
        limit: 1,
        ..query(None, None, &[])
    };
    assert_eq!(ids(&s.find_users(site, &page).unwrap()), ["ben_x"]);
    assert_eq!(s.count_users(site, &page).unwrap(), 3, "a count ignores the page");

    // Groups and memberships; groups nest.
    let group = GroupRecord {
        id: "redaktion".into(),
        title: "Redaktion".into(),
        description: "Die Redaktion".into(),
        email: "red@example.ch".into(),
        roles: vec!["Editor".into()],
    };
    s.put_group(site, &group).unwrap();
    s.put_group(
        site,
        &GroupRecord {
            id: "alle".into(),
            title: "Alle".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.group(site, "redaktion").unwrap().unwrap().roles, ["Editor"]);
    let titled = PrincipalQuery {
        text: Some("redak".into()),
        ..query(None, None, &[])
    };
    assert_eq!(s.find_groups(site, &titled).unwrap().len(), 1);
    assert_eq!(s.find_groups(site, &query(None, None, &[])).unwrap().len(), 2);
    s.set_member(site, "redaktion", "anna", true).unwrap();
    s.set_member(site, "redaktion", "anna", true).unwrap();
    s.set_member(site, "redaktion", "benno", true).unwrap();
    s.set_member(site, "alle", "redaktion", true).unwrap();
    assert_eq!(
        s.members(site, "redaktion").unwrap(),
        ["anna", "benno"],
        "once each, sorted"
    );
    assert_eq!(s.groups_of(site, "redaktion").unwrap(), ["alle"]);
    assert_eq!(
        ids(&s.find_users(site, &query(None, None, &["redaktion"])).unwrap()),
        ["anna", "benno"]
    );
    s.set_member(site, "redaktion", "benno", false).unwrap();
    assert_eq!(s.members(site, "redaktion").unwrap(), ["anna"]);

    // Deleting takes the memberships along, both ways for a group.
    assert!(s.delete_user(site, "anna").unwrap());
    assert!(!s.delete_user(site, "anna").unwrap(), "gone already");
    assert!(s.members(site, "redaktion").unwrap().is_empty());
    assert!(s.delete_group(site, "redaktion").unwrap());
    assert!(s.groups_of(site, "redaktion").unwrap().is_empty());
    assert!(s.members(site, "alle").unwrap().is_empty());
    assert!(s.user("other-site", "anna").unwrap().is_some(), "other sites untouched");
}
