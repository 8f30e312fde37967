//! Security alerts: rules over the audit stream.
//!
//! [`AlertEngine::observe`] reads each [`Event`] the gateway writes and
//! returns the [`Alert`]s it triggers. Pure: no IO, no clock. Time is the
//! events' own `time_unix_ms`, so a replayed log gives the same alerts and
//! tests need no sleeping. Delivery (webhooks, e-mail) is the gateway's.
//!
//! The event conventions the rules read:
//!
//! | rule | events | subject |
//! | --- | --- | --- |
//! | `failed_auth_account` | `auth.*`, outcome `failure`, with a clear `claimed` detail or an actor other than `-` | the claimed account, else the actor |
//! | `failed_auth_ip` | `auth.*`, outcome `failure` | the client IP |
//! | `key_volume` | `model.invoke` by a `key:` actor | the key |
//! | `new_network` | `model.invoke` by a `key:` actor, outcome `success`, from an IPv4 /24 or IPv6 /64 the key has not used | the key |
//! | `admin_grant` | `grant.create`, `user.create`, `user.roles`, `key.create`, outcome `success`, detail `role` or `roles` (comma-separated) holding `admin` | the event's resource |
//! | `lockdown` | `incident.lockdown`, outcome `success`, detail `state` | the state (`on`, `off`) |
//! | `audit_failure` | `audit.write_failed` | the node |
//!
//! # Invariants
//!
//! - Memory is bounded whatever the traffic: each rule tracks at most
//!   [`DEFAULT_MAX_TRACKED`] subjects (the least recently seen is
//!   forgotten first), a window keeps at most `count + 1` timestamps, a key
//!   remembers at most [`MAX_NETWORKS_PER_KEY`] networks, and subjects are
//!   cut to [`MAX_SUBJECT_CHARS`].
//! - After an alert for a (rule, subject), the same pair stays quiet for
//!   `cooldown_secs` of event time: one incident, one alert. Windows keep
//!   counting meanwhile.
//! - Summaries hold actors, IPs, resources and counts, never a detail
//!   value that was stored as an HMAC, and no control characters (actors
//!   of failed sign-ins are chosen by whoever signs in).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;

use crate::event::{DetailValue, Event, Outcome};

/// Subjects each rule tracks at most by default; past it the least
/// recently seen subject is forgotten.
pub const DEFAULT_MAX_TRACKED: usize = 100_000;

/// Networks each key remembers at most for `new_network`.
pub const MAX_NETWORKS_PER_KEY: usize = 64;

/// Subjects (actors, IPs, resources) longer than this are cut: an
/// attacker-chosen account name must not cost memory without bound.
pub const MAX_SUBJECT_CHARS: usize = 128;

/// Which rule fired. The names ([`AlertRule::as_str`]) appear in webhook
/// bodies and metrics: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AlertRule {
    /// Too many failed authentications for one account.
    FailedAuthAccount,
    /// Too many failed authentications from one client IP.
    FailedAuthIp,
    /// Too many model calls by one API key.
    KeyVolume,
    /// An API key used from a network it has not used before.
    NewNetwork,
    /// The `admin` role was granted.
    AdminGrant,
    /// Incident lockdown was turned on or off.
    Lockdown,
    /// An audit event could not be written.
    AuditFailure,
}

impl AlertRule {
    /// Every rule, in a fixed order.
    pub const ALL: [AlertRule; 7] = [
        AlertRule::FailedAuthAccount,
        AlertRule::FailedAuthIp,
        AlertRule::KeyVolume,
        AlertRule::NewNetwork,
        AlertRule::AdminGrant,
        AlertRule::Lockdown,
        AlertRule::AuditFailure,
    ];

    /// The stable name: `failed_auth_account`, `failed_auth_ip`,
    /// `key_volume`, `new_network`, `admin_grant`, `lockdown` or
    /// `audit_failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertRule::FailedAuthAccount => "failed_auth_account",
            AlertRule::FailedAuthIp => "failed_auth_ip",
            AlertRule::KeyVolume => "key_volume",
            AlertRule::NewNetwork => "new_network",
            AlertRule::AdminGrant => "admin_grant",
            AlertRule::Lockdown => "lockdown",
            AlertRule::AuditFailure => "audit_failure",
        }
    }

    /// How urgent an alert of this rule is.
    pub fn severity(self) -> Severity {
        match self {
            AlertRule::FailedAuthAccount
            | AlertRule::FailedAuthIp
            | AlertRule::KeyVolume
            | AlertRule::NewNetwork => Severity::Warning,
            // Privilege escalation, an incident declared, a gap in the
            // audit trail: someone should look now.
            AlertRule::AdminGrant | AlertRule::Lockdown | AlertRule::AuditFailure => {
                Severity::Critical
            }
        }
    }
}

impl fmt::Display for AlertRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Worth a look: possibly an attack, possibly a busy legitimate user.
    Warning,
    /// Needs a person now.
    Critical,
}

impl Severity {
    /// The stable name: `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Alert when **more than** `count` events fall within a sliding window of
/// `window_secs`. A count or window of 0 turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub count: u32,
    pub window_secs: u64,
}

impl Threshold {
    /// Whether the rule is on.
    pub fn enabled(self) -> bool {
        self.count > 0 && self.window_secs > 0
    }

    fn window_ms(self) -> i64 {
        i64::try_from(self.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// Which rules run, and their thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules {
    /// `failed_auth_account` and `failed_auth_ip`. Default: more than 10
    /// in 300 s.
    pub failed_auth: Threshold,
    /// `key_volume`. Default: more than 1000 in 3600 s.
    pub calls_per_key: Threshold,
    /// `new_network`. Default: on.
    pub new_network: bool,
    /// `admin_grant`. Default: on.
    pub admin_grants: bool,
    /// `lockdown`. Default: on.
    pub lockdown: bool,
    /// `audit_failure`. Default: on.
    pub audit_failures: bool,
    /// Quiet period per (rule, subject) after an alert. Default: 900 s.
    pub cooldown_secs: u64,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            failed_auth: Threshold {
                count: 10,
                window_secs: 300,
            },
            calls_per_key: Threshold {
                count: 1000,
                window_secs: 3600,
            },
            new_network: true,
            admin_grants: true,
            lockdown: true,
            audit_failures: true,
            cooldown_secs: 900,
        }
    }
}

/// One alert: what fired, about whom, and the event that tipped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub rule: AlertRule,
    /// The account, IP, key, resource or node the alert is about.
    pub subject: String,
    pub severity: Severity,
    /// One line for a person: no control characters, no hashed details.
    pub summary: String,
    /// Events counted in the window (1 for rules without a threshold).
    pub count: u64,
    /// The rule's window (0 for rules without one).
    pub window_secs: u64,
    /// The triggering event's time (ms since the Unix epoch, UTC).
    pub time_unix_ms: i64,
    /// The node that wrote the triggering event.
    pub node: String,
    /// The triggering event's `seq`; 0 for a synthetic event.
    pub seq: u64,
}

/// Watches audit events and says when to alert. See the module docs for
/// the rules and their bounds.
#[derive(Debug)]
pub struct AlertEngine {
    rules: AlertRules,
    cooldown_ms: i64,
    failed_account: Tracker<Window>,
    failed_ip: Tracker<Window>,
    key_calls: Tracker<Window>,
    networks: Tracker<Networks>,
    /// (rule, subject) → time of the last alert.
    last_alert: Tracker<i64>,
}

impl AlertEngine {
    /// An engine tracking at most [`DEFAULT_MAX_TRACKED`] subjects per rule.
    pub fn new(rules: AlertRules) -> Self {
        Self::with_capacity(rules, DEFAULT_MAX_TRACKED)
    }

    /// An engine tracking at most `max_tracked` (at least 1) subjects per
    /// rule.
    pub fn with_capacity(rules: AlertRules, max_tracked: usize) -> Self {
        let cap = max_tracked.max(1);
        Self {
            cooldown_ms: i64::try_from(rules.cooldown_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            rules,
            failed_account: Tracker::new(cap),
            failed_ip: Tracker::new(cap),
            key_calls: Tracker::new(cap),
            networks: Tracker::new(cap),
            last_alert: Tracker::new(cap),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &AlertRules {
        &self.rules
    }

    /// Subjects currently held, over all rules (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.failed_account.len()
            + self.failed_ip.len()
            + self.key_calls.len()
            + self.networks.len()
            + self.last_alert.len()
    }

    /// Feeds one event; returns the alerts it triggers (usually none).
    pub fn observe(&mut self, event: &Event) -> Vec<Alert> {
        let mut out = Vec::new();
        let action = event.action.as_str();
        if action.starts_with("auth.") && event.outcome == Outcome::Failure {
            self.failed_auth(event, &mut out);
        } else if action == "model.invoke" && event.actor.starts_with("key:") {
            self.model_call(event, &mut out);
        } else if matches!(
            action,
            "grant.create" | "user.create" | "user.roles" | "key.create"
        ) {
            if self.rules.admin_grants && event.outcome == Outcome::Success && grants_admin(event) {
                let subject = clean(&event.resource);
                let summary = format!(
                    "admin role granted to {subject} by {} ({action})",
                    clean(&event.actor)
                );
                self.fire(
                    AlertRule::AdminGrant,
                    subject,
                    summary,
                    1,
                    0,
                    event,
                    &mut out,
                );
            }
        } else if action == "incident.lockdown" {
            if self.rules.lockdown && event.outcome == Outcome::Success {
                let state = clear_detail(event, "state")
                    .filter(|s| matches!(*s, "on" | "off"))
                    .unwrap_or("unknown");
                let summary = format!(
                    "incident lockdown turned {state} by {}",
                    clean(&event.actor)
                );
                self.fire(
                    AlertRule::Lockdown,
                    state.to_owned(),
                    summary,
                    1,
                    0,
                    event,
                    &mut out,
                );
            }
        } else if action == "audit.write_failed" && self.rules.audit_failures {
            let node = clean(&event.node);
            let summary = format!("an audit event could not be written on node {node}");
            self.fire(
                AlertRule::AuditFailure,
                node,
                summary,
                1,
                0,
                event,
                &mut out,
            );
        }
        out
    }

    fn failed_auth(&mut self, event: &Event, out: &mut Vec<Alert>) {
        let t = self.rules.failed_auth;
        if !t.enabled() {
            return;
        }
        let ip = event.client_ip.as_deref().map(normalize_ip);
        // The account a refused credential claimed is a detail, not the
        // actor: nobody was authenticated.
        let account = match event.details.get("claimed") {
            Some(crate::DetailValue::Clear(claimed)) => Some(claimed.as_str()),
            _ => Some(event.actor.as_str()).filter(|a| *a != "-" && !a.is_empty()),
        };
        if let Some(account) = account {
            let actor = clean(account);
            let n = self
                .failed_account
                .entry(&actor, Window::default)
                .record(event.time_unix_ms, t);
            if n > u64::from(t.count) {
                let from = ip
                    .as_deref()
                    .map(|ip| format!(" (last from {ip})"))
                    .unwrap_or_default();
                let summary = format!(
                    "{n} failed authentications for {actor} within {} s{from}",
                    t.window_secs
                );
                self.fire(
                    AlertRule::FailedAuthAccount,
                    actor,
                    summary,
                    n,
                    t.window_secs,
                    event,
                    out,
                );
            }
        }
        if let Some(ip) = ip {
            let n = self
                .failed_ip
                .entry(&ip, Window::default)
                .record(event.time_unix_ms, t);
            if n > u64::from(t.count) {
                let summary = format!(
                    "{n} failed authentications from {ip} within {} s (last for {})",
                    t.window_secs,
                    clean(&event.actor)
                );
                self.fire(
                    AlertRule::FailedAuthIp,
                    ip,
                    summary,
                    n,
                    t.window_secs,
                    event,
                    out,
                );
            }
        }
    }

    fn model_call(&mut self, event: &Event, out: &mut Vec<Alert>) {
        let key = clean(&event.actor);
        let t = self.rules.calls_per_key;
        if t.enabled() {
            let n = self
                .key_calls
                .entry(&key, Window::default)
                .record(event.time_unix_ms, t);
            if n > u64::from(t.count) {
                let summary = format!(
                    "{key} made {n} model calls within {} s (last on {})",
                    t.window_secs,
                    clean(&event.resource)
                );
                self.fire(
                    AlertRule::KeyVolume,
                    key.clone(),
                    summary,
                    n,
                    t.window_secs,
                    event,
                    out,
                );
            }
        }
        if !self.rules.new_network || event.outcome != Outcome::Success {
            return;
        }
        let Some(ip) = event.client_ip.as_deref().and_then(parse_ip) else {
            return;
        };
        let net = Network::of(ip);
        if self.networks.entry(&key, Networks::default).see(net) {
            let summary = format!("{key} used from a new network {net} (client {ip})");
            self.fire(AlertRule::NewNetwork, key, summary, 1, 0, event, out);
        }
    }

    /// Emits an alert unless (rule, subject) is cooling down.
    #[allow(clippy::too_many_arguments)]
    fn fire(
        &mut self,
        rule: AlertRule,
        subject: String,
        summary: String,
        count: u64,
        window_secs: u64,
        event: &Event,
        out: &mut Vec<Alert>,
    ) {
        let now = event.time_unix_ms;
        // Every admin grant and every lockdown change is its own incident:
        // a second one soon after the first must not go unseen.
        let single_event = matches!(rule, AlertRule::AdminGrant | AlertRule::Lockdown);
        if !single_event {
            let key = format!("{}\u{0}{subject}", rule.as_str());
            let cooldown = self.cooldown_ms;
            let last = self.last_alert.entry(&key, || i64::MIN);
            if *last != i64::MIN && now.saturating_sub(*last) < cooldown {
                return;
            }
            *last = now;
        }
        out.push(Alert {
            rule,
            subject,
            severity: rule.severity(),
            summary,
            count,
            window_secs,
            time_unix_ms: now,
            node: clean(&event.node),
            seq: event.seq,
        });
    }
}

/// Whether a role-granting event grants `admin` (only clear details can
/// be read).
fn grants_admin(event: &Event) -> bool {
    ["role", "roles"].iter().any(|name| {
        clear_detail(event, name).is_some_and(|v| v.split(',').any(|r| r.trim() == "admin"))
    })
}

fn clear_detail<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    match event.details.get(name) {
        Some(DetailValue::Clear(v)) => Some(v),
        _ => None,
    }
}

/// A subject or summary part: control characters replaced, cut to
/// [`MAX_SUBJECT_CHARS`].
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(MAX_SUBJECT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// An address in its canonical form (so `::ffff:1.2.3.4` and `1.2.3.4`
/// count together); anything unparsable is cleaned and kept as written.
fn normalize_ip(s: &str) -> String {
    parse_ip(s).map_or_else(|| clean(s), |ip| ip.to_string())
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))?;
    Some(ip.to_canonical())
}

// ------------------------------------------------------------------ state

/// Timestamps of the last `count + 1` events within the window, oldest
/// first.
#[derive(Debug, Default)]
struct Window {
    times: VecDeque<i64>,
}

impl Window {
    /// Adds an event at `t`; returns how many fall within the window that
    /// ends at the newest event (capped at `count + 1`).
    fn record(&mut self, t: i64, threshold: Threshold) -> u64 {
        // Events from concurrent requests may arrive a little out of order.
        let at = self.times.partition_point(|&x| x <= t);
        self.times.insert(at, t);
        let newest = self.times.back().copied().unwrap_or(t);
        let start = newest.saturating_sub(threshold.window_ms());
        while self.times.front().is_some_and(|&x| x <= start) {
            self.times.pop_front();
        }
        let cap = threshold.count as usize + 1;
        while self.times.len() > cap {
            self.times.pop_front();
        }
        self.times.len() as u64
    }
}

/// An IPv4 /24 or IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Network {
    V4([u8; 3]),
    V6([u16; 4]),
}

impl Network {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                Network::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                Network::V6([s[0], s[1], s[2], s[3]])
            }
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::V4([a, b, c]) => write!(f, "{a}.{b}.{c}.0/24"),
            Network::V6([a, b, c, d]) => write!(f, "{a:x}:{b:x}:{c:x}:{d:x}::/64"),
        }
    }
}

/// The networks a key was used from, least recently used first.
#[derive(Debug, Default)]
struct Networks {
    known: VecDeque<Network>,
}

impl Networks {
    /// Records `net`; true when it is new and the key had known networks.
    fn see(&mut self, net: Network) -> bool {
        if let Some(i) = self.known.iter().position(|n| *n == net) {
            self.known.remove(i);
            self.known.push_back(net);
            return false;
        }
        let first_use = self.known.is_empty();
        if self.known.len() >= MAX_NETWORKS_PER_KEY {
            self.known.pop_front();
        }
        self.known.push_back(net);
        !first_use
    }
}

/// A map of at most `cap` entries that forgets the least recently touched.
#[derive(Debug)]
struct Tracker<V> {
    cap: usize,
    tick: u64,
    map: HashMap<Box<str>, (u64, V)>,
    order: BTreeMap<u64, Box<str>>,
}

impl<V> Tracker<V> {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            tick: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    /// The entry for `key`, created with `init` when absent; marks it the
    /// most recently seen.
    fn entry(&mut self, key: &str, init: impl FnOnce() -> V) -> &mut V {
        self.tick += 1;
        let tick = self.tick;
        if let Some((seen, _)) = self.map.get_mut(key) {
            let before = std::mem::replace(seen, tick);
            if let Some(k) = self.order.remove(&before) {
                self.order.insert(tick, k);
            }
        } else {
            while self.map.len() >= self.cap {
                match self.order.pop_first() {
                    Some((_, oldest)) => {
                        self.map.remove(&oldest);
                    }
                    None => break,
                }
            }
            let k: Box<str> = key.into();
            self.order.insert(tick, k.clone());
            self.map.insert(k, (tick, init()));
        }
        &mut self
            .map
            .get_mut(key)
            .expect("the entry was just found or inserted")
            .1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    /// A failed admin sign-in; `ip` empty: no client IP.
    fn failed_login(t: i64, actor: &str, ip: &str) -> Event {
        let mut e = Event::new(t, "gw-1", actor, "auth.login", "admin", Outcome::Failure);
        if !ip.is_empty() {
            e.client_ip = Some(ip.to_owned());
        }
        e
    }

    fn call(t: i64, key: &str, ip: &str) -> Event {
        Event::new(
            t,
            "gw-1",
            key,
            "model.invoke",
            "route:chat",
            Outcome::Success,
        )
        .with_client_ip(ip)
    }

    fn rules() -> AlertRules {
        AlertRules::default()
    }

    fn rule_counts(alerts: &[Alert]) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for a in alerts {
            *m.entry(a.rule.as_str()).or_default() += 1;
        }
        m
    }

    #[test]
    fn failed_auth_fires_once_at_the_eleventh_failure() {
        let mut e = AlertEngine::new(rules());
        for i in 0..10 {
            let ip = format!("198.51.100.{i}");
            assert!(e
                .observe(&failed_login(i * 1000, "user:alice", &ip))
                .is_empty());
        }
        let alerts = e.observe(&failed_login(10_000, "user:alice", "198.51.100.99"));
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.rule, AlertRule::FailedAuthAccount);
        assert_eq!(a.subject, "user:alice");
        assert_eq!(a.severity, Severity::Warning);
        assert_eq!(a.count, 11);
        assert_eq!(a.window_secs, 300);
        assert_eq!(a.time_unix_ms, 10_000);
        assert_eq!(a.node, "gw-1");
        assert!(a.summary.contains("user:alice"), "{}", a.summary);
        // Further failures in the same incident: quiet.
        for i in 11..100 {
            let ip = format!("198.51.100.{i}");
            assert!(e
                .observe(&failed_login(i * 1000, "user:alice", &ip))
                .is_empty());
        }
    }

    #[test]
    fn failed_auth_per_ip_counts_every_account_and_skips_unnamed_accounts() {
        let mut e = AlertEngine::new(rules());
        let mut all = Vec::new();
        for i in 0..11 {
            let actor = if i % 2 == 0 {
                "-".to_owned()
            } else {
                format!("key:k{i}")
            };
            all.extend(e.observe(&failed_login(i * 1000, &actor, "203.0.113.7")));
        }
        assert_eq!(rule_counts(&all), BTreeMap::from([("failed_auth_ip", 1)]));
        assert_eq!(all[0].subject, "203.0.113.7");
        assert_eq!(all[0].count, 11);
        // `-` is never a subject.
        let mut e = AlertEngine::new(rules());
        for i in 0..50 {
            let ev = Event::new(i, "n", "-", "auth.request", "route:chat", Outcome::Failure);
            assert!(e.observe(&ev).is_empty());
        }
    }

    #[test]
    fn successes_and_other_actions_do_not_count_as_failed_auth() {
        let mut e = AlertEngine::new(rules());
        for i in 0..50 {
            let ok = Event::new(i, "n", "user:a", "auth.login", "admin", Outcome::Success)
                .with_client_ip("203.0.113.7");
            let denied = Event::new(i, "n", "user:a", "model.invoke", "r", Outcome::Denied)
                .with_client_ip("203.0.113.7");
            assert!(e.observe(&ok).is_empty());
            assert!(e.observe(&denied).is_empty());
        }
    }

    #[test]
    fn ipv4_mapped_addresses_count_with_their_ipv4_form() {
        let mut e = AlertEngine::new(rules());
        let mut all = Vec::new();
        for i in 0..11 {
            let ip = if i % 2 == 0 {
                "203.0.113.7"
            } else {
                "::ffff:203.0.113.7"
            };
            all.extend(e.observe(&failed_login(i, "-", ip)));
        }
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].subject, "203.0.113.7");
    }

    #[test]
    fn old_failures_slide_out_of_the_window() {
        let mut e = AlertEngine::new(rules());
        // Ten failures every 31 s: never more than ten within 300 s.
        for i in 0..200 {
            let alerts = e.observe(&failed_login(i * 31_000, "user:bob", "192.0.2.1"));
            assert!(alerts.is_empty(), "event {i}: {alerts:?}");
        }
        // The window is (t - 300 s, t]: an event exactly 300 s old is out.
        for (last, alerts) in [(301_000, 0), (300_999, 1)] {
            let mut e = AlertEngine::new(rules());
            for _ in 0..10 {
                assert!(e.observe(&failed_login(1000, "-", "192.0.2.2")).is_empty());
            }
            assert_eq!(
                e.observe(&failed_login(last, "-", "192.0.2.2")).len(),
                alerts
            );
        }
    }

    #[test]
    fn cooldown_suppresses_then_rearms() {
        let mut e = AlertEngine::new(rules());
        let burst = |e: &mut AlertEngine, start: i64| -> usize {
            (0..30)
                .map(|i| {
                    e.observe(&failed_login(start + i * 100, "user:c", ""))
                        .len()
                })
                .sum()
        };
        assert_eq!(burst(&mut e, 0), 1);
        // A second burst within the cooldown (900 s): quiet.
        assert_eq!(burst(&mut e, 10 * MIN), 0);
        // After the cooldown has passed since the first alert: a new alert.
        assert_eq!(burst(&mut e, 16 * MIN), 1);
    }

    #[test]
    fn zero_count_or_window_turns_a_rule_off() {
        for t in [
            Threshold {
                count: 0,
                window_secs: 300,
            },
            Threshold {
                count: 10,
                window_secs: 0,
            },
        ] {
            let mut e = AlertEngine::new(AlertRules {
                failed_auth: t,
                calls_per_key: t,
                new_network: false,
                ..rules()
            });
            for i in 0..100 {
                assert!(e
                    .observe(&failed_login(i, "user:a", "192.0.2.1"))
                    .is_empty());
                assert!(e.observe(&call(i, "key:k", "192.0.2.1")).is_empty());
            }
            assert_eq!(e.tracked(), 0);
        }
    }

    #[test]
    fn key_volume_fires_once_above_the_threshold() {
        let mut e = AlertEngine::new(AlertRules {
            calls_per_key: Threshold {
                count: 5,
                window_secs: 60,
            },
            ..rules()
        });
        for i in 0..5 {
            assert!(e.observe(&call(i * 1000, "key:k1", "192.0.2.1")).is_empty());
        }
        // Users and JWT principals are not keys.
        for i in 0..20 {
            assert!(e.observe(&call(i, "user:u", "192.0.2.1")).is_empty());
            assert!(e.observe(&call(i, "jwt:sub", "192.0.2.1")).is_empty());
        }
        let alerts = e.observe(&call(5000, "key:k1", "192.0.2.1"));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule, AlertRule::KeyVolume);
        assert_eq!(alerts[0].subject, "key:k1");
        assert_eq!(alerts[0].count, 6);
        assert!(alerts[0].summary.contains("route:chat"));
        assert!(e.observe(&call(5001, "key:k1", "192.0.2.1")).is_empty());
    }

    #[test]
    fn new_network_needs_a_known_network_first() {
        let mut e = AlertEngine::new(rules());
        // First use: learned, no alert. Same /24: nothing.
        assert!(e.observe(&call(0, "key:k", "192.0.2.1")).is_empty());
        assert!(e.observe(&call(1, "key:k", "192.0.2.200")).is_empty());
        // Another /24.
        let alerts = e.observe(&call(2, "key:k", "198.51.100.9"));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule, AlertRule::NewNetwork);
        assert!(
            alerts[0].summary.contains("198.51.100.0/24"),
            "{}",
            alerts[0].summary
        );
        // Known now: nothing, even after the cooldown.
        assert!(e
            .observe(&call(20 * MIN, "key:k", "198.51.100.10"))
            .is_empty());
        // IPv6: the /64 counts.
        assert_eq!(
            e.observe(&call(40 * MIN, "key:k", "2001:db8:1:2::1")).len(),
            1
        );
        assert!(e
            .observe(&call(41 * MIN, "key:k", "2001:db8:1:2:ffff::9"))
            .is_empty());
        // A failed call does not teach or alert.
        let failed = call(60 * MIN, "key:k", "203.0.113.1");
        let failed = Event {
            outcome: Outcome::Failure,
            ..failed
        };
        assert!(e.observe(&failed).is_empty());
        assert_eq!(e.observe(&call(61 * MIN, "key:k", "203.0.113.1")).len(), 1);
    }

    #[test]
    fn new_network_remembers_at_most_64_networks_per_key() {
        let mut e = AlertEngine::with_capacity(
            AlertRules {
                cooldown_secs: 0,
                ..rules()
            },
            10,
        );
        let mut alerts = 0;
        for i in 0..1000u32 {
            let ip = format!("10.{}.{}.1", i / 256, i % 256);
            alerts += e.observe(&call(i64::from(i), "key:k", &ip)).len();
        }
        assert_eq!(alerts, 999);
        let held = e.networks.map.values().next().map(|(_, n)| n.known.len());
        assert_eq!(held, Some(MAX_NETWORKS_PER_KEY));
    }

    #[test]
    fn every_admin_grant_and_lockdown_change_alerts_even_within_the_cooldown() {
        let mut e = AlertEngine::new(rules());
        let grant = |t: i64| {
            Event::new(
                t,
                "gw-1",
                "user:root",
                "grant.create",
                "user:bob",
                Outcome::Success,
            )
            .with_detail("role", "admin")
        };
        assert_eq!(e.observe(&grant(1_000)).len(), 1);
        assert_eq!(
            e.observe(&grant(2_000)).len(),
            1,
            "a second grant is a second incident"
        );
        let lockdown = |t: i64| {
            Event::new(
                t,
                "gw-1",
                "cli:ops",
                "incident.lockdown",
                "gateway",
                Outcome::Success,
            )
            .with_detail("state", "on")
        };
        assert_eq!(e.observe(&lockdown(3_000)).len(), 1);
        assert_eq!(e.observe(&lockdown(4_000)).len(), 1);
    }

    #[test]
    fn admin_grants_fire_for_admin_only() {
        let mut e = AlertEngine::new(rules());
        let grant = |action: &str, name: &str, value: &str, resource: &str| {
            Event::new(5, "gw-1", "user:root", action, resource, Outcome::Success)
                .with_detail(name, value)
        };
        assert!(e
            .observe(&grant("grant.create", "role", "viewer", "user:bob"))
            .is_empty());
        assert!(e
            .observe(&grant("key.create", "roles", "administrator,x", "key:k"))
            .is_empty());
        let denied = Event {
            outcome: Outcome::Denied,
            ..grant("grant.create", "role", "admin", "user:eve")
        };
        assert!(e.observe(&denied).is_empty());
        for (i, (action, name, value)) in [
            ("grant.create", "role", "admin"),
            ("user.create", "roles", "viewer, admin"),
            ("user.roles", "roles", "admin"),
            ("key.create", "roles", "invoker,admin"),
        ]
        .into_iter()
        .enumerate()
        {
            let resource = format!("user:u{i}");
            let alerts = e.observe(&grant(action, name, value, &resource));
            assert_eq!(alerts.len(), 1, "{action}");
            assert_eq!(alerts[0].rule, AlertRule::AdminGrant);
            assert_eq!(alerts[0].subject, resource);
            assert_eq!(alerts[0].severity, Severity::Critical);
            assert_eq!(alerts[0].count, 1);
        }
        // A hashed role cannot be read, so it cannot match.
        let hasher = crate::DetailHasher::new(&[7u8; 32]).unwrap();
        let hashed = Event::new(
            5,
            "n",
            "user:root",
            "grant.create",
            "user:z",
            Outcome::Success,
        )
        .with_hashed_detail(&hasher, "role", "admin");
        assert!(e.observe(&hashed).is_empty());
    }

    #[test]
    fn summaries_never_hold_hashed_details() {
        let hasher = crate::DetailHasher::new(&[7u8; 32]).unwrap();
        let mut e = AlertEngine::new(rules());
        let mut all = Vec::new();
        for i in 0..11 {
            let ev = failed_login(i, "user:alice", "192.0.2.1").with_hashed_detail(
                &hasher,
                "user.email",
                "alice@example.com",
            );
            all.extend(e.observe(&ev));
        }
        assert_eq!(all.len(), 2);
        let DetailValue::Hmac(h) = hasher.hash("user.email", "alice@example.com") else {
            unreachable!()
        };
        let hex = crate::encoding::hex_encode(&h);
        for a in &all {
            assert!(!a.summary.contains("alice@example.com"));
            assert!(!a.summary.contains(&hex[..16]));
        }
    }

    #[test]
    fn lockdown_and_audit_failures_are_critical() {
        let mut e = AlertEngine::new(rules());
        let lock = |t: i64, state: &str| {
            Event::new(
                t,
                "gw-1",
                "user:root",
                "incident.lockdown",
                "gateway",
                Outcome::Success,
            )
            .with_detail("state", state)
        };
        let on = e.observe(&lock(0, "on"));
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].rule, AlertRule::Lockdown);
        assert_eq!(on[0].severity, Severity::Critical);
        assert_eq!(on[0].subject, "on");
        assert!(on[0].summary.contains("turned on by user:root"));
        assert_eq!(e.observe(&lock(1, "off")).len(), 1);

        let failed = Event::new(
            7,
            "gw-2",
            "-",
            "audit.write_failed",
            "audit",
            Outcome::Error,
        );
        let a = e.observe(&failed);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].rule, AlertRule::AuditFailure);
        assert_eq!(a[0].subject, "gw-2");
        assert_eq!(a[0].seq, 0);
        // Repeated failures on the same node: one alert per cooldown.
        assert!(e.observe(&failed).is_empty());

        let mut off = AlertEngine::new(AlertRules {
            lockdown: false,
            audit_failures: false,
            admin_grants: false,
            ..rules()
        });
        assert!(off.observe(&lock(0, "on")).is_empty());
        assert!(off.observe(&failed).is_empty());
    }

    #[test]
    fn control_characters_and_long_actors_are_cleaned() {
        let mut e = AlertEngine::new(rules());
        let actor = format!("user:x\r\nBcc: evil@example.com{}", "a".repeat(10_000));
        let mut all = Vec::new();
        for i in 0..11 {
            all.extend(e.observe(&failed_login(i, &actor, "192.0.2.1")));
        }
        assert_eq!(all.len(), 2);
        for a in &all {
            assert!(!a.summary.contains(['\r', '\n']), "{}", a.summary);
            assert!(!a.subject.contains(['\r', '\n']));
            assert!(a.summary.chars().count() < 400);
        }
    }

    #[test]
    fn memory_stays_bounded_under_an_ip_spray() {
        let cap = 1000;
        let mut e = AlertEngine::with_capacity(rules(), cap);
        let mut ev = failed_login(0, "-", "");
        let mut call = call(0, "key:k", "");
        for i in 0..1_000_000u32 {
            let ip = std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761)).to_string();
            ev.time_unix_ms = i64::from(i);
            ev.client_ip = Some(ip.clone());
            call.time_unix_ms = i64::from(i);
            call.client_ip = Some(ip);
            e.observe(&ev);
            e.observe(&call);
        }
        // failed_ip full; one key with at most 64 networks; one cooldown
        // entry (new_network for key:k).
        assert!(e.failed_ip.len() <= cap);
        assert!(e.tracked() <= 3 * cap, "{}", e.tracked());
        assert_eq!(e.failed_ip.order.len(), e.failed_ip.len());
        for (_, (_, n)) in e.networks.map.iter() {
            assert!(n.known.len() <= MAX_NETWORKS_PER_KEY);
        }
    }

    #[test]
    fn the_default_capacity_is_bounded() {
        let mut e = AlertEngine::new(rules());
        let mut ev = failed_login(0, "-", "");
        for i in 0..(DEFAULT_MAX_TRACKED as u32 + 5_000) {
            ev.client_ip = Some(std::net::Ipv4Addr::from(i).to_string());
            e.observe(&ev);
        }
        assert_eq!(e.failed_ip.len(), DEFAULT_MAX_TRACKED);
    }

    #[test]
    fn the_least_recently_seen_subject_is_forgotten() {
        let mut t: Tracker<u32> = Tracker::new(2);
        *t.entry("a", || 0) += 1;
        *t.entry("b", || 0) += 1;
        *t.entry("a", || 0) += 1; // a is now the most recent
        *t.entry("c", || 0) += 1; // evicts b
        assert_eq!(t.len(), 2);
        assert_eq!(*t.entry("a", || 0), 2);
        assert_eq!(*t.entry("b", || 0), 0);
    }

    #[test]
    fn windows_keep_at_most_count_plus_one_timestamps() {
        let mut w = Window::default();
        let t = Threshold {
            count: 3,
            window_secs: 1000,
        };
        for i in 0..100 {
            w.record(i, t);
            assert!(w.times.len() <= 4);
        }
        // Out of order within the window still counts.
        let mut w = Window::default();
        assert_eq!(w.record(10, t), 1);
        assert_eq!(w.record(5, t), 2);
        assert_eq!(w.times, [5, 10]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// The reference: every timestamp kept, counted the slow way.
        fn reference(times: &[i64], count: u32, window_ms: i64, cooldown_ms: i64) -> Vec<usize> {
            let mut fired = Vec::new();
            let mut last: Option<i64> = None;
            for (i, &t) in times.iter().enumerate() {
                let n = times[..=i].iter().filter(|&&x| x > t - window_ms).count();
                if n > count as usize && last.is_none_or(|l| t - l >= cooldown_ms) {
                    last = Some(t);
                    fired.push(i);
                }
            }
            fired
        }

        proptest! {
            #[test]
            fn engine_matches_the_reference(
                gaps in proptest::collection::vec(0i64..20_000, 1..300),
                count in 1u32..12,
                window_secs in 1u64..120,
                cooldown_secs in 0u64..300,
            ) {
                let times: Vec<i64> = gaps
                    .iter()
                    .scan(0i64, |t, g| { *t += g; Some(*t) })
                    .collect();
                let mut e = AlertEngine::new(AlertRules {
                    failed_auth: Threshold { count, window_secs },
                    cooldown_secs,
                    ..AlertRules::default()
                });
                let fired: Vec<usize> = times
                    .iter()
                    .enumerate()
                    .filter(|(_, &t)| !e.observe(&failed_login(t, "user:p", "")).is_empty())
                    .map(|(i, _)| i)
                    .collect();
                prop_assert_eq!(
                    fired,
                    reference(&times, count, window_secs as i64 * 1000, cooldown_secs as i64 * 1000)
                );
            }
        }
    }
}
