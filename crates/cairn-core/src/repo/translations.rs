//! Translations (`@translations`, as plone.app.multilingual): on a
//! multilingual site, items in different languages are linked into one
//! translation group, at most one item per language. The group is stored
//! on each member (`_tg`, found through a partial index), so a member that
//! goes to the trash leaves it and a copy is no translation.

use cairn_model::Uid;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{Principal, can_modify, view_filter};
use crate::site::Site;
use cairn_model::ContentPath;

/// The field holding an item's translation group.
pub const GROUP: &str = "_tg";

/// The translation group of `c`, if it has one.
pub fn group_of(c: &Content) -> Option<&str> {
    c.fields.get(GROUP).and_then(Value::as_str)
}

fn language(c: &Content) -> &str {
    c.str_field("language")
}

fn require_multilingual(site: &Site) -> CoreResult<()> {
    if site.settings.multilingual {
        Ok(())
    } else {
        Err(CoreError::BadRequest(
            "This site is not multilingual (`multilingual = true` in its settings)".into(),
        ))
    }
}

/// The other members of `c`'s group the reader may see.
pub fn of(site: &Site, who: &Principal, c: &Content) -> CoreResult<Vec<Content>> {
    let Some(group) = group_of(c) else {
        return Ok(Vec::new());
    };
    let filter = view_filter(site, who);
    let mut out: Vec<Content> = site
        .store
        .translations(&site.id, group)?
        .into_iter()
        .filter(|t| t.uid != c.uid && filter.allows(t))
        .collect();
    out.sort_by(|a, b| language(a).cmp(language(b)));
    Ok(out)
}

fn editable(site: &Site, who: &Principal, c: &Content) -> CoreResult<()> {
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized("You are not allowed to translate".into()));
    }
    if !can_modify(site, who, c)? {
        return Err(CoreError::Forbidden(format!("You are not allowed to edit {}", c.path)));
    }
    Ok(())
}

/// Links `target` into the group of the item at `path` (starting one).
pub fn link(site: &Site, who: &Principal, path: &ContentPath, target: &Content) -> CoreResult<()> {
    require_multilingual(site)?;
    let source = get_visible(site, path, who)?;
    editable(site, who, &source)?;
    editable(site, who, target)?;
    if target.uid == source.uid {
        return Err(CoreError::BadRequest("An item is no translation of itself".into()));
    }
    if language(target).is_empty() || language(&source).is_empty() {
        return Err(CoreError::BadRequest(
            "Both items need a language to be translations".into(),
        ));
    }
    if group_of(target).is_some_and(|g| Some(g) != group_of(&source))
        && site
            .store
            .translations(&site.id, group_of(target).unwrap_or_default())?
            .len()
            > 1
    {
        return Err(CoreError::BadRequest(format!(
            "{} is already a translation of another item",
            target.path
        )));
    }
    let group = group_of(&source).map_or_else(|| Uid::new().as_str().to_string(), str::to_string);
    let members = site.store.translations(&site.id, &group)?;
    if let Some(taken) = members
        .iter()
        .find(|m| m.uid != target.uid && language(m) == language(target))
    {
        return Err(CoreError::BadRequest(format!(
            "The item already has a translation into '{}': {}",
            language(target),
            taken.path
        )));
    }
    let mut batch = WriteBatch::default();
    for c in [&source, target] {
        if group_of(c) != Some(group.as_str()) {
            set_group(&mut batch, c, Some(&group));
        }
    }
    if batch.ops.is_empty() {
        return Ok(());
    }
    site.write(batch)
}

/// Removes the translation into `lang` from the group of the item at `path`.
pub fn unlink(site: &Site, who: &Principal, path: &ContentPath, lang: &str) -> CoreResult<()> {
    require_multilingual(site)?;
    let source = get_visible(site, path, who)?;
    editable(site, who, &source)?;
    let gone = || CoreError::BadRequest(format!("The item has no translation into '{lang}'"));
    let group = group_of(&source).ok_or_else(gone)?;
    let filter = view_filter(site, who);
    let member = site
        .store
        .translations(&site.id, group)?
        .into_iter()
        .find(|m| language(m) == lang && filter.allows(m))
        .ok_or_else(gone)?;
    editable(site, who, &member)?;
    let mut batch = WriteBatch::default();
    set_group(&mut batch, &member, None);
    site.write(batch)
}

/// For a new item created as `translation_of` the item with UID `of`: the
/// group it joins (set on the new item by the caller) and the original
/// when the group starts with it (the caller writes it in the same batch).
pub fn join(site: &Site, who: &Principal, of: &str, new_language: &str) -> CoreResult<(String, Option<Content>)> {
    require_multilingual(site)?;
    let uid = Uid::parse(of).map_err(|_| CoreError::BadRequest(format!("'{of}' is not a UID")))?;
    let filter = view_filter(site, who);
    let original = site
        .store
        .by_uids(&site.id, &[uid])?
        .pop()
        .filter(|c| filter.allows(c))
        .ok_or_else(|| CoreError::BadRequest(format!("No item with the UID '{of}' to translate")))?;
    editable(site, who, &original)?;
    if new_language.is_empty() || new_language == language(&original) {
        return Err(CoreError::BadRequest(
            "A translation needs a language of its own (`language`)".into(),
        ));
    }
    if let Some(group) = group_of(&original) {
        let members = site.store.translations(&site.id, group)?;
        if let Some(taken) = members.iter().find(|m| language(m) == new_language) {
            return Err(CoreError::BadRequest(format!(
                "The item already has a translation into '{new_language}': {}",
                taken.path
            )));
        }
        return Ok((group.to_string(), None));
    }
    Ok((Uid::new().as_str().to_string(), Some(original)))
}

/// Adds the write that puts `c` into `group` (or out of any) to `batch`.
pub(super) fn set_group(batch: &mut WriteBatch, c: &Content, group: Option<&str>) {
    let mut next = c.clone();
    match group {
        Some(g) => next.fields.insert(GROUP.into(), json!(g)),
        None => next.fields.remove(GROUP),
    };
    next.version = c.version + 1;
    batch.update(c, next, "modified");
}

/// Where a translation of `c` into `lang` belongs (`@translation-locator`):
/// the nearest ancestor's translation into `lang`; from a language root
/// folder (`/<code>`), or from the top, the root folder of `lang` if the
/// site has one, else the site root.
pub fn locate(site: &Site, who: &Principal, c: &Content, lang: &str) -> CoreResult<ContentPath> {
    require_multilingual(site)?;
    let languages = crate::records::strings(site, "plone.available_languages")?;
    if !languages.iter().any(|l| l == lang) {
        return Err(CoreError::BadRequest(format!(
            "'{lang}' is not a language of this site"
        )));
    }
    let language_root = || -> CoreResult<ContentPath> {
        let folder = cairn_model::ContentId::parse(lang)
            .ok()
            .map(|id| ContentPath::root().child(&id));
        Ok(match folder {
            Some(p) if super::read::find(site, &p)?.is_some() => p,
            _ => ContentPath::root(),
        })
    };
    let mut at = c.path.parent();
    while let Some(path) = at {
        if path.is_root() || (path.depth() == 1 && languages.iter().any(|l| l == path.name())) {
            return language_root();
        }
        let Some(ancestor) = super::read::find(site, &path)? else {
            break;
        };
        if let Some(t) = of(site, who, &ancestor)?.into_iter().find(|t| language(t) == lang) {
            return Ok(t.path);
        }
        at = path.parent();
    }
    language_root()
}

/// Creates the Language Root Folder (`/<code>`) of each of the site's
/// languages that has none, as translations of each other. A place taken
/// by something else is left alone (logged): renaming content is no
/// start-up's business.
pub fn ensure_language_roots(site: &Site) -> CoreResult<()> {
    let root = super::read::get(site, &ContentPath::root())?;
    let mut group = None;
    let mut missing = Vec::new();
    for lang in crate::records::strings(site, "plone.available_languages")? {
        let Ok(id) = cairn_model::ContentId::parse(&lang) else {
            continue;
        };
        let path = ContentPath::root().child(&id);
        match super::read::find(site, &path)? {
            Some(c) if c.portal_type == "LRF" => group = group.or_else(|| group_of(&c).map(str::to_string)),
            Some(c) => tracing::warn!(path = %c.path, "a language root folder's place is taken by a {}", c.portal_type),
            None => missing.push((lang, path)),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let group = group.unwrap_or_else(|| Uid::new().as_str().to_string());
    let now = jiff::Timestamp::now();
    let first = site.store.next_position(&site.id, &root.path)?;
    let mut batch = WriteBatch::default();
    for (position, (lang, path)) in (first..).zip(missing) {
        let mut fields = serde_json::Map::new();
        fields.insert("title".into(), json!(crate::vocabularies::language_title(&lang)));
        fields.insert("language".into(), json!(lang));
        fields.insert(GROUP.into(), json!(group));
        let lrf = Content {
            uid: Uid::new(),
            path: path.clone(),
            parent: Some(root.uid.clone()),
            position,
            portal_type: "LRF".into(),
            // Published from the start, where its workflow has that state.
            review_state: site.workflow_for("LRF").map(|wf| {
                if wf.states.iter().any(|st| st.id == "published") {
                    "published".to_string()
                } else {
                    wf.initial_state.clone()
                }
            }),
            is_folderish: true,
            created: now,
            modified: now,
            version: 1,
            layout: None,
            fields,
            allowed: Vec::new(),
        };
        let placed = super::replant::replant(site, vec![lrf], &path, &root, &path, position, |_, _| {})?;
        for (_, c) in placed {
            batch.events.push(ChangeEvent {
                kind: "added",
                uid: c.uid.clone(),
                path: c.path.clone(),
            });
            batch.ops.push(WriteOp::Insert(Box::new(c)));
        }
    }
    site.write(batch)
}
