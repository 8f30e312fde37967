//! `[keyring]` and `[records]`: where the root key comes from, where the
//! key store lives, and how long each kind of record is kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawKeyring, RawRecords, RawRetention};
use super::{defaults, KeyringConfig, Problem, Records, RootKeySource};
use crate::records::MAX_LABEL_LEN;

/// A path under the data directory unless it is absolute.
pub(super) fn in_data_dir(data_dir: &Path, p: Option<PathBuf>, default: &str) -> PathBuf {
    let p = p.unwrap_or_else(|| PathBuf::from(default));
    if p.is_absolute() {
        p
    } else {
        data_dir.join(p)
    }
}

pub(super) fn validate_keyring(
    raw: RawKeyring,
    data_dir: &Path,
    problems: &mut Vec<Problem>,
) -> KeyringConfig {
    let provider = raw
        .provider
        .as_deref()
        .unwrap_or(defaults::KEYRING_PROVIDER);
    let root_key = match provider {
        "file" => RootKeySource::File(in_data_dir(
            data_dir,
            raw.root_key_file,
            defaults::ROOT_KEY_FILE,
        )),
        "env" => {
            let var = raw
                .root_key_env
                .unwrap_or_else(|| defaults::ROOT_KEY_ENV.to_owned());
            let valid = !var.is_empty()
                && var
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                problems.push(Problem::new(
                    "keyring.root_key_env",
                    format!("`{var}` is not an environment variable name"),
                    "use capitals, digits and _, e.g. AMANAH_ROOT_KEY",
                ));
            }
            RootKeySource::Env(var)
        }
        other => {
            problems.push(Problem::new(
                "keyring.provider",
                format!("unknown key provider `{other}`"),
                "use `file` (a root key file readable only by its owner) or `env`",
            ));
            RootKeySource::File(in_data_dir(data_dir, None, defaults::ROOT_KEY_FILE))
        }
    };
    let rotation_days = raw.rotation_days.unwrap_or(defaults::KEY_ROTATION_DAYS);
    if rotation_days > 3650 {
        problems.push(Problem::new(
            "keyring.rotation_days",
            format!("{rotation_days} days is more than ten years"),
            "use 0 to turn automatic rotation off, or a period such as 90",
        ));
    }
    KeyringConfig {
        root_key,
        key_store: in_data_dir(data_dir, raw.key_store, defaults::KEY_STORE_FILE),
        rotation_period: (rotation_days > 0)
            .then(|| Duration::from_secs(rotation_days.min(3650) * 86_400)),
    }
}

pub(super) fn validate_records(raw: RawRecords, problems: &mut Vec<Problem>) -> Records {
    let interval = raw
        .cleanup_interval_secs
        .unwrap_or(defaults::CLEANUP_INTERVAL_SECS);
    if interval == 0 {
        problems.push(Problem::new(
            "records.cleanup_interval_secs",
            "must be at least 1",
            format!(
                "leave it out for the default ({})",
                defaults::CLEANUP_INTERVAL_SECS
            ),
        ));
    }
    let batch = raw.sweep_batch.unwrap_or(defaults::SWEEP_BATCH);
    if batch == 0 || batch > 100_000 {
        problems.push(Problem::new(
            "records.sweep_batch",
            format!("{batch} is outside 1..=100000"),
            format!("leave it out for the default ({})", defaults::SWEEP_BATCH),
        ));
    }
    Records {
        cleanup_interval: Duration::from_secs(interval.max(1)),
        sweep_batch: batch.clamp(1, 100_000) as u32,
        retention: validate_retention(raw.retention, problems),
    }
}

fn validate_retention(
    raw: BTreeMap<String, RawRetention>,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Option<i64>)> {
    let mut out = Vec::new();
    for (kind, value) in raw {
        let key = format!("records.retention.{kind}");
        let kind_ok = !kind.is_empty()
            && kind.len() <= MAX_LABEL_LEN
            && kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !kind_ok {
            problems.push(Problem::new(
                key,
                "a record kind is letters, digits, - _ and .",
                "rename the kind, e.g. call_metadata",
            ));
            continue;
        }
        match parse_retention(&value) {
            Some(ttl) => out.push((kind, ttl)),
            None => problems.push(Problem::new(
                key,
                format!("`{}` is not a retention period", value.describe()),
                "write seconds (86400), a number with s, m, h or d (\"24h\", \"90d\"), or \"forever\"",
            )),
        }
    }
    out
}

/// Seconds, `None` for "forever"; `None` outside means invalid.
fn parse_retention(value: &RawRetention) -> Option<Option<i64>> {
    let secs = match value {
        RawRetention::Seconds(s) => *s,
        RawRetention::Text(t) if t == "forever" => return Some(None),
        RawRetention::Text(t) => {
            let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
            let n: u64 = number.parse().ok()?;
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3_600,
                "d" => 86_400,
                _ => return None,
            };
            n.checked_mul(scale)?
        }
    };
    // At most a century: a longer period is a typo, and "forever" says it.
    (1..=100 * 365 * 86_400)
        .contains(&secs)
        .then_some(Some(secs as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_periods() {
        let p = |v: RawRetention| parse_retention(&v);
        assert_eq!(p(RawRetention::Seconds(86_400)), Some(Some(86_400)));
        assert_eq!(p(RawRetention::Text("24h".into())), Some(Some(86_400)));
        assert_eq!(p(RawRetention::Text("90d".into())), Some(Some(90 * 86_400)));
        assert_eq!(p(RawRetention::Text("15m".into())), Some(Some(900)));
        assert_eq!(p(RawRetention::Text("forever".into())), Some(None));
        for bad in [
            "",
            "h",
            "24",
            "24x",
            "-1d",
            "1.5h",
            "99999999999999999999d",
            "0s",
        ] {
            assert_eq!(p(RawRetention::Text(bad.into())), None, "{bad}");
        }
        assert_eq!(p(RawRetention::Seconds(0)), None);
    }
}
