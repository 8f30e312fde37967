//! Pseudonyms: one conversation's map between values and placeholders.
//!
//! `<PERSON_1>` is the first person named in the conversation, and stays
//! `<PERSON_1>` in every later turn, so the model can follow who is who
//! without ever seeing a name. The map is what
//! [`crate::restore`] uses to put the values back into the answer.

use std::collections::HashMap;
use std::fmt;

use crate::operators::OperatorContext;
use crate::EntityType;

/// Finds the value a placeholder stands for.
pub trait Placeholders {
    /// The value `placeholder` (as written: `<PERSON_1>`) stands for, if
    /// this conversation made it.
    fn value_of(&self, placeholder: &str) -> Option<&str>;
}

/// The values of one conversation and their placeholders. Bounded: once
/// `capacity` values are held, new values get no pseudonym (the operator
/// then writes `<TYPE>`, which hides the value but is not restored).
#[derive(Clone)]
pub struct PseudonymMap {
    /// (type, value) -> placeholder.
    forward: HashMap<(EntityType, String), String>,
    /// placeholder -> value.
    reverse: HashMap<String, String>,
    /// The last number given per type.
    counters: [u32; EntityType::ALL.len()],
    capacity: usize,
    /// Bytes of values and placeholders held, for memory accounting.
    bytes: usize,
}

impl fmt::Debug for PseudonymMap {
    // Values are personal data: only sizes are printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PseudonymMap")
            .field("entries", &self.reverse.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Default for PseudonymMap {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

impl PseudonymMap {
    /// Values one conversation may hold by default.
    pub const DEFAULT_CAPACITY: usize = 4096;

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            forward: HashMap::new(),
            reverse: HashMap::new(),
            counters: [0; EntityType::ALL.len()],
            capacity,
            bytes: 0,
        }
    }

    /// The placeholder for `value`: the one it already has, or the next
    /// number of its type. `None` when the map is full.
    pub fn placeholder(&mut self, entity: EntityType, value: &str) -> Option<String> {
        let key = (entity, value.to_owned());
        if let Some(p) = self.forward.get(&key) {
            return Some(p.clone());
        }
        if self.reverse.len() >= self.capacity {
            return None;
        }
        let n = &mut self.counters[entity.index()];
        *n += 1;
        let placeholder = format!("<{}_{}>", entity.as_str(), n);
        self.bytes += 2 * (value.len() + placeholder.len());
        self.reverse.insert(placeholder.clone(), value.to_owned());
        self.forward.insert(key, placeholder.clone());
        Some(placeholder)
    }

    pub fn len(&self) -> usize {
        self.reverse.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reverse.is_empty()
    }

    /// Every (placeholder, value) pair.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.reverse.iter().map(|(p, v)| (p.as_str(), v.as_str()))
    }

    /// Approximate bytes of text held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Placeholders for PseudonymMap {
    fn value_of(&self, placeholder: &str) -> Option<&str> {
        self.reverse.get(placeholder).map(String::as_str)
    }
}

impl OperatorContext for PseudonymMap {
    fn pseudonym(&mut self, entity: EntityType, value: &str) -> Option<String> {
        self.placeholder(entity, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_placeholder_numbered_per_type() {
        let mut m = PseudonymMap::default();
        assert_eq!(
            m.placeholder(EntityType::Person, "Ann").as_deref(),
            Some("<PERSON_1>")
        );
        assert_eq!(
            m.placeholder(EntityType::Person, "Bob").as_deref(),
            Some("<PERSON_2>")
        );
        assert_eq!(
            m.placeholder(EntityType::EmailAddress, "a@b.co").as_deref(),
            Some("<EMAIL_ADDRESS_1>")
        );
        assert_eq!(
            m.placeholder(EntityType::Person, "Ann").as_deref(),
            Some("<PERSON_1>")
        );
        assert_eq!(m.value_of("<PERSON_2>"), Some("Bob"));
        assert_eq!(m.value_of("<PERSON_3>"), None);
        assert_eq!(m.len(), 3);
        assert!(!format!("{m:?}").contains("Ann"));
    }

    #[test]
    fn a_full_map_gives_no_new_placeholders_but_keeps_the_old_ones() {
        let mut m = PseudonymMap::with_capacity(1);
        assert!(m.placeholder(EntityType::Person, "Ann").is_some());
        assert_eq!(m.placeholder(EntityType::Person, "Bob"), None);
        assert_eq!(
            m.placeholder(EntityType::Person, "Ann").as_deref(),
            Some("<PERSON_1>")
        );
    }
}
