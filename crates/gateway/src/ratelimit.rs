//! Rate limiting: the generic cell rate algorithm (GCRA) behind a trait.
//!
//! GCRA keeps one number per key, the *theoretical arrival time* (TAT): the
//! moment at which the key's bucket would be full again if no more requests
//! came. A request at `t` is allowed when `max(TAT, t) + T - period <= t`,
//! where `T = period / limit` is the emission interval; allowing it moves
//! the TAT on by `T`. The burst is `limit`, the sustained rate `limit /
//! period`, and there is no refill timer to run.
//!
//! [`RateLimiter`] is the seam: [`LocalLimiter`] keeps the state in this
//! process; a shared backend (Redis) can implement the same trait so that
//! replicas share one budget.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};

/// `limit` requests per `period`, with bursts of up to `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    /// Spacing between requests at the sustained rate.
    fn emission_interval_nanos(self) -> u64 {
        (self.period.as_nanos() / u128::from(self.limit.max(1))).max(1) as u64
    }
}

/// The outcome of one check, with what the `RateLimit-*` headers show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub quota: Quota,
    /// Requests that could still be made right now.
    pub remaining: u32,
    /// Until the budget is whole again.
    pub reset: Duration,
    /// When refused: until the next request would be allowed.
    pub retry_after: Duration,
}

impl RateDecision {
    /// The decision that tells the client the least room, of two.
    pub fn tighter(self, other: RateDecision) -> RateDecision {
        match (self.allowed, other.allowed) {
            (true, false) => other,
            (false, true) => self,
            (false, false) if other.retry_after > self.retry_after => other,
            (false, false) => self,
            (true, true) if other.remaining < self.remaining => other,
            (true, true) => self,
        }
    }

    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds)
    /// and `RateLimit-Policy`, as in the IETF httpapi rate-limit headers
    /// draft; `Retry-After` when refused.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let secs = |d: Duration| d.as_secs() + u64::from(d.subsec_nanos() > 0);
        headers.insert("ratelimit-limit", HeaderValue::from(self.quota.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(secs(self.reset)));
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{};w={}",
            self.quota.limit,
            self.quota.period.as_secs().max(1)
        )) {
            headers.insert("ratelimit-policy", v);
        }
        if !self.allowed {
            headers.insert(
                http::header::RETRY_AFTER,
                HeaderValue::from(secs(self.retry_after).max(1)),
            );
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The limiter could not decide (a shared backend is down). Callers
    /// refuse the request: a limit that cannot be checked is not skipped.
    #[error("the rate limiter is unavailable: {0}")]
    Unavailable(String),
}

/// What a budget is kept for. The kinds keep a principal named like an
/// address from sharing its budget.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitKey {
    Principal(String),
    /// Per source network: IPv4 addresses whole, IPv6 by /64, since one
    /// host commonly holds a whole /64 and could rotate through it.
    Network(IpAddr),
    Route(usize),
    /// Failed authentication attempts from one source network.
    AuthFailures(IpAddr),
}

impl LimitKey {
    pub fn network(ip: IpAddr) -> Self {
        LimitKey::Network(network_of(ip))
    }

    pub fn auth_failures(ip: IpAddr) -> Self {
        LimitKey::AuthFailures(network_of(ip))
    }
}

fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::V6(o.into())
            }
        },
    }
}

#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug + 'static {
    /// Takes one unit from `key`'s budget if it has one.
    async fn acquire(&self, key: &LimitKey, quota: Quota) -> Result<RateDecision, LimiterError>;

    /// Reports `key`'s budget without taking from it.
    async fn peek(&self, key: &LimitKey, quota: Quota) -> Result<RateDecision, LimiterError>;
}

const SHARDS: usize = 16;

/// The in-process limiter: sharded maps of TATs, in nanoseconds since the
/// limiter was made.
#[derive(Debug)]
pub struct LocalLimiter {
    epoch: Instant,
    shards: Vec<Mutex<HashMap<LimitKey, u64>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Entries per shard before stale ones are swept. Past this even after
    /// a sweep, new keys are refused: an attacker rotating addresses must
    /// not grow the map without bound.
    max_per_shard: usize,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        Self::with_capacity(1 << 20)
    }
}

impl LocalLimiter {
    /// A limiter holding at most about `max_keys` live budgets.
    pub fn with_capacity(max_keys: usize) -> Self {
        Self {
            epoch: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            max_per_shard: (max_keys / SHARDS).max(1),
        }
    }

    fn now_nanos(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The check itself, at an explicit time (tests drive the clock).
    pub fn check_at(&self, key: &LimitKey, quota: Quota, now: u64, take: bool) -> RateDecision {
        let shard = &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS];
        let Ok(mut map) = shard.lock() else {
            return refused_without_state(quota);
        };
        let stored = map.get(key).copied();
        let decision = gcra(stored.unwrap_or(0), quota, now);
        if take && decision.allowed {
            let new_tat = stored.unwrap_or(0).max(now) + quota.emission_interval_nanos();
            if stored.is_none() && map.len() >= self.max_per_shard {
                // Budgets whose TAT has passed are full again: forgetting
                // them changes no decision.
                map.retain(|_, tat| *tat > now);
                if map.len() >= self.max_per_shard {
                    return refused_without_state(quota);
                }
            }
            map.insert(key.clone(), new_tat);
        }
        decision
    }
}

/// Refused because no state could be kept for the key.
fn refused_without_state(quota: Quota) -> RateDecision {
    RateDecision {
        allowed: false,
        quota,
        remaining: 0,
        reset: quota.period,
        retry_after: Duration::from_secs(1),
    }
}

/// The decision for a request at `now` against a stored TAT.
fn gcra(stored_tat: u64, quota: Quota, now: u64) -> RateDecision {
    let t = quota.emission_interval_nanos();
    let period = t.saturating_mul(u64::from(quota.limit.max(1)));
    let tat = stored_tat.max(now);
    let new_tat = tat + t;
    // The earliest moment this request could be allowed.
    let allow_at = new_tat.saturating_sub(period);
    if now < allow_at {
        return RateDecision {
            allowed: false,
            quota,
            remaining: 0,
            reset: Duration::from_nanos(tat - now),
            retry_after: Duration::from_nanos(allow_at - now),
        };
    }
    let used = new_tat - now;
    RateDecision {
        allowed: true,
        quota,
        remaining: ((period - used) / t) as u32,
        reset: Duration::from_nanos(used),
        retry_after: Duration::ZERO,
    }
}

#[async_trait]
impl RateLimiter for LocalLimiter {
    async fn acquire(&self, key: &LimitKey, quota: Quota) -> Result<RateDecision, LimiterError> {
        Ok(self.check_at(key, quota, self.now_nanos(), true))
    }

    async fn peek(&self, key: &LimitKey, quota: Quota) -> Result<RateDecision, LimiterError> {
        Ok(self.check_at(key, quota, self.now_nanos(), false))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn quota(limit: u32, secs: u64) -> Quota {
        Quota {
            limit,
            period: Duration::from_secs(secs),
        }
    }

    fn key() -> LimitKey {
        LimitKey::Principal("key:00000001".into())
    }

    #[test]
    fn burst_of_limit_then_refusal_with_retry_after() {
        let l = LocalLimiter::default();
        let q = quota(5, 10);
        let t0 = 100 * SEC;
        for i in 0..5 {
            let d = l.check_at(&key(), q, t0, true);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 4 - i);
        }
        let d = l.check_at(&key(), q, t0, true);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        // One unit comes back every period / limit = 2 s.
        assert_eq!(d.retry_after, Duration::from_secs(2));
        assert!(!l.check_at(&key(), q, t0 + 2 * SEC - 1, true).allowed);
        assert!(l.check_at(&key(), q, t0 + 2 * SEC, true).allowed);
    }

    #[test]
    fn refused_requests_do_not_consume() {
        let l = LocalLimiter::default();
        let q = quota(1, 1);
        assert!(l.check_at(&key(), q, SEC, true).allowed);
        for _ in 0..100 {
            assert!(!l.check_at(&key(), q, SEC + SEC / 2, true).allowed);
        }
        assert!(l.check_at(&key(), q, 2 * SEC, true).allowed);
    }

    #[test]
    fn peek_takes_nothing_and_keys_are_separate() {
        let l = LocalLimiter::default();
        let q = quota(1, 60);
        assert!(l.check_at(&key(), q, SEC, false).allowed);
        assert!(l.check_at(&key(), q, SEC, true).allowed);
        assert!(!l.check_at(&key(), q, SEC, false).allowed);
        assert!(
            l.check_at(&LimitKey::Principal("key:00000002".into()), q, SEC, true)
                .allowed
        );
        assert!(l.check_at(&LimitKey::Route(0), q, SEC, true).allowed);
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(LimitKey::network(a), LimitKey::network(b));
        assert_ne!(LimitKey::network(a), LimitKey::network(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(LimitKey::network(mapped), LimitKey::network(v4));
        assert_ne!(LimitKey::network(v4), LimitKey::auth_failures(v4));
    }

    #[test]
    fn a_full_table_forgets_replenished_budgets_and_then_refuses_new_keys() {
        let l = LocalLimiter::with_capacity(SHARDS); // one entry per shard
        let q = quota(10, 1);
        let keys: Vec<LimitKey> = (0..200).map(LimitKey::Route).collect();
        let mut refused = 0;
        for k in &keys {
            refused += usize::from(!l.check_at(k, q, SEC, true).allowed);
        }
        assert!(refused > 0, "a bounded table must refuse some new keys");
        // Once the budgets have replenished, the table makes room again.
        for k in &keys {
            assert!(l.check_at(k, q, (100 + k_index(k)) * SEC, true).allowed);
        }
    }

    #[test]
    fn headers_follow_the_draft() {
        let l = LocalLimiter::default();
        let q = quota(2, 60);
        l.check_at(&key(), q, SEC, true);
        l.check_at(&key(), q, SEC, true);
        let d = l.check_at(&key(), q, SEC, true);
        let mut h = HeaderMap::new();
        d.write_headers(&mut h);
        assert_eq!(h["ratelimit-limit"], "2");
        assert_eq!(h["ratelimit-remaining"], "0");
        assert_eq!(h["ratelimit-reset"], "60");
        assert_eq!(h["ratelimit-policy"], "2;w=60");
        assert_eq!(h["retry-after"], "30");
    }

    #[test]
    fn tighter_prefers_refusal_then_least_remaining() {
        let l = LocalLimiter::default();
        let loose = l.check_at(&LimitKey::Route(1), quota(100, 60), SEC, true);
        let tight = l.check_at(&LimitKey::Route(2), quota(3, 60), SEC, true);
        assert_eq!(loose.tighter(tight), tight);
        assert_eq!(tight.tighter(loose), tight);
        l.check_at(&LimitKey::Route(2), quota(3, 60), SEC, true);
        l.check_at(&LimitKey::Route(2), quota(3, 60), SEC, true);
        let refused = l.check_at(&LimitKey::Route(2), quota(3, 60), SEC, true);
        assert!(!refused.allowed);
        assert_eq!(loose.tighter(refused), refused);
    }

    fn k_index(k: &LimitKey) -> u64 {
        match k {
            LimitKey::Route(i) => *i as u64,
            _ => 0,
        }
    }

    proptest! {
        /// GCRA's conformance bound: between any two allowed requests at
        /// `a <= b`, at most `limit + (b - a) / T` are allowed (a full
        /// burst plus the sustained rate), and a steady caller at exactly
        /// the rate is never refused.
        #[test]
        fn never_more_than_burst_plus_rate(
            limit in 1u32..20,
            period_secs in 1u64..10,
            gaps in proptest::collection::vec(0u64..(SEC / 2), 1..300),
        ) {
            let l = LocalLimiter::default();
            let q = quota(limit, period_secs);
            let mut t = SEC;
            let mut allowed_times = Vec::new();
            for g in gaps {
                t += g;
                if l.check_at(&key(), q, t, true).allowed {
                    allowed_times.push(t);
                }
            }
            let interval = q.emission_interval_nanos();
            for (i, &a) in allowed_times.iter().enumerate() {
                for (j, &b) in allowed_times.iter().enumerate().skip(i) {
                    let count = (j - i + 1) as u64;
                    prop_assert!(count <= u64::from(limit) + (b - a) / interval,
                        "{count} allowed within {} ns, limit {limit}", b - a);
                }
            }
        }

        #[test]
        fn a_caller_at_the_sustained_rate_is_never_refused(limit in 1u32..50, n in 1usize..200) {
            let l = LocalLimiter::default();
            let q = quota(limit, 7);
            let interval = q.emission_interval_nanos();
            for i in 0..n as u64 {
                prop_assert!(l.check_at(&key(), q, SEC + i * interval, true).allowed);
            }
        }
    }
}
