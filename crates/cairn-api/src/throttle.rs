//! Brute-force protection for password checks (`@login`, Basic auth, the old
//! password of a password change). Failures count per account and client
//! address together: after a few, that pair waits an exponentially growing,
//! capped time, so someone guessing from elsewhere never locks the owner out
//! of their own account. An address that fails often across accounts is only
//! slowed down (a short pause between attempts), never shut out, because it
//! may be a whole office behind one gateway. Success clears the pair, and
//! records expire on their own.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// Failures allowed for one account from one address before it must wait.
const FREE_FAILURES: u32 = 5;
/// Longest wait of one account at one address (and how long records live).
const MAX_WAIT: Duration = Duration::from_secs(300);
/// An address may serve many people, so it gets more before it is slowed.
const FREE_ADDRESS_FAILURES: u32 = 20;
/// Longest pause between attempts from a busy address: a slowdown, not a lock.
const MAX_ADDRESS_WAIT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    blocked_until: Option<Instant>,
}

impl Record {
    fn bump(previous: Option<Record>, free: u32, cap: Duration) -> Record {
        let failures = previous.map_or(0, |r| r.failures).saturating_add(1);
        Record {
            failures,
            blocked_until: wait_after(failures, free, cap).map(|w| Instant::now() + w),
        }
    }
}

/// The key of an address: an IPv6 client usually owns a whole /64, so that
/// is counted as one address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

/// Failure counters per (account, address) and per address.
pub struct Throttle {
    /// Keyed by a keyed hash of site and login, so long logins cost no memory.
    pairs: Cache<(u64, IpAddr), Record>,
    addresses: Cache<IpAddr, Record>,
    hasher: RandomState,
}

fn cache<K: std::hash::Hash + Eq + Send + Sync + 'static>() -> Cache<K, Record> {
    Cache::builder()
        .max_capacity(100_000)
        .time_to_idle(MAX_WAIT * 2)
        .build()
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            pairs: cache(),
            addresses: cache(),
            hasher: RandomState::new(),
        }
    }
}

fn wait_after(failures: u32, free: u32, cap: Duration) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    Some(Duration::from_secs(1u64 << over.min(9)).min(cap))
}

fn remaining(r: Option<Record>) -> Option<Duration> {
    let until = r?.blocked_until?;
    until.checked_duration_since(Instant::now())
}

impl Throttle {
    fn pair(&self, site: &str, login: &str, addr: IpAddr) -> (u64, IpAddr) {
        (self.hasher.hash_one((site, login)), address_key(addr))
    }

    /// How long the caller must still wait before trying `login` from `addr`.
    pub fn wait(&self, site: &str, login: &str, addr: IpAddr) -> Option<Duration> {
        let pair = remaining(self.pairs.get(&self.pair(site, login, addr)));
        let address = remaining(self.addresses.get(&address_key(addr)));
        pair.max(address)
    }

    /// Records a failed attempt.
    pub fn failed(&self, site: &str, login: &str, addr: IpAddr) {
        let key = self.pair(site, login, addr);
        let pair = Record::bump(self.pairs.get(&key), FREE_FAILURES, MAX_WAIT);
        self.pairs.insert(key, pair);
        let key = address_key(addr);
        let address = Record::bump(self.addresses.get(&key), FREE_ADDRESS_FAILURES, MAX_ADDRESS_WAIT);
        self.addresses.insert(key, address);
    }

    /// A success clears the failures of the account at this address; the
    /// address keeps its count, or one known password would reset it.
    pub fn succeeded(&self, site: &str, login: &str, addr: IpAddr) {
        self.pairs.invalidate(&self.pair(site, login, addr));
    }
}

/// Contact-form mails one address may send an hour.
pub const MAILS_PER_HOUR: u32 = 5;

/// Counts the contact-form mails of each client address over an hour, so
/// the form cannot be used to flood the site's mailbox.
pub struct MailLimit(Cache<IpAddr, u32>);

impl Default for MailLimit {
    fn default() -> Self {
        Self(
            Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        )
    }
}

impl MailLimit {
    /// Whether `ip` may send one more; counts it if so.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let key = address_key(ip);
        let sent = self.0.get(&key).unwrap_or(0);
        if sent >= MAILS_PER_HOUR {
            return false;
        }
        self.0.insert(key, sent + 1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_wait_grows_after_free_failures_and_is_capped() {
        assert_eq!(wait_after(4, FREE_FAILURES, MAX_WAIT), None);
        assert_eq!(wait_after(5, FREE_FAILURES, MAX_WAIT), Some(Duration::from_secs(1)));
        assert_eq!(wait_after(7, FREE_FAILURES, MAX_WAIT), Some(Duration::from_secs(4)));
        assert_eq!(wait_after(40, FREE_FAILURES, MAX_WAIT), Some(MAX_WAIT));
        assert_eq!(
            wait_after(40, FREE_ADDRESS_FAILURES, MAX_ADDRESS_WAIT),
            Some(MAX_ADDRESS_WAIT)
        );
    }

    #[test]
    fn failures_elsewhere_do_not_touch_the_owner() {
        let t = Throttle::default();
        let (attacker, owner) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for _ in 0..6 {
            t.failed("s", "jane", attacker);
        }
        assert!(t.wait("s", "jane", attacker).is_some());
        assert!(
            t.wait("s", "jane", owner).is_none(),
            "the owner's address is not affected"
        );
        assert!(
            t.wait("s", "joe", attacker).is_none(),
            "other accounts are not affected"
        );
        t.succeeded("s", "jane", attacker);
        assert!(t.wait("s", "jane", attacker).is_none());
    }

    #[test]
    fn a_busy_address_is_slowed_not_locked() {
        let t = Throttle::default();
        let office = ip("2001:db8::1");
        for i in 0..30 {
            t.failed("s", &format!("user{i}"), office);
        }
        let wait = t.wait("s", "jane", ip("2001:db8::2")).expect("the /64 is slowed down");
        assert!(wait <= MAX_ADDRESS_WAIT);
        assert!(t.wait("s", "jane", ip("2001:db8:1::1")).is_none());
    }
}
