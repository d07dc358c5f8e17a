//! Explicit ordering of a container's children (`ordering` and `sort` in PATCH).

use cairn_model::Uid;
use serde::Deserialize;
use serde_json::Value;

use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::security::Principal;
use crate::site::Site;

/// Move one child: `{"obj_id", "delta": "top"|"bottom"|int, "subset_ids"?}`.
#[derive(Debug, Deserialize)]
pub struct Ordering {
    pub obj_id: String,
    pub delta: Value,
    #[serde(default)]
    pub subset_ids: Option<Vec<String>>,
}

/// Re-sort every child: `{"on": index, "order": "ascending"|"descending"|"reverse"}`.
#[derive(Debug, Deserialize)]
pub struct SortSpec {
    #[serde(default = "default_on")]
    pub on: String,
    #[serde(default)]
    pub order: Option<String>,
}

fn default_on() -> String {
    "sortable_title".into()
}

fn ensure_orderable(container: &Content) -> CoreResult<()> {
    if container.is_folderish {
        Ok(())
    } else {
        Err(CoreError::BadRequest(
            "Content ordering is not supported by this resource".into(),
        ))
    }
}

fn positions(ids: &[(Uid, String, i64)]) -> Vec<(Uid, i64)> {
    ids.iter()
        .enumerate()
        .map(|(i, (uid, _, _))| (uid.clone(), i as i64))
        .collect()
}

/// New positions after moving `obj_id` by `delta` (relative to `subset_ids` when given).
pub fn reorder(site: &Site, container: &Content, o: &Ordering) -> CoreResult<Vec<(Uid, i64)>> {
    ensure_orderable(container)?;
    let mut ids = site.store.child_ids(&site.id, &container.path)?;
    ids.sort_by_key(|(_, _, p)| *p);
    if let Some(subset) = &o.subset_ids {
        let in_order: Vec<&String> = ids
            .iter()
            .map(|(_, id, _)| id)
            .filter(|id| subset.contains(id))
            .collect();
        if in_order.len() != subset.len() || in_order.iter().zip(subset).any(|(a, b)| *a != b) {
            return Err(CoreError::BadRequest("Client/server ordering mismatch".into()));
        }
    }
    let from = ids
        .iter()
        .position(|(_, id, _)| *id == o.obj_id)
        .ok_or_else(|| CoreError::BadRequest(format!("No child with id '{}'", o.obj_id)))?;
    let item = ids.remove(from);
    let to = match &o.delta {
        Value::String(s) if s == "top" => 0,
        Value::String(s) if s == "bottom" => ids.len(),
        Value::Number(n) => {
            let d = n
                .as_i64()
                .ok_or_else(|| CoreError::BadRequest("delta must be an integer".into()))?;
            (from as i64 + d).clamp(0, ids.len() as i64) as usize
        }
        Value::String(s) => {
            let d: i64 = s
                .parse()
                .map_err(|_| CoreError::BadRequest(format!("Invalid delta: {s}")))?;
            (from as i64 + d).clamp(0, ids.len() as i64) as usize
        }
        _ => {
            return Err(CoreError::BadRequest(
                "delta must be 'top', 'bottom' or an integer".into(),
            ));
        }
    };
    ids.insert(to, item);
    Ok(positions(&ids))
}

/// New positions with all children sorted on a catalog-like key.
pub fn resort(site: &Site, container: &Content, s: &SortSpec, _who: &Principal) -> CoreResult<Vec<(Uid, i64)>> {
    ensure_orderable(container)?;
    let (children, _) = site.store.children(
        &site.id,
        &container.path,
        &crate::ports::ViewFilter::unrestricted(),
        (0, usize::MAX),
        false,
    )?;
    let key = |c: &Content| -> String {
        match s.on.as_str() {
            "sortable_title" | "title" | "Title" => c.title().to_lowercase(),
            "id" | "getId" => c.id().to_string(),
            "modified" => c.modified.to_string(),
            "created" => c.created.to_string(),
            "effective" => c.str_field("effective").to_string(),
            "portal_type" => c.portal_type.clone(),
            other => c.fields.get(other).map(|v| v.to_string()).unwrap_or_default(),
        }
    };
    let mut sorted: Vec<(String, Uid)> = children.iter().map(|c| (key(c), c.uid.clone())).collect();
    sorted.sort();
    if matches!(s.order.as_deref(), Some("descending") | Some("reverse")) {
        sorted.reverse();
    }
    Ok(sorted
        .into_iter()
        .enumerate()
        .map(|(i, (_, uid))| (uid, i as i64))
        .collect())
}
