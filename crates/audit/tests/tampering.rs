//! One test per kind of tampering, each detected at the right sequence
//! number: a chain of 50 events with a signed checkpoint every 10 (seq 10,
//! 20, …, 50), damaged the way an attacker with write access to the store
//! (or to the anchor file) could.

// Not `is_multiple_of`: that is Rust 1.87 and the workspace MSRV is 1.85.
#![allow(clippy::manual_is_multiple_of)]

use amanah_audit::fuzz_checks::check_tampering;
use amanah_audit::{
    event_hash, verify, Chain, Checkpoint, CheckpointPolicy, Damage, DetailHasher, Event, Outcome,
    Report, SigningKey, StoredEvent, Verifier,
};
use proptest::prelude::*;

const LEN: u64 = 50;

struct Fixture {
    events: Vec<StoredEvent>,
    checkpoints: Vec<Checkpoint>,
    key: SigningKey,
}

fn event(i: u64, hasher: &DetailHasher) -> Event {
    Event::new(
        1_795_000_000_000 + 1000 * i as i64,
        "gw-1",
        format!("user:{}", ["alice", "bob", "carol"][i as usize % 3]),
        if i % 7 == 0 {
            "key.create"
        } else {
            "model.invoke"
        },
        "route:chat",
        if i % 11 == 0 {
            Outcome::Denied
        } else {
            Outcome::Success
        },
    )
    .with_client_ip("203.0.113.7")
    .with_request_id(format!("req-{i}"))
    .with_detail("status", "200")
    .with_hashed_detail(hasher, "user.email", "alice@example.org")
}

fn fixture() -> Fixture {
    let key = SigningKey::from_seed(&[42u8; 32]).unwrap();
    let hasher = DetailHasher::new(&[5u8; 32]).unwrap();
    let policy = CheckpointPolicy {
        every_events: 10,
        every_secs: 0,
    };
    let mut chain = Chain::new();
    let mut events = Vec::new();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for i in 1..=LEN {
        let c = chain.append(event(i, &hasher));
        assert_eq!(c.event.seq, i);
        let now = c.event.time_unix_ms;
        events.push(StoredEvent::from(c));
        if policy.due(checkpoints.last(), now, chain.last_seq()) {
            checkpoints.push(chain.checkpoint(&key, "gw-1", now).unwrap());
        }
    }
    let seqs: Vec<u64> = checkpoints.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [10, 20, 30, 40, 50]);
    Fixture {
        events,
        checkpoints,
        key,
    }
}

impl Fixture {
    fn verify(&self) -> Report {
        verify(&self.events, &self.checkpoints, self.key.verifying_key())
    }

    /// Index of the event with seq `seq` in the untampered list.
    fn at(&mut self, seq: u64) -> &mut StoredEvent {
        &mut self.events[seq as usize - 1]
    }

    /// What an attacker can do without the key: recompute every hash from
    /// index `from` on.
    fn rehash_from(&mut self, from: usize, to: usize) {
        for i in from..to {
            let prev = if i == 0 {
                amanah_audit::GENESIS_HASH
            } else {
                self.events[i - 1].hash
            };
            let e = &mut self.events[i];
            e.prev_hash = prev;
            e.hash = event_hash(&prev, &e.event);
        }
    }
}

fn damage(report: &Report) -> (u64, Damage) {
    report
        .first_damage
        .unwrap_or_else(|| panic!("no damage found: {report}"))
}

#[test]
fn untampered_chain_verifies_fully() {
    let f = fixture();
    let report = f.verify();
    assert_eq!(
        report,
        Report {
            first_seq: 1,
            verified: LEN,
            first_damage: None,
            last_checkpoint_seq: Some(50),
        }
    );
    assert_eq!(
        report.to_string(),
        "ok: 50 events verified; all anchored by the signed checkpoint at seq 50"
    );
    // The same from JSON, as a store returns it.
    let from_json: Vec<StoredEvent> = f
        .events
        .iter()
        .map(|e| StoredEvent::from_parts(&e.event.to_json(), &e.prev_hash, &e.hash).unwrap())
        .collect();
    assert_eq!(from_json, f.events);
}

#[test]
fn modified_field_is_caught_at_its_seq() {
    let mut f = fixture();
    f.at(23).event.actor = "user:mallory".into();
    let report = f.verify();
    assert_eq!(damage(&report), (23, Damage::Modified));
    assert_eq!(report.verified, 22);
    assert_eq!(report.last_checkpoint_seq, Some(20));
    assert_eq!(
        report.to_string(),
        "damage at seq 23: modified; 22 events verified before it; \
         anchored up to the signed checkpoint at seq 20, 2 after it are not"
    );
}

#[test]
fn modified_stored_hash_is_caught_at_its_seq() {
    let mut f = fixture();
    f.at(23).hash[0] ^= 1;
    assert_eq!(damage(&f.verify()), (23, Damage::Modified));
    let mut f = fixture();
    f.at(23).prev_hash[31] ^= 1;
    assert_eq!(damage(&f.verify()), (23, Damage::Modified));
}

#[test]
fn modified_first_and_last_events_are_caught() {
    let mut f = fixture();
    f.at(1).event.time_unix_ms += 1;
    assert_eq!(damage(&f.verify()), (1, Damage::Modified));
    let mut f = fixture();
    f.at(50).event.outcome = Outcome::Failure;
    assert_eq!(damage(&f.verify()), (50, Damage::Modified));
}

#[test]
fn event_replaced_with_its_own_hash_recomputed_is_caught_at_its_seq() {
    // 23 edited and rehashed; 24 still links to the old 23.
    let mut f = fixture();
    f.at(23).event.resource = "route:admin".into();
    f.rehash_from(22, 23);
    assert_eq!(damage(&f.verify()), (23, Damage::Modified));
}

#[test]
fn deleted_event_is_caught_at_its_seq() {
    let mut f = fixture();
    f.events.remove(22);
    let report = f.verify();
    assert_eq!(damage(&report), (23, Damage::Deleted));
    assert_eq!(report.verified, 22);
}

#[test]
fn deleted_run_and_deleted_first_event_are_caught() {
    let mut f = fixture();
    f.events.drain(22..27);
    assert_eq!(damage(&f.verify()), (23, Damage::Deleted));
    let mut f = fixture();
    f.events.remove(0);
    assert_eq!(damage(&f.verify()), (1, Damage::Deleted));
}

#[test]
fn inserted_forged_event_with_recomputed_hashes_is_caught() {
    // Between 22 and 23, claiming seq 23, linked to 22 with a correct
    // hash: intact in itself, but the real 23 still links to 22.
    let mut f = fixture();
    let mut forged = f.at(22).event.clone();
    forged.seq = 23;
    forged.actor = "user:mallory".into();
    let prev = f.at(22).hash;
    let hash = event_hash(&prev, &forged);
    f.events.insert(
        22,
        StoredEvent {
            event: forged,
            prev_hash: prev,
            hash,
        },
    );
    let report = f.verify();
    assert_eq!(damage(&report), (23, Damage::Inserted));
    assert_eq!(report.verified, 22);
}

#[test]
fn inserted_event_after_its_twin_is_caught_at_its_position() {
    // The forged 23 placed after the real 23: the extra entry is the 24th.
    let mut f = fixture();
    let mut forged = f.at(23).event.clone();
    forged.actor = "user:mallory".into();
    let prev = f.at(22).hash;
    let hash = event_hash(&prev, &forged);
    f.events.insert(
        23,
        StoredEvent {
            event: forged,
            prev_hash: prev,
            hash,
        },
    );
    assert_eq!(damage(&f.verify()), (24, Damage::Inserted));
}

#[test]
fn inserted_junk_and_replayed_events_are_caught() {
    let mut f = fixture();
    let mut junk = f.at(30).clone();
    junk.event.seq = 999;
    f.events.insert(22, junk);
    assert_eq!(damage(&f.verify()), (23, Damage::Inserted));
    // A copy of event 5 replayed after 30.
    let mut f = fixture();
    let copy = f.at(5).clone();
    f.events.insert(30, copy);
    assert_eq!(damage(&f.verify()), (31, Damage::Inserted));
    // An exact duplicate right after the original.
    let mut f = fixture();
    let copy = f.at(23).clone();
    f.events.insert(23, copy);
    assert_eq!(damage(&f.verify()), (24, Damage::Inserted));
}

#[test]
fn swapped_events_are_caught_as_reordered() {
    let mut f = fixture();
    f.events.swap(22, 23);
    let report = f.verify();
    assert_eq!(damage(&report), (23, Damage::Reordered));
    assert_eq!(report.verified, 22);
    // The last two, and an event moved far later or earlier.
    let mut f = fixture();
    f.events.swap(48, 49);
    assert_eq!(damage(&f.verify()), (49, Damage::Reordered));
    let mut f = fixture();
    let moved = f.events.remove(22);
    f.events.insert(40, moved);
    assert_eq!(damage(&f.verify()), (23, Damage::Reordered));
    let mut f = fixture();
    let moved = f.events.remove(40);
    f.events.insert(22, moved);
    assert_eq!(damage(&f.verify()), (23, Damage::Reordered));
}

#[test]
fn truncation_before_a_checkpoint_is_caught() {
    let mut f = fixture();
    f.events.truncate(37);
    let report = f.verify();
    assert_eq!(damage(&report), (38, Damage::Truncated));
    assert_eq!(report.verified, 37);
    assert_eq!(report.last_checkpoint_seq, Some(30));
    let mut f = fixture();
    f.events.clear();
    assert_eq!(damage(&f.verify()), (1, Damage::Truncated));
}

#[test]
fn truncation_after_the_last_checkpoint_is_not_detectable() {
    // The documented limit: nothing vouches for events 46..=50 once the
    // checkpoint at 50 is gone.
    let mut f = fixture();
    f.events.truncate(45);
    f.checkpoints.pop();
    let report = f.verify();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.last_checkpoint_seq, Some(40));
    assert_eq!(
        report.to_string(),
        "ok: 45 events verified; anchored up to the signed checkpoint at seq 40, 5 after it are not"
    );
}

#[test]
fn forged_checkpoint_signature_is_caught() {
    let mut f = fixture();
    f.checkpoints[3].signature[10] ^= 1;
    let report = f.verify();
    assert_eq!(damage(&report), (40, Damage::BadCheckpoint));
    assert_eq!(report.verified, 50);
    // Its hash edited, or its seq, or signed by another key.
    let mut f = fixture();
    f.checkpoints[3].hash[0] ^= 1;
    assert_eq!(damage(&f.verify()), (40, Damage::BadCheckpoint));
    let mut f = fixture();
    f.checkpoints[3].seq = 41;
    assert_eq!(damage(&f.verify()), (41, Damage::BadCheckpoint));
    let mut f = fixture();
    let other = SigningKey::from_seed(&[1u8; 32]).unwrap();
    f.checkpoints[3] = other.sign(40, f.events[39].hash, 0, "gw-1");
    assert_eq!(damage(&f.verify()), (40, Damage::BadCheckpoint));
}

#[test]
fn rewrite_with_all_hashes_recomputed_is_caught_by_the_covering_checkpoint() {
    // Event 23 edited and every hash after it recomputed: the chain is
    // intact, but no longer matches the signed checkpoint at 30. Which of
    // 21..=30 changed is unknowable; 21 is the first seq not vouched for.
    let mut f = fixture();
    f.at(23).event.outcome = Outcome::Success;
    f.at(23).event.actor = "user:mallory".into();
    f.rehash_from(22, 50);
    let report = f.verify();
    assert_eq!(
        damage(&report),
        (21, Damage::Rewritten { checkpoint_seq: 30 })
    );
    assert_eq!(report.verified, 20);
    assert_eq!(report.last_checkpoint_seq, Some(20));
    assert_eq!(
        report.to_string(),
        "damage at seq 21: rewritten (does not match the signed checkpoint at seq 30); \
         20 events verified before it; all anchored by the signed checkpoint at seq 20"
    );
}

#[test]
fn rewrite_after_the_last_checkpoint_is_not_detectable() {
    let mut f = fixture();
    f.checkpoints.pop();
    f.at(45).event.actor = "user:mallory".into();
    f.rehash_from(44, 50);
    let report = f.verify();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.last_checkpoint_seq, Some(40));
}

#[test]
fn truncate_and_reappend_is_caught_by_the_checkpoint() {
    // Cut at 37, then append forged 38..=45 with a valid chain.
    let mut f = fixture();
    f.events.truncate(37);
    let hasher = DetailHasher::new(&[5u8; 32]).unwrap();
    let mut chain = Chain::resume(37, f.events[36].hash);
    for i in 38..=45 {
        f.events.push(
            chain
                .append(event(i, &hasher).with_detail("forged", "yes"))
                .into(),
        );
    }
    assert_eq!(
        damage(&f.verify()),
        (31, Damage::Rewritten { checkpoint_seq: 40 })
    );
}

#[test]
fn unreadable_row_is_caught_at_its_position() {
    let f = fixture();
    let mut v = Verifier::new(&f.checkpoints, f.key.verifying_key());
    for (i, e) in f.events.iter().enumerate() {
        if i == 22 {
            v.push_unreadable();
        } else {
            v.push(e);
        }
    }
    assert_eq!(damage(&v.finish()), (23, Damage::Modified));
    assert!(StoredEvent::from_parts("{}", &[0; 32], &[0; 32]).is_err());
    let json = f.events[0].event.to_json();
    assert!(StoredEvent::from_parts(&json, &[0; 31], &[0; 32]).is_err());
}

#[test]
fn verifying_in_pages_equals_verifying_at_once() {
    let mut f = fixture();
    f.events.swap(30, 31);
    let mut v = Verifier::new(&f.checkpoints, f.key.verifying_key());
    for page in f.events.chunks(7) {
        for e in page {
            v.push(e);
        }
    }
    assert_eq!(v.finish(), f.verify());
}

#[test]
fn resumed_chain_continues_the_same_hashes() {
    let f = fixture();
    let hasher = DetailHasher::new(&[5u8; 32]).unwrap();
    let mut chain = Chain::resume(49, f.events[48].hash);
    let c = chain.append(event(50, &hasher));
    assert_eq!(StoredEvent::from(c), f.events[49]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random sequences of deletions, swaps, duplicates, edits, rewrites
    /// and truncations (the fuzz target's property): every change is
    /// reported, never after its position, except the documented limits.
    #[test]
    fn random_tampering_is_reported_no_later_than_it_happened(
        ops in proptest::collection::vec(any::<u8>(), 0..15)
    ) {
        check_tampering(&ops);
    }
}

impl Fixture {
    /// Verifies allowing retention up to checkpoints signed by `cut_ms`.
    fn verify_with_cut(&self, cut_ms: i64) -> Report {
        let mut v =
            Verifier::new(&self.checkpoints, self.key.verifying_key()).with_retention_cut(cut_ms);
        for e in &self.events {
            v.push(e);
        }
        v.finish()
    }
}

#[test]
fn a_log_pruned_up_to_a_checkpoint_verifies_from_it() {
    let mut f = fixture();
    let cut = f.checkpoints[1].time_unix_ms; // the checkpoint at seq 20
    f.events.drain(..19); // retention kept seq 20, the checkpointed event
    assert_eq!(
        damage(&f.verify()),
        (1, Damage::Deleted),
        "without a retention cut a missing prefix is damage"
    );
    let report = f.verify_with_cut(cut);
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.first_seq, report.verified), (20, LEN));
    assert_eq!(
        report.to_string(),
        "ok: events 20 to 50 verified (earlier ones pruned up to the checkpoint at 20); \
         all anchored by the signed checkpoint at seq 50"
    );
    // Damage after the pruned start is still found at its seq.
    f.events[10].event.action = "key.delete".into(); // seq 30
    assert_eq!(damage(&f.verify_with_cut(cut)), (30, Damage::Modified));
}

#[test]
fn a_prefix_deleted_other_than_retention_would_is_caught() {
    let f = fixture();
    let cut = f.checkpoints[1].time_unix_ms; // the checkpoint at seq 20

    // Up to a seq no checkpoint vouches for.
    let mut g = fixture();
    g.events.drain(..18);
    assert_eq!(damage(&g.verify_with_cut(cut)), (1, Damage::Deleted));

    // Up to a checkpoint younger than the retention period.
    let mut g = fixture();
    g.events.drain(..29);
    assert_eq!(damage(&g.verify_with_cut(cut)), (1, Damage::Deleted));

    // Starting at a checkpointed seq with a forged row in its place.
    let mut g = fixture();
    g.events.drain(..19);
    g.events[0].event.actor = "user:mallory".into();
    let rehashed = event_hash(&g.events[0].prev_hash, &g.events[0].event);
    g.events[0].hash = rehashed;
    assert_eq!(damage(&g.verify_with_cut(cut)).0, 1);
}
