//! The properties the `audit_verify` fuzz target checks, here so that the
//! seed-replay test and a property test run the same code. Not API.

use std::sync::OnceLock;

use crate::{
    parse_checkpoint_file, verify, Chain, Checkpoint, DetailHasher, Event, Outcome, SigningKey,
    StoredEvent, VerifyingKey,
};

/// `Event::from_json` on the longest valid UTF-8 prefix: never panics; an
/// accepted event serializes and parses back equal, and its canonical
/// bytes are stable. Returns whether it parsed.
pub fn check_event_json(data: &[u8]) -> bool {
    let text = utf8_prefix(data);
    match Event::from_json(text) {
        Ok(event) => {
            let json = event.to_json();
            let back = Event::from_json(&json).expect("to_json output parses");
            assert_eq!(back, event);
            assert_eq!(back.canonical_bytes(), event.canonical_bytes());
            true
        }
        Err(e) => {
            let _ = e.to_string();
            false
        }
    }
}

/// `Checkpoint::from_text` and `parse_checkpoint_file`: never panic; an
/// accepted checkpoint round-trips through `to_text`, and verifying it
/// against a fixed key does not panic. Returns whether `from_text`
/// accepted it.
pub fn check_checkpoint_text(data: &[u8]) -> bool {
    let text = utf8_prefix(data);
    let _ = parse_checkpoint_file(text);
    match Checkpoint::from_text(text) {
        Ok(cp) => {
            assert_eq!(Checkpoint::from_text(&cp.to_text()).unwrap(), cp);
            let _ = fixed_key().verifying_key().verify(&cp);
            true
        }
        Err(_) => false,
    }
}

fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    }
}

fn fixed_key() -> SigningKey {
    SigningKey::from_seed(&[7u8; 32]).unwrap()
}

/// Length of the chain [`check_tampering`] starts from, and its
/// checkpoint interval.
pub const TAMPER_CHAIN_LEN: usize = 24;
pub const TAMPER_CHECKPOINT_EVERY: usize = 5;

/// A valid chain of [`TAMPER_CHAIN_LEN`] events with a checkpoint every
/// [`TAMPER_CHECKPOINT_EVERY`] events.
pub fn sample_chain() -> (Vec<StoredEvent>, Vec<Checkpoint>, SigningKey) {
    let key = fixed_key();
    let hasher = DetailHasher::new(&[9u8; 32]).unwrap();
    let mut chain = Chain::new();
    let mut events = Vec::new();
    let mut cps = Vec::new();
    for i in 0..TAMPER_CHAIN_LEN {
        let e = Event::new(
            1_795_000_000_000 + i as i64,
            "gw-1",
            format!("user:{}", i % 3),
            "model.invoke",
            "route:chat",
            Outcome::Success,
        )
        .with_detail("status", "200")
        .with_hashed_detail(&hasher, "user.email", "a@example.org");
        events.push(StoredEvent::from(chain.append(e)));
        if (i + 1) % TAMPER_CHECKPOINT_EVERY == 0 {
            cps.push(chain.checkpoint(&key, "gw-1", 0).unwrap());
        }
    }
    (events, cps, key)
}

/// Applies the tampering ops encoded in `data` (3 bytes each: op, i, j) to
/// a valid chain and verifies it: never panics; any change is reported,
/// unless it only removed events after the last checkpoint or rewrote
/// hashes after it; and the reported seq is never after the first changed
/// position (the verifier never vouches for a damaged event).
pub fn check_tampering(data: &[u8]) {
    static SAMPLE: OnceLock<(Vec<StoredEvent>, Vec<Checkpoint>, VerifyingKey)> = OnceLock::new();
    let (original, cps, key) = SAMPLE.get_or_init(|| {
        let (events, cps, key) = sample_chain();
        (events, cps, key.verifying_key().clone())
    });
    let last_cp = (original.len() / TAMPER_CHECKPOINT_EVERY * TAMPER_CHECKPOINT_EVERY) as u64;
    let mut events = original.clone();
    let mut rewrote_after_last_cp = false;
    for op in data.chunks_exact(3) {
        let len = events.len();
        if len == 0 {
            break;
        }
        let i = usize::from(op[1]) % len;
        let j = usize::from(op[2]) % len;
        match op[0] % 6 {
            0 => {
                events.remove(i);
            }
            1 => events.swap(i, j),
            2 => {
                let copy = events[i].clone();
                events.insert(j, copy);
            }
            3 => events[i].event.actor.push('x'),
            4 => {
                // An attacker with write access: edit, then recompute every
                // hash from there on.
                events[i].event.action.push('x');
                let mut prev = if i == 0 {
                    crate::GENESIS_HASH
                } else {
                    events[i - 1].hash
                };
                for e in &mut events[i..] {
                    e.prev_hash = prev;
                    e.hash = crate::event_hash(&prev, &e.event);
                    prev = e.hash;
                }
                if i as u64 + 1 > last_cp {
                    rewrote_after_last_cp = true;
                }
            }
            _ => events.truncate(i),
        }
    }
    let report = verify(&events, cps, key);
    let _ = report.to_string();
    let first_diff = events
        .iter()
        .zip(original)
        .position(|(a, b)| a != b)
        .unwrap_or(events.len().min(original.len()));
    let unchanged = events == *original;
    let undetectable_truncation = first_diff == events.len()
        && events.len() <= original.len()
        && events.len() as u64 >= last_cp;
    if unchanged {
        assert!(report.is_ok(), "{report}");
        return;
    }
    if rewrote_after_last_cp || undetectable_truncation {
        return;
    }
    let (seq, _) = report
        .first_damage
        .unwrap_or_else(|| panic!("tampering not detected: {report}"));
    let vouched = report.last_checkpoint_seq.unwrap_or(0);
    assert!(
        seq.min(vouched + 1) <= first_diff as u64 + 1,
        "damage at position {} reported at {seq}: {report}",
        first_diff + 1
    );
}
