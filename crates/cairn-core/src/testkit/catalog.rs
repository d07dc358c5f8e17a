//! The catalog query translation against a reference evaluator: random trees
//! and random structured queries, evaluated in memory and by the store, must
//! select the same objects in the same order, also when full-text hits (a
//! ranked list of UIDs) restrict and order them, and on any page.

use cairn_model::{ContentPath, Uid};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::catalog::{CatalogQuery, DateIndex, SortOn};
use crate::content::Content;
use crate::ports::{ContentStore, ViewFilter};

const TYPES: [&str; 3] = ["Document", "Folder", "News Item"];
const STATES: [&str; 3] = ["private", "pending", "published"];
const SUBJECTS: [&str; 4] = ["Steuern", "Bildung", "Verkehr", "Umwelt"];
const PRINCIPALS: [&str; 4] = ["Anonymous", "Editor", "user:jane", "Manager"];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

fn some_of(rng: &mut StdRng, from: &[&str]) -> Vec<String> {
    from.iter()
        .filter(|_| rng.random_bool(0.4))
        .map(|s| s.to_string())
        .collect()
}

/// A random tree of about 80 objects under a few roots.
fn tree(rng: &mut StdRng) -> Vec<Content> {
    let mut out: Vec<Content> = Vec::new();
    for i in 0..80 {
        let parent = if out.is_empty() || rng.random_bool(0.3) {
            ContentPath::root()
        } else {
            let folders: Vec<&Content> = out.iter().filter(|c| c.is_folderish).collect();
            if folders.is_empty() {
                ContentPath::root()
            } else {
                folders[rng.random_range(0..folders.len())].path.clone()
            }
        };
        let ty = pick(rng, &TYPES);
        let day = rng.random_range(1..28);
        let now = jiff::Timestamp::now();
        let mut allowed: Vec<String> = some_of(rng, &PRINCIPALS);
        allowed.push("Manager".into());
        out.push(Content {
            uid: Uid::new(),
            path: ContentPath::parse(&format!("{parent}/o{i}")).unwrap(),
            parent: None,
            position: rng.random_range(0..50),
            portal_type: ty.into(),
            review_state: Some(pick(rng, &STATES).into()),
            is_folderish: ty == "Folder",
            created: now,
            modified: now,
            version: 1,
            layout: None,
            fields: {
                let mut fields = json!({
                    "title": format!("Titel {}", rng.random_range(0..100)),
                    "subjects": some_of(rng, &SUBJECTS),
                    "effective": format!("2026-03-{day:02}T10:00:00+00:00"),
                    "exclude_from_nav": rng.random_bool(0.2),
                })
                .as_object()
                .unwrap()
                .clone();
                // Some never published: an empty date sorts before every other.
                if rng.random_bool(0.2) {
                    fields.remove("effective");
                }
                fields
            },
            allowed,
        });
    }
    out
}

fn query(rng: &mut StdRng, objects: &[Content]) -> CatalogQuery {
    let mut q = CatalogQuery {
        limit: 1000,
        light: rng.random_bool(0.5),
        ..Default::default()
    };
    if rng.random_bool(0.5) {
        let roots: Vec<&Content> = objects.iter().filter(|c| c.is_folderish).collect();
        if !roots.is_empty() {
            q.paths.push(roots[rng.random_range(0..roots.len())].path.clone());
            q.depth = match rng.random_range(0..3) {
                0 => None,
                n => Some(n),
            };
        }
    }
    if rng.random_bool(0.4) {
        q.portal_types = some_of(rng, &TYPES);
    }
    if rng.random_bool(0.4) {
        q.review_states = some_of(rng, &STATES);
    }
    if rng.random_bool(0.3) {
        q.not_review_states = some_of(rng, &STATES);
    }
    if rng.random_bool(0.4) {
        q.subjects = some_of(rng, &SUBJECTS);
        q.subjects_all = rng.random_bool(0.5);
    }
    if rng.random_bool(0.3) {
        q.exclude_from_nav = Some(rng.random_bool(0.5));
    }
    if rng.random_bool(0.3) {
        let day = rng.random_range(1..28);
        q.date_ranges.push((
            DateIndex::Effective,
            Some(format!("2026-03-{day:02}T00:00:00+00:00")),
            None,
        ));
    }
    q.sort = vec![(
        if rng.random_bool(0.5) {
            SortOn::Effective
        } else {
            SortOn::Position
        },
        rng.random_bool(0.5),
    )];
    if rng.random_bool(0.4) {
        // Full-text hits as the engine would rank them: some objects, in any order.
        let mut ranked: Vec<String> = objects
            .iter()
            .filter(|_| rng.random_bool(0.5))
            .map(|c| c.uid.to_string())
            .collect();
        ranked.shuffle(rng);
        q.ranked = Some(ranked);
        if rng.random_bool(0.6) {
            q.sort.clear();
        }
    }
    if rng.random_bool(0.3) {
        q.start = rng.random_range(0..6);
        q.limit = rng.random_range(1..8);
    }
    q
}

/// The reference: the query's meaning written directly over the objects.
fn evaluate(objects: &[Content], q: &CatalogQuery, filter: &ViewFilter) -> Vec<String> {
    let matches = |c: &Content| {
        let in_path = q.paths.is_empty()
            || q.paths.iter().any(|root| match q.depth {
                None => c.path.starts_with(root),
                Some(0) => &c.path == root,
                Some(1) => c.path.parent().as_ref() == Some(root),
                Some(n) => c.path.starts_with(root) && c.path.depth() <= root.depth() + n,
            });
        let state = c.review_state.clone().unwrap_or_default();
        let subjects = c.strings("subjects");
        let has_subject = |s: &String| subjects.contains(s);
        in_path
            && (q.portal_types.is_empty() || q.portal_types.contains(&c.portal_type))
            && (q.review_states.is_empty() || q.review_states.contains(&state))
            && !q.not_review_states.contains(&state)
            && (q.subjects.is_empty()
                || if q.subjects_all {
                    q.subjects.iter().all(has_subject)
                } else {
                    q.subjects.iter().any(has_subject)
                })
            && q.exclude_from_nav.is_none_or(|b| c.bool_field("exclude_from_nav") == b)
            && q.date_ranges
                .iter()
                .all(|(_, min, _)| min.as_deref().is_none_or(|m| c.str_field("effective") >= m))
            && q.ranked.as_ref().is_none_or(|r| r.contains(&c.uid.to_string()))
            && filter.allows(c)
    };
    let mut found: Vec<&Content> = objects.iter().filter(|c| matches(c)).collect();
    // Sort as the store does: the keys, then the path as a tie-breaker.
    if let (Some(ranked), true) = (&q.ranked, q.sort.is_empty()) {
        let rank = |c: &Content| ranked.iter().position(|u| *u == c.uid.to_string());
        found.sort_by_key(|c| rank(c));
        return found.iter().map(|c| c.uid.to_string()).collect();
    }
    found.sort_by(|a, b| {
        let (key, desc) = q.sort[0];
        let ord = match key {
            SortOn::Effective => a.str_field("effective").cmp(b.str_field("effective")),
            _ => a.position.cmp(&b.position),
        };
        (if desc { ord.reverse() } else { ord }).then(a.path.cmp(&b.path))
    });
    found.iter().map(|c| c.uid.to_string()).collect()
}

/// Random catalog queries against the reference evaluator, on fresh sites.
pub fn catalog(store: &dyn ContentStore) {
    for seed in 0..12u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let site = format!("model-{seed}");
        let objects = tree(&mut rng);
        for c in &objects {
            store.write(&site, super::content::insert(c)).unwrap();
        }
        for _ in 0..40 {
            let q = query(&mut rng, &objects);
            let filter = match rng.random_range(0..3) {
                0 => ViewFilter::unrestricted(),
                _ => ViewFilter {
                    principals: Some(some_of(&mut rng, &PRINCIPALS)),
                    active_at: None,
                },
            };
            let want = evaluate(&objects, &q, &filter);
            let (got, total) = store.search(&site, &q, &filter).unwrap();
            let got: Vec<String> = got.iter().map(|c| c.uid.to_string()).collect();
            assert_eq!(
                total,
                want.len(),
                "seed {seed}: totals differ for {q:?} with {filter:?}"
            );
            let page: Vec<String> = want.iter().skip(q.start).take(q.limit).cloned().collect();
            assert_eq!(got, page, "seed {seed}: results differ for {q:?}");
        }
    }
}
