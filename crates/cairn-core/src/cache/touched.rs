//! What a write batch changes, as the caches need to know it: exact paths
//! (including paths where nothing was before), UIDs whose stored row
//! changed wherever it is cached, and whole subtrees.

use cairn_model::Uid;

use crate::ports::{WriteBatch, WriteOp};

/// The objects a batch touches.
#[derive(Debug, Default, PartialEq)]
pub struct Touched {
    /// Paths whose cached answer (object or absence) may be wrong now.
    pub paths: Vec<String>,
    /// Objects whose row changed: their cached copies, at any path, are stale.
    pub uids: Vec<Uid>,
    /// Paths whose whole subtree changed (deleted, or renamed from or to):
    /// the descendants are not listed in the batch.
    pub subtrees: Vec<String>,
}

impl Touched {
    /// Everything `batch` may change.
    pub fn of(batch: &WriteBatch) -> Self {
        let mut t = Self::default();
        for op in &batch.ops {
            match op {
                WriteOp::Insert(c) | WriteOp::Update { content: c, .. } => {
                    // An update may give the object a new path (a paste):
                    // the old one is found through the UID.
                    t.paths.push(c.path.as_str().to_string());
                    t.uids.push(c.uid.clone());
                }
                WriteOp::DeleteSubtree(p) => t.subtrees.push(p.as_str().to_string()),
                WriteOp::MoveToTrash(e) => t.subtrees.push(e.path.as_str().to_string()),
                WriteOp::Move { from, to } => {
                    t.subtrees.push(from.as_str().to_string());
                    t.subtrees.push(to.as_str().to_string());
                }
                WriteOp::Reposition(moves) => t.uids.extend(moves.iter().map(|(u, _)| u.clone())),
                // Redirects and kept versions are not cached.
                WriteOp::AddRedirect(_)
                | WriteOp::RemoveRedirect(_)
                | WriteOp::RetargetRedirects { .. }
                | WriteOp::AddVersion(_)
                | WriteOp::RemoveTrash(_)
                | WriteOp::KeepTrash(_)
                | WriteOp::SetLinks { .. }
                | WriteOp::PutSetting { .. }
                | WriteOp::ForgetVersions(_) => {}
            }
        }
        // The events name what changed too; a batch is never narrower than them.
        for e in &batch.events {
            t.paths.push(e.path.as_str().to_string());
            t.uids.push(e.uid.clone());
        }
        t.paths.sort();
        t.paths.dedup();
        t.uids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        t.uids.dedup();
        t
    }

    /// Whether `path` lies in (or is the root of) one of the touched subtrees.
    pub fn in_subtree(subtrees: &[String], path: &str) -> bool {
        subtrees
            .iter()
            .any(|s| path == s || path.strip_prefix(s.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }
}

#[cfg(test)]
mod tests {
    use cairn_model::ContentPath;

    use super::*;
    use crate::ports::ChangeEvent;

    fn path(p: &str) -> ContentPath {
        ContentPath::parse(p).unwrap()
    }

    #[test]
    fn moves_and_deletes_touch_subtrees_and_reorders_touch_uids() {
        let (a, b) = (Uid::new(), Uid::new());
        let batch = WriteBatch {
            ops: vec![
                WriteOp::Move {
                    from: path("/a"),
                    to: path("/b"),
                },
                WriteOp::DeleteSubtree(path("/c")),
                WriteOp::Reposition(vec![(a.clone(), 1)]),
            ],
            events: vec![ChangeEvent {
                kind: "moved",
                uid: b.clone(),
                path: path("/b"),
            }],
            ..Default::default()
        };
        let t = Touched::of(&batch);
        assert_eq!(t.subtrees, ["/a", "/b", "/c"]);
        assert_eq!(t.paths, ["/b"]);
        assert_eq!(t.uids.len(), 2);
        assert!(t.uids.contains(&a) && t.uids.contains(&b));
    }

    #[test]
    fn a_subtree_holds_its_root_and_descendants_only() {
        let s = ["/a".to_string()];
        assert!(Touched::in_subtree(&s, "/a"));
        assert!(Touched::in_subtree(&s, "/a/b"));
        assert!(!Touched::in_subtree(&s, "/ab"));
        assert!(!Touched::in_subtree(&s, "/b"));
        // The site root's subtree is the whole site.
        assert!(Touched::in_subtree(&[String::new()], "/x/y"));
    }
}
