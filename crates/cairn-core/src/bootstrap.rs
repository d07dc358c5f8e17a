//! Creating a site on first start: its root object, the administrator account
//! and the token signing secret.

use cairn_model::{ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::{ChangeEvent, ContentStore, GroupRecord, PrincipalStore, UserRecord, WriteBatch, WriteOp};

/// What `ensure_root` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    Existing,
}

/// Creates the site root unless it exists.
pub fn ensure_root(store: &dyn ContentStore, site: &str, title: &str, language: &str) -> CoreResult<Created> {
    if store.by_path(site, &ContentPath::root())?.is_some() {
        return Ok(Created::Existing);
    }
    let now = Timestamp::now();
    let mut fields = Map::new();
    fields.insert("title".into(), json!(title));
    fields.insert("description".into(), json!(""));
    fields.insert("creators".into(), json!(["admin"]));
    fields.insert("language".into(), json!(language));
    let uid = Uid::new();
    let root = Content {
        uid: uid.clone(),
        path: ContentPath::root(),
        parent: None,
        position: 0,
        portal_type: "Plone Site".into(),
        review_state: None,
        is_folderish: true,
        created: now,
        modified: now,
        version: 1,
        layout: Some("document_view".into()),
        fields,
        // The root has no workflow and is public, as a Plone site.
        allowed: ["Anonymous", "Manager", "Site Administrator"]
            .map(String::from)
            .to_vec(),
    };
    store.write(
        site,
        WriteBatch {
            ops: vec![WriteOp::Insert(Box::new(root))],
            events: vec![ChangeEvent {
                kind: "added",
                uid,
                path: ContentPath::root(),
            }],
            ..Default::default()
        },
    )?;
    Ok(Created::New)
}

/// Makes sure `admin` exists with the Manager role. With `password`, (re)sets
/// it; without one a new account gets a generated password, returned once.
pub fn ensure_admin(store: &dyn PrincipalStore, site: &str, password: Option<&str>) -> CoreResult<Option<String>> {
    let existing = store.user(site, "admin")?;
    let generated = match (password, &existing) {
        (Some(_), _) => None,
        (None, Some(_)) => return Ok(None),
        (None, None) => Some(random_secret(18)),
    };
    let pw = password
        .map(str::to_string)
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let keep_hash = existing
        .as_ref()
        .filter(|u| crate::auth::verify(&u.password_hash, &pw))
        .map(|u| u.password_hash.clone());
    let hash = match keep_hash {
        Some(h) => h,
        None => crate::auth::hash_password(&pw)?,
    };
    store.put_user(
        site,
        &UserRecord {
            id: "admin".into(),
            password_hash: hash,
            fullname: "Administrator".into(),
            email: String::new(),
            roles: vec!["Manager".into()],
            props: Default::default(),
        },
    )?;
    Ok(generated)
}

/// Plone's standard groups, created once per site.
pub fn ensure_groups(store: &dyn PrincipalStore, site: &str) -> CoreResult<()> {
    for (id, role) in [
        ("Administrators", "Manager"),
        ("Site Administrators", "Site Administrator"),
        ("Reviewers", "Reviewer"),
    ] {
        if store.group(site, id)?.is_none() {
            let g = GroupRecord {
                id: id.into(),
                title: id.into(),
                roles: vec![role.into()],
                ..Default::default()
            };
            store.put_group(site, &g)?;
        }
    }
    Ok(())
}

/// The site's JWT secret: configured, else stored, else generated and stored.
pub fn jwt_secret(store: &dyn ContentStore, site: &str, configured: Option<&str>) -> CoreResult<Vec<u8>> {
    if let Some(s) = configured {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(Value::String(s)) = store.setting(site, "jwt_secret")? {
        return Ok(s.into_bytes());
    }
    let s = random_secret(32);
    store.put_setting(site, "jwt_secret", &json!(s))?;
    Ok(s.into_bytes())
}

/// A random URL-safe secret of `bytes` random bytes.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}
