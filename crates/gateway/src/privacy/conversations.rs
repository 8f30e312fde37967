//! Where pseudonyms and vault tokens live between a request and its
//! answer, and between the turns of a conversation.
//!
//! In memory, bounded and expiring: a conversation's map lives for
//! `ttl` after its last use, at most `capacity` conversations are kept
//! (the oldest goes first), and the token vault forgets a token `ttl`
//! after it was issued. Keys are hashes of the principal and the
//! conversation id, so one caller can never reach another's map.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use amanah_pii::pseudonym::{Placeholders, PseudonymMap};
use amanah_pii::EntityType;

/// A conversation's key: SHA-256 over the principal and the conversation id.
pub type ConversationKey = [u8; 32];

pub fn conversation_key(principal: &str, conversation: &str) -> ConversationKey {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"amanah conversation v1\0");
    ctx.update(principal.as_bytes());
    ctx.update(b"\0");
    ctx.update(conversation.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

struct Entry {
    map: Arc<Mutex<PseudonymMap>>,
    last_used: Instant,
}

/// The pseudonym maps of live conversations.
pub struct Conversations {
    inner: Mutex<ConversationsInner>,
    ttl: Duration,
    capacity: usize,
    values_per_conversation: usize,
}

#[derive(Default)]
struct ConversationsInner {
    entries: HashMap<ConversationKey, Entry>,
    /// Keys in the order they were created, for eviction.
    order: VecDeque<ConversationKey>,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.lock().entries.len();
        f.debug_struct("Conversations")
            .field("live", &n)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Conversations {
    pub fn new(ttl: Duration, capacity: usize, values_per_conversation: usize) -> Self {
        Self {
            inner: Mutex::default(),
            ttl,
            capacity: capacity.max(1),
            values_per_conversation,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ConversationsInner> {
        // A panic while holding the lock leaves maps that are still valid.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The map of conversation `key`, created empty if it is new or expired.
    pub fn get(&self, key: ConversationKey, now: Instant) -> Arc<Mutex<PseudonymMap>> {
        let mut inner = self.lock();
        if let Some(e) = inner.entries.get_mut(&key) {
            if now.duration_since(e.last_used) <= self.ttl {
                e.last_used = now;
                return Arc::clone(&e.map);
            }
            inner.entries.remove(&key);
        }
        while inner.entries.len() >= self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.entries.remove(&old);
        }
        // Keys of removed entries may linger in `order`; drop them when
        // they outnumber the live ones so the queue stays bounded.
        if inner.order.len() > 2 * self.capacity {
            let ConversationsInner { entries, order } = &mut *inner;
            order.retain(|k| entries.contains_key(k));
        }
        let map = Arc::new(Mutex::new(PseudonymMap::with_capacity(
            self.values_per_conversation,
        )));
        inner.entries.insert(
            key,
            Entry {
                map: Arc::clone(&map),
                last_used: now,
            },
        );
        inner.order.push_back(key);
        map
    }

    /// Live conversations.
    pub fn live(&self) -> usize {
        self.lock().entries.len()
    }
}

/// The placeholders one answer may restore: those its request used (or,
/// for a conversation the client named, every one of that conversation).
#[derive(Default)]
pub struct Restorable(HashMap<String, String>);

impl std::fmt::Debug for Restorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restorable")
            .field("placeholders", &self.0.len())
            .finish()
    }
}

impl Restorable {
    pub fn insert(&mut self, placeholder: String, value: String) {
        self.0.insert(placeholder, value);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Placeholders for Restorable {
    fn value_of(&self, placeholder: &str) -> Option<&str> {
        self.0.get(placeholder).map(String::as_str)
    }
}

/// Reversible tokens, per principal, forgotten `ttl` after issue.
pub struct TokenVault {
    inner: Mutex<VaultInner>,
    ttl: Duration,
    capacity: usize,
}

type TokenOwner = (ConversationKey, EntityType, String);

#[derive(Default)]
struct VaultInner {
    /// token -> ((owner, type, value), issued)
    tokens: HashMap<String, (TokenOwner, Instant)>,
    /// (owner, type, value) -> token
    issued: HashMap<TokenOwner, String>,
    order: VecDeque<String>,
}

impl std::fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVault")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenVault {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VaultInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token for `value` of `owner`: the live one, or a new one made by
    /// `fresh` (random; retried on the rare collision).
    pub fn tokenize(
        &self,
        owner: ConversationKey,
        entity: EntityType,
        value: &str,
        now: Instant,
        fresh: &mut dyn FnMut() -> String,
    ) -> String {
        let mut inner = self.lock();
        let id = (owner, entity, value.to_owned());
        if let Some(t) = inner.issued.get(&id) {
            let live = inner
                .tokens
                .get(t)
                .is_some_and(|(_, at)| now.duration_since(*at) <= self.ttl);
            if live {
                return t.clone();
            }
        }
        while inner.tokens.len() >= self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            // One lookup per eviction: a flood of new values costs the
            // same per token however full the vault is.
            if let Some((id, _)) = inner.tokens.remove(&old) {
                if inner.issued.get(&id) == Some(&old) {
                    inner.issued.remove(&id);
                }
            }
        }
        let mut token = fresh();
        while inner.tokens.contains_key(&token) {
            token = fresh();
        }
        inner.tokens.insert(token.clone(), (id.clone(), now));
        inner.issued.insert(id, token.clone());
        inner.order.push_back(token.clone());
        token
    }

    /// The value of `token` if `owner` holds it and it has not expired.
    pub fn detokenize(&self, owner: &ConversationKey, token: &str, now: Instant) -> Option<String> {
        let inner = self.lock();
        let ((o, _, v), at) = inner.tokens.get(token)?;
        (o == owner && now.duration_since(*at) <= self.ttl).then(|| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_are_kept_per_key_and_expire() {
        let c = Conversations::new(Duration::from_secs(60), 2, 16);
        let t0 = Instant::now();
        let a = conversation_key("key-a", "c1");
        let b = conversation_key("key-b", "c1");
        assert_ne!(
            a, b,
            "the same conversation id of two callers is two conversations"
        );
        c.get(a, t0)
            .lock()
            .unwrap()
            .placeholder(EntityType::Person, "Ann");
        assert_eq!(c.get(a, t0).lock().unwrap().len(), 1);
        assert_eq!(c.get(b, t0).lock().unwrap().len(), 0);
        assert_eq!(
            c.get(a, t0 + Duration::from_secs(61)).lock().unwrap().len(),
            0,
            "expired"
        );
    }

    #[test]
    fn the_oldest_conversation_is_evicted_at_capacity() {
        let c = Conversations::new(Duration::from_secs(60), 2, 16);
        let t0 = Instant::now();
        for i in 0..10 {
            c.get(conversation_key("p", &i.to_string()), t0);
            assert!(c.live() <= 2);
        }
        assert!(c.lock().order.len() <= 4);
    }

    #[test]
    fn tokens_are_stable_owned_and_expire() {
        let v = TokenVault::new(Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let owner = conversation_key("p", "");
        let other = conversation_key("q", "");
        let mut n = 0;
        let mut fresh = || {
            n += 1;
            format!("<PERSON_T{n}>")
        };
        let t = v.tokenize(owner, EntityType::Person, "Ann", t0, &mut fresh);
        assert_eq!(
            v.tokenize(owner, EntityType::Person, "Ann", t0, &mut fresh),
            t
        );
        assert_eq!(v.detokenize(&owner, &t, t0).as_deref(), Some("Ann"));
        assert_eq!(v.detokenize(&other, &t, t0), None);
        assert_eq!(v.detokenize(&owner, &t, t0 + Duration::from_secs(61)), None);
    }

    #[test]
    fn a_full_vault_drops_its_oldest_token() {
        let v = TokenVault::new(Duration::from_secs(60), 2);
        let t0 = Instant::now();
        let owner = conversation_key("p", "");
        let mut n = 0;
        let mut fresh = || {
            n += 1;
            format!("<PERSON_T{n}>")
        };
        let first = v.tokenize(owner, EntityType::Person, "Ann", t0, &mut fresh);
        v.tokenize(owner, EntityType::Person, "Bob", t0, &mut fresh);
        v.tokenize(owner, EntityType::Person, "Cy", t0, &mut fresh);
        assert_eq!(v.detokenize(&owner, &first, t0), None);
        // Ann gets a new token, not the dropped one.
        let again = v.tokenize(owner, EntityType::Person, "Ann", t0, &mut fresh);
        assert_ne!(again, first);
        assert_eq!(v.detokenize(&owner, &again, t0).as_deref(), Some("Ann"));
    }
}
