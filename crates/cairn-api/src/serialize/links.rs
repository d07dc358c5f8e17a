//! Internal links stored as `resolveuid/<UID>` (see `cairn_core::repo::urls`)
//! are written out as the linked object's current URL, in a Link's
//! `remoteUrl`, rich text and Volto blocks, as plone.restapi's serializers
//! do; a link to something that no longer exists stays as stored. What a
//! block copied of its target (a teaser's title, description, image) is
//! shown only to readers who may see the target, and the `image_scales`
//! a block keeps are those of the image as it is now.

use std::collections::{BTreeSet, HashMap};

use cairn_core::repo::urls::uids_in;
use cairn_model::Uid;
use serde_json::{Map, Value};

use crate::ctx::Ctx;

/// The serialized fields that may hold links.
const LINKING: [&str; 3] = ["remoteUrl", "text", "blocks"];

/// Replaces stored links in `o` (a serialized object) with current URLs.
pub fn render(ctx: &Ctx, o: &mut Map<String, Value>) {
    let mut uids = BTreeSet::new();
    for k in LINKING {
        if let Some(v) = o.get(k) {
            uids_in(v, &mut uids);
        }
    }
    if uids.is_empty() {
        return;
    }
    let uids: Vec<Uid> = uids.into_iter().collect();
    // The URLs and what is shown of the targets change with them.
    for uid in &uids {
        ctx.depends_on(&cairn_core::caching::reference_tag(uid));
    }
    // Where the objects are now; a reader who may not see one still gets
    // its URL (as in Plone), never anything else of it.
    let Ok(found) = ctx.site.store.by_uids(&ctx.site.id, &uids) else {
        return;
    };
    let urls: HashMap<String, String> = found
        .iter()
        .map(|c| (c.uid.as_str().to_owned(), ctx.url(&c.path)))
        .collect();
    // A teaser keeps a copy of its target's title and more: shown only to
    // readers who may see the target (now; it may have been retracted).
    let visible: BTreeSet<String> = found
        .iter()
        .filter(|c| ctx.filter.allows(c))
        .map(|c| c.uid.as_str().to_owned())
        .collect();
    if let Some(blocks) = o.get_mut("blocks") {
        hide_unseen(blocks, &visible);
        let seen: HashMap<&str, &cairn_core::Content> = found
            .iter()
            .filter(|c| visible.contains(c.uid.as_str()))
            .map(|c| (c.uid.as_str(), c))
            .collect();
        fresh_scales(ctx, blocks, &seen);
    }
    for k in LINKING {
        if let Some(v) = o.get_mut(k) {
            rewrite(v, &urls);
        }
    }
}

/// Reduces every linked-object copy (`{"@id": "resolveuid/<UID>", "title", ...}`)
/// whose target the reader may not see to its `@id`.
fn hide_unseen(v: &mut Value, visible: &BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            let target = o
                .get("@id")
                .and_then(Value::as_str)
                .and_then(|id| id.split("resolveuid/").nth(1))
                .and_then(|rest| rest.get(..32))
                .and_then(|u| Uid::parse(u).ok());
            match target {
                Some(uid) if !visible.contains(uid.as_str()) => o.retain(|k, _| k == "@id"),
                _ => o.values_mut().for_each(|x| hide_unseen(x, visible)),
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| hide_unseen(x, visible)),
        _ => {}
    }
}

/// The UID a block or link item points to through `url`, `href` or `@id`.
fn linked_uid(o: &Map<String, Value>) -> Option<Uid> {
    ["url", "href", "@id"]
        .iter()
        .filter_map(|k| o.get(*k)?.as_str())
        .find_map(|link| {
            link.split("resolveuid/")
                .nth(1)?
                .get(..32)
                .and_then(|u| Uid::parse(u).ok())
        })
}

/// Every `image_scales` a block keeps of the image it shows (image
/// blocks, teaser items) as the image is now: a replaced image shows its
/// new scales; one the reader may not see shows none.
fn fresh_scales(ctx: &Ctx, v: &mut Value, seen: &HashMap<&str, &cairn_core::Content>) {
    match v {
        Value::Object(o) => {
            if o.contains_key("image_scales")
                && let Some(uid) = linked_uid(o)
            {
                match seen.get(uid.as_str()) {
                    Some(target) => {
                        let scales = super::summary::image_scales(ctx, target);
                        if !scales.is_null() {
                            o.insert("image_scales".into(), scales);
                        }
                    }
                    None => {
                        o.remove("image_scales");
                    }
                }
            }
            o.values_mut().for_each(|x| fresh_scales(ctx, x, seen));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| fresh_scales(ctx, x, seen)),
        _ => {}
    }
}

fn rewrite(v: &mut Value, urls: &HashMap<String, String>) {
    match v {
        Value::String(s) if s.contains("resolveuid/") => *s = replace(s, urls),
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, urls)),
        Value::Object(o) => o.values_mut().for_each(|x| rewrite(x, urls)),
        _ => {}
    }
}

/// `s` with each `[../…][${portal_url}/]resolveuid/<UID>` of a known UID
/// replaced by its URL.
fn replace(s: &str, urls: &HashMap<String, String>) -> String {
    const MARK: &str = "resolveuid/";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let url = after
            .get(..32)
            .and_then(|u| Uid::parse(u).ok())
            .and_then(|u| urls.get(u.as_str()));
        let Some(url) = url else {
            out.push_str(&rest[..i + MARK.len()]);
            rest = after;
            continue;
        };
        // What leads up to the mark and belongs to the link's old form.
        let mut head = &rest[..i];
        head = head.strip_suffix("${portal_url}/").unwrap_or(head);
        while let Some(h) = head.strip_suffix("../") {
            head = h;
        }
        out.push_str(head);
        out.push_str(url);
        rest = &after[32..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_links_become_urls_and_unknown_ones_stay() {
        let uid = "0123456789abcdef0123456789abcdef";
        let urls = HashMap::from([(uid.to_owned(), "https://x.ch/a/b".to_owned())]);
        assert_eq!(replace(&format!("resolveuid/{uid}"), &urls), "https://x.ch/a/b");
        assert_eq!(
            replace(&format!("<a href=\"../../resolveuid/{uid}#top\">x</a>"), &urls),
            "<a href=\"https://x.ch/a/b#top\">x</a>"
        );
        assert_eq!(
            replace(&format!("${{portal_url}}/resolveuid/{uid}"), &urls),
            "https://x.ch/a/b"
        );
        let unknown = "resolveuid/ffffffffffffffffffffffffffffffff";
        assert_eq!(replace(unknown, &urls), unknown);
    }
}
