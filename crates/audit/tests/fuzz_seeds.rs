//! Replays the `audit_verify` fuzz target's seeds (`fuzz/seeds/audit_verify/`,
//! written by `make_seeds.py`, plus any `crash-*` reproducer) through the
//! target's own checks on every test run, and holds the named seeds to
//! their expected result: `ok_event_*` parse as events, `bad_event_*` are
//! refused, `ok_checkpoint_*` / `bad_checkpoint_*` likewise as checkpoints.

use std::path::Path;

use amanah_audit::fuzz_checks::{check_checkpoint_text, check_event_json, check_tampering};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/audit_verify");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 40, "seed corpus missing: run make_seeds.py");
    out
}

#[test]
fn every_seed_replays_without_panicking() {
    for (name, data) in seeds() {
        let result = std::panic::catch_unwind(|| {
            check_event_json(&data);
            check_checkpoint_text(&data);
            check_tampering(&data);
        });
        assert!(result.is_ok(), "{name} panicked");
    }
}

#[test]
fn named_seeds_give_their_expected_result() {
    let mut counts = [0usize; 5];
    for (name, data) in seeds() {
        let event = check_event_json(&data);
        let checkpoint = check_checkpoint_text(&data);
        if name.starts_with("ok_event_") {
            assert!(event, "{name} must parse as an event");
            counts[0] += 1;
        } else if name.starts_with("bad_event_") {
            assert!(!event && !checkpoint, "{name} must be refused");
            counts[1] += 1;
        } else if name.starts_with("ok_checkpoint") {
            assert!(
                checkpoint && !event,
                "{name} must parse as a checkpoint only"
            );
            counts[2] += 1;
        } else if name.starts_with("bad_checkpoint_") {
            assert!(!checkpoint && !event, "{name} must be refused");
            counts[3] += 1;
        } else if name.starts_with("tamper_") {
            counts[4] += 1;
        } else {
            assert!(name.starts_with("crash-"), "{name}: unknown seed kind");
        }
    }
    assert!(counts.iter().all(|&c| c >= 1), "{counts:?}");
    assert!(counts[1] >= 25, "bad event corpus shrank: {counts:?}");
}
