//! The S3 blob store against an S3-compatible server: `CAIRN_TEST_S3` is
//! its endpoint (`.ci/run` starts moto's server, a local implementation of
//! the S3 API from PyPI). Each test works in a bucket of its own. Without
//! the variable the tests fail where `CAIRN_REQUIRE_S3=1` (CI) and are
//! skipped, loudly, elsewhere.

use cairn_core::ports::BlobStore;
use cairn_s3::{S3BlobStore, S3Settings};

/// Settings for a fresh bucket, or `None` (skip) when no server is configured.
fn fresh_bucket(prefix: &str) -> Option<S3Settings> {
    let Ok(endpoint) = std::env::var("CAIRN_TEST_S3") else {
        let required = std::env::var("CAIRN_REQUIRE_S3").is_ok_and(|v| v == "1");
        assert!(!required, "CAIRN_TEST_S3 is not set: CI must run the S3 tests");
        eprintln!("CAIRN_TEST_S3 is not set: S3 tests skipped");
        return None;
    };
    let bucket = format!("cairn-{:016x}", rand::random::<u64>());
    let made = ureq::put(&format!("{endpoint}/{bucket}")).send_empty();
    assert!(made.is_ok(), "the test bucket is made: {made:?}");
    Some(S3Settings {
        bucket,
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        prefix: prefix.into(),
        allow_http: true,
    })
}

#[test]
fn the_blob_contract_holds_on_s3() {
    let Some(settings) = fresh_bucket("") else { return };
    cairn_core::testkit::blobs(&S3BlobStore::open(&settings).unwrap());
}

#[test]
fn sites_sharing_a_bucket_keep_to_their_prefix() {
    let Some(settings) = fresh_bucket("kanton/") else {
        return;
    };
    let other = S3Settings {
        prefix: "gemeinde/".into(),
        ..settings.clone()
    };
    let a = S3BlobStore::open(&settings).unwrap();
    let b = S3BlobStore::open(&other).unwrap();
    let put = a.put(b"nur hier").unwrap();
    assert!(a.exists(&put.key).unwrap());
    assert!(!b.exists(&put.key).unwrap());
    assert!(b.entries().unwrap().is_empty(), "the other prefix lists nothing of it");
    cairn_core::testkit::blobs(&b);
    assert_eq!(a.entries().unwrap().len(), 1);
}

#[test]
fn a_store_called_from_async_code_still_answers() {
    let Some(settings) = fresh_bucket("") else { return };
    let s = S3BlobStore::open(&settings).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = rt.block_on(async { s.put(b"from a task").unwrap().key });
    assert_eq!(s.get(&key).unwrap().as_deref(), Some(&b"from a task"[..]));
}
