//! Properties of the operators over the real analyzer: what was detected
//! never survives anonymization, and pseudonyms restore to the original.

use std::sync::OnceLock;

use amanah_pii::operators::{anonymize, NoContext, Operator, OperatorContext, OperatorPolicy};
use amanah_pii::pseudonym::PseudonymMap;
use amanah_pii::restore::{restore, Escape, StreamRestorer};
use amanah_pii::{Analyzer, EntityType};
use proptest::prelude::*;

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::standard)
}

/// Pieces of prompts: personal data, secrets, filler, and characters that
/// stress the encodings (quotes, backslashes, `%`, `<`, multibyte).
const PIECES: &[&str] = &[
    "My name is Maria Gonzalez",
    "email me at maria.gonzalez@example.org",
    "call +1 (415) 555-0132 tonight",
    "my SSN is 078-05-1120",
    "card 4111 1111 1111 1111 exp 12/29",
    "key AKIAIOSFODNN7EXAMPLE",
    "I live at 221 Baker Street, London",
    "IBAN GB82 WEST 1234 5698 7654 32",
    "server 192.168.10.24",
    "born on 14 March 1987",
    "Dr. James O'Connor from Acme Holdings Ltd.",
    "the weather is nice",
    "50% off \"quoted\" back\\slash",
    "a < b > c",
    "Zoë and Łukasz met in Kraków",
    "\n\t",
    ", ",
    ". ",
];

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..8).prop_map(|v| v.join(" "))
}

struct Keyed;
impl OperatorContext for Keyed {
    fn keyed_hash(&self, value: &str) -> Option<[u8; 32]> {
        let mut h = [0u8; 32];
        for (i, b) in value.bytes().enumerate() {
            h[i % 32] ^= b.rotate_left(i as u32 % 8);
        }
        Some(h)
    }
}

/// A value may appear in the output only if the input also holds it
/// outside every detected span (the same words, not detected there).
fn assert_no_detected_value_survives(
    text: &str,
    policy: &OperatorPolicy,
    ctx: &mut dyn OperatorContext,
) {
    let detections = analyzer().analyze(text);
    let out = anonymize(text, &detections, policy, ctx);
    let mut undetected = String::new();
    let mut at = 0;
    for d in &detections {
        undetected.push_str(&text[at..d.start]);
        undetected.push('\u{0}');
        at = d.end;
    }
    undetected.push_str(&text[at..]);
    for d in &detections {
        let value = &text[d.start..d.end];
        if value.chars().count() < 4 || undetected.contains(value) {
            continue;
        }
        assert!(
            !out.text.contains(value),
            "{} survived {:?} in {:?}",
            d.entity,
            policy,
            out.text
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn anonymized_text_never_holds_a_detected_value(text in text_strategy()) {
        for policy in [
            OperatorPolicy::new(Operator::Replace),
            OperatorPolicy::new(Operator::Redact),
            OperatorPolicy::new(Operator::Mask { keep_last: 0 }),
            OperatorPolicy::new(Operator::Hash),
        ] {
            assert_no_detected_value_survives(&text, &policy, &mut Keyed);
        }
        let mut map = PseudonymMap::default();
        assert_no_detected_value_survives(&text, &OperatorPolicy::new(Operator::Pseudonymize), &mut map);
    }

    #[test]
    fn restoring_a_pseudonymized_text_gives_the_original(text in text_strategy(), cut in 1usize..16) {
        let mut map = PseudonymMap::default();
        let detections = analyzer().analyze(&text);
        let hidden = anonymize(&text, &detections, &OperatorPolicy::new(Operator::Pseudonymize), &mut map);
        let (back, restored) = restore(&hidden.text, &map, Escape::None);
        prop_assert_eq!(&back, &text);
        prop_assert_eq!(restored, hidden.changed.len());

        // The same, streamed in chunks of `cut` bytes (cut on char boundaries).
        let mut r = StreamRestorer::new(Escape::None);
        let mut out = String::new();
        let mut rest = hidden.text.as_str();
        while !rest.is_empty() {
            let mut n = cut.min(rest.len());
            while !rest.is_char_boundary(n) {
                n += 1;
            }
            r.push(&rest[..n], &map, &mut out);
            rest = &rest[n..];
        }
        r.finish(&map, &mut out);
        prop_assert_eq!(out, text);
    }
}

#[test]
fn the_same_value_keeps_its_placeholder_across_turns() {
    let mut map = PseudonymMap::default();
    let turn = |text: &str, map: &mut PseudonymMap| {
        let d = analyzer().analyze(text);
        anonymize(text, &d, &OperatorPolicy::new(Operator::Pseudonymize), map).text
    };
    let first = turn("email maria.gonzalez@example.org please", &mut map);
    let second = turn(
        "did you email maria.gonzalez@example.org or bob@example.net?",
        &mut map,
    );
    assert_eq!(first, "email <EMAIL_ADDRESS_1> please");
    assert_eq!(
        second,
        "did you email <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>?"
    );
}

#[test]
fn without_their_services_reversible_operators_still_hide_the_value() {
    let text = "key AKIAIOSFODNN7EXAMPLE";
    let d = analyzer().analyze(text);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].entity, EntityType::Secret);
    for op in [Operator::Pseudonymize, Operator::Tokenize, Operator::Hash] {
        let out = anonymize(text, &d, &OperatorPolicy::new(op), &mut NoContext);
        assert_eq!(out.text, "key <SECRET>");
    }
}
