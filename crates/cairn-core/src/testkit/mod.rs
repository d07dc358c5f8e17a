//! Contract suites for the ports: each adapter (SQLite, PostgreSQL) runs
//! the same checks against a fresh, empty store, so the core can rely on
//! one behaviour whatever database it talks to. A failed check panics with
//! what was expected.

mod catalog;
mod content;

pub use catalog::catalog;
pub use content::content;

/// A folderish page at `path` that the `allowed` principals may view,
/// for an adapter's own tests.
pub fn object(path: &str, position: i64, allowed: &[&str]) -> crate::content::Content {
    content::obj(path, position, allowed)
}

/// A public folderish page at `path`.
pub fn page(path: &str) -> crate::content::Content {
    object(path, 0, &["Anonymous"])
}

/// The batch that inserts `c` (with its change event).
pub fn inserting(c: &crate::content::Content) -> crate::ports::WriteBatch {
    content::insert(c)
}

use crate::jobs::{JobFilter, JobState, JobStore, NewJob, Outcome, Priority, Schedule, now_ms};
use crate::ports::{GroupRecord, PrincipalQuery, PrincipalStore, UserRecord};

fn user(id: &str, fullname: &str, email: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        password_hash: format!("hash-of-{id}"),
        fullname: fullname.into(),
        email: email.into(),
        roles: vec!["Member".into()],
        props: serde_json::json!({"location": "Bern"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

fn ids(users: &[UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

fn query(text: Option<&str>, id: Option<&str>, groups: &[&str]) -> PrincipalQuery {
    PrincipalQuery {
        text: text.map(str::to_string),
        id_contains: id.map(str::to_string),
        in_groups: groups.iter().map(|g| g.to_string()).collect(),
        start: 0,
        limit: 100,
    }
}

/// Users, groups and memberships: what `PrincipalStore` promises.
pub fn principals(s: &dyn PrincipalStore) {
    let site = "contract";
    let g0 = s.principals_generation();
    s.put_user(site, &user("anna", "Anna Muster", "anna@example.ch"))
        .unwrap();
    assert!(s.principals_generation() > g0, "a change grows the generation");
    s.put_user(site, &user("ben_x", "Ben Beispiel", "ben@example.ch"))
        .unwrap();
    s.put_user(site, &user("benno", "Benno Test", "b@test.org")).unwrap();
    s.put_user("other-site", &user("anna", "Other Anna", "x@y.ch")).unwrap();

    let anna = s.user(site, "anna").unwrap().expect("anna is stored");
    assert_eq!(anna.fullname, "Anna Muster");
    assert_eq!(anna.roles, ["Member"]);
    assert_eq!(anna.props["location"], "Bern");
    assert!(s.user(site, "nobody").unwrap().is_none());
    // A put replaces the whole record.
    let mut changed = anna.clone();
    changed.fullname = "Anna Neu".into();
    changed.roles = vec!["Editor".into(), "Member".into()];
    s.put_user(site, &changed).unwrap();
    let anna = s.user(site, "anna").unwrap().unwrap();
    assert_eq!((anna.fullname.as_str(), anna.roles.len()), ("Anna Neu", 2));

    // Searching: text over id, full name and address, case-insensitively;
    // LIKE's wildcards are plain characters.
    let all = s.find_users(site, &query(None, None, &[])).unwrap();
    assert_eq!(ids(&all), ["anna", "ben_x", "benno"], "by id, one site only");
    assert_eq!(
        ids(&s.find_users(site, &query(Some("BEISPIEL"), None, &[])).unwrap()),
        ["ben_x"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(Some("test.org"), None, &[])).unwrap()),
        ["benno"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(None, Some("n_"), &[])).unwrap()),
        ["ben_x"]
    );
    assert_eq!(
        ids(&s.find_users(site, &query(Some("%"), None, &[])).unwrap()),
        Vec::<&str>::new()
    );
    assert_eq!(s.count_users(site, &query(Some("ben"), None, &[])).unwrap(), 2);
    // By address: exact and case-insensitive, never a substring.
    let by_address = s.users_by_email(site, "BEN@example.ch", 5).unwrap();
    assert_eq!(ids(&by_address), ["ben_x"]);
    assert!(s.users_by_email(site, "example.ch", 5).unwrap().is_empty());
    let page = PrincipalQuery {
        start: 1,
        limit: 1,
        ..query(None, None, &[])
    };
    assert_eq!(ids(&s.find_users(site, &page).unwrap()), ["ben_x"]);
    assert_eq!(s.count_users(site, &page).unwrap(), 3, "a count ignores the page");

    // Groups and memberships; groups nest.
    let group = GroupRecord {
        id: "redaktion".into(),
        title: "Redaktion".into(),
        description: "Die Redaktion".into(),
        email: "red@example.ch".into(),
        roles: vec!["Editor".into()],
    };
    s.put_group(site, &group).unwrap();
    s.put_group(
        site,
        &GroupRecord {
            id: "alle".into(),
            title: "Alle".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.group(site, "redaktion").unwrap().unwrap().roles, ["Editor"]);
    let titled = PrincipalQuery {
        text: Some("redak".into()),
        ..query(None, None, &[])
    };
    assert_eq!(s.find_groups(site, &titled).unwrap().len(), 1);
    assert_eq!(s.find_groups(site, &query(None, None, &[])).unwrap().len(), 2);
    s.set_member(site, "redaktion", "anna", true).unwrap();
    s.set_member(site, "redaktion", "anna", true).unwrap();
    s.set_member(site, "redaktion", "benno", true).unwrap();
    s.set_member(site, "alle", "redaktion", true).unwrap();
    assert_eq!(
        s.members(site, "redaktion").unwrap(),
        ["anna", "benno"],
        "once each, sorted"
    );
    assert_eq!(s.groups_of(site, "redaktion").unwrap(), ["alle"]);
    assert_eq!(
        ids(&s.find_users(site, &query(None, None, &["redaktion"])).unwrap()),
        ["anna", "benno"]
    );
    s.set_member(site, "redaktion", "benno", false).unwrap();
    assert_eq!(s.members(site, "redaktion").unwrap(), ["anna"]);

    // Deleting takes the memberships along, both ways for a group.
    assert!(s.delete_user(site, "anna").unwrap());
    assert!(!s.delete_user(site, "anna").unwrap(), "gone already");
    assert!(s.members(site, "redaktion").unwrap().is_empty());
    assert!(s.delete_group(site, "redaktion").unwrap());
    assert!(s.groups_of(site, "redaktion").unwrap().is_empty());
    assert!(s.members(site, "alle").unwrap().is_empty());
    assert!(s.user("other-site", "anna").unwrap().is_some(), "other sites untouched");
}

/// The job queue: order, deduplication, leases, cancellation, retries,
/// schedules, merging and consumer positions; what `JobStore` promises.
/// `s` is a fresh store; it may be shared with other threads.
pub fn jobs(s: &(dyn JobStore + Sync)) {
    use serde_json::json;
    let now = now_ms();
    let claim = |at: i64| s.claim(&["t"], at, at + 60_000).unwrap();
    let page = JobFilter {
        limit: 100,
        ..Default::default()
    };

    // The most important due job first; one not yet due waits.
    s.enqueue(
        "x",
        &[
            NewJob::new("t", json!("low")).priority(Priority::Low),
            NewJob::new("t", json!("normal")),
            NewJob::new("t", json!("later"))
                .priority(Priority::Important)
                .at(now + 60_000),
            NewJob::new("t", json!("important")).priority(Priority::Important),
            NewJob::new("other", json!("not mine")).priority(Priority::Important),
        ],
    )
    .unwrap();
    let order: Vec<_> = std::iter::from_fn(|| claim(now + 1000).map(|j| j.args)).collect();
    assert_eq!(order, [json!("important"), json!("normal"), json!("low")]);
    assert_eq!(s.next_due(&["t"]).unwrap(), Some(now + 60_000));
    let later = claim(now + 60_000).unwrap();
    assert_eq!(later.args, json!("later"));
    assert_eq!(later.attempts, 1);
    s.finish(later.id, later.attempts, now, Outcome::Done(json!({"ok": true})))
        .unwrap();
    let done = s.job("x", later.id).unwrap().unwrap();
    assert_eq!((done.state, done.result), (JobState::Done, Some(json!({"ok": true}))));
    assert!(
        s.job("other-site", later.id).unwrap().is_none(),
        "jobs belong to their site"
    );

    // One waiting job per key; once it runs, the same work may be asked again.
    let keyed = || NewJob::new("k", json!(1)).dedupe("key");
    s.enqueue("d", &[keyed(), keyed()]).unwrap();
    s.enqueue("d", &[keyed()]).unwrap();
    assert_eq!(s.jobs("d", &page).unwrap().1, 1);
    let running = s.claim(&["k"], now_ms(), now_ms() + 60_000).unwrap().unwrap();
    s.enqueue("d", &[keyed()]).unwrap();
    assert_eq!(s.jobs("d", &page).unwrap().1, 2);
    // Put back for a retry, it takes the place of its waiting twin.
    s.finish(
        running.id,
        running.attempts,
        now_ms(),
        Outcome::Retry {
            at: now_ms(),
            error: "again".into(),
        },
    )
    .unwrap();
    let (waiting, total) = s.jobs("d", &page).unwrap();
    assert_eq!((waiting[0].id, total), (running.id, 1));

    // A job whose worker died is taken again until its attempts run out.
    s.enqueue("l", &[NewJob::new("lease", json!(1)).attempts(2)]).unwrap();
    let t0 = now_ms();
    let first = s.claim(&["lease"], t0, t0 + 1000).unwrap().unwrap();
    assert!(s.claim(&["lease"], t0 + 500, t0 + 1500).unwrap().is_none(), "leased");
    let again = s.claim(&["lease"], t0 + 2000, t0 + 3000).unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 2));
    // The first worker, ending late, changes nothing: the job is the
    // second claim's now.
    s.finish(first.id, first.attempts, t0 + 2500, Outcome::Done(json!("late")))
        .unwrap();
    let held = s.job("l", first.id).unwrap().unwrap();
    assert_eq!((held.state, held.result), (JobState::Running, None), "a stale claim");
    assert!(s.claim(&["lease"], t0 + 4000, t0 + 5000).unwrap().is_none());
    let dead = s.job("l", first.id).unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.error.unwrap().contains("stopped"));
    // A dead job is queued again with fresh attempts, once.
    assert!(s.retry("l", first.id, t0).unwrap());
    assert!(!s.retry("l", first.id, t0).unwrap());
    assert_eq!(s.job("l", first.id).unwrap().unwrap().attempts, 0);

    // Cancelled while it runs, it stays cancelled.
    s.enqueue("c", &[NewJob::new("cancel", json!(1))]).unwrap();
    let j = s.claim(&["cancel"], now_ms(), now_ms() + 60_000).unwrap().unwrap();
    assert!(s.cancel("c", j.id, now_ms()).unwrap());
    s.finish(j.id, j.attempts, now_ms(), Outcome::Done(json!("late")))
        .unwrap();
    let j = s.job("c", j.id).unwrap().unwrap();
    assert_eq!((j.state, j.result), (JobState::Cancelled, None));
    assert!(!s.cancel("c", j.id, now_ms()).unwrap(), "cancelled once");
    assert!(!s.cancel("other-site", j.id, now_ms()).unwrap());

    // A schedule fires once per due time; a restart keeps a missed run.
    let schedule = |next_run| Schedule {
        site: "x".into(),
        name: "tick".into(),
        cron: "0 * * * * *".into(),
        kind: "tick".into(),
        args: json!({}),
        priority: Priority::Normal,
        next_run,
        last_run: None,
    };
    s.put_schedule(&schedule(now - 1)).unwrap();
    s.put_schedule(&schedule(now + 60_000)).unwrap();
    assert_eq!(s.fire_schedules(now, &|_| Some(now + 60_000)).unwrap(), 1);
    assert_eq!(s.fire_schedules(now, &|_| Some(now + 60_000)).unwrap(), 0);
    let stored = &s.schedules("x").unwrap()[0];
    assert_eq!((stored.next_run, stored.last_run), (now + 60_000, Some(now)));
    let fired = s.claim(&["tick"], now, now + 1000).unwrap().unwrap();
    assert_eq!(fired.schedule.as_deref(), Some("tick"));

    // A running job takes over the waiting ones of its kind.
    s.enqueue("m", &[NewJob::new("merge", json!(1))]).unwrap();
    let into = s.claim(&["merge"], now_ms(), now_ms() + 60_000).unwrap().unwrap();
    s.enqueue("m", &[NewJob::new("merge", json!(2)), NewJob::new("merge", json!(3))])
        .unwrap();
    let mut taken = s.absorb("m", "merge", into.id, now_ms()).unwrap();
    taken.sort_by_key(|v| v.as_i64());
    assert_eq!(taken, [json!(2), json!(3)]);
    s.set_args(into.id, &json!([1, 2, 3])).unwrap();
    assert_eq!(s.job("m", into.id).unwrap().unwrap().args, json!([1, 2, 3]));
    let counts = s.counts("m", now_ms()).unwrap();
    let done = counts.iter().find(|c| c.state == JobState::Done).map(|c| c.count);
    assert_eq!(done, Some(2), "{counts:?}");

    // Consumer positions move only from where they were.
    assert_eq!(s.consumer_position("x", "indexer").unwrap(), 0);
    assert!(
        s.advance("x", "indexer", 0, 5, &[NewJob::new("after", json!(5))])
            .unwrap()
    );
    assert!(
        !s.advance("x", "indexer", 0, 9, &[NewJob::new("after", json!(9))])
            .unwrap()
    );
    assert_eq!(s.consumer_position("x", "indexer").unwrap(), 5);
    let after: Vec<_> = std::iter::from_fn(|| s.claim(&["after"], now_ms(), now_ms() + 1000).unwrap())
        .map(|j| j.args)
        .collect();
    assert_eq!(after, [json!(5)], "the refused advance enqueued nothing");

    // Finished jobs are pruned once old enough.
    assert!(s.prune_jobs(now_ms() + 1).unwrap() >= 3);
    assert!(s.job("c", j.id).unwrap().is_none());

    // Claimers on several threads never get the same job.
    let many: Vec<NewJob> = (0..40).map(|i| NewJob::new("race", json!(i))).collect();
    s.enqueue("r", &many).unwrap();
    let got = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some(j) = s.claim(&["race"], now_ms(), now_ms() + 60_000).unwrap() {
                    got.lock().unwrap().push(j.id);
                }
            });
        }
    });
    let mut ids = got.into_inner().unwrap();
    ids.sort_unstable();
    let claimed = ids.len();
    ids.dedup();
    assert_eq!((claimed, ids.len()), (40, 40), "each job once");
}

/// What a database queue promises a queue that takes its jobs over:
/// every queued job, due or not, oldest first, until it is forgotten. `s`
/// is a fresh store.
pub fn hand_over(s: &dyn crate::jobs::DatabaseJobs) {
    use serde_json::json;
    let now = now_ms();
    s.enqueue(
        "x",
        &[
            NewJob::new("mail", json!(1)),
            NewJob::new("publish", json!(2)).at(now + 3_600_000),
        ],
    )
    .unwrap();
    s.enqueue("y", &[NewJob::new("mail", json!(3))]).unwrap();
    let running = s.claim(&["mail"], now, now + 60_000).unwrap().unwrap();
    let waiting = s.waiting(10).unwrap();
    let args: Vec<_> = waiting.iter().map(|j| j.args.clone()).collect();
    assert_eq!(args, [json!(2), json!(3)], "queued ones only, due or not, oldest first");
    assert_eq!(s.waiting(1).unwrap().len(), 1, "at most the limit");
    s.forget(&[waiting[0].id]).unwrap();
    assert!(s.job("x", waiting[0].id).unwrap().is_none(), "forgotten");
    assert_eq!(s.waiting(10).unwrap().len(), 1);
    s.forget(&[]).unwrap();
    assert!(s.job("x", running.id).unwrap().is_some(), "the rest untouched");
}

/// Content-addressed blobs: what `BlobStore` promises. `s` is a fresh store.
pub fn blobs(s: &dyn crate::ports::BlobStore) {
    use crate::ports::BlobKind;
    use std::io::Read;
    let bytes = b"%PDF-1.4 a small file".to_vec();
    let first = s.put(&bytes).unwrap();
    assert!(first.created, "new bytes are stored");
    assert!(crate::blobs::is_key(&first.key), "the key is the SHA-256 digest");
    let again = s.put(&bytes).unwrap();
    assert_eq!(
        (again.key.as_str(), again.created),
        (first.key.as_str(), false),
        "the same bytes once"
    );
    assert!(s.exists(&first.key).unwrap());
    assert_eq!(s.get(&first.key).unwrap().as_deref(), Some(&bytes[..]));
    let mut opened = s.open(&first.key).unwrap().expect("opens");
    assert_eq!(opened.len, bytes.len() as u64);
    let mut read = Vec::new();
    opened.file.read_to_end(&mut read).unwrap();
    assert_eq!(read, bytes);
    let missing = "0".repeat(64);
    assert!(!s.exists(&missing).unwrap());
    assert!(s.get(&missing).unwrap().is_none() && s.open(&missing).unwrap().is_none());
    // Names that are not keys never reach the store.
    for bad in ["../etc/passwd", "abc", ""] {
        assert!(!s.exists(bad).unwrap() && s.get(bad).unwrap().is_none(), "{bad}");
    }
    let scale = format!("{}-128x128", first.key);
    s.put_derived(&scale, b"scaled").unwrap();
    assert_eq!(s.get_derived(&scale).unwrap().as_deref(), Some(&b"scaled"[..]));
    assert!(s.put_derived("../escape", b"x").is_err());
    assert!(s.get_derived("../escape").unwrap().is_none());
    let entries = s.entries().unwrap();
    let has = |kind: BlobKind, name: &str| entries.iter().any(|e| e.kind == kind && e.name == name);
    assert!(has(BlobKind::Original, &first.key), "{entries:?}");
    assert!(has(BlobKind::Derived, &scale), "{entries:?}");
    assert_eq!(entries.len(), 2, "{entries:?}");
    let young = entries.iter().all(|e| {
        e.modified
            .elapsed()
            .map_or(true, |age| age < std::time::Duration::from_secs(600))
    });
    assert!(young, "entries carry when they were written");
    s.remove(&BlobKind::Original, &first.key).unwrap();
    s.remove(&BlobKind::Original, &first.key).unwrap();
    s.remove(&BlobKind::Derived, &scale).unwrap();
    assert!(!s.exists(&first.key).unwrap() && s.get_derived(&scale).unwrap().is_none());
    assert!(s.entries().unwrap().is_empty());
    assert!(s.remove(&BlobKind::Original, "../x").is_err());
}
