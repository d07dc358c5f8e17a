//! Batching of list results (`b_start`, `b_size`) and the `batching` links.

use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::ApiResult;
use crate::query::{Params, encode};

/// Plone's default page size.
pub const DEFAULT_SIZE: usize = 25;

/// One requested page.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub start: usize,
    pub size: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            start: 0,
            size: DEFAULT_SIZE,
        }
    }
}

impl Batch {
    /// Reads `b_start`/`b_size`; sizes above `max` are capped so no request can
    /// ask for an unbounded page.
    pub fn from_params(p: &Params, max: usize) -> ApiResult<Self> {
        let start = p.usize("b_start")?.unwrap_or(0);
        let size = p.usize("b_size")?.unwrap_or(DEFAULT_SIZE).clamp(1, max);
        Ok(Self { start, size })
    }
}

/// The `batching` object, present only when there is more than one page.
pub fn batching(ctx: &Ctx, url: &str, b: &Batch, total: usize) -> Option<Value> {
    if total <= b.size {
        return None;
    }
    let rest = ctx.params.without(&["b_start"]);
    let link = |start: usize| {
        let mut pairs = vec![("b_start".to_string(), start.to_string())];
        pairs.extend(rest.iter().cloned());
        format!("{url}?{}", encode(&pairs))
    };
    let last = ((total - 1) / b.size) * b.size;
    let current = if ctx.params.raw().is_empty() {
        url.to_string()
    } else {
        format!("{url}?{}", ctx.params.raw())
    };
    let mut o = json!({"@id": current, "first": link(0), "last": link(last)});
    if b.start + b.size < total {
        o["next"] = json!(link(b.start + b.size));
    }
    if b.start > 0 {
        o["prev"] = json!(link(b.start.saturating_sub(b.size)));
    }
    Some(o)
}
