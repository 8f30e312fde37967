//! The verifier: recomputes the chain and names the first damage.
//!
//! The rules that classify damage are in the crate docs (and
//! `docs/AUDIT_FORMAT.md`); [`classify`] is their one implementation.

use std::borrow::Borrow;
use std::fmt;

use crate::chain::{event_hash_with, Hash, StoredEvent, GENESIS_HASH};
use crate::checkpoint::{Checkpoint, VerifyingKey};

/// The kind of damage found. The sequence number that goes with it is in
/// [`Report::first_damage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Damage {
    /// The event at this seq does not hash to its stored hash, or does not
    /// link to its predecessor while its successor is intact: its content,
    /// its stored hashes, or (when its successor no longer links to it) the
    /// event itself rewritten together with its hash.
    Modified,
    /// Events are missing from this seq on: the next stored event has a
    /// higher seq, and the missing seq appears nowhere later.
    Deleted,
    /// An extra event sits at this position: removing it leaves an intact
    /// chain, or it repeats a seq already used.
    Inserted,
    /// The event with this seq is stored later (or earlier) than its place.
    Reordered,
    /// The events end before this seq, but a valid signed checkpoint
    /// vouches for an event at or after it.
    Truncated,
    /// The chain is internally consistent but does not match the signed
    /// checkpoint at `checkpoint_seq`: events from this seq up to it were
    /// rewritten with recomputed hashes. Which of them changed cannot be
    /// known; this seq is the first one no checkpoint vouches for.
    Rewritten { checkpoint_seq: u64 },
    /// The checkpoint with this seq is not signed by the given key (forged,
    /// edited, or from another key).
    BadCheckpoint,
}

impl Damage {
    /// A short stable name: `modified`, `deleted`, `inserted`,
    /// `reordered`, `truncated`, `rewritten`, `bad_checkpoint`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Damage::Modified => "modified",
            Damage::Deleted => "deleted",
            Damage::Inserted => "inserted",
            Damage::Reordered => "reordered",
            Damage::Truncated => "truncated",
            Damage::Rewritten { .. } => "rewritten",
            Damage::BadCheckpoint => "bad_checkpoint",
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Modified => f.write_str("modified"),
            Damage::Deleted => f.write_str("deleted"),
            Damage::Inserted => f.write_str("inserted"),
            Damage::Reordered => f.write_str("reordered"),
            Damage::Truncated => f.write_str("truncated"),
            Damage::Rewritten { checkpoint_seq } => write!(
                f,
                "rewritten (does not match the signed checkpoint at seq {checkpoint_seq})"
            ),
            Damage::BadCheckpoint => f.write_str("bad checkpoint (signature does not verify)"),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where the verified events start: 1, or the checkpointed event
    /// retention kept when it pruned the ones before it.
    pub first_seq: u64,
    /// The last seq that verified before the first damage in the events
    /// (events `first_seq..=verified`; with an intact chain from 1:
    /// `first damaged seq - 1`). A [`Damage::BadCheckpoint`] does not
    /// lower it.
    pub verified: u64,
    /// The first damage, lowest seq first, or `None`.
    pub first_damage: Option<(u64, Damage)>,
    /// The highest seq among the verified events that a valid checkpoint
    /// vouches for. Events after it are hash-chained but not anchored: a
    /// writer of the store could have rewritten them.
    pub last_checkpoint_seq: Option<u64>,
}

impl Report {
    /// No damage found.
    pub fn is_ok(&self) -> bool {
        self.first_damage.is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first_damage {
            Some((seq, damage)) => write!(
                f,
                "damage at seq {seq}: {damage}; {} events verified before it",
                self.verified
            )?,
            None if self.first_seq > 1 => write!(
                f,
                "ok: events {} to {} verified (earlier ones pruned up to the checkpoint at {})",
                self.first_seq, self.verified, self.first_seq
            )?,
            None => write!(f, "ok: {} events verified", self.verified)?,
        }
        match self.last_checkpoint_seq {
            Some(cp) if cp == self.verified => {
                write!(f, "; all anchored by the signed checkpoint at seq {cp}")
            }
            Some(cp) => write!(
                f,
                "; anchored up to the signed checkpoint at seq {cp}, {} after it are not",
                self.verified - cp
            ),
            None => f.write_str("; no signed checkpoint anchors them"),
        }
    }
}

/// Verifies `events` (in the order the store holds them, from seq 1)
/// against `checkpoints` signed by `key`. See [`Verifier`] to feed events
/// in pages.
pub fn verify<I>(events: I, checkpoints: &[Checkpoint], key: &VerifyingKey) -> Report
where
    I: IntoIterator,
    I::Item: Borrow<StoredEvent>,
{
    let mut v = Verifier::new(checkpoints, key);
    for e in events {
        v.push(e.borrow());
    }
    v.finish()
}

/// What the verifier keeps of an event seen after the first anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    seq: u64,
    prev: Hash,
    hash: Hash,
    /// `hash == H(prev || canonical(event))`: consistent with itself.
    self_ok: bool,
}

/// The first anomaly and what followed it. `None` inside: a row that
/// could not be read. `next`/`next2` are `None` until seen (at the end:
/// there was none).
#[derive(Debug)]
struct Suspect {
    cur: Option<Seen>,
    next: Option<Option<Seen>>,
    next2: Option<Option<Seen>>,
    /// An event with the expected seq appears after `cur`.
    missing_seen_later: bool,
    /// An event after `cur` links to it: `cur` is a real member of the
    /// chain, stored out of place.
    cur_linked_later: bool,
}

#[derive(Debug)]
enum State {
    Walking,
    Suspect(Box<Suspect>),
    Done(u64, Damage),
}

/// The verifier as a state machine, for events that arrive in pages: call
/// [`push`](Self::push) for every stored event in stored order, then
/// [`finish`](Self::finish). After the first anomaly it keeps looking at
/// the rest to classify it (a reordered event may turn up anywhere later),
/// so push everything.
#[derive(Debug)]
pub struct Verifier {
    /// (seq, hash) of every checkpoint whose signature verified, by seq.
    anchors: Vec<(u64, Hash)>,
    next_anchor: usize,
    bad_checkpoint: Option<u64>,
    last_seq: u64,
    last_hash: Hash,
    /// The hash before `last_hash` (`None` while nothing is verified).
    prev_hash: Option<Hash>,
    last_anchor: Option<u64>,
    /// The seq the walk started at: 1, or a checkpointed event after
    /// retention pruned the ones before it.
    first_seq: u64,
    /// No row was seen yet.
    at_start: bool,
    /// A log may start after pruning only at a checkpoint signed at or
    /// before this time (see [`Verifier::with_retention_cut`]).
    retention_cut_ms: Option<i64>,
    /// (seq, hash, signing time) of the valid checkpoints.
    signed_at: Vec<(u64, Hash, i64)>,
    buf: Vec<u8>,
    state: State,
}

impl Verifier {
    /// Checks every checkpoint's signature against `key` now; those that
    /// fail are reported as [`Damage::BadCheckpoint`] and anchor nothing.
    pub fn new(checkpoints: &[Checkpoint], key: &VerifyingKey) -> Self {
        let mut anchors = Vec::with_capacity(checkpoints.len());
        let mut signed_at = Vec::with_capacity(checkpoints.len());
        let mut bad_checkpoint: Option<u64> = None;
        for cp in checkpoints {
            if key.verify(cp).is_ok() {
                anchors.push((cp.seq, cp.hash));
                signed_at.push((cp.seq, cp.hash, cp.time_unix_ms));
            } else {
                bad_checkpoint = Some(bad_checkpoint.map_or(cp.seq, |b| b.min(cp.seq)));
            }
        }
        anchors.sort_unstable();
        Self {
            anchors,
            next_anchor: 0,
            bad_checkpoint,
            last_seq: 0,
            last_hash: GENESIS_HASH,
            prev_hash: None,
            last_anchor: None,
            first_seq: 1,
            at_start: true,
            retention_cut_ms: None,
            signed_at,
            buf: Vec::with_capacity(512),
            state: State::Walking,
        }
    }

    /// Feeds the next stored event.
    pub fn push(&mut self, stored: &StoredEvent) {
        if std::mem::take(&mut self.at_start) && self.starts_after_pruning(stored) {
            return;
        }
        match &mut self.state {
            State::Done(..) => {}
            State::Walking => {
                let e = &stored.event;
                let h = event_hash_with(&mut self.buf, &self.last_hash, e);
                let linked = stored.prev_hash == self.last_hash;
                if linked && stored.hash == h && Some(e.seq) == self.last_seq.checked_add(1) {
                    self.accept(e.seq, h);
                } else {
                    let self_ok = if linked {
                        stored.hash == h
                    } else {
                        event_hash_with(&mut self.buf, &stored.prev_hash, e) == stored.hash
                    };
                    self.state = State::Suspect(Box::new(Suspect {
                        cur: Some(Seen {
                            seq: e.seq,
                            prev: stored.prev_hash,
                            hash: stored.hash,
                            self_ok,
                        }),
                        next: None,
                        next2: None,
                        missing_seen_later: false,
                        cur_linked_later: false,
                    }));
                }
            }
            State::Suspect(s) => {
                let e = &stored.event;
                if Some(e.seq) == self.last_seq.checked_add(1) {
                    s.missing_seen_later = true;
                }
                if s.cur.is_some_and(|c| c.hash == stored.prev_hash) {
                    s.cur_linked_later = true;
                }
                if s.next.is_none() || s.next2.is_none() {
                    let seen = Some(Seen {
                        seq: e.seq,
                        prev: stored.prev_hash,
                        hash: stored.hash,
                        self_ok: event_hash_with(&mut self.buf, &stored.prev_hash, e)
                            == stored.hash,
                    });
                    if s.next.is_none() {
                        s.next = Some(seen);
                    } else {
                        s.next2 = Some(seen);
                    }
                }
            }
        }
    }

    /// Accepts a log whose oldest events were deleted by retention: the
    /// first row may have `seq > 1` when a valid checkpoint signed at or
    /// before `cut_ms` (now minus the retention period) vouches for
    /// exactly that row. Retention deletes only events older than the
    /// period and only up to such a checkpoint, so this accepts no deletion
    /// retention would not have made. Without it, a missing prefix is
    /// damage (deleted at 1).
    pub fn with_retention_cut(mut self, cut_ms: i64) -> Self {
        self.retention_cut_ms = Some(cut_ms);
        self
    }

    /// See [`Verifier::with_retention_cut`]: the row must also hash to its
    /// stored hash.
    fn starts_after_pruning(&mut self, stored: &StoredEvent) -> bool {
        let e = &stored.event;
        let Some(cut) = self.retention_cut_ms else {
            return false;
        };
        let vouched = self
            .signed_at
            .iter()
            .any(|&(seq, hash, time)| seq == e.seq && hash == stored.hash && time <= cut);
        if e.seq <= 1
            || !vouched
            || event_hash_with(&mut self.buf, &stored.prev_hash, e) != stored.hash
        {
            return false;
        }
        self.first_seq = e.seq;
        self.prev_hash = Some(stored.prev_hash);
        self.last_seq = e.seq;
        self.last_hash = stored.hash;
        self.last_anchor = Some(e.seq);
        self.next_anchor = self.anchors.partition_point(|&(seq, _)| seq <= e.seq);
        true
    }

    /// Feeds a stored row that could not be read (its JSON does not parse,
    /// a hash column has the wrong length): damage at its position.
    pub fn push_unreadable(&mut self) {
        match &mut self.state {
            State::Done(..) => {}
            State::Walking => {
                self.state = State::Suspect(Box::new(Suspect {
                    cur: None,
                    next: None,
                    next2: None,
                    missing_seen_later: false,
                    cur_linked_later: false,
                }));
            }
            State::Suspect(s) => {
                if s.next.is_none() {
                    s.next = Some(None);
                } else if s.next2.is_none() {
                    s.next2 = Some(None);
                }
            }
        }
    }

    fn accept(&mut self, seq: u64, hash: Hash) {
        self.prev_hash = Some(self.last_hash);
        self.last_seq = seq;
        self.last_hash = hash;
        while let Some(&(cp_seq, cp_hash)) = self.anchors.get(self.next_anchor) {
            if cp_seq > seq {
                break;
            }
            self.next_anchor += 1;
            if cp_seq < seq {
                continue; // seq 0: anchors nothing
            }
            if cp_hash != hash {
                let first = self.last_anchor.unwrap_or(0) + 1;
                self.state = State::Done(
                    first,
                    Damage::Rewritten {
                        checkpoint_seq: seq,
                    },
                );
                return;
            }
            self.last_anchor = Some(seq);
        }
    }

    /// Classifies what was seen and reports.
    pub fn finish(self) -> Report {
        let event_damage = match &self.state {
            State::Done(seq, damage) => Some((*seq, *damage)),
            State::Suspect(s) => Some(classify(
                self.last_seq,
                &self.last_hash,
                self.prev_hash.as_ref(),
                self.last_anchor == Some(self.last_seq),
                s,
            )),
            State::Walking => self
                .anchors
                .iter()
                .any(|&(seq, _)| seq > self.last_seq)
                .then(|| (self.last_seq + 1, Damage::Truncated)),
        };
        let verified = match event_damage {
            Some((seq, _)) => self.last_seq.min(seq.saturating_sub(1)),
            None => self.last_seq,
        };
        let first_damage = match (event_damage, self.bad_checkpoint) {
            (Some(e), Some(b)) if b < e.0 => Some((b, Damage::BadCheckpoint)),
            (Some(e), _) => Some(e),
            (None, Some(b)) => Some((b, Damage::BadCheckpoint)),
            (None, None) => None,
        };
        Report {
            first_seq: self.first_seq,
            verified,
            first_damage,
            last_checkpoint_seq: self.last_anchor.filter(|&a| a <= verified),
        }
    }
}

/// Names the first damage, given the verified prefix (`p` events ending in
/// hash `cp`, the one before it `cp_prev`, `p_anchored` when a checkpoint
/// vouches for event `p`) and the anomaly that stopped it. `n = p + 1` is
/// the first position not verified.
fn classify(
    p: u64,
    cp: &Hash,
    cp_prev: Option<&Hash>,
    p_anchored: bool,
    s: &Suspect,
) -> (u64, Damage) {
    let n = p + 1;
    let next = s.next.as_ref().and_then(Option::as_ref);
    // Would the chain be intact without the current entry? The next event
    // has the expected seq, links to the verified prefix and is consistent,
    // and the one after it (if any) follows it.
    let removable = match next {
        Some(a) if a.seq == n && a.prev == *cp && a.self_ok => match &s.next2 {
            None => true,
            Some(Some(b)) => Some(b.seq) == n.checked_add(1) && b.prev == a.hash,
            Some(None) => false,
        },
        _ => false,
    };
    let Some(c) = &s.cur else {
        // An unreadable row.
        return (
            n,
            if removable {
                Damage::Inserted
            } else {
                Damage::Modified
            },
        );
    };
    let has_prev = p > 0 && !p_anchored;
    if c.seq == n {
        if removable {
            return (n, Damage::Inserted);
        }
        if c.prev != *cp && c.self_ok && has_prev {
            // Intact in itself but linked to something else: the event
            // before it was replaced (with a recomputed hash), or it was an
            // extra one that this event skips over.
            return if Some(&c.prev) == cp_prev {
                (p, Damage::Inserted)
            } else {
                (p, Damage::Modified)
            };
        }
        (n, Damage::Modified)
    } else if c.seq > n {
        // A gap. An intact event that links onto the next one, or that a
        // later one links to, belongs to the chain elsewhere: moved here.
        let moved = c.self_ok && (s.cur_linked_later || next.is_some_and(|a| c.prev == a.hash));
        if removable && !moved {
            (n, Damage::Inserted)
        } else if s.missing_seen_later {
            (n, Damage::Reordered)
        } else if c.prev == *cp {
            // Links to the prefix but carries another seq: edited.
            (n, Damage::Modified)
        } else {
            (n, Damage::Deleted)
        }
    } else if c.seq == p && has_prev && Some(&c.prev) == cp_prev && c.self_ok {
        // Two intact events claim seq p, both after event p - 1: one is
        // extra. If the next event continues from this one (and this one
        // is not a copy of the verified one), the verified one was extra.
        let continues_here = next.is_some_and(|a| a.prev == c.hash);
        if c.hash != *cp && continues_here {
            (p, Damage::Inserted)
        } else {
            (n, Damage::Inserted)
        }
    } else if c.prev == *cp && !c.self_ok {
        // In its place by its link, but its seq was edited.
        (n, Damage::Modified)
    } else {
        // A seq already used: a copy or a forgery.
        (n, Damage::Inserted)
    }
}
