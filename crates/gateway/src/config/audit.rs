//! `[audit]`: where the audit log lives, who signs its checkpoints, how
//! often, where they are exported, and how long events are kept.

use std::path::Path;
use std::time::Duration;

use super::raw::RawAudit;
use super::records::in_data_dir;
use super::{defaults, AuditConfig, Problem};

pub(super) fn validate_audit(
    raw: RawAudit,
    data_dir: &Path,
    problems: &mut Vec<Problem>,
) -> AuditConfig {
    let node = raw.node.unwrap_or_else(default_node);
    if !super::valid_label(&node) {
        problems.push(Problem::new(
            "audit.node",
            format!("`{node}` is not a node name"),
            "use letters, digits, - and _ (up to 64), e.g. gw-eu-1",
        ));
    }
    let every_events = raw
        .checkpoint_every_events
        .unwrap_or(defaults::AUDIT_CHECKPOINT_EVERY_EVENTS);
    let every_secs = raw
        .checkpoint_every_secs
        .unwrap_or(defaults::AUDIT_CHECKPOINT_EVERY_SECS);
    if every_events == 0 && every_secs == 0 {
        problems.push(Problem::new(
            "audit.checkpoint_every_events",
            "checkpoints are off: with both checkpoint_every_events and checkpoint_every_secs at 0 nothing anchors the log",
            "keep the defaults (1000 events, 60 s) or set one of them",
        ));
    }
    let retention_days = raw.retention_days.unwrap_or(defaults::AUDIT_RETENTION_DAYS);
    if retention_days > 36_500 {
        problems.push(Problem::new(
            "audit.retention_days",
            format!("{retention_days} days is more than a hundred years"),
            "use 0 to keep events forever, or a period such as 2557 (7 years)",
        ));
    }
    let on_failure = match raw.on_failure.as_deref() {
        None | Some("closed") => AuditFailure::Closed,
        Some("open") => AuditFailure::Open,
        Some(other) => {
            problems.push(Problem::new(
                "audit.on_failure",
                format!("unknown failure mode `{other}`"),
                "use \"closed\" (refuse with 503 when an event cannot be written) or \"open\" (serve and raise an alert)",
            ));
            AuditFailure::Closed
        }
    };
    let sync = match raw.sync.as_deref() {
        None | Some("full") => amanah_store::AuditSync::Full,
        Some("normal") => amanah_store::AuditSync::Normal,
        Some(other) => {
            problems.push(Problem::new(
                "audit.sync",
                format!("unknown sync mode `{other}`"),
                "use \"full\" (each event on disk before its answer; survives power loss) or \"normal\" (survives the gateway crashing, not the machine)",
            ));
            amanah_store::AuditSync::Full
        }
    };
    let checkpoint_webhook = raw
        .checkpoint_webhook
        .and_then(|w| super::alerts::validate_webhook("audit.checkpoint_webhook", w, problems));
    AuditConfig {
        sync,
        checkpoint_webhook,
        store: in_data_dir(data_dir, raw.store, defaults::AUDIT_STORE_FILE),
        signing_key: in_data_dir(
            data_dir,
            raw.signing_key_file,
            defaults::AUDIT_SIGNING_KEY_FILE,
        ),
        node,
        checkpoint_every_events: every_events,
        checkpoint_every: Duration::from_secs(every_secs),
        checkpoint_file: raw
            .checkpoint_file
            .map(|p| in_data_dir(data_dir, Some(p), "")),
        retention: (retention_days > 0)
            .then(|| Duration::from_secs(retention_days.min(36_500) * 86_400)),
        on_failure,
    }
}

/// A route's `audit` key, over `[audit].on_failure`.
pub(super) fn route_failure_mode(
    key: &str,
    value: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<AuditFailure> {
    match value? {
        "closed" => Some(AuditFailure::Closed),
        "open" => Some(AuditFailure::Open),
        other => {
            problems.push(Problem::new(
                key,
                format!("unknown failure mode `{other}`"),
                "use \"closed\" or \"open\"",
            ));
            None
        }
    }
}

/// The host's name when it is a valid node name, else `amanah`.
fn default_node() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| super::valid_label(h))
        .unwrap_or_else(|| "amanah".to_owned())
}

/// What happens to a request whose audit event cannot be written durably.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditFailure {
    /// Refused with 503: nothing happens that the log does not hold.
    #[default]
    Closed,
    /// Served anyway; the failure raises an alert.
    Open,
}
