//! Brute-force protection for logins: after a few failures for one account or
//! one client address, further attempts are refused for an exponentially
//! growing, capped time. Success clears the account's record, and records
//! expire on their own, so nobody is locked out for good.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// Failures allowed for one account before attempts are delayed.
const FREE_FAILURES: u32 = 5;
/// An address may serve many people (a proxy, an office), so it gets more.
const FREE_ADDRESS_FAILURES: u32 = 20;
/// Longest wait imposed (and how long a record lives after the last failure).
const MAX_WAIT: Duration = Duration::from_secs(300);

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    blocked_until: Option<Instant>,
}

/// Failure counters per account and per client address.
pub struct Throttle {
    accounts: Cache<String, Record>,
    addresses: Cache<IpAddr, Record>,
}

impl Default for Throttle {
    fn default() -> Self {
        let accounts = Cache::builder()
            .max_capacity(100_000)
            .time_to_idle(MAX_WAIT * 2)
            .build();
        let addresses = Cache::builder()
            .max_capacity(100_000)
            .time_to_idle(MAX_WAIT * 2)
            .build();
        Self { accounts, addresses }
    }
}

fn wait_after(failures: u32, free: u32) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    Some(Duration::from_secs(1u64 << over.min(9)).min(MAX_WAIT))
}

fn remaining(r: Option<Record>) -> Option<Duration> {
    let until = r?.blocked_until?;
    until.checked_duration_since(Instant::now())
}

impl Throttle {
    /// How long the caller must still wait before trying `login` from `addr`.
    pub fn wait(&self, site: &str, login: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let account = remaining(self.accounts.get(&format!("{site}\0{login}")));
        let address = addr.and_then(|a| remaining(self.addresses.get(&a)));
        account.max(address)
    }

    /// Records a failed attempt.
    pub fn failed(&self, site: &str, login: &str, addr: Option<IpAddr>) {
        let bump = |r: Option<Record>, free: u32| {
            let failures = r.map_or(0, |r| r.failures) + 1;
            Record {
                failures,
                blocked_until: wait_after(failures, free).map(|w| Instant::now() + w),
            }
        };
        let key = format!("{site}\0{login}");
        self.accounts
            .insert(key.clone(), bump(self.accounts.get(&key), FREE_FAILURES));
        if let Some(a) = addr {
            self.addresses
                .insert(a, bump(self.addresses.get(&a), FREE_ADDRESS_FAILURES));
        }
    }

    /// A successful login clears the account's failures.
    pub fn succeeded(&self, site: &str, login: &str) {
        self.accounts.invalidate(&format!("{site}\0{login}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_after_free_failures_and_is_capped() {
        assert_eq!(wait_after(4, FREE_FAILURES), None);
        assert_eq!(wait_after(5, FREE_FAILURES), Some(Duration::from_secs(1)));
        assert_eq!(wait_after(7, FREE_FAILURES), Some(Duration::from_secs(4)));
        assert_eq!(wait_after(40, FREE_FAILURES), Some(MAX_WAIT));
    }

    #[test]
    fn success_clears_an_account() {
        let t = Throttle::default();
        for _ in 0..6 {
            t.failed("s", "jane", None);
        }
        assert!(t.wait("s", "jane", None).is_some());
        assert!(t.wait("s", "joe", None).is_none(), "other accounts are not affected");
        t.succeeded("s", "jane");
        assert!(t.wait("s", "jane", None).is_none());
    }
}
