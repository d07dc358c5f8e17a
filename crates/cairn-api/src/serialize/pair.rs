//! The working-copy pair of an object (`working_copy`, `working_copy_of`),
//! as the content GET and `@workingcopy` show it.

use cairn_core::content::Content;
use cairn_core::error::CoreResult;
use cairn_core::repo::workingcopy;
use cairn_model::time::format_ts;
use serde_json::{Value, json};

use crate::ctx::Ctx;

/// `working_copy` and `working_copy_of` of `c` for this reader: each end
/// only if the reader may see it (a private copy stays unknown to anonymous
/// readers of a published original).
pub fn pair_json(ctx: &Ctx, c: &Content) -> CoreResult<(Value, Value)> {
    if !workingcopy::in_pair(c) {
        return Ok((Value::Null, Value::Null));
    }
    let Some(p) = workingcopy::pair_of(&ctx.site, c)? else {
        return Ok((Value::Null, Value::Null));
    };
    // The other end's title and place show here: its changes make this stale.
    let other = if p.copy.uid == c.uid { &p.baseline } else { &p.copy };
    ctx.depends_on(&cairn_core::caching::reference_tag(&other.uid));
    let copy = if ctx.filter.allows(&p.copy) {
        let fullname = ctx
            .site
            .principals
            .user(&ctx.site.id, &p.by)?
            .map(|u| u.fullname)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| p.by.clone());
        json!({
            "@id": ctx.url(&p.copy.path),
            "title": p.copy.title(),
            "created": format_ts(p.at),
            "creator_name": fullname,
            "creator_url": format!("{}/author/{}", ctx.base, p.by),
        })
    } else {
        Value::Null
    };
    let of = if p.copy.uid == c.uid && ctx.filter.allows(&p.baseline) {
        json!({"@id": ctx.url(&p.baseline.path), "title": p.baseline.title()})
    } else {
        Value::Null
    };
    Ok((copy, of))
}
