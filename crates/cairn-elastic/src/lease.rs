//! Who writes a site's index: a lease document per site in the leases
//! index, taken and renewed with the cluster's optimistic concurrency
//! (`op_type=create`, `if_seq_no` and `if_primary_term`), so two nodes
//! never both believe they hold it. A node holds the lease for one pass
//! (a rebuild renews it as it goes); one that died mid-pass is outlived by
//! its lease's end. Writes also carry external versions (the outbox
//! position), so even a node that lost its lease unawares cannot put an
//! older text over a newer one; over a deleted object's, only while the
//! cluster remembers the deletion (`index.gc_deletes`, set to an hour).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::client::{Body, Client, ElasticError};
use crate::index::Names;

/// How long a lease lasts unless renewed.
pub const TERM: Duration = Duration::from_secs(30);

/// A lease held: the version it was written with, to renew or end it.
pub struct Lease {
    id: String,
    seq_no: i64,
    primary_term: i64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ensure_index(client: &Client, names: &Names) -> Result<(), ElasticError> {
    let body = json!({
        "mappings": {"dynamic": "strict", "properties": {
            "holder": {"type": "keyword"},
            "until": {"type": "long"},
        }}
    });
    let answer = client.send("PUT", &format!("/{}", names.leases), Some(Body::Json(&body)))?;
    // Another node may have created it first.
    if (200..300).contains(&answer.status) || answer.body["error"]["type"] == "resource_already_exists_exception" {
        Ok(())
    } else {
        Err(crate::client::refusal("the creation of the leases index", &answer))
    }
}

/// Takes the lease of `site` for `holder` when it is free or has ended;
/// `None` when another node holds it.
pub fn take(client: &Client, names: &Names, site: &str, holder: &str) -> Result<Option<Lease>, ElasticError> {
    let id = crate::index::encode(site);
    let doc = format!("/{}/_doc/{id}", names.leases);
    let body = json!({"holder": holder, "until": now_ms() + TERM.as_millis() as i64});
    for _ in 0..2 {
        let current = client.expect("GET", &doc, None, &[404])?;
        let path = if current.status == 404 || current.body["found"] != json!(true) {
            if current.body["error"]["type"] == "index_not_found_exception" {
                ensure_index(client, names)?;
            }
            format!("{doc}?op_type=create")
        } else {
            let source = &current.body["_source"];
            let ours = source["holder"] == json!(holder);
            if !ours && source["until"].as_i64().unwrap_or(0) > now_ms() {
                return Ok(None);
            }
            versioned(&doc, &current.body)
        };
        let answer = client.expect("PUT", &path, Some(Body::Json(&body)), &[404, 409])?;
        match answer.status {
            409 => return Ok(None),
            // The leases index vanished between the two calls: make it and try again.
            404 => ensure_index(client, names)?,
            _ => return Ok(Some(lease(id, &answer.body))),
        }
    }
    Ok(None)
}

/// Renews a lease before it ends; an error when it was lost meanwhile.
pub fn renew(client: &Client, names: &Names, lease: &mut Lease, holder: &str) -> Result<(), ElasticError> {
    let doc = format!("/{}/_doc/{}", names.leases, lease.id);
    let path = format!(
        "{doc}?if_seq_no={}&if_primary_term={}",
        lease.seq_no, lease.primary_term
    );
    let body = json!({"holder": holder, "until": now_ms() + TERM.as_millis() as i64});
    let answer = client.expect("PUT", &path, Some(Body::Json(&body)), &[])?;
    *lease = self::lease(lease.id.clone(), &answer.body);
    Ok(())
}

/// Ends a lease so the next node need not wait for its term (a lease
/// already taken over is left to its new holder).
pub fn end(client: &Client, names: &Names, lease: Lease) -> Result<(), ElasticError> {
    let path = format!(
        "/{}/_doc/{}?if_seq_no={}&if_primary_term={}",
        names.leases, lease.id, lease.seq_no, lease.primary_term
    );
    client.expect("DELETE", &path, None, &[404, 409])?;
    Ok(())
}

fn versioned(doc: &str, found: &Value) -> String {
    format!(
        "{doc}?if_seq_no={}&if_primary_term={}",
        found["_seq_no"].as_i64().unwrap_or(-1),
        found["_primary_term"].as_i64().unwrap_or(-1)
    )
}

fn lease(id: String, written: &Value) -> Lease {
    Lease {
        id,
        seq_no: written["_seq_no"].as_i64().unwrap_or(-1),
        primary_term: written["_primary_term"].as_i64().unwrap_or(-1),
    }
}
