//! The cluster adapter against the fake cluster: the shared full-text
//! suite, one writer at a time among nodes, rebuilds that move the alias,
//! a cluster that lost its data, a pruned outbox, a busy cluster, and the
//! request shapes the fake enforces.

use cairn_core::StorageKind;
use cairn_core::ports::{
    ChangeEvent, ContentStore, FULL_TEXT_POSITION_KEY, FullText, OUTBOX_PRUNED_KEY, WriteBatch, WriteOp,
};
use cairn_elastic::client::{Body, Client};
use cairn_elastic::fake::FakeCluster;
use cairn_elastic::{Credentials, ElasticConfig, ElasticFullText, index, lease};
use cairn_search::{Engine, IndexerError, parse};
use cairn_store::SqliteStore;
use serde_json::json;

const KEY: &str = "Y2Fpcm46c2VjcmV0";

fn config(cluster: &FakeCluster) -> ElasticConfig {
    ElasticConfig {
        url: cluster.url.clone(),
        prefix: "cairn-".into(),
        credentials: Credentials::ApiKey(KEY.into()),
    }
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    store.migrate().unwrap();
    (dir, store)
}

fn add(store: &dyn ContentStore, site: &str, path: &str, title: &str) {
    let mut c = cairn_core::testkit::page(path);
    c.fields = json!({"title": title, "language": "de"}).as_object().cloned().unwrap();
    let event = ChangeEvent {
        kind: "added",
        uid: c.uid.clone(),
        path: c.path.clone(),
    };
    store
        .write(
            site,
            WriteBatch {
                ops: vec![WriteOp::Insert(Box::new(c))],
                events: vec![event],
                ..Default::default()
            },
        )
        .unwrap();
}

fn found(engine: &dyn FullText, q: &str) -> usize {
    engine.search(&parse(q).unwrap().unwrap(), 100).unwrap().len()
}

#[test]
fn the_cluster_adapter_passes_the_full_text_suite() {
    let cluster = FakeCluster::start_with(Some(KEY));
    let (_dir, store) = store();
    let config = config(&cluster);
    cairn_search::testkit::suite(&store, &|site| {
        Box::new(ElasticFullText::new(&config, site, "de", "node-a").unwrap())
    });
    // One index per site behind its alias, and the leases index.
    assert!(cluster.indices().contains(&"cairn--leases".to_string()));
    assert!(cluster.indices().contains(&"cairn-ft_2dchanges-1".to_string()));
}

#[test]
fn nodes_share_one_index_and_write_one_at_a_time() {
    let cluster = FakeCluster::start_with(Some(KEY));
    let (_dir, store) = store();
    let site = "Kanton";
    let (a, b) = (
        ElasticFullText::new(&config(&cluster), site, "de", "node-a").unwrap(),
        ElasticFullText::new(&config(&cluster), site, "de", "node-b").unwrap(),
    );
    add(&store, site, "/steuern", "Steuern");
    assert_eq!(a.step(&store, site).unwrap(), 1, "the first pass builds the index");
    assert_eq!(
        b.step(&store, site).unwrap(),
        0,
        "there is nothing left for the second node"
    );
    assert_eq!(found(&b, "Steuern"), 1, "the second node finds what the first indexed");
    // The site name is kept apart from its lowercase twin.
    assert!(
        cluster.indices().contains(&"cairn-_4banton-1".to_string()),
        "{:?}",
        cluster.indices()
    );

    // While a third node holds the lease, the others write nothing but
    // learn how far the index got.
    add(&store, site, "/wahlen", "Wahlen");
    let client = Client::new(&cluster.url, &Credentials::ApiKey(KEY.into()));
    let names = index::Names::new("cairn-", site).unwrap();
    let held = lease::take(&client, &names, site, "node-c")
        .unwrap()
        .expect("the lease is free");
    assert!(
        lease::take(&client, &names, site, "node-a").unwrap().is_none(),
        "one holder at a time"
    );
    cluster.take_log();
    assert_eq!(a.step(&store, site).unwrap(), 0);
    let log = cluster.take_log();
    assert!(log.iter().all(|r| !r.contains("_bulk")), "{log:?}");
    assert_eq!(found(&a, "Wahlen"), 0);
    lease::end(&client, &names, held).unwrap();
    assert_eq!(a.step(&store, site).unwrap(), 1);
    assert_eq!(found(&b, "Wahlen"), 1, "searchable on every node once the pass answers");
    assert_eq!(b.step(&store, site).unwrap(), 0);
    assert_eq!(
        b.indexed(),
        store.outbox_head(site).unwrap(),
        "the second node learned the position"
    );
    // The position is mirrored into the database, where the outbox's pruning respects it.
    assert_eq!(
        store.setting(site, FULL_TEXT_POSITION_KEY).unwrap(),
        Some(json!(store.outbox_head(site).unwrap()))
    );
}

#[test]
fn a_rebuild_moves_the_alias_and_a_lost_or_outdated_index_is_rebuilt() {
    let cluster = FakeCluster::start();
    let (_dir, store) = store();
    let mut config = config(&cluster);
    config.credentials = Credentials::None;
    let site = "site";
    let engine = ElasticFullText::new(&config, site, "de", "node-a").unwrap();
    for i in 0..7 {
        add(&store, site, &format!("/p{i}"), &format!("Seite {i}"));
    }
    assert_eq!(engine.step(&store, site).unwrap(), 7);
    let mut heard = Vec::new();
    assert_eq!(engine.rebuild(&store, site, &mut |d, t| heard.push((d, t))).unwrap(), 7);
    assert_eq!(heard, [(7, 7)]);
    assert_eq!(
        cluster.indices(),
        ["cairn--leases", "cairn-site-2"],
        "the old index is gone"
    );
    assert_eq!(found(&engine, "Seite"), 7);

    // A cluster that lost its data is filled again on the next pass.
    cluster.wipe();
    assert_eq!(found(&engine, "Seite"), 0, "no index answers no hits, not an error");
    assert_eq!(engine.step(&store, site).unwrap(), 7);
    assert_eq!(found(&engine, "Seite"), 7);

    // An outbox pruned past the index's position: the changes between are
    // gone, so the index is built anew.
    add(&store, site, "/late", "Seite spät");
    let head = store.outbox_head(site).unwrap();
    store.put_setting(site, OUTBOX_PRUNED_KEY, &json!(head)).unwrap();
    let before = cluster.indices();
    assert_eq!(engine.step(&store, site).unwrap(), 8);
    assert_ne!(cluster.indices(), before, "a new generation");
    assert_eq!(found(&engine, "spät"), 1);

    // Another client's write made an index of the alias's name while the
    // alias was gone (a cluster creates indices on first write): the next
    // build replaces it.
    cluster.wipe();
    let client = Client::new(&cluster.url, &Credentials::None);
    let stray = client
        .send(
            "PUT",
            "/cairn-site/_doc/stray",
            Some(Body::Json(&json!({"title": "x"}))),
        )
        .unwrap();
    assert_eq!(stray.status, 201);
    assert_eq!(cluster.indices(), ["cairn-site"]);
    assert_eq!(engine.step(&store, site).unwrap(), 8);
    assert_eq!(cluster.indices(), ["cairn--leases", "cairn-site-1"]);
    assert_eq!(found(&engine, "Seite"), 8);
}

#[test]
fn index_names_stay_apart_and_valid() {
    let names = |prefix: &str, site: &str| index::Names::new(prefix, site).map(|n| n.alias);
    assert_eq!(names("cairn-", "Plone").unwrap(), "cairn-_50lone");
    // A site id with `-` cannot pass for another site's generation.
    assert_ne!(
        names("cairn-", "a-2").unwrap(),
        index::Names::new("cairn-", "a").unwrap().concrete(2)
    );
    assert_ne!(
        names("cairn-", "leases").unwrap(),
        index::Names::new("cairn-", "x").unwrap().leases
    );
    assert!(names("", "plone").is_err(), "an empty prefix could start a name with _");
    assert!(names("Cairn", "plone").is_err());
    assert!(names("_cairn", "plone").is_err());
    assert!(names("cairn-", &"x".repeat(240)).is_err(), "too long for an index name");
}

#[test]
fn a_busy_cluster_is_a_busy_error_and_the_next_pass_catches_up() {
    let cluster = FakeCluster::start_with(Some(KEY));
    let (_dir, store) = store();
    let site = "site";
    let engine = ElasticFullText::new(&config(&cluster), site, "de", "node-a").unwrap();
    add(&store, site, "/a", "Abstimmung");
    cluster.fail_next(1, 429);
    match engine.step(&store, site) {
        Err(IndexerError::Store(e)) => assert!(e.is_storage(StorageKind::Busy), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(engine.step(&store, site).unwrap(), 1);
    assert_eq!(found(&engine, "Abstimmung"), 1);

    // A search the cluster refuses is a busy error too, never an empty answer.
    cluster.fail_next(1, 503);
    let q = parse("Abstimmung").unwrap().unwrap();
    assert!(engine.search(&q, 10).unwrap_err().is_storage(StorageKind::Busy));

    // Wrong credentials are a fault, not worth a retry.
    let mut wrong = config(&cluster);
    wrong.credentials = Credentials::ApiKey("wrong".into());
    let stranger = ElasticFullText::new(&wrong, site, "de", "node-b").unwrap();
    match stranger.step(&store, site) {
        Err(IndexerError::Store(e)) => {
            assert!(e.is_storage(StorageKind::Other));
            assert!(e.to_string().contains("security_exception"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_older_text_never_replaces_a_newer_one() {
    let cluster = FakeCluster::start();
    let client = Client::new(&cluster.url, &Credentials::None);
    let names = index::Names::new("t-", "s").unwrap();
    let concrete = index::create(&client, &names, 1).unwrap();
    index::swap(&client, &names, None, &concrete).unwrap();
    let write = |version: i64, title: &str| {
        let lines = format!(
            "{}\n{}\n",
            json!({"index": {"_id": "u1", "version": version, "version_type": "external_gte"}}),
            json!({"uid": "u1", "lang": "de", "title_de": title})
        );
        client
            .expect(
                "POST",
                "/t-s/_bulk?refresh=wait_for&require_alias=true",
                Some(Body::Ndjson(&lines)),
                &[],
            )
            .unwrap()
            .body
    };
    assert_eq!(write(5, "neu")["errors"], json!(false));
    let late = write(3, "alt");
    assert_eq!(late["errors"], json!(true));
    assert_eq!(late["items"][0]["index"]["status"], json!(409));
    assert_eq!(
        write(5, "neu, nochmals")["errors"],
        json!(false),
        "the same position may replay"
    );
    let doc = client.expect("GET", "/t-s/_doc/u1", None, &[]).unwrap().body;
    assert_eq!(doc["_source"]["title_de"], json!("neu, nochmals"));
}

#[test]
fn the_fake_refuses_what_the_cluster_refuses() {
    let cluster = FakeCluster::start();
    let client = Client::new(&cluster.url, &Credentials::None);
    let names = index::Names::new("t-", "s").unwrap();
    let concrete = index::create(&client, &names, 1).unwrap();
    index::swap(&client, &names, None, &concrete).unwrap();
    // A delete of an absent object with an external version is fine.
    let deletes = format!(
        "{}\n",
        json!({"delete": {"_id": "nobody", "version": 2, "version_type": "external_gte"}})
    );
    let answer = client
        .expect(
            "POST",
            "/t-s/_bulk?require_alias=true",
            Some(Body::Ndjson(&deletes)),
            &[],
        )
        .unwrap();
    assert_eq!(answer.body["items"][0]["delete"]["result"], json!("not_found"));
    let refused = |method: &str, path: &str, body: Option<Body<'_>>| {
        let answer = client.send(method, path, body).unwrap();
        assert!(answer.status >= 400, "{method} {path} was accepted");
        (
            answer.status,
            answer.body["error"]["type"].as_str().unwrap_or_default().to_string(),
        )
    };
    let line = format!("{}\n{}", json!({"index": {"_id": "x"}}), json!({"uid": "x"}));
    assert_eq!(
        refused("POST", "/t-s/_bulk", Some(Body::Ndjson(&line))),
        (400, "illegal_argument_exception".into()),
        "a bulk ends with a newline"
    );
    assert_eq!(refused("POST", "/t-s/_search?q=x", None).0, 400, "unknown parameters");
    let sort = json!({"sort": [{"title_de": "asc"}]});
    assert_eq!(
        refused("POST", "/t-s/_search", Some(Body::Json(&sort))),
        (400, "search_phase_execution_exception".into()),
        "no sorting on text"
    );
    let window = json!({"size": 10_001});
    assert_eq!(
        refused("POST", "/t-s/_search", Some(Body::Json(&window))).0,
        400,
        "the result window"
    );
    let unknown = json!({"query": {"fuzzy_thing": {}}});
    assert_eq!(
        refused("POST", "/t-s/_search", Some(Body::Json(&unknown))),
        (400, "parsing_exception".into())
    );
    let strict = json!({"uid": "x", "colour": "red"});
    assert_eq!(
        refused("PUT", "/t-s/_doc/x", Some(Body::Json(&strict))),
        (400, "strict_dynamic_mapping_exception".into())
    );
    assert_eq!(
        refused(
            "PUT",
            "/t-other/_doc/x?require_alias=true",
            Some(Body::Json(&json!({})))
        ),
        (404, "index_not_found_exception".into()),
        "a write that requires an alias never creates an index"
    );
    assert_eq!(
        refused("DELETE", "/t-s", None).0,
        400,
        "an alias is not deleted as an index"
    );
    assert_eq!(
        refused("POST", "/t-s/_refresh", Some(Body::Json(&json!({})))),
        (400, "illegal_argument_exception".into()),
        "no body where none is read"
    );
    assert_eq!(client.send("POST", "/t-s/_refresh", None).unwrap().status, 200);
    let mut gc = index::definition();
    gc["settings"]["index.gc_delete"] = json!("1h");
    assert_eq!(
        refused("PUT", "/t-new", Some(Body::Json(&gc))),
        (400, "illegal_argument_exception".into()),
        "an unknown setting"
    );
    assert_eq!(
        refused("PUT", &format!("/{concrete}"), Some(Body::Json(&index::definition()))),
        (400, "resource_already_exists_exception".into())
    );
    let versioned = json!({"uid": "x"});
    assert_eq!(
        refused("PUT", "/t-s/_doc/x?version=3", Some(Body::Json(&versioned))).0,
        400,
        "internal versions are not for concurrency control"
    );
    // A search that only excludes would match everything: the adapter never sends one.
    let q = cairn_elastic::query::search_body(&parse("Steuern").unwrap().unwrap(), 10);
    let ok = client
        .expect("POST", "/t-s/_search", Some(Body::Json(&q)), &[])
        .unwrap();
    assert_eq!(ok.body["hits"]["hits"], json!([]));
}
