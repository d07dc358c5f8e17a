//! Bulk loading: many new objects in few transactions, for imports and the
//! benchmark's generator.
//!
//! Every object passes the checks of a single create (type, container,
//! permission to add, field validation, a free id, view permissions, the
//! initial version), and an optional workflow transition is fired in memory
//! before it is stored, so a published object is written once, not twice.
//! What a single create pays per object (reading the container and its
//! ancestors, asking the store for the next position, one transaction and
//! its sync) is paid here once per container and once per batch.
//!
//! Objects are written in batches of up to `batch_size`. A batch is also
//! written before anything is added inside a container that is still in it,
//! so containers are always read from the store, with the same rules as
//! everywhere else. The loader is meant for a site nobody else writes to
//! meanwhile (an import, a generator): a batch that meets a concurrent write
//! at the same path fails whole, like any other transaction.

use std::collections::{HashMap, HashSet};

use cairn_model::{ContentId, ContentPath};
use serde_json::{Map, Value};

use super::create::{Draft, choose_id};
use super::read::{Taken, get_visible};
use super::workflow::fire_on_new;
use crate::blobs::Pending;
use crate::error::CoreResult;
use crate::ports::WriteBatch;
use crate::security::{LocalRoles, Principal, allowed_to_view, chain, effective, effective_on_chain};
use crate::{Content, Site};

/// Writes new objects in batches; call [`Loader::finish`] to write the last.
pub struct Loader<'s> {
    site: &'s Site,
    who: Principal,
    batch_size: usize,
    batch: WriteBatch,
    /// The uploads of each object in `batch`, committed with it.
    uploads: Vec<Pending<'s>>,
    /// Paths of the objects in `batch`.
    unwritten: HashSet<ContentPath>,
    /// The containers objects of the batch went into (their positions and
    /// ids count those objects), and the one added to last.
    containers: HashMap<ContentPath, Container>,
    current: Option<ContentPath>,
    written: usize,
}

/// A container objects are being added to, read once per batch.
struct Container {
    content: Content,
    /// The local roles in effect on it.
    local: LocalRoles,
    next_position: i64,
    /// The ids of its children: read once, then those given out.
    taken: HashSet<ContentId>,
}

impl<'s> Loader<'s> {
    /// A loader adding objects as `who`, writing `batch_size` per transaction.
    pub fn new(site: &'s Site, who: Principal, batch_size: usize) -> Self {
        Self {
            site,
            who,
            batch_size: batch_size.max(1),
            batch: WriteBatch::default(),
            uploads: Vec::new(),
            unwritten: HashSet::new(),
            containers: HashMap::new(),
            current: None,
            written: 0,
        }
    }

    /// Adds an object of `body["@type"]` inside `parent` (as a POST there
    /// would), then fires `transition` on it if given. Returns its path. An
    /// error leaves the objects added before it in place.
    pub fn add(
        &mut self,
        parent: &ContentPath,
        body: &Map<String, Value>,
        transition: Option<&str>,
    ) -> CoreResult<ContentPath> {
        if self.unwritten.contains(parent) {
            self.flush()?;
        }
        if !self.containers.contains_key(parent) {
            let container = self.read_container(parent)?;
            self.containers.insert(parent.clone(), container);
        }
        self.current = Some(parent.clone());
        let (site, who) = (self.site, &self.who);
        let Some(container) = self.containers.get_mut(parent) else {
            unreachable!("the container was just read")
        };
        let mut uploads = site.uploads.begin();
        let draft = Draft::new(site, &container.content, body, who, &mut uploads)?;
        let taken = Taken::Known(&container.taken);
        let id = choose_id(site, parent, body, &draft.values, &draft.type_name, taken)?;
        let mut content = draft.place(site, &container.content, &container.local, &id, container.next_position);
        if let Some(transition) = transition {
            let local = effective(&container.local, &content);
            fire_on_new(site, &mut content, transition, who, &local)?;
            content.allowed = allowed_to_view(site, &content, &container.content.allowed, &local);
        }
        let path = content.path.clone();
        draft.write_ops(site, content, who, &mut self.batch)?;
        container.next_position += 1;
        container.taken.insert(id);
        self.uploads.push(uploads);
        self.unwritten.insert(path.clone());
        if self.unwritten.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(path)
    }

    /// The container at `path`, as the store holds it.
    fn read_container(&self, path: &ContentPath) -> CoreResult<Container> {
        let (site, store) = (self.site, &self.site.store);
        let content = get_visible(site, path, &self.who)?;
        let taken = (store.child_ids(&site.id, path)?.into_iter())
            .filter_map(|(_, id, _)| ContentId::parse(&id).ok())
            .collect();
        Ok(Container {
            local: effective_on_chain(&chain(site, &content)?),
            next_position: store.next_position(&site.id, path)?,
            taken,
            content,
        })
    }

    /// Writes the objects added so far in one transaction; returns how many.
    /// If it fails, none of them is stored.
    pub fn flush(&mut self) -> CoreResult<usize> {
        if self.unwritten.is_empty() {
            return Ok(0);
        }
        let batch = std::mem::take(&mut self.batch);
        let uploads = std::mem::take(&mut self.uploads);
        let count = self.unwritten.len();
        self.unwritten.clear();
        // Everything is in the store now (or lost, with the positions and
        // ids counted for it): other containers are read again when needed.
        let current = self.current.as_ref().and_then(|p| self.containers.remove(p));
        self.containers.clear();
        let written = self.site.write(batch);
        if let (Ok(()), Some(c)) = (&written, current) {
            self.containers.insert(c.content.path.clone(), c);
        }
        written?;
        uploads.into_iter().for_each(Pending::commit);
        self.written += count;
        Ok(count)
    }

    /// Writes what is left; returns how many objects the loader stored.
    pub fn finish(mut self) -> CoreResult<usize> {
        self.flush()?;
        Ok(self.written)
    }
}
