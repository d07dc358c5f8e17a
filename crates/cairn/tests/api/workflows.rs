//! Role × workflow state × operation (view, edit, add, delete, transition,
//! share) for each shipped workflow, checked over HTTP. The expectations are
//! written out from Plone's documented permission maps (catalog.md §4-5), not
//! computed from cairn's own workflow files.

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app_with};

/// Test users and their global roles; `owner` creates the objects.
const USERS: [(&str, &[&str]); 9] = [
    ("anonymous", &[]),
    ("member", &["Member"]),
    ("owner", &["Member"]),
    ("contributor", &["Member", "Contributor"]),
    ("editor", &["Member", "Editor"]),
    ("reader", &["Member", "Reader"]),
    ("reviewer", &["Member", "Reviewer"]),
    ("siteadmin", &["Member", "Site Administrator"]),
    ("manager", &["Member", "Manager"]),
];

/// Expected outcomes per user in `USERS` order ('y' allowed, '.' refused).
struct Row {
    state: &'static str,
    /// Transitions the Manager fires from the initial state to get here.
    via: &'static [&'static str],
    view: &'static str,
    edit: &'static str,
    add: &'static str,
    delete: &'static str,
    share: &'static str,
    transitions: [&'static [&'static str]; 9],
}

// Add and delete come from the site rolemap, so they are the same in every state
// the user can see: Owner, Contributor (add) or Editor (delete), SA, Manager.
const ADD: &str = ". . y y . . . y y";
const DELETE: &str = ". . y . y . . y y";
const NONE: &[&str] = &[];

fn auth(user: &str) -> Auth<'_> {
    if user == "anonymous" {
        Auth::Anonymous
    } else {
        Auth::Basic(user, "password1")
    }
}

fn ok(status: u16) -> char {
    if (200..300).contains(&status) { 'y' } else { '.' }
}

fn check(workflow: &str, rows: &[Row]) {
    let cfg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cfg.path().join("workflows")).unwrap();
    let binding = format!("[types]\n\"Folder\" = \"{workflow}\"\n");
    std::fs::write(cfg.path().join("workflows/bindings.toml"), binding).unwrap();
    let dir = cfg.path().to_path_buf();
    let app = spawn_app_with(|s| s.config_dir = Some(dir));
    for (user, roles) in USERS.iter().skip(1) {
        app.add_user(user, "password1", roles);
    }
    let mut failures = Vec::new();
    for row in rows {
        let expect = |s: &str| s.split(' ').map(|c| c.chars().next().unwrap()).collect::<Vec<_>>();
        for (i, (user, _)) in USERS.iter().enumerate() {
            let url = folder_in(&app, &format!("{}-{user}", row.state.replace('_', "-")), row);
            let view = ok(app.get(&url, auth(user)).status);
            let share = ok(app.get(&format!("{url}/@sharing"), auth(user)).status);
            let add = ok(app
                .post(&url, auth(user), &json!({"@type": "Document", "title": "child"}))
                .status);
            let offered: Vec<String> = if *user == "anonymous" {
                Vec::new()
            } else {
                let wf = app.get(&format!("{url}/@workflow"), auth(user)).json();
                let t = wf["transitions"].as_array().cloned().unwrap_or_default();
                t.iter()
                    .map(|x| x["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
                    .collect()
            };
            let edit = ok(app.patch(&url, auth(user), &json!({"description": "changed"})).status);
            let delete = ok(app.delete(&url, auth(user)).status);
            let results = [
                ("view", view, row.view),
                ("share", share, row.share),
                ("add", add, row.add),
                ("edit", edit, row.edit),
                ("delete", delete, row.delete),
            ];
            for (op, got, want) in results {
                let want = expect(want)[i];
                if got != want {
                    failures.push(format!(
                        "{workflow}: {user} {op} in {}: got {got}, want {want}",
                        row.state
                    ));
                }
            }
            if offered != row.transitions[i] {
                failures.push(format!(
                    "{workflow}: {user} transitions in {}: got {offered:?}, want {:?}",
                    row.state, row.transitions[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A folder created for `owner`, moved into the row's state by the Manager.
fn folder_in(app: &TestApp, id: &str, row: &Row) -> String {
    app.create(
        "",
        json!({"@type": "Folder", "id": id, "title": id, "creators": ["owner"]}),
    );
    let url = format!("{}/{id}", app.site);
    for t in row.via {
        let r = app.post(&format!("{url}/@workflow/{t}"), Auth::Admin, &json!({}));
        assert_eq!(r.status, 200, "{t}: {}", String::from_utf8_lossy(&r.body));
    }
    let state = app.get(&url, Auth::Admin).json()["review_state"].clone();
    assert_eq!(state, row.state);
    url
}

#[test]
fn simple_publication_workflow_grants_what_plone_documents() {
    const PRIVATE: &[&str] = &["publish", "submit"];
    const PENDING: &[&str] = &["publish", "reject", "retract"];
    const PUBLISHED: &[&str] = &["reject", "retract"];
    check(
        "simple_publication_workflow",
        &[
            Row {
                state: "private",
                via: &[],
                //     anon mem own con ed rd rev sa mgr
                view: ". . y y y y . y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . . y y",
                transitions: [NONE, NONE, &["submit"], NONE, &["submit"], NONE, NONE, PRIVATE, PRIVATE],
            },
            Row {
                state: "pending",
                via: &["submit"],
                view: ". . y y y y y y y",
                edit: ". . . . . . y y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["publish", "reject"],
                    PENDING,
                    PENDING,
                ],
            },
            Row {
                state: "published",
                via: &["publish"],
                view: "y y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["reject"],
                    PUBLISHED,
                    PUBLISHED,
                ],
            },
        ],
    );
}

#[test]
fn intranet_workflow_grants_what_plone_documents() {
    let all_pending: &[&str] = &["publish_externally", "publish_internally", "reject", "retract"];
    check(
        "intranet_workflow",
        &[
            Row {
                state: "internal",
                via: &[],
                view: ". y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["hide", "submit"],
                    NONE,
                    &["hide", "submit"],
                    NONE,
                    &["publish_internally"],
                    &["hide", "publish_internally", "submit"],
                    &["hide", "publish_internally", "submit"],
                ],
            },
            Row {
                state: "pending",
                via: &["submit"],
                view: ". y y y y y y y y",
                edit: ". . . . . . y y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["publish_externally", "publish_internally", "reject"],
                    all_pending,
                    all_pending,
                ],
            },
            Row {
                state: "internally_published",
                via: &["publish_internally"],
                view: ". y y y y y y y y",
                edit: ". . . . . . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["publish_externally", "reject"],
                    &["publish_externally", "reject", "retract"],
                    &["publish_externally", "reject", "retract"],
                ],
            },
            Row {
                state: "external",
                via: &["publish_internally", "publish_externally"],
                view: "y y y y y y y y y",
                edit: ". . . . . . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    NONE,
                    &["retract"],
                    &["retract"],
                ],
            },
            Row {
                state: "private",
                via: &["hide"],
                view: ". . y y y y . y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . . y y",
                transitions: [
                    NONE,
                    NONE,
                    &["show_internally"],
                    NONE,
                    &["show_internally"],
                    NONE,
                    NONE,
                    &["show_internally"],
                    &["show_internally"],
                ],
            },
        ],
    );
}

#[test]
fn one_state_workflow_grants_what_plone_documents() {
    check(
        "one_state_workflow",
        &[Row {
            state: "published",
            via: &[],
            view: "y y y y y y y y y",
            edit: ". . y . y . . y y",
            add: ADD,
            delete: DELETE,
            share: ". . y . y . y y y",
            transitions: [NONE; 9],
        }],
    );
}

#[test]
fn intranet_folder_workflow_grants_what_plone_documents() {
    let modify: [&[&str]; 9] = [NONE, NONE, &["hide"], NONE, &["hide"], NONE, NONE, &["hide"], &["hide"]];
    let show: [&[&str]; 9] = [
        NONE,
        NONE,
        &["show_internally"],
        NONE,
        &["show_internally"],
        NONE,
        NONE,
        &["show_internally"],
        &["show_internally"],
    ];
    check(
        "intranet_folder_workflow",
        &[
            Row {
                state: "internal",
                via: &[],
                view: ". y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: modify,
            },
            Row {
                state: "private",
                via: &["hide"],
                view: ". . y y y y . y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . . y y",
                transitions: show,
            },
        ],
    );
}

/// Owner, Editor, Site Administrator and Manager: who holds Modify or Request
/// review in Plone's default rolemap and workflows.
fn editors(t: &'static [&'static str]) -> [&'static [&'static str]; 9] {
    [NONE, NONE, t, NONE, t, NONE, NONE, t, t]
}

#[test]
fn folder_workflow_grants_what_plone_documents() {
    check(
        "folder_workflow",
        &[
            Row {
                state: "visible",
                via: &[],
                view: "y y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: editors(&["hide", "publish"]),
            },
            Row {
                state: "private",
                via: &["hide"],
                view: ". . y y y y . y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . . y y",
                transitions: editors(&["publish", "show"]),
            },
            Row {
                state: "published",
                via: &["publish"],
                view: "y y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: editors(&["hide", "retract"]),
            },
        ],
    );
}

#[test]
fn plone_workflow_grants_what_plone_documents() {
    let pending_all: &[&str] = &["hide", "publish", "reject", "retract"];
    check(
        "plone_workflow",
        &[
            Row {
                state: "visible",
                via: &[],
                view: "y y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["hide", "submit"],
                    NONE,
                    &["hide", "submit"],
                    NONE,
                    &["publish"],
                    &["hide", "publish", "submit"],
                    &["hide", "publish", "submit"],
                ],
            },
            Row {
                state: "pending",
                via: &["submit"],
                view: "y y y y y y y y y",
                edit: ". . . . . . y y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["hide", "publish", "reject"],
                    pending_all,
                    pending_all,
                ],
            },
            Row {
                state: "published",
                via: &["publish"],
                view: "y y y y y y y y y",
                edit: ". . . . . . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &["retract"],
                    NONE,
                    &["retract"],
                    NONE,
                    &["reject"],
                    &["reject", "retract"],
                    &["reject", "retract"],
                ],
            },
            Row {
                state: "private",
                via: &["hide"],
                view: ". . y y y y . y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . . y y",
                transitions: editors(&["show"]),
            },
        ],
    );
}

/// The reference site's workflow (docs/reference-deployment.md §3): only the
/// published state is public; editorial roles see the others; Plone's usual
/// guards (Request review, Review portal content, Modify portal content).
#[test]
fn website_workflow_grants_what_the_reference_site_documents() {
    const SUBMIT: &str = "website_workflow--TRANSITION--einreichen-zum-veroffentlichen--entwurf_eingereicht";
    const RESTORE: &str = "website_workflow--TRANSITION--entwurf-wiederherstellen--privat_entwurf";
    const PRIVATE_DRAFT: &str = "website_workflow--TRANSITION--privat-schalten--entwurf_privat";
    const PRIVATE_PUBLISHED: &str = "website_workflow--TRANSITION--privat-schalten--veroffentlicht_privat";
    const PUBLISH_SUBMITTED: &str = "website_workflow--TRANSITION--veroffentlichen--eingereicht_veroffentlicht";
    const PUBLISH_DRAFT: &str = "website_workflow--TRANSITION--veroffentlichen--entwurf_veroffentlicht";
    const REJECT: &str = "website_workflow--TRANSITION--zuruckweisen-nach-entwurf--eingereicht_entwurf";
    const RETRACT_PUBLISHED: &str = "website_workflow--TRANSITION--zuruckziehen--veroffentlicht_entwurf";
    const RETRACT_SUBMITTED: &str = "website_workflow--TRANSITION--zuruckziehen-nach-entwurf--eingereicht_entwurf";
    let draft_admin: &[&str] = &[SUBMIT, PRIVATE_DRAFT, PUBLISH_DRAFT];
    let submitted_admin: &[&str] = &[PUBLISH_SUBMITTED, REJECT, RETRACT_SUBMITTED];
    let published: &[&str] = &[PRIVATE_PUBLISHED, RETRACT_PUBLISHED];
    check(
        "website_workflow",
        &[
            Row {
                state: "website_workflow--STATUS--entwurf",
                via: &[],
                view: ". . y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &[SUBMIT, PRIVATE_DRAFT],
                    NONE,
                    &[SUBMIT, PRIVATE_DRAFT],
                    NONE,
                    &[PUBLISH_DRAFT],
                    draft_admin,
                    draft_admin,
                ],
            },
            Row {
                state: "website_workflow--STATUS--eingereicht",
                via: &[SUBMIT],
                view: ". . y y y y y y y",
                edit: ". . . . . . y y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: [
                    NONE,
                    NONE,
                    &[RETRACT_SUBMITTED],
                    NONE,
                    &[RETRACT_SUBMITTED],
                    NONE,
                    &[PUBLISH_SUBMITTED, REJECT],
                    submitted_admin,
                    submitted_admin,
                ],
            },
            Row {
                state: "website_workflow--STATUS--veroffentlicht",
                via: &[PUBLISH_DRAFT],
                view: "y y y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: editors(published),
            },
            Row {
                state: "website_workflow--STATUS--privat",
                via: &[PRIVATE_DRAFT],
                view: ". . y y y y y y y",
                edit: ". . y . y . . y y",
                add: ADD,
                delete: DELETE,
                share: ". . y . y . y y y",
                transitions: editors(&[RESTORE]),
            },
        ],
    );
}
