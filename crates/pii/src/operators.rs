//! What happens to a detected value: the operators, the policy that picks
//! one per entity type, and [`anonymize`], which applies them to a text.
//!
//! Operators that need a key, a conversation or a vault ask the caller
//! through [`OperatorContext`]: this crate stays pure (no randomness, no
//! keys, no clock). When the context cannot serve an operator (no hash key
//! configured, a full conversation map) the value is replaced by `<TYPE>`
//! instead: an operator that cannot run never lets the value through.

use std::fmt;

use crate::{Detection, EntityType};

/// One way of hiding a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Removes the value.
    Redact,
    /// `<TYPE>`, e.g. `<EMAIL_ADDRESS>`.
    Replace,
    /// Letters and digits become `*` except the last `keep_last` of them;
    /// separators stay (`**** **** **** 1111`).
    Mask { keep_last: u8 },
    /// `<TYPE:hex>`: the first 128 bits of HMAC-SHA256 under the
    /// deployment's key. Equal values give equal tags within a deployment;
    /// without the key a tag cannot be checked against a guess.
    Hash,
    /// `<TYPE_N>`, the same placeholder for the same value throughout a
    /// conversation; restored in the model's answer.
    Pseudonymize,
    /// An opaque placeholder from the token vault, restorable while the
    /// vault keeps it.
    Tokenize,
    /// Leaves the value as it is (counted, not changed).
    Keep,
}

impl Operator {
    /// The operator's configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Redact => "redact",
            Operator::Replace => "replace",
            Operator::Mask { .. } => "mask",
            Operator::Hash => "hash",
            Operator::Pseudonymize => "pseudonymize",
            Operator::Tokenize => "tokenize",
            Operator::Keep => "keep",
        }
    }

    /// The operator named `name`; `keep_last` only applies to `mask`.
    pub fn parse(name: &str, keep_last: Option<u8>) -> Result<Self, UnknownOperator> {
        let op = match name {
            "redact" => Operator::Redact,
            "replace" => Operator::Replace,
            "mask" => Operator::Mask {
                keep_last: keep_last.unwrap_or(0),
            },
            "hash" => Operator::Hash,
            "pseudonymize" => Operator::Pseudonymize,
            "tokenize" => Operator::Tokenize,
            "keep" => Operator::Keep,
            _ => return Err(UnknownOperator),
        };
        if keep_last.is_some() && !matches!(op, Operator::Mask { .. }) {
            return Err(UnknownOperator);
        }
        Ok(op)
    }

    /// Whether the answer can get the value back.
    pub fn is_reversible(self) -> bool {
        matches!(self, Operator::Pseudonymize | Operator::Tokenize)
    }
}

/// The operator names [`Operator::parse`] accepts.
pub const OPERATOR_NAMES: [&str; 7] = [
    "redact",
    "replace",
    "mask",
    "hash",
    "pseudonymize",
    "tokenize",
    "keep",
];

/// A name that is not an operator, or `keep_last` on one other than `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOperator;

impl fmt::Display for UnknownOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected one of {} (keep_last only with mask)",
            OPERATOR_NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownOperator {}

/// Which operator applies to which entity type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorPolicy {
    default: Operator,
    per_type: [Option<Operator>; EntityType::ALL.len()],
}

impl OperatorPolicy {
    /// `default` for every type.
    pub fn new(default: Operator) -> Self {
        Self {
            default,
            per_type: [None; EntityType::ALL.len()],
        }
    }

    /// `op` for `entity`, whatever the default.
    pub fn with(mut self, entity: EntityType, op: Operator) -> Self {
        self.per_type[entity.index()] = Some(op);
        self
    }

    pub fn operator_for(&self, entity: EntityType) -> Operator {
        self.per_type[entity.index()].unwrap_or(self.default)
    }

    /// Masking for people to read: payment and account numbers keep their
    /// last four digits (what a receipt shows), everything else is masked
    /// whole.
    pub fn masking() -> Self {
        let keep4 = Operator::Mask { keep_last: 4 };
        Self::new(Operator::Mask { keep_last: 0 })
            .with(EntityType::CreditCard, keep4)
            .with(EntityType::IbanCode, keep4)
            .with(EntityType::UsBankNumber, keep4)
    }

    /// Whether any type is sent through `op`.
    pub fn uses(&self, op: Operator) -> bool {
        self.default == op || self.per_type.contains(&Some(op))
    }
}

/// What operators that need more than the text ask of their caller.
pub trait OperatorContext {
    /// HMAC-SHA256 of `value` under the deployment's key; `None` when there
    /// is no key.
    fn keyed_hash(&self, _value: &str) -> Option<[u8; 32]> {
        None
    }
    /// The placeholder for `value` in the current conversation; `None` when
    /// there is no conversation or its map is full.
    fn pseudonym(&mut self, _entity: EntityType, _value: &str) -> Option<String> {
        None
    }
    /// A vault token standing for `value`; `None` when there is no vault.
    fn token(&mut self, _entity: EntityType, _value: &str) -> Option<String> {
        None
    }
}

/// A context with no key, no conversation and no vault: `hash`,
/// `pseudonymize` and `tokenize` fall back to `<TYPE>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoContext;

impl OperatorContext for NoContext {}

/// A text with its detected values replaced.
#[derive(Clone, PartialEq, Eq)]
pub struct Anonymized {
    pub text: String,
    /// The types of the values that were changed, in text order (values
    /// kept by [`Operator::Keep`] are not in it).
    pub changed: Vec<EntityType>,
}

impl fmt::Debug for Anonymized {
    // The text may still hold kept values: not for debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anonymized")
            .field("len", &self.text.len())
            .field("changed", &self.changed)
            .finish()
    }
}

/// Applies `policy` to each detection of `text`. `detections` must be
/// sorted and disjoint, as [`crate::Analyzer::analyze`] returns them;
/// a detection that overlaps the previous one or leaves the text is
/// skipped.
pub fn anonymize(
    text: &str,
    detections: &[Detection],
    policy: &OperatorPolicy,
    ctx: &mut dyn OperatorContext,
) -> Anonymized {
    let mut out = String::with_capacity(text.len() + detections.len() * 8);
    let mut changed = Vec::with_capacity(detections.len());
    let mut at = 0;
    for d in detections {
        let Some(value) = (d.start >= at).then(|| text.get(d.start..d.end)).flatten() else {
            continue;
        };
        out.push_str(&text[at..d.start]);
        let op = policy.operator_for(d.entity);
        apply(op, d.entity, value, ctx, &mut out);
        if op != Operator::Keep {
            changed.push(d.entity);
        }
        at = d.end;
    }
    out.push_str(&text[at..]);
    Anonymized { text: out, changed }
}

fn apply(
    op: Operator,
    entity: EntityType,
    value: &str,
    ctx: &mut dyn OperatorContext,
    out: &mut String,
) {
    let replaced = |out: &mut String| {
        out.push('<');
        out.push_str(entity.as_str());
        out.push('>');
    };
    match op {
        Operator::Keep => out.push_str(value),
        Operator::Redact => {}
        Operator::Replace => replaced(out),
        Operator::Mask { keep_last } => mask_into(value, usize::from(keep_last), out),
        Operator::Hash => match ctx.keyed_hash(value) {
            Some(mac) => {
                out.push('<');
                out.push_str(entity.as_str());
                out.push(':');
                for b in &mac[..16] {
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
                out.push('>');
            }
            None => replaced(out),
        },
        Operator::Pseudonymize => match ctx.pseudonym(entity, value) {
            Some(p) => out.push_str(&p),
            None => replaced(out),
        },
        Operator::Tokenize => match ctx.token(entity, value) {
            Some(t) => out.push_str(&t),
            None => replaced(out),
        },
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Letters and digits become `*` except the last `keep_last` of them; a
/// value with no more than `keep_last * 2` of them is masked whole, so a
/// short value never shows most of itself.
pub fn mask_into(value: &str, keep_last: usize, out: &mut String) {
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    let keep = if alnum > keep_last * 2 { keep_last } else { 0 };
    let mut seen = 0;
    for c in value.chars() {
        if c.is_alphanumeric() {
            seen += 1;
            out.push(if seen > alnum - keep { c } else { '*' });
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(text: &str, value: &str, entity: EntityType) -> Detection {
        let start = text.find(value).unwrap();
        Detection::new(start, start + value.len(), entity, 0.9, "test")
    }

    struct Fixed;
    impl OperatorContext for Fixed {
        fn keyed_hash(&self, value: &str) -> Option<[u8; 32]> {
            Some([value.len() as u8; 32])
        }
        fn pseudonym(&mut self, entity: EntityType, _: &str) -> Option<String> {
            Some(format!("<{entity}_1>"))
        }
        fn token(&mut self, entity: EntityType, _: &str) -> Option<String> {
            Some(format!("<{entity}_TOK>"))
        }
    }

    #[test]
    fn each_operator_does_what_its_name_says() {
        let text = "card 4111 1111 1111 1111 for a@b.co";
        let ds = [
            det(text, "4111 1111 1111 1111", EntityType::CreditCard),
            det(text, "a@b.co", EntityType::EmailAddress),
        ];
        let run = |p: OperatorPolicy| anonymize(text, &ds, &p, &mut Fixed).text;
        assert_eq!(run(OperatorPolicy::new(Operator::Redact)), "card  for ");
        assert_eq!(
            run(OperatorPolicy::new(Operator::Replace)),
            "card <CREDIT_CARD> for <EMAIL_ADDRESS>"
        );
        assert_eq!(
            run(OperatorPolicy::masking()),
            "card **** **** **** 1111 for *@*.**"
        );
        assert_eq!(
            run(OperatorPolicy::new(Operator::Pseudonymize)),
            "card <CREDIT_CARD_1> for <EMAIL_ADDRESS_1>"
        );
        assert_eq!(
            run(OperatorPolicy::new(Operator::Tokenize)),
            "card <CREDIT_CARD_TOK> for <EMAIL_ADDRESS_TOK>"
        );
        assert_eq!(run(OperatorPolicy::new(Operator::Keep)), text);
        let hashed = run(OperatorPolicy::new(Operator::Hash));
        assert!(hashed.starts_with("card <CREDIT_CARD:13131313"), "{hashed}");
        assert_eq!(hashed.matches(':').count(), 2);
    }

    #[test]
    fn operators_without_their_context_fall_back_to_the_type() {
        let text = "mail a@b.co";
        let ds = [det(text, "a@b.co", EntityType::EmailAddress)];
        for op in [Operator::Hash, Operator::Pseudonymize, Operator::Tokenize] {
            let out = anonymize(text, &ds, &OperatorPolicy::new(op), &mut NoContext);
            assert_eq!(out.text, "mail <EMAIL_ADDRESS>");
            assert_eq!(out.changed, [EntityType::EmailAddress]);
        }
    }

    #[test]
    fn per_type_operators_override_the_default_and_keep_is_not_counted() {
        let text = "Ann at a@b.co";
        let ds = [
            det(text, "Ann", EntityType::Person),
            det(text, "a@b.co", EntityType::EmailAddress),
        ];
        let policy =
            OperatorPolicy::new(Operator::Replace).with(EntityType::Person, Operator::Keep);
        let out = anonymize(text, &ds, &policy, &mut NoContext);
        assert_eq!(out.text, "Ann at <EMAIL_ADDRESS>");
        assert_eq!(out.changed, [EntityType::EmailAddress]);
        assert!(!format!("{out:?}").contains("Ann"));
    }

    #[test]
    fn short_values_are_masked_whole() {
        let mut out = String::new();
        mask_into("1234567", 4, &mut out);
        assert_eq!(out, "*******");
        out.clear();
        mask_into("123456789", 4, &mut out);
        assert_eq!(out, "*****6789");
        out.clear();
        mask_into("Zoë-Ann", 0, &mut out);
        assert_eq!(out, "***-***");
    }

    #[test]
    fn overlapping_or_out_of_range_detections_are_skipped() {
        let text = "abc def";
        let ds = [
            Detection::new(0, 3, EntityType::Person, 0.9, "t"),
            Detection::new(2, 5, EntityType::Person, 0.9, "t"),
            Detection::new(4, 99, EntityType::Person, 0.9, "t"),
        ];
        let out = anonymize(
            text,
            &ds,
            &OperatorPolicy::new(Operator::Replace),
            &mut NoContext,
        );
        assert_eq!(out.text, "<PERSON> def");
    }

    #[test]
    fn operator_names_parse_back() {
        for name in OPERATOR_NAMES {
            assert_eq!(Operator::parse(name, None).unwrap().name(), name);
        }
        assert_eq!(
            Operator::parse("mask", Some(4)),
            Ok(Operator::Mask { keep_last: 4 })
        );
        assert!(Operator::parse("hash", Some(4)).is_err());
        assert!(Operator::parse("encrypt", None).is_err());
    }
}
