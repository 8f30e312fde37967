//! `[privacy]` and the routes' `privacy*` keys.

use std::time::Duration;

use amanah_pii::operators::Operator;
use amanah_pii::EntityType;
use http::HeaderName;

use super::raw::RawPrivacy;
use super::{defaults, Privacy, PrivacyMode, Problem, RoutePrivacy};
use crate::privacy::json::is_valid_pointer;

pub(super) fn validate_privacy(raw: RawPrivacy, problems: &mut Vec<Problem>) -> Privacy {
    let min_score = raw.min_score.unwrap_or(defaults::PRIVACY_MIN_SCORE);
    if !(0.0..=1.0).contains(&min_score) {
        problems.push(Problem::new(
            "privacy.min_score",
            format!("{min_score} is outside 0..1"),
            "use a score between 0 and 1, e.g. 0.4",
        ));
    }
    let header_text = raw
        .conversation_header
        .unwrap_or_else(|| defaults::CONVERSATION_HEADER.to_owned());
    let conversation_header = HeaderName::from_bytes(header_text.as_bytes()).unwrap_or_else(|_| {
        problems.push(Problem::new(
            "privacy.conversation_header",
            format!("`{header_text}` is not a header name"),
            "use letters, digits and -, e.g. x-amanah-conversation",
        ));
        HeaderName::from_static(defaults::CONVERSATION_HEADER)
    });
    let mut positive = |key: &str, v: Option<u64>, default: u64| -> u64 {
        let v = v.unwrap_or(default);
        if v == 0 {
            problems.push(Problem::new(
                format!("privacy.{key}"),
                "must be at least 1",
                format!("leave it out for the default ({default})"),
            ));
        }
        v.max(1)
    };
    let conversation_ttl = Duration::from_secs(positive(
        "conversation_ttl_secs",
        raw.conversation_ttl_secs,
        defaults::CONVERSATION_TTL_SECS,
    ));
    let max_conversations = positive(
        "max_conversations",
        raw.max_conversations,
        defaults::MAX_CONVERSATIONS,
    );
    let max_values = positive(
        "max_values_per_conversation",
        raw.max_values_per_conversation,
        defaults::MAX_VALUES_PER_CONVERSATION,
    );
    let token_ttl = Duration::from_secs(positive(
        "token_ttl_secs",
        raw.token_ttl_secs,
        defaults::TOKEN_TTL_SECS,
    ));
    let max_tokens = positive("max_tokens", raw.max_tokens, defaults::MAX_TOKENS);
    let max_response_bytes = positive(
        "max_response_bytes",
        raw.max_response_bytes,
        defaults::MAX_RESPONSE_BYTES,
    );
    let mut operators = Vec::new();
    for (label, op) in raw.operators {
        let key = format!("privacy.operators.{label}");
        // Environment overrides arrive lowercased.
        let Some(entity) = EntityType::parse(&label) else {
            problems.push(Problem::new(
                key,
                format!("`{label}` is not an entity type"),
                format!("use one of {}", EntityType::labels()),
            ));
            continue;
        };
        match parse_operator(&op) {
            Some(op) => operators.push((entity, op)),
            None => problems.push(Problem::new(
                key,
                format!("`{op}` is not an operator"),
                "use redact, replace, mask, mask:N (keep the last N), hash, pseudonymize, \
                 tokenize or keep",
            )),
        }
    }
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Privacy {
        min_score: min_score.clamp(0.0, 1.0) as f32,
        conversation_header,
        conversation_ttl,
        max_conversations: to_usize(max_conversations),
        max_values_per_conversation: to_usize(max_values),
        token_ttl,
        max_tokens: to_usize(max_tokens),
        max_response_bytes,
        operators,
    }
}

/// `mask:4` or an operator's name.
fn parse_operator(text: &str) -> Option<Operator> {
    match text.split_once(':') {
        Some(("mask", n)) => Operator::parse("mask", Some(n.parse().ok()?)).ok(),
        Some(_) => None,
        None => Operator::parse(text, None).ok(),
    }
}

pub(super) fn validate_route_privacy(
    prefix: &str,
    mode: Option<String>,
    fields: Option<Vec<String>>,
    entities: Option<Vec<String>>,
    response_scan: Option<bool>,
    problems: &mut Vec<Problem>,
) -> RoutePrivacy {
    let key = |k: &str| format!("{prefix}{k}");
    let mode = match mode.as_deref() {
        None => PrivacyMode::Off,
        Some(m) => PrivacyMode::parse(m).unwrap_or_else(|| {
            problems.push(Problem::new(
                key("privacy"),
                format!("`{m}` is not a privacy mode"),
                format!("use one of {}", PrivacyMode::NAMES.join(", ")),
            ));
            PrivacyMode::Off
        }),
    };
    let fields = fields.unwrap_or_default();
    for f in &fields {
        if !is_valid_pointer(f) || f.is_empty() {
            problems.push(Problem::new(
                key("privacy_fields"),
                format!("`{f}` is not a JSON pointer"),
                "write pointers like \"/messages\" or \"/input/0\" (RFC 6901)",
            ));
        }
    }
    let entities = entities.map(|list| {
        list.iter()
            .filter_map(|l| {
                let e = EntityType::parse(l);
                if e.is_none() {
                    problems.push(Problem::new(
                        key("privacy_entities"),
                        format!("`{l}` is not an entity type"),
                        format!("use some of {}", EntityType::labels()),
                    ));
                }
                e
            })
            .collect::<Vec<_>>()
    });
    if entities.as_ref().is_some_and(Vec::is_empty) {
        problems.push(Problem::new(
            key("privacy_entities"),
            "empty: the route would look for nothing",
            "list entity types, or leave the key out to look for every type",
        ));
    }
    let response_scan = response_scan.unwrap_or(false);
    if mode == PrivacyMode::Off && (response_scan || !fields.is_empty()) {
        problems.push(Problem::new(
            key("privacy"),
            "privacy_fields or privacy_response_scan is set but the route's privacy is off",
            "set privacy = \"redact\" (or another mode), or drop those keys",
        ));
    }
    RoutePrivacy {
        mode,
        fields,
        entities,
        response_scan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse_with_keep_last() {
        assert_eq!(
            parse_operator("mask:4"),
            Some(Operator::Mask { keep_last: 4 })
        );
        assert_eq!(parse_operator("hash"), Some(Operator::Hash));
        assert_eq!(parse_operator("mask:x"), None);
        assert_eq!(parse_operator("hash:4"), None);
        assert_eq!(parse_operator("encrypt"), None);
    }
}
