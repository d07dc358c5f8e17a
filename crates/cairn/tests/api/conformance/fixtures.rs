//! The content each doc test had in its site, built through the API.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp};

use super::*;

/// Builds fixture content through the API; failures are collected, not panicked on.
pub(super) struct Fixture<'a> {
    app: &'a TestApp,
    pub(super) errors: Vec<Diff>,
}

impl<'a> Fixture<'a> {
    pub(super) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            errors: Vec::new(),
        }
    }

    pub(super) fn step(&mut self, method: &str, url: &str, body: Option<&Value>, want: u16) -> Option<Value> {
        let bytes = body.map(Value::to_string);
        let r = self
            .app
            .send(method, url, Auth::Admin, bytes.as_deref().map(str::as_bytes), &[]);
        if r.status != want {
            self.errors.push(Diff {
                path: format!("fixture: {method} {url}"),
                expected: format!("status {want}"),
                actual: format!(
                    "status {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                        .replace(&self.app.root, GOLDEN_ROOT)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ),
            });
            return None;
        }
        serde_json::from_slice(&r.body).ok()
    }

    /// Waits until the full-text index has caught up with every write.
    pub(super) fn wait_indexed(&self) {
        self.app.wait_indexed();
    }

    pub(super) fn create(&mut self, container: &str, body: Value) {
        self.step("POST", container, Some(&body), 201);
    }

    pub(super) fn front_page(&mut self) {
        self.create(
            "",
            json!({
                "@type": "Document", "id": "front-page", "title": "Welcome to Plone",
                "description": "Congratulations! You have successfully installed Plone.",
                "text": {
                    "data": "If you're seeing this instead of the web site you were expecting, the owner of this web site has just installed Plone. Do not contact the Plone Team or the Plone mailing lists about this.",
                    "content-type": "text/plain", "encoding": "utf-8"
                }
            }),
        );
    }

    /// `create_folder()` of the doc tests.
    pub(super) fn folder_with_two_documents(&mut self) {
        self.create(
            "",
            json!({"@type": "Folder", "id": "folder", "title": "My Folder",
                   "description": "This is a folder with two documents"}),
        );
        for id in ["doc1", "doc2"] {
            self.create(
                "/folder",
                json!({"@type": "Document", "id": id, "title": "A document within a folder"}),
            );
        }
    }

    /// A user created through `POST @users` (the doc tests use `api.user.create`,
    /// whose roles default to `Member`). `props` are member properties.
    pub(super) fn user(&mut self, id: &str, password: &str, roles: &[&str], props: Value) {
        let mut body = props;
        body["username"] = json!(id);
        body["password"] = json!(password);
        body["roles"] = json!(roles);
        self.step("POST", "/@users", Some(&body), 201);
    }

    /// plone.app.testing's `test_user_1_`, given `Manager` by every doc test's `setUp`.
    pub(super) fn test_user(&mut self) {
        self.user("test_user_1_", TEST_USER_PASSWORD, &["Manager"], json!({}));
    }

    /// `noam`, as most `@users`/`@groups` doc tests create him.
    pub(super) fn noam(&mut self, password: &str) {
        self.user("noam", password, &["Member"], noam_props());
    }

    /// Adds members to a group (`api.group.add_user`).
    pub(super) fn join(&mut self, group: &str, user: &str) {
        self.step(
            "PATCH",
            &format!("/@groups/{group}"),
            Some(&json!({"users": {user: true}})),
            204,
        );
    }

    /// The group `ploneteam` of the `@groups` doc tests.
    pub(super) fn ploneteam(&mut self) {
        self.step(
            "POST",
            "/@groups",
            Some(&json!({"groupname": "ploneteam", "title": "Plone Team",
                         "description": "We are Plone", "email": "ploneteam@plone.org"})),
            201,
        );
    }

    pub(super) fn token(&mut self) -> Option<String> {
        let r = self.app.post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "admin", "password": "secret"}),
        );
        let t = r.json()["token"].as_str().map(str::to_string);
        if t.is_none() {
            self.errors.push(Diff {
                path: "fixture: POST /@login".into(),
                expected: "a token".into(),
                actual: format!("status {}", r.status),
            });
        }
        t
    }
}

/// plone.app.testing's `TEST_USER_PASSWORD` (see the Basic headers of `users_*_get`).
pub(super) const TEST_USER_PASSWORD: &str = "correct horse battery staple";

/// The member properties the doc tests give `noam`. (Their `username` property is
/// not a member property: the login name stays `noam`.)
pub(super) fn noam_props() -> Value {
    json!({"email": "noam.chomsky@example.com", "fullname": "Noam Avram Chomsky",
           "home_page": "web.mit.edu/chomsky", "description": "Professor of Linguistics",
           "location": "Cambridge, MA"})
}

/// A 215x56 PNG like plone.restapi's `tests/image.png`, as a base64 upload.
pub(super) fn image_png() -> Value {
    let mut out = Vec::new();
    let img = image::RgbImage::from_fn(215, 56, |x, y| image::Rgb([(x % 256) as u8, (y * 4) as u8, 128]));
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    json!({"data": base64::engine::general_purpose::STANDARD.encode(out), "encoding": "base64",
           "filename": "image.png", "content-type": "image/png"})
}

/// A small PDF upload named like plone.restapi's `tests/file.pdf`.
pub(super) fn file_pdf() -> Value {
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    json!({"data": base64::engine::general_purpose::STANDARD.encode(pdf), "encoding": "base64",
           "filename": "file.pdf", "content-type": "application/pdf"})
}

/// A config folder whose Document has the relations doc test's field
/// `comprisesComponentPart` (a relation list), through a behavior of its own.
pub(super) fn relations_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let types = dir.path().join("types");
    let behaviors = dir.path().join("behaviors");
    std::fs::create_dir_all(&types).unwrap();
    std::fs::create_dir_all(&behaviors).unwrap();
    std::fs::write(
        behaviors.join("test.components.toml"),
        r#"name = "test.components"
title = "Components"
description = ""

[[fields]]
name = "comprisesComponentPart"
kind = "relation_list"
value_kind = "relation"
title = "Consists of"
description = ""
default = []
missing = []
"#,
    )
    .unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../cairn-model/schema/types/Document.toml");
    let document = std::fs::read_to_string(shipped).unwrap().replace(
        "\"plone.allowdiscussion\",\n]",
        "\"plone.allowdiscussion\",\n  \"test.components\",\n]",
    );
    assert!(
        document.contains("test.components"),
        "Document.toml changed its behaviors list"
    );
    std::fs::write(types.join("Document.toml"), document).unwrap();
    dir
}

/// Builds what the doc test that recorded `name` had in its site, and returns the
/// Bearer token to substitute for the recorded one (JWT pairs only).
pub(super) fn setup(name: &str, f: &mut Fixture<'_>) -> Option<String> {
    // Every TestDocumentation test starts with the front page.
    f.front_page();
    match name {
        "content_post" | "folder" | "move" => f.folder_with_two_documents(),
        "copy_multiple" => {
            f.create(
                "",
                json!({"@type": "News Item", "id": "newsitem", "title": "My News Item"}),
            );
        }
        "content_get" | "content_get_folder" | "content_patch" | "content_patch_representation" | "content_delete" => {
            f.folder_with_two_documents();
            f.create("/folder", json!({"@type": "Document", "title": "My Document"}));
        }
        "aliases_get" | "aliases_delete" => {
            let body = json!({"items": [{"path": "/simple-alias", "datetime": "2022-05-05"}]});
            let r = f.app.post("/front-page/@aliases", Auth::Admin, &body);
            assert_eq!(r.status, 204, "adding the fixture alias");
        }
        "linkintegrity_get" => {
            // The first document links to the second (private) one.
            f.create(
                "",
                json!({"@type": "Document", "id": "doc-2", "title": "Second document",
                       "UID": "SomeUUID000000000000000000000002"}),
            );
            f.create(
                "",
                json!({"@type": "Document", "id": "doc-1", "title": "First document",
                       "UID": "SomeUUID000000000000000000000001",
                       "text": {"data": "<p><a href=\"resolveuid/SomeUUID000000000000000000000002\">2</a></p>",
                                "content-type": "text/html"}}),
            );
        }
        "aliases_root_get" | "aliases_root_filter" => {
            let items = json!({"items": [
                {"path": "/old-page", "redirect-to": "/front-page", "datetime": "2022-05-05"},
                {"path": "/fizzbuzz", "redirect-to": "/front-page", "datetime": "2022-05-05"},
            ]});
            let r = f.app.post("/@aliases", Auth::Admin, &items);
            assert_eq!(r.status, 204, "adding the fixture aliases");
        }
        "refresh_lock" | "unlock" | "unlock_force" | "lock_update" => {
            // The doc tests lock the front page first.
            let r = f.app.post("/front-page/@lock", Auth::Admin, &json!({}));
            assert_eq!(r.status, 200, "locking the fixture");
        }
        n if n.starts_with("translation") => {
            // cairn made the language root folders; a document in English and in Spanish.
            for (lang, n) in [("en", 1), ("es", 3)] {
                f.create(
                    &format!("/{lang}"),
                    json!({"@type": "Document", "id": "test-document", "title": "Test document", "language": lang,
                           "UID": format!("SomeUUID00000000000000000000000{n}")}),
                );
            }
            let linked = [
                "translations_get",
                "translations_delete",
                "translation_locator",
                "translations_expand_get",
            ];
            if linked.contains(&n) {
                f.step(
                    "POST",
                    "/en/test-document/@translations",
                    Some(&json!({"id": "/es/test-document"})),
                    201,
                );
            }
        }
        "workingcopy_post" => f.create(
            "",
            json!({"@type": "Document", "id": "document", "title": "Test document",
                   "UID": "SomeUUID000000000000000000000001"}),
        ),
        "workingcopy_get"
        | "workingcopy_baseline_get"
        | "workingcopy_wc_get"
        | "workingcopy_patch"
        | "workingcopy_delete" => {
            f.create(
                "",
                json!({"@type": "Document", "id": "document", "title": "Test document",
                       "UID": "SomeUUID000000000000000000000001"}),
            );
            f.step("POST", "/document/@workingcopy", None, 201);
        }
        n if n.starts_with("relations_") => {
            for (i, title) in ["Test document 1", "Test document 2", "Test document 3"]
                .iter()
                .enumerate()
            {
                let id = if i == 0 {
                    "document".to_string()
                } else {
                    format!("document-{}", i + 1)
                };
                f.create(
                    "",
                    json!({"@type": "Document", "id": id, "title": title,
                           "UID": format!("SomeUUID00000000000000000000000{}", i + 1)}),
                );
            }
            let uid = |n: u8| format!("someuuid00000000000000000000000{n}");
            f.step(
                "PATCH",
                "/document",
                Some(&json!({"comprisesComponentPart": [uid(2), uid(3)], "relatedItems": [uid(3)]})),
                204,
            );
            f.step("PATCH", "/document-2", Some(&json!({"relatedItems": [uid(1)]})), 204);
            for path in ["/document", "/document-2"] {
                f.step("POST", &format!("{path}/@workflow/publish"), None, 200);
            }
        }
        "inherit_get" | "inherit_expansion" => {
            f.create(
                "",
                json!({"@type": "Document", "id": "document", "title": "Test document"}),
            );
        }
        "newsitem" => f.create(
            "",
            json!({"@type": "News Item", "id": "newsitem", "title": "My News Item",
                   "description": "This is a news item",
                   "text": {"data": "Lorem ipsum", "content-type": "text/plain", "encoding": "utf-8"},
                   "image": image_png(), "image_caption": "This is an image caption."}),
        ),
        "event" => f.create(
            "",
            json!({"@type": "Event", "id": "event", "title": "Event", "description": "This is an event",
                   "start": "2013-01-01T10:00:00+00:00", "end": "2013-01-01T12:00:00+00:00"}),
        ),
        "link" => {
            let site = f.app.site.clone();
            f.create(
                "",
                json!({"@type": "Link", "id": "link", "title": "My Link", "description": "This is a link",
                       "remoteUrl": site}),
            );
        }
        "file" => f.create(
            "",
            json!({"@type": "File", "id": "file", "title": "My File", "description": "This is a file",
                   "file": file_pdf()}),
        ),
        "image" => f.create(
            "",
            json!({"@type": "Image", "id": "image", "title": "My Image", "description": "This is an image",
                   "image": image_png()}),
        ),
        "navigation_tree" | "contextnavigation" => {
            f.create("", json!({"@type": "Folder", "id": "folder", "title": "Some Folder"}));
            f.create(
                "",
                json!({"@type": "Folder", "id": "folder2", "title": "Some Folder 2"}),
            );
            f.create(
                "/folder",
                json!({"@type": "Folder", "id": "subfolder1", "title": "SubFolder 1"}),
            );
            f.create(
                "/folder",
                json!({"@type": "Folder", "id": "subfolder2", "title": "SubFolder 2"}),
            );
            f.create(
                "/folder/subfolder1",
                json!({"@type": "Folder", "id": "thirdlevelfolder", "title": "Third Level Folder"}),
            );
            f.create(
                "/folder/subfolder1/thirdlevelfolder",
                json!({"@type": "Folder", "id": "fourthlevelfolder", "title": "Fourth Level Folder"}),
            );
            f.create(
                "/folder",
                json!({"@type": "Document", "id": "doc1", "title": "A document"}),
            );
        }
        // test_documentation_types_document_crud: each step after a fieldset and a field were added.
        "types_document"
        | "types_document_get_field"
        | "types_document_get_fieldset"
        | "types_document_patch_field"
        | "types_document_patch_fieldset"
        | "types_document_patch_fieldsets"
        | "types_document_patch_properites"
        | "types_document_patch"
        | "types_document_delete_field"
        | "types_document_delete_fieldset"
        | "types_document_delete_fieldset_error"
        | "types_document_put" => {
            f.step(
                "POST",
                "/@types/Document",
                Some(&json!({"factory": "fieldset", "title": "Contact Info", "description": "Contact information"})),
                201,
            );
            f.step(
                "POST",
                "/@types/Document",
                Some(&json!({"factory": "Email", "title": "Author email",
                             "description": "Email of the author", "required": true})),
                201,
            );
        }
        "types_document_post_field" => {
            f.step(
                "POST",
                "/@types/Document",
                Some(&json!({"factory": "fieldset", "title": "Contact Info", "description": "Contact information"})),
                201,
            );
        }
        "controlpanels_get_dexterity_item"
        | "controlpanels_patch_dexterity_item"
        | "controlpanels_delete_dexterity_item" => {
            f.step(
                "POST",
                "/@controlpanels/dexterity-types",
                Some(&json!({"title": "My Custom Content Type", "description": "A custom content-type"})),
                201,
            );
        }
        "batching" => {
            f.create("", json!({"@type": "Folder", "id": "folder", "title": "Folder"}));
            for i in 1..=7 {
                f.create(
                    "/folder",
                    json!({"@type": "Document", "id": format!("doc-{i}"), "title": format!("Document {i}")}),
                );
            }
        }
        "jwt_login_renew" | "jwt_logout" | "jwt_logged_in" => return f.token(),
        // --- users and groups: plone.app.testing's site always has test_user_1_ ---
        "users" => {
            f.test_user();
            // test_documentation_users sets both users' member properties.
            f.step(
                "PATCH",
                "/@users/test_user_1_",
                Some(
                    &json!({"description": "This is a test user", "email": "test@example.com",
                             "fullname": "Test User", "home_page": "http://www.example.com",
                             "location": "Bonn"}),
                ),
                204,
            );
            f.step(
                "PATCH",
                "/@users/admin",
                Some(
                    &json!({"description": "This is an admin user", "email": "admin@example.com",
                             "fullname": "Administrator", "home_page": "http://www.example.com",
                             "location": "Berlin"}),
                ),
                204,
            );
        }
        "users_created" | "users_add" | "users_add_csv_format" | "users_anonymous" | "groups_created" => {
            f.test_user();
            if name == "users_add" {
                // The doc test's site has a (mock) mail host for the reset mail.
                let mail = json!({"smtp_host": "127.0.0.1", "smtp_port": 9, "email_from_address": "site@example.org"});
                f.step("PATCH", "/@controlpanels/mail", Some(&mail), 204);
            }
        }
        "users_get"
        | "users_anonymous_get"
        | "users_update"
        | "users_delete"
        | "users_delete_no_localroles"
        | "users_delete_no_memberareas" => {
            f.test_user();
            // api.user.create without a password: Plone generates one.
            f.noam("a generated password");
        }
        "users_unauthorized" => {
            f.test_user();
            f.noam("password");
        }
        "users_unauthorized_get" => {
            f.test_user();
            f.noam(TEST_USER_PASSWORD);
            f.user("noam-fake", TEST_USER_PASSWORD, &["Member"], noam_props());
        }
        "users_authorized_get" => {
            f.test_user();
            f.noam(TEST_USER_PASSWORD);
        }
        "users_filtered_by_username" | "users_filtered_by_groups" | "users_searched" => {
            f.test_user();
            f.noam("a generated password");
            f.join("Reviewers", "noam");
        }
        "users_update_portrait" | "users_update_portrait_get" | "users_update_portrait_scale" => {
            f.test_user();
            // api.user.create(email=..., username="noam"): no other properties.
            f.user(
                "noam",
                "a generated password",
                &["Member"],
                json!({"email": "noam.chomsky@example.com"}),
            );
            if name == "users_update_portrait_get" {
                // The doc test GETs after its PATCH.
                f.step(
                    "PATCH",
                    "/@users/noam",
                    Some(&json!({"portrait": {"content-type": "image/gif",
                        "data": "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=",
                        "encoding": "base64", "filename": "image.gif"}})),
                    204,
                );
            }
        }
        "groups" | "groups_get" => {
            f.test_user();
            f.ploneteam();
            f.noam("a generated password");
            f.join("ploneteam", "noam");
        }
        "groups_filtered_by_groupname" | "groups_update" | "groups_delete" | "principals" => {
            f.test_user();
            f.ploneteam();
        }
        // --- sharing ---
        "sharing_folder_get" | "sharing_folder_post" => {
            // The doc test's invokeFactory("Folder", id="folder") gives no title,
            // which an API POST requires (in Plone too); the title is not shown.
            f.create("", json!({"@type": "Folder", "id": "folder", "title": "Folder"}));
        }
        "sharing_search" => {
            f.create("", json!({"@type": "Folder", "id": "folder", "title": "Folder"}));
            f.create("/folder", json!({"@type": "Document", "id": "doc", "title": "Doc"}));
            // api.user.grant_roles: Contributor site-wide, Editor on the folder.
            // The doc-test admin (added with userFolderAddUser) has no fullname.
            f.step(
                "PATCH",
                "/@users/admin",
                Some(&json!({"fullname": "", "roles": {"Contributor": true}})),
                204,
            );
            f.step(
                "POST",
                "/folder/@sharing",
                Some(&json!({"entries": [{"id": "admin", "type": "user", "roles": {"Editor": true}}]})),
                204,
            );
        }
        // --- workflow ---
        "workflow_post_with_body" => {
            f.create("", json!({"@type": "Folder", "id": "folder", "title": "Folder"}));
        }
        _ => {
            super::fixtures_search::setup_search(name, f);
        }
    }
    None
}
