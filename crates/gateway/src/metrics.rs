//! Prometheus metrics, hand-rolled: fixed arrays of atomics per route, so
//! recording a request takes no lock and allocates nothing.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use amanah_pii::EntityType;

use crate::alerts::AlertDispatcher;
use crate::audit::AuditStatus;
use crate::error::AuthFailure;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];
const STATUS_MIN: u16 = 100;
const STATUS_COUNT: usize = 500;

/// Kinds of upstream failure, as counted.
#[derive(Debug, Clone, Copy)]
pub enum UpstreamFailure {
    Connect,
    Timeout,
    Protocol,
}

impl UpstreamFailure {
    const ALL: [UpstreamFailure; 3] = [Self::Connect, Self::Timeout, Self::Protocol];
    fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Protocol => "protocol",
        }
    }
}

struct RouteMetrics {
    name: String,
    by_status: Vec<AtomicU64>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    latency_count: AtomicU64,
    upstream_failures: [AtomicU64; 3],
    /// Personal data and secrets the privacy stage found, by entity type.
    privacy_values: [AtomicU64; EntityType::ALL.len()],
}

impl RouteMetrics {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            by_status: (0..STATUS_COUNT).map(|_| AtomicU64::new(0)).collect(),
            buckets: Default::default(),
            latency_sum_micros: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            upstream_failures: Default::default(),
            privacy_values: Default::default(),
        }
    }
}

pub struct Metrics {
    /// One per configured route, then one for requests that matched none.
    routes: Vec<RouteMetrics>,
    /// Refused credentials, by reason ([`AuthFailure::ALL`] order).
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
    /// Admin accounts locked by failed sign-ins.
    lockouts: AtomicU64,
    /// Requests refused by a rate limit, by budget ([`RATE_SCOPES`]).
    rate_limited: [AtomicU64; RATE_SCOPES.len()],
}

/// The budgets a request can be refused by (`GatewayError::RateLimited`).
const RATE_SCOPES: [&str; 4] = ["principal", "ip", "route", "auth_failures"];

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new<'a>(route_names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut routes: Vec<RouteMetrics> =
            route_names.into_iter().map(RouteMetrics::new).collect();
        routes.push(RouteMetrics::new("none"));
        Self {
            routes,
            auth_failures: Default::default(),
            lockouts: AtomicU64::new(0),
            rate_limited: Default::default(),
        }
    }

    pub fn auth_failure(&self, reason: AuthFailure) {
        if let Some(i) = AuthFailure::ALL.iter().position(|r| *r == reason) {
            self.auth_failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn lockout(&self) {
        self.lockouts.fetch_add(1, Ordering::Relaxed);
    }

    /// `scope`: which budget was spent (`principal`, `ip`, `route`,
    /// `auth_failures`).
    pub fn rate_limited(&self, scope: &str) {
        if let Some(i) = RATE_SCOPES.iter().position(|s| *s == scope) {
            self.rate_limited[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn slot(&self, route: Option<usize>) -> &RouteMetrics {
        let last = self.routes.len() - 1;
        &self.routes[route.unwrap_or(last).min(last)]
    }

    pub fn record(&self, route: Option<usize>, status: u16, latency: Duration) {
        let m = self.slot(route);
        if let Some(c) = status
            .checked_sub(STATUS_MIN)
            .and_then(|i| m.by_status.get(usize::from(i)))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let secs = latency.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            m.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        m.latency_sum_micros
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
        m.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn upstream_failure(&self, route: Option<usize>, kind: UpstreamFailure) {
        self.slot(route).upstream_failures[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Values the privacy stage found in a request of `route` (replaced,
    /// counted or refused, as the route's mode says).
    pub fn privacy_values(&self, route: Option<usize>, types: &[EntityType]) {
        let m = self.slot(route);
        for t in types {
            m.privacy_values[t.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP amanah_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE amanah_requests_total counter\n");
        for m in &self.routes {
            for (i, c) in m.by_status.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "amanah_requests_total{{route=\"{}\",status=\"{}\"}} {n}",
                        m.name,
                        i + usize::from(STATUS_MIN)
                    );
                }
            }
        }
        out.push_str("# HELP amanah_request_duration_seconds Time to response headers.\n");
        out.push_str("# TYPE amanah_request_duration_seconds histogram\n");
        for m in &self.routes {
            let count = m.latency_count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (b, c) in BUCKETS.iter().zip(&m.buckets) {
                cumulative += c.load(Ordering::Relaxed);
                let _ = writeln!(out, "amanah_request_duration_seconds_bucket{{route=\"{}\",le=\"{b}\"}} {cumulative}", m.name);
            }
            let _ = writeln!(
                out,
                "amanah_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {count}",
                m.name
            );
            let sum = m.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "amanah_request_duration_seconds_sum{{route=\"{}\"}} {sum}",
                m.name
            );
            let _ = writeln!(
                out,
                "amanah_request_duration_seconds_count{{route=\"{}\"}} {count}",
                m.name
            );
        }
        out.push_str(
            "# HELP amanah_upstream_errors_total Failed upstream calls, by route and kind.\n",
        );
        out.push_str("# TYPE amanah_upstream_errors_total counter\n");
        for m in &self.routes {
            for kind in UpstreamFailure::ALL {
                let n = m.upstream_failures[kind as usize].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "amanah_upstream_errors_total{{route=\"{}\",kind=\"{}\"}} {n}",
                    m.name,
                    kind.as_str()
                );
            }
        }
        out.push_str(
            "# HELP amanah_privacy_values_total Personal data and secrets found in requests, by route and type.\n",
        );
        out.push_str("# TYPE amanah_privacy_values_total counter\n");
        for m in &self.routes {
            for t in EntityType::ALL {
                let n = m.privacy_values[t.index()].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "amanah_privacy_values_total{{route=\"{}\",entity=\"{}\"}} {n}",
                        m.name,
                        t.as_str()
                    );
                }
            }
        }
        out.push_str(
            "# HELP amanah_auth_failures_total Refused credentials and sign-ins, by reason.\n",
        );
        out.push_str("# TYPE amanah_auth_failures_total counter\n");
        for (reason, c) in AuthFailure::ALL.iter().zip(&self.auth_failures) {
            let _ = writeln!(
                out,
                "amanah_auth_failures_total{{reason=\"{}\"}} {}",
                reason.as_str(),
                c.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP amanah_lockouts_total Admin accounts locked by failed sign-ins.\n");
        out.push_str("# TYPE amanah_lockouts_total counter\n");
        let _ = writeln!(
            out,
            "amanah_lockouts_total {}",
            self.lockouts.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP amanah_rate_limited_total Requests refused by a rate limit, by budget.\n",
        );
        out.push_str("# TYPE amanah_rate_limited_total counter\n");
        for (scope, c) in RATE_SCOPES.iter().zip(&self.rate_limited) {
            let _ = writeln!(
                out,
                "amanah_rate_limited_total{{budget=\"{scope}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// The audit writer's counters: events written, write failures, the lag
/// (events accepted but not yet durable), checkpoints signed.
pub fn render_audit(status: &AuditStatus, out: &mut String) {
    let series: [(&str, &str, &str, u64); 6] = [
        (
            "amanah_audit_anchor_failures_total",
            "counter",
            "Audit checkpoints that could not be stored or exported (anchor file, webhook).",
            status.anchor_failures(),
        ),
        (
            "amanah_audit_events_total",
            "counter",
            "Audit events written durably.",
            status.written(),
        ),
        (
            "amanah_audit_write_failures_total",
            "counter",
            "Audit events that could not be written.",
            status.failed(),
        ),
        (
            "amanah_audit_lag_events",
            "gauge",
            "Audit events accepted but not yet written.",
            status.queued(),
        ),
        (
            "amanah_audit_checkpoints_total",
            "counter",
            "Audit checkpoints signed.",
            status.checkpoints(),
        ),
        (
            "amanah_audit_last_seq",
            "gauge",
            "Sequence number of the newest audit event.",
            status.last_seq(),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP amanah_audit_healthy 1 when the last audit write succeeded.\n# TYPE amanah_audit_healthy gauge\namanah_audit_healthy {}",
        u8::from(status.healthy())
    );
}

/// Alerts raised by the rules, and per sink sent, failed and dropped.
pub fn render_alerts(alerts: &AlertDispatcher, out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP amanah_alerts_raised_total Alerts the rules raised.\n# TYPE amanah_alerts_raised_total counter\namanah_alerts_raised_total {}",
        alerts.raised()
    );
    out.push_str("# HELP amanah_alerts_total Alerts by sink and result (sent, failed, dropped).\n");
    out.push_str("# TYPE amanah_alerts_total counter\n");
    for c in alerts.counts() {
        for (result, n) in [
            ("sent", c.sent),
            ("failed", c.failed),
            ("dropped", c.dropped),
        ] {
            let _ = writeln!(
                out,
                "amanah_alerts_total{{sink=\"{}\",result=\"{result}\"}} {n}",
                c.sink
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histogram() {
        let m = Metrics::new(["chat"]);
        m.record(Some(0), 200, Duration::from_millis(3));
        m.record(Some(0), 200, Duration::from_millis(30));
        m.record(None, 404, Duration::from_micros(100));
        m.upstream_failure(Some(0), UpstreamFailure::Timeout);
        let text = m.render();
        assert!(
            text.contains("amanah_requests_total{route=\"chat\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("amanah_requests_total{route=\"none\",status=\"404\"} 1"));
        assert!(
            text.contains("amanah_request_duration_seconds_bucket{route=\"chat\",le=\"0.005\"} 1")
        );
        assert!(
            text.contains("amanah_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"} 2")
        );
        assert!(text.contains("amanah_upstream_errors_total{route=\"chat\",kind=\"timeout\"} 1"));
        m.privacy_values(
            Some(0),
            &[EntityType::EmailAddress, EntityType::EmailAddress],
        );
        let text = m.render();
        assert!(
            text.contains("amanah_privacy_values_total{route=\"chat\",entity=\"EMAIL_ADDRESS\"} 2")
        );
        assert!(!text.contains("entity=\"PERSON\""));
    }
}
